// Copyright (c) memberlist-ts authors. SPDX-License-Identifier: MPL-2.0
// The compliance suite of the UDP/TCP transports (libp2p's interface-compliance-tests
// pattern): every backend's `<runtime>_test.ts` calls `transportCompliance()` with a
// setup that creates its transports, and must pass all of it on real sockets. It uses
// only node:test, node:assert, and node:dgram/node:net/node:child_process/node:os for
// fixtures, which Deno, Bun and Node all provide.
import { afterEach, describe, it } from "node:test";
import assert from "node:assert/strict";
import * as dgram from "node:dgram";
import * as net from "node:net";
import * as os from "node:os";
import { readFileSync } from "node:fs";
import { hasPython, unacceptingListener } from "./_children.ts";
import { type Clock, systemClock } from "../../lib/clock.ts";
import { silentLogger } from "../../lib/logging.ts";
import { joinHostPort } from "../../lib/node.ts";
import type { Address, Conn, Packet, TransportHandlers } from "../../lib/transport.ts";
import {
  getPrivateIP,
  hostInterfacesFromTable,
  type NetTransport,
  type NetTransportOptions,
  parseDefaultRoute,
} from "../../transports/_net_transport.ts";

/** What a backend's test gives the suite. */
export interface ComplianceBackend {
  /** Creates and binds a transport (the suite passes 127.0.0.1, port 0 and a silent logger unless it says otherwise). */
  create(options?: NetTransportOptions): Promise<NetTransport>;
  /** Runs after each test, once the suite shut its transports down. */
  teardown?(): void | Promise<void>;
}

/** Options of {@linkcode transportCompliance}. */
export interface ComplianceOptions {
  /** A reason to skip the whole suite (the runtime lacks the backend), or false to run it. */
  skip?: string | false;
}

// ---------------------------------------------------------------- helpers

const enc = new TextEncoder();
const dec = new TextDecoder();
const text = (s: string): Uint8Array => enc.encode(s);
const str = (b: Uint8Array): string => dec.decode(b);
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls `predicate` every few milliseconds until it holds; fails after `timeout` ms. */
export async function waitFor(
  predicate: () => boolean,
  options: { timeout?: number; what?: string } = {},
): Promise<void> {
  const timeout = options.timeout ?? 5000;
  const start = Date.now();
  while (!predicate()) {
    if (Date.now() - start > timeout) {
      throw new Error(`Timed out after ${timeout} ms waiting for ${options.what ?? "a condition"}`);
    }
    await sleep(3);
  }
}

/** Handlers that keep every datagram and stream. */
class Inbox implements TransportHandlers {
  readonly packets: Packet[] = [];
  readonly conns: Conn[] = [];
  packet = (p: Packet): void => {
    this.packets.push(p);
  };
  stream = (c: Conn): void => {
    this.conns.push(c);
  };
}

function listen(t: NetTransport): Inbox {
  const inbox = new Inbox();
  t.setHandlers(inbox);
  return inbox;
}

const at = (t: NetTransport, host = "127.0.0.1"): Address => ({ addr: joinHostPort(host, t.port), name: "" });

function pattern(size: number, seed: number): Uint8Array {
  const b = new Uint8Array(size);
  let x = seed | 1;
  for (let i = 0; i < size; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    b[i] = x & 0xff;
  }
  return b;
}

function concat(chunks: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let off = 0;
  for (const c of chunks) {
    out.set(c, off);
    off += c.length;
  }
  return out;
}

/** Reads until `n` bytes arrived (or the end). */
async function readN(conn: Conn, n: number): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  let have = 0;
  while (have < n) {
    const chunk = await conn.read();
    if (chunk === null) break;
    chunks.push(chunk);
    have += chunk.length;
  }
  return concat(chunks);
}

/** Reads to the end; keeps every chunk as handed over (so reuse by the transport would show). */
async function readAll(conn: Conn): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  for (;;) {
    const chunk = await conn.read();
    if (chunk === null) return concat(chunks);
    chunks.push(chunk);
  }
}

function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** A port that was free a moment ago (bound then released, TCP and UDP). */
async function deadPort(create: () => Promise<NetTransport>): Promise<number> {
  const t = await create();
  const port = t.port;
  await t.shutdown();
  return port;
}

function canBind(host: string): Promise<boolean> {
  return new Promise((resolve) => {
    const s = dgram.createSocket(host.includes(":") ? "udp6" : "udp4");
    s.on("error", () => {
      try {
        s.close();
      } catch {
        // Never bound.
      }
      resolve(false);
    });
    s.bind(0, host, () => s.close(() => resolve(true)));
  });
}

// ---------------------------------------------------------------- the suite

/**
 * Runs the transport compliance suite against one backend.
 *
 * @param name The suite's name, e.g. "Node backend".
 * @param setup Called before the first test that needs a transport (once per test).
 * @param options `skip` to skip everything with a reason.
 */
export function transportCompliance(
  name: string,
  setup: () => Promise<ComplianceBackend>,
  options: ComplianceOptions = {},
): void {
  describe(name, { skip: options.skip ?? false }, () => {
    let backend: ComplianceBackend | null = null;
    const opened: NetTransport[] = [];
    const cleanups: (() => void | Promise<void>)[] = [];

    async function create(o: NetTransportOptions = {}): Promise<NetTransport> {
      backend ??= await setup();
      const t = await backend.create({ bindAddrs: ["127.0.0.1"], bindPort: 0, logger: silentLogger, ...o });
      opened.push(t);
      return t;
    }

    /** A listener that never accepts, its backlog (0) filled by one dial from `a`: further dials hang. */
    async function fullBacklog(a: NetTransport): Promise<{ target: Address; filler: Conn }> {
      const l = await unacceptingListener();
      cleanups.push(() => l.close());
      const target = { addr: `127.0.0.1:${l.port}`, name: "" };
      return { target, filler: await a.dialTimeout(target, 2000) };
    }

    /** Dials `b` from `a`; returns the dialer's and the acceptor's ends. */
    async function connect(
      a: NetTransport,
      b: NetTransport,
      inbox: Inbox,
      host = "127.0.0.1",
    ): Promise<[Conn, Conn]> {
      const before = inbox.conns.length;
      const dialed = await a.dialTimeout(at(b, host), 2000);
      await waitFor(() => inbox.conns.length > before, { what: "the stream to be accepted" });
      return [dialed, inbox.conns[before]!];
    }

    afterEach(async () => {
      await Promise.all(opened.splice(0).map((t) => t.shutdown()));
      for (const fn of cleanups.splice(0)) await fn();
      await backend?.teardown?.();
      backend = null;
    });

    describe("datagrams", () => {
      it("writeTo() delivers both ways with the sender's address and a timestamp on the given clock", async () => {
        // A clock of its own scale: send times and timestamps must come from it.
        const clock: Clock = {
          now: () => 1e9 + systemClock.now(),
          setTimeout: (fn, ms) => systemClock.setTimeout(fn, ms),
        };
        const a = await create({ clock });
        const b = await create({ clock });
        const ia = listen(a);
        const ib = listen(b);
        const before = clock.now();
        const sent = a.writeTo(text("ping"), at(b));
        assert.ok(sent >= before && sent <= clock.now(), `send time ${sent} is on the clock's scale`);
        b.writeTo(text("pong"), at(a));
        await waitFor(() => ia.packets.length === 1 && ib.packets.length === 1, { what: "both datagrams" });
        const p = ib.packets[0]!;
        assert.equal(str(p.buf), "ping");
        assert.equal(p.from, `127.0.0.1:${a.port}`);
        assert.ok(
          p.timestamp >= before && p.timestamp <= clock.now(),
          `timestamp ${p.timestamp} is on the clock's scale`,
        );
        assert.equal(str(ia.packets[0]!.buf), "pong");
        assert.equal(ia.packets[0]!.from, `127.0.0.1:${b.port}`);
      });

      it("writeTo() copies the datagram: the caller may reuse its buffer at once", async () => {
        const a = await create();
        const b = await create();
        const ib = listen(b);
        const buf = text("first");
        a.writeTo(buf, at(b));
        buf.set(text("XXXXX"));
        await waitFor(() => ib.packets.length === 1);
        assert.equal(str(ib.packets[0]!.buf), "first");
      });

      it("carries datagrams of up to 65,507 bytes to IPv4 and refuses larger ones with EMSGSIZE", async () => {
        const a = await create();
        const b = await create();
        const ib = listen(b);
        const sizes = [1400, 65_000, 65_507];
        for (const [i, size] of sizes.entries()) a.writeTo(pattern(size, i + 1), at(b));
        await waitFor(() => ib.packets.length === sizes.length, { what: "three large datagrams" });
        for (const [i, size] of sizes.entries()) {
          const p = ib.packets.find((q) => q.buf.length === size);
          assert.ok(p !== undefined, `a ${size}-byte datagram arrived`);
          assert.ok(bytesEqual(p.buf, pattern(size, i + 1)), `the ${size}-byte datagram is intact`);
        }
        assert.throws(() => a.writeTo(new Uint8Array(65_508), at(b)), { name: "NetError", code: "EMSGSIZE" });
      });

      it("hands over datagrams the receiver may keep: plain Uint8Arrays, never reused, not pinning big buffers", async () => {
        const a = await create();
        const b = await create();
        const ib = listen(b);
        for (let i = 0; i < 100; i++) {
          a.writeTo(new Uint8Array(32).fill(i), at(b));
          if (i % 20 === 19) await sleep(1);
        }
        await waitFor(() => ib.packets.length === 100, { what: "100 datagrams" });
        const seen = new Set<number>();
        for (const p of ib.packets) {
          assert.equal(Object.getPrototypeOf(p.buf), Uint8Array.prototype);
          assert.ok(p.buf.every((x) => x === p.buf[0]), "a kept datagram was overwritten");
          assert.ok(
            p.buf.buffer.byteLength <= 4096,
            `a 32-byte datagram pins ${p.buf.buffer.byteLength} bytes`,
          );
          seen.add(p.buf[0]!);
        }
        assert.equal(seen.size, 100);
      });

      it("drops empty datagrams, as Go does", async () => {
        const a = await create();
        const b = await create();
        const ib = listen(b);
        a.writeTo(new Uint8Array(0), at(b));
        a.writeTo(Uint8Array.of(7), at(b));
        await waitFor(() => ib.packets.length >= 1);
        // Loopback keeps order: the empty datagram arrived first and was dropped.
        assert.deepEqual(ib.packets.map((p) => [...p.buf]), [[7]]);
      });

      it("drops datagrams that arrive before setHandlers()", async () => {
        const a = await create();
        const b = await create();
        a.writeTo(Uint8Array.of(1), at(b));
        await sleep(20);
        const ib = listen(b);
        a.writeTo(Uint8Array.of(2), at(b));
        await waitFor(() => ib.packets.length >= 1);
        assert.deepEqual(ib.packets.map((p) => [...p.buf]), [[2]]);
      });

      it("survives sending to a port nobody listens on (Bun reports the ICMP refusal as an error)", async () => {
        const a = await create();
        const b = await create();
        const ib = listen(b);
        listen(a);
        const port = await deadPort(() => create());
        for (let i = 0; i < 20; i++) {
          a.writeTo(Uint8Array.of(i), { addr: `127.0.0.1:${port}`, name: "gone" });
          await sleep(1);
        }
        a.writeTo(text("still here"), at(b));
        await waitFor(() => ib.packets.length === 1, { what: "a datagram after the refusals" });
        assert.equal(str(ib.packets[0]!.buf), "still here");
      });

      it("delivers a datagram sent right after one to a port nobody listens on", async () => {
        // memberlist sends to dead nodes all the time (gossip to the dead, probes): on Bun the
        // ICMP refusal surfaces on the next send, which must not lose that next datagram.
        const a = await create();
        const b = await create();
        const ib = listen(b);
        listen(a);
        const port = await deadPort(() => create());
        for (let i = 0; i < 10; i++) {
          a.writeTo(Uint8Array.of(i), { addr: `127.0.0.1:${port}`, name: "gone" });
          a.writeTo(Uint8Array.of(100 + i), at(b));
          await sleep(5);
        }
        await waitFor(() => ib.packets.length === 10, { what: "every datagram sent after a refusal" });
      });

      it("a datagram the socket refuses after writeTo() returned is reported through sendError", async () => {
        const a = await create();
        const errors: [string, Error][] = [];
        a.setHandlers({ packet() {}, stream(c) { c.close(); }, sendError: (addr, err) => void errors.push([addr, err]) });
        // A socket bound to loopback cannot send to a reserved (class E) address: Linux says EINVAL.
        a.writeTo(Uint8Array.of(1), { addr: "240.0.0.1:7946", name: "" });
        await waitFor(() => errors.length === 1, { what: "the send error" });
        assert.equal(errors[0]![0], "240.0.0.1:7946");
        assert.ok(errors[0]![1] instanceof Error);
      });

      it("writeTo() throws TypeError for a destination that is not ip:port", async () => {
        const a = await create();
        assert.throws(() => a.writeTo(Uint8Array.of(1), { addr: "127.0.0.1", name: "" }), TypeError);
        assert.throws(
          () => a.writeTo(Uint8Array.of(1), { addr: "no-such-host.invalid:7946", name: "" }),
          TypeError,
        );
      });
    });

    describe("streams", () => {
      it("dialTimeout() opens a stream that carries bytes both ways; close() ends the peer's reads", async () => {
        const a = await create();
        const b = await create();
        listen(a);
        const ib = listen(b);
        const [ca, cb] = await connect(a, b, ib);
        assert.equal(ca.remoteAddr, `127.0.0.1:${b.port}`);
        assert.match(cb.remoteAddr, /^127\.0\.0\.1:\d+$/);
        await ca.write(text("hello"));
        assert.equal(str(await readN(cb, 5)), "hello");
        await cb.write(text("world"));
        assert.equal(str(await readN(ca, 5)), "world");
        ca.close();
        assert.equal(await cb.read(), null);
        cb.close();
      });

      it("a reply written just before close() reaches the peer whole, then the end", async () => {
        const a = await create();
        const b = await create();
        const ib = listen(b);
        const [ca, cb] = await connect(a, b, ib);
        await ca.write(text("request"));
        assert.equal(str(await readN(cb, 7)), "request");
        const reply = pattern(1 << 20, 9);
        await cb.write(reply);
        cb.close();
        assert.ok(bytesEqual(await readAll(ca), reply));
        ca.close();
      });

      it("close() ends local reads with null and fails later writes with ConnectionClosedError", async () => {
        const a = await create();
        const b = await create();
        const ib = listen(b);
        const [ca] = await connect(a, b, ib);
        const pending = ca.read();
        ca.close();
        assert.equal(await pending, null);
        assert.equal(await ca.read(), null);
        await assert.rejects(ca.write(Uint8Array.of(1)), {
          name: "ConnectionClosedError",
          code: "ERR_STREAM_CLOSED",
        });
        ca.close();
      });

      it("writes of several MiB arrive whole and in order while the reader lags (backpressure)", async () => {
        const a = await create();
        const b = await create();
        const ib = listen(b);
        const [ca, cb] = await connect(a, b, ib);
        const first = pattern(6 << 20, 3);
        const second = pattern(3 << 20, 4);
        // Not awaited one by one: the second must still follow the first.
        const writes = Promise.all([ca.write(first), ca.write(second), ca.write(text("end"))]);
        await sleep(100); // the reader lags: the transport stops reading, TCP pushes back
        const got = await readN(cb, first.length + second.length + 3);
        await writes;
        assert.equal(got.length, first.length + second.length + 3);
        assert.ok(bytesEqual(got.subarray(0, first.length), first), "first write intact");
        assert.ok(
          bytesEqual(got.subarray(first.length, first.length + second.length), second),
          "second write intact",
        );
        assert.equal(str(got.subarray(first.length + second.length)), "end");
        ca.close();
        assert.equal(await cb.read(), null);
      });

      it("setDeadline() closes a silent stream: pending and later calls reject with TimeoutError, the peer reads the end", async () => {
        const a = await create();
        const b = await create();
        const ib = listen(b);
        const [ca, cb] = await connect(a, b, ib);
        const start = Date.now();
        cb.setDeadline(100);
        await assert.rejects(cb.read(), { name: "TimeoutError", code: "ETIMEDOUT" });
        const took = Date.now() - start;
        assert.ok(took >= 90 && took < 2000, `deadline fired after ${took} ms`);
        await assert.rejects(cb.read(), { name: "TimeoutError" });
        await assert.rejects(cb.write(Uint8Array.of(1)), { name: "TimeoutError" });
        assert.equal(await ca.read(), null);
      });

      it("setDeadline() replaces the previous deadline; Infinity removes it", async () => {
        const a = await create();
        const b = await create();
        const ib = listen(b);
        const [ca, cb] = await connect(a, b, ib);
        cb.setDeadline(30);
        cb.setDeadline(Infinity);
        await sleep(80);
        await ca.write(text("alive"));
        assert.equal(str(await readN(cb, 5)), "alive");
        cb.setDeadline(0);
        await assert.rejects(cb.read(), { name: "TimeoutError" });
      });

      it("dialTimeout() to a port nobody listens on rejects with ConnectionRefusedError", async () => {
        const a = await create();
        const port = await deadPort(() => create());
        await assert.rejects(a.dialTimeout({ addr: `127.0.0.1:${port}`, name: "" }, 2000), {
          name: "ConnectionRefusedError",
          code: "ECONNREFUSED",
        });
      });

      it(
        "dialTimeout() gives up with TimeoutError when the listener never accepts",
        { skip: hasPython ? false : "python3 is needed for a listener that never accepts" },
        async () => {
          const a = await create();
          const { target, filler } = await fullBacklog(a);
          const start = Date.now();
          await assert.rejects(a.dialTimeout(target, 200), { name: "TimeoutError", code: "ETIMEDOUT" });
          const took = Date.now() - start;
          assert.ok(took >= 190 && took < 2000, `timed out after ${took} ms`);
          filler.close();
        },
      );

      it("streams opened before setHandlers() are closed", async () => {
        const a = await create();
        const b = await create();
        const ca = await a.dialTimeout(at(b), 2000);
        assert.equal(await ca.read(), null);
        ca.close();
      });

      it("dialTimeout() rejects a negative timeout with RangeError and an address without port with TypeError", async () => {
        const a = await create();
        await assert.rejects(a.dialTimeout({ addr: "127.0.0.1:1", name: "" }, -1), RangeError);
        await assert.rejects(a.dialTimeout({ addr: "127.0.0.1", name: "" }, 100), TypeError);
      });
    });

    describe("binding", () => {
      it("bindPort 0 picks one port, used by both UDP and TCP", async () => {
        const a = await create();
        const b = await create();
        const ib = listen(b);
        assert.ok(b.port > 0);
        assert.equal(b.getAutoBindPort(), b.port);
        assert.deepEqual(b.bindAddrs, ["127.0.0.1"]);
        a.writeTo(Uint8Array.of(1), at(b));
        await waitFor(() => ib.packets.length === 1);
        const [ca] = await connect(a, b, ib);
        ca.close();
      });

      it("binding a taken port fails with AddressInUseError, and nothing stays bound", async () => {
        const a = await create();
        await assert.rejects(create({ bindPort: a.port }), (err: Error & { code?: string }) => {
          assert.equal(err.name, "AddressInUseError");
          assert.equal(err.code, "EADDRINUSE");
          assert.match(err.message, new RegExp(`port ${a.port}`));
          return true;
        });
        // Only UDP taken: TCP binds first, then UDP fails and TCP must be released. The kernel's
        // ephemeral UDP port may already be in use for TCP by some other socket: pick one free for both.
        const tcpFree = (port: number) =>
          new Promise<boolean>((resolve) => {
            const server = net.createServer();
            server.once("error", () => resolve(false));
            server.listen(port, "127.0.0.1", () => server.close(() => resolve(true)));
          });
        let port = 0;
        for (let tries = 0; port === 0; tries++) {
          assert.ok(tries < 20, "no port free for both UDP and TCP");
          const udp = dgram.createSocket("udp4");
          udp.on("error", () => {});
          const p = await new Promise<number>((resolve) => udp.bind(0, "127.0.0.1", () => resolve(udp.address().port)));
          cleanups.push(() => new Promise<void>((resolve) => udp.close(() => resolve())));
          if (await tcpFree(p)) port = p;
        }
        await assert.rejects(create({ bindPort: port }), { name: "AddressInUseError", code: "EADDRINUSE" });
        assert.ok(await tcpFree(port), "the TCP listener was released");
      });

      it("the port can be bound again right after shutdown, with a connection in TIME_WAIT", async () => {
        const a = await create();
        const b = await create();
        const ia = listen(a);
        const [cb, ca] = await connect(b, a, ia);
        await cb.write(Uint8Array.of(1));
        assert.equal((await readN(ca, 1)).length, 1);
        ca.close(); // the listener's side closes first and keeps the TIME_WAIT
        assert.equal(await cb.read(), null);
        cb.close();
        const port = a.port;
        await a.shutdown();
        const again = await create({ bindPort: port });
        assert.equal(again.port, port);
      });

      it("rejects bad options: empty or non-IP bind addresses, ports out of range", async () => {
        await assert.rejects(create({ bindAddrs: [] }), RangeError);
        await assert.rejects(create({ bindAddrs: ["localhost"] }), TypeError);
        await assert.rejects(create({ bindPort: 65536 }), RangeError);
      });
    });

    describe("addresses", () => {
      it("finalAdvertiseAddr() gives the configured IP (normalised), else the bound IP and port", async () => {
        const t = await create();
        assert.deepEqual(t.finalAdvertiseAddr("10.1.2.3", 99), { ip: "10.1.2.3", port: 99 });
        assert.deepEqual(t.finalAdvertiseAddr("::ffff:10.1.2.3", 99), { ip: "10.1.2.3", port: 99 });
        assert.deepEqual(t.finalAdvertiseAddr("2001:DB8:0::1", 7946), { ip: "2001:db8::1", port: 7946 });
        assert.throws(() => t.finalAdvertiseAddr("not-an-ip", 1), TypeError);
        assert.deepEqual(t.finalAdvertiseAddr("", 0), { ip: "127.0.0.1", port: t.port });
      });

      it("finalAdvertiseAddr() on a wildcard bind picks the host's private IP as Go's GetPrivateIP does", async () => {
        const t = await create({ bindAddrs: ["0.0.0.0"] });
        let route: string | null = null;
        try {
          route = parseDefaultRoute(readFileSync("/proc/net/route", "utf8"));
        } catch {
          // Not Linux.
        }
        const expected = getPrivateIP(
          hostInterfacesFromTable(os.networkInterfaces()),
          route,
          t.bindAddrs[0] === "0.0.0.0",
        );
        if (expected === null) {
          assert.throws(() => t.finalAdvertiseAddr("", 0), /no private IP address/);
        } else {
          assert.deepEqual(t.finalAdvertiseAddr("", 0), { ip: expected, port: t.port });
        }
      });

      it("a wildcard (0.0.0.0, bound dual-stack where possible) talks to IPv4 peers and reports them without ::ffff:", async () => {
        const w = await create({ bindAddrs: ["0.0.0.0"] });
        assert.ok(["::", "0.0.0.0"].includes(w.bindAddrs[0]!), `bound ${w.bindAddrs[0]}`);
        const v4 = await create();
        const iw = listen(w);
        const i4 = listen(v4);
        w.writeTo(text("to v4"), at(v4));
        v4.writeTo(text("to w"), at(w));
        await waitFor(() => iw.packets.length === 1 && i4.packets.length === 1, { what: "both datagrams" });
        assert.equal(i4.packets[0]!.from, `127.0.0.1:${w.port}`);
        assert.equal(iw.packets[0]!.from, `127.0.0.1:${v4.port}`);
        const [c4, cw] = await connect(v4, w, iw);
        assert.match(cw.remoteAddr, /^127\.0\.0\.1:\d+$/);
        c4.close();
      });
    });

    describe("IPv6", () => {
      let v6: boolean | null = null;
      async function needV6(): Promise<boolean> {
        v6 ??= await canBind("::1");
        return v6;
      }

      it("works on ::1: datagrams from [::1]:port, streams, 65,527-byte datagrams", async (t) => {
        if (!(await needV6())) return t.skip("no IPv6 loopback");
        const a = await create({ bindAddrs: ["::1"] });
        const b = await create({ bindAddrs: ["::1"] });
        listen(a);
        const ib = listen(b);
        a.writeTo(text("six"), at(b, "::1"));
        a.writeTo(pattern(65_527, 5), at(b, "::1"));
        await waitFor(() => ib.packets.length === 2, { what: "IPv6 datagrams" });
        assert.equal(ib.packets.find((p) => p.buf.length === 3)!.from, `[::1]:${a.port}`);
        assert.ok(bytesEqual(ib.packets.find((p) => p.buf.length === 65_527)!.buf, pattern(65_527, 5)));
        assert.throws(() => a.writeTo(new Uint8Array(65_528), at(b, "::1")), { code: "EMSGSIZE" });
        const [ca, cb] = await connect(a, b, ib, "::1");
        assert.equal(ca.remoteAddr, `[::1]:${b.port}`);
        await ca.write(text("v6"));
        assert.equal(str(await readN(cb, 2)), "v6");
        ca.close();
      });

      it("several bind addresses share one port; each datagram leaves from a socket of its destination's family", async (t) => {
        if (!(await needV6())) return t.skip("no IPv6 loopback");
        const m = await create({ bindAddrs: ["127.0.0.1", "::1"] });
        assert.deepEqual(m.bindAddrs, ["127.0.0.1", "::1"]);
        const p4 = await create();
        const p6 = await create({ bindAddrs: ["::1"] });
        const im = listen(m);
        const i4 = listen(p4);
        const i6 = listen(p6);
        m.writeTo(text("4"), at(p4));
        m.writeTo(text("6"), at(p6, "::1"));
        p4.writeTo(text("from 4"), at(m));
        p6.writeTo(text("from 6"), at(m, "::1"));
        await waitFor(() => i4.packets.length === 1 && i6.packets.length === 1 && im.packets.length === 2);
        assert.equal(i4.packets[0]!.from, `127.0.0.1:${m.port}`);
        assert.equal(i6.packets[0]!.from, `[::1]:${m.port}`);
        assert.deepEqual(
          im.packets.map((p) => p.from).sort(),
          [`127.0.0.1:${p4.port}`, `[::1]:${p6.port}`].sort(),
        );
        // An IPv4-only transport has no socket for IPv6 destinations.
        assert.throws(() => p4.writeTo(text("x"), at(p6, "::1")), { code: "EAFNOSUPPORT" });
      });

      it("a dual-stack wildcard reaches IPv6 peers too", async (t) => {
        if (!(await needV6())) return t.skip("no IPv6 loopback");
        const w = await create({ bindAddrs: ["::"] });
        if (w.bindAddrs[0] !== "::") return t.skip("the wildcard could not bind IPv6");
        const p6 = await create({ bindAddrs: ["::1"] });
        const iw = listen(w);
        const i6 = listen(p6);
        w.writeTo(text("w"), at(p6, "::1"));
        p6.writeTo(text("6"), at(w, "::1"));
        await waitFor(() => iw.packets.length === 1 && i6.packets.length === 1);
        assert.equal(iw.packets[0]!.from, `[::1]:${p6.port}`);
      });
    });

    describe("shutdown", () => {
      it("ends pending reads, closes streams, and fails later calls with TransportClosedError", async () => {
        const a = await create();
        const b = await create();
        listen(a);
        const ib = listen(b);
        const [ca, cb] = await connect(a, b, ib);
        const pendingA = ca.read();
        const pendingB = cb.read();
        const port = a.port;
        await a.shutdown();
        assert.equal(await pendingA, null);
        assert.equal(await pendingB, null);
        await assert.rejects(ca.write(Uint8Array.of(1)), { code: "ERR_STREAM_CLOSED" });
        assert.throws(() => a.writeTo(Uint8Array.of(1), at(b)), {
          name: "TransportClosedError",
          code: "ERR_TRANSPORT_CLOSED",
        });
        await assert.rejects(a.dialTimeout(at(b), 1000), {
          name: "TransportClosedError",
          code: "ERR_TRANSPORT_CLOSED",
        });
        await a.shutdown(); // idempotent
        // Everything was released: the port binds again, TCP and UDP.
        const again = await create({ bindPort: port });
        assert.equal(again.port, port);
        cb.close();
      });

      it(
        "fails a dial in progress with TransportClosedError",
        { skip: hasPython ? false : "python3 is needed for a listener that never accepts" },
        async () => {
          const a = await create();
          const { target, filler } = await fullBacklog(a);
          const pending = assert.rejects(a.dialTimeout(target, 10_000), {
            name: "TransportClosedError",
            code: "ERR_TRANSPORT_CLOSED",
          });
          await sleep(20);
          await a.shutdown();
          await pending;
          assert.equal(await filler.read(), null);
        },
      );
    });
  });
}
