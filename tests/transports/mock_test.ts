// Copyright (c) memberlist-ts authors. SPDX-License-Identifier: MPL-2.0
// MockNetwork and MockTransport on a virtual clock: delivery, every fault, streams,
// deadlines, shutdown, and that a seeded run replays exactly.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { setImmediate } from "node:timers";
import { VirtualClock } from "../../lib/clock.ts";
import { createSeededRandom } from "../../lib/random.ts";
import type { Conn, Packet } from "../../lib/transport.ts";
import { MockNetwork, type MockNetworkOptions, type MockTransport } from "../../transports/mock.ts";

const macrotask = (): Promise<void> => new Promise<void>((resolve) => setImmediate(resolve));

function setup(options: MockNetworkOptions = {}): { clock: VirtualClock; net: MockNetwork } {
  const clock = new VirtualClock({ yield: macrotask });
  return { clock, net: new MockNetwork({ clock, ...options }) };
}

interface Inbox {
  packets: Packet[];
  conns: Conn[];
}

/** Installs handlers that keep every packet and accepted stream. */
function listen(t: MockTransport): Inbox {
  const inbox: Inbox = { packets: [], conns: [] };
  t.setHandlers({ packet: (p) => inbox.packets.push(p), stream: (c) => inbox.conns.push(c) });
  return inbox;
}

interface Outcome<T> {
  done: boolean;
  value?: T;
  error?: Error;
  at?: number;
}

/** Watches a promise so a test can check, after advancing the clock, whether and when it settled. */
function watch<T>(clock: VirtualClock, p: Promise<T>): Outcome<T> {
  const o: Outcome<T> = { done: false };
  p.then(
    (value) => Object.assign(o, { done: true, value, at: clock.now() }),
    (error: Error) => Object.assign(o, { done: true, error, at: clock.now() }),
  );
  return o;
}

const bytes = (...values: number[]): Uint8Array => Uint8Array.from(values);
const text = (s: string): Uint8Array => new TextEncoder().encode(s);
const str = (
  b: Uint8Array | null | undefined,
): string | null => (b == null ? null : new TextDecoder().decode(b));
const to = (t: MockTransport): { addr: string; name: string } => ({ addr: t.addr, name: t.name });

/** Dials `b` from `a` and returns both ends once connected. */
async function connect(
  clock: VirtualClock,
  a: MockTransport,
  b: Inbox & { t: MockTransport },
  timeout = 1000,
): Promise<[Conn, Conn]> {
  const dialed = watch(clock, a.dialTimeout(to(b.t), timeout));
  const before = b.conns.length;
  for (let i = 0; i < 100 && !dialed.done; i++) await clock.advance(1);
  assert.ok(dialed.value, `dial failed: ${dialed.error}`);
  assert.equal(b.conns.length, before + 1);
  return [dialed.value, b.conns[before]!];
}

/** Reads a stream to its end, advancing the clock as needed. */
async function readAll(clock: VirtualClock, conn: Conn): Promise<string> {
  let out = "";
  for (;;) {
    const chunk = watch(clock, conn.read());
    while (!chunk.done) await clock.advance(1);
    if (chunk.error) throw chunk.error;
    if (chunk.value === null) return out;
    out += str(chunk.value!);
  }
}

describe("MockNetwork.newTransport()", () => {
  it("hands out unique addresses from port 10000 and takes explicit ones", async () => {
    const { net } = setup();
    const a = net.newTransport("a");
    const b = net.newTransport("b");
    assert.equal(a.addr, "127.0.0.1:10000");
    assert.equal(b.addr, "127.0.0.1:10001");
    assert.equal(a.name, "a");
    const c = net.newTransport("c", { addr: "10.1.2.3:7946" });
    assert.equal(c.addr, "10.1.2.3:7946");
    assert.deepEqual(c.finalAdvertiseAddr("", 0), { ip: "10.1.2.3", port: 7946 });
    assert.deepEqual(c.finalAdvertiseAddr("192.168.0.9", 8000), { ip: "192.168.0.9", port: 8000 });
    const v6 = net.newTransport("v6", { addr: "[::1]:7946" });
    assert.deepEqual(v6.finalAdvertiseAddr("", 0), { ip: "::1", port: 7946 });
    assert.equal(net.newTransport("d", { addr: "127.0.0.1:0" }).addr, "127.0.0.1:10002");
    assert.throws(() => net.newTransport("x", { addr: "10.1.2.3:7946" }), { name: "AddressInUseError" });
    assert.throws(() => net.newTransport("x", { addr: "nonsense" }), TypeError);
    await c.shutdown();
    assert.equal(net.newTransport("c2", { addr: "10.1.2.3:7946" }).addr, "10.1.2.3:7946");
  });

  it("rejects out-of-range options", () => {
    assert.throws(() => new MockNetwork({ loss: 1.5 }), RangeError);
    assert.throws(() => new MockNetwork({ latency: -1 }), RangeError);
    assert.throws(() => new MockNetwork().setLinkLoss("a", "b", -0.1), RangeError);
    assert.throws(() => new MockNetwork().setSlow("a", { delayMs: Number.NaN }), RangeError);
  });
});

describe("MockTransport.writeTo()", () => {
  it("delivers a copy asynchronously with from and timestamp", async () => {
    const { clock, net } = setup();
    await clock.advance(40);
    const a = net.newTransport("a");
    const b = net.newTransport("b");
    const inbox = listen(b);
    const buf = bytes(1, 2, 3);
    assert.equal(a.writeTo(buf, to(b)), 40);
    buf[0] = 9; // the sender reuses its buffer
    assert.equal(inbox.packets.length, 0, "never delivered inside writeTo");
    await clock.advance(0);
    assert.equal(inbox.packets.length, 1);
    const p = inbox.packets[0]!;
    assert.deepEqual(p.buf, bytes(1, 2, 3));
    assert.equal(p.from, a.addr);
    assert.equal(p.timestamp, 40);
    assert.deepEqual({ ...net.stats }, { packets: 1, bytes: 3, dropped: 0, streams: 0, streamBytes: 0 });
  });

  it("delays by the latency, fixed or per link, and follows changes", async () => {
    const { clock, net } = setup({ latency: 25 });
    const a = net.newTransport("a");
    const b = net.newTransport("b");
    const c = net.newTransport("c");
    const inB = listen(b);
    const inC = listen(c);
    a.writeTo(bytes(1), to(b));
    await clock.advance(24);
    assert.equal(inB.packets.length, 0);
    await clock.advance(1);
    assert.equal(inB.packets[0]?.timestamp, 25);

    net.setLatency((from, dest) => (from === a.addr && dest === c.addr ? 100 : 3));
    a.writeTo(bytes(2), to(c));
    a.writeTo(bytes(3), to(b));
    await clock.advance(3);
    assert.equal(inB.packets[1]?.timestamp, 28);
    assert.equal(inC.packets.length, 0);
    await clock.advance(97);
    assert.equal(inC.packets[0]?.timestamp, 125);
  });

  it("drops datagrams to unknown addresses or transports without handlers, and counts them", async () => {
    const { clock, net } = setup();
    const a = net.newTransport("a");
    const b = net.newTransport("b"); // no handlers
    assert.equal(a.writeTo(bytes(1), { addr: "127.0.0.1:1", name: "" }), 0);
    a.writeTo(bytes(1, 2), to(b));
    await clock.advance(1);
    assert.equal(net.stats.packets, 2);
    assert.equal(net.stats.bytes, 3);
    assert.equal(net.stats.dropped, 2);
  });

  it("loses about the configured share of datagrams, reproducibly", async () => {
    const run = async (): Promise<number> => {
      const { clock, net } = setup({ loss: 0.3, random: createSeededRandom(7) });
      const a = net.newTransport("a");
      const b = net.newTransport("b");
      const inbox = listen(b);
      for (let i = 0; i < 10_000; i++) a.writeTo(bytes(i & 255), to(b));
      await clock.advance(1);
      assert.equal(net.stats.dropped + inbox.packets.length, 10_000);
      return inbox.packets.length;
    };
    const delivered = await run();
    assert.ok(Math.abs(delivered - 7000) <= 300, `${delivered} of 10000 delivered`);
    assert.equal(await run(), delivered);
  });

  it("slows streams under loss as TCP's retransmissions would: dials by 1 s timeouts, chunks by 200 ms ones, in order", async () => {
    const { clock, net } = setup({ loss: 0.3, latency: 1, random: createSeededRandom(3) });
    const a = net.newTransport("a");
    const b = net.newTransport("b");
    const inbox = listen(b);
    listen(a);
    const dials = Array.from({ length: 40 }, () => watch(clock, a.dialTimeout(to(b), 200_000)));
    await clock.advance(200_000);
    assert.ok(dials.every((d) => d.done && d.error === undefined));
    // About half the dials lose a SYN or SYN-ACK (1 − 0.7²): those take 1 s, 3 s, 7 s… more.
    const times = dials.map((d) => d.at!);
    const slow = times.filter((t) => t >= 1000).length;
    assert.ok(slow > 8 && slow < 32, `${slow} of 40 dials retransmitted`);
    assert.ok(times.every((t) => t < 1000 || [1, 3, 7, 15, 31, 63].some((k) => t >= k * 1000 && t < k * 1000 + 10)), times.join(" "));

    const conn = dials[0]!.value!;
    const peer = inbox.conns[0]!;
    const arrivals: [number, number][] = [];
    const reading = (async () => {
      for (let chunk = await peer.read(); chunk !== null; chunk = await peer.read()) {
        for (const x of chunk) arrivals.push([clock.now(), x]);
      }
    })();
    const started = clock.now();
    for (let i = 0; i < 50; i++) void conn.write(bytes(i));
    await clock.advance(30_000);
    assert.deepEqual(arrivals.map(([, x]) => x), Array.from({ length: 50 }, (_, i) => i), "every chunk, in order");
    assert.ok(arrivals[49]![0] - started >= 200, "a lost chunk held the rest back");
    await Promise.all([a.shutdown(), b.shutdown()]);
    await reading;
  });

  it("applies link loss to one direction only", async () => {
    const { clock, net } = setup();
    const a = net.newTransport("a");
    const b = net.newTransport("b");
    const inA = listen(a);
    const inB = listen(b);
    net.setLinkLoss(a.addr, b.addr, 1);
    for (let i = 0; i < 10; i++) {
      a.writeTo(bytes(i), to(b));
      b.writeTo(bytes(i), to(a));
    }
    await clock.advance(1);
    assert.equal(inB.packets.length, 0);
    assert.equal(inA.packets.length, 10);
    net.setLinkLoss(a.addr, b.addr, 0);
    a.writeTo(bytes(1), to(b));
    await clock.advance(1);
    assert.equal(inB.packets.length, 1);
  });

  it("throws TransportClosedError after shutdown", async () => {
    const { net } = setup();
    const a = net.newTransport("a");
    const b = net.newTransport("b");
    await a.shutdown();
    assert.throws(() => a.writeTo(bytes(1), to(b)), { name: "TransportClosedError" });
  });
});

describe("MockNetwork.partition()", () => {
  it("drops datagrams and times out dials across the cut until heal()", async () => {
    const { clock, net } = setup({ latency: 2 });
    const [a, b, c] = ["a", "b", "c"].map((n) => net.newTransport(n)) as [
      MockTransport,
      MockTransport,
      MockTransport,
    ];
    const inA = listen(a);
    const inB = { ...listen(b), t: b };
    const inC = listen(c);
    net.partition([a.addr], [b.addr]);
    a.writeTo(bytes(1), to(b));
    b.writeTo(bytes(2), to(a));
    a.writeTo(bytes(3), to(c)); // c is on neither side
    const dial = watch(clock, a.dialTimeout(to(b), 500));
    await clock.advance(499);
    assert.equal(dial.done, false, "a dial across a partition waits for its timeout");
    await clock.advance(1);
    assert.equal(dial.error?.name, "TimeoutError");
    assert.equal(dial.at, 500);
    assert.equal(inB.packets.length + inA.packets.length, 0);
    assert.equal(inC.packets.length, 1);
    assert.equal(net.stats.dropped, 2);

    net.heal();
    a.writeTo(bytes(4), to(b));
    await clock.advance(2);
    assert.equal(inB.packets.length, 1);
    const [ab, ba] = await connect(clock, a, inB);
    await ab.write(text("hello"));
    ab.close();
    assert.equal(await readAll(clock, ba), "hello");
  });

  it("stalls open streams across the cut and resumes them, in order, on heal()", async () => {
    const { clock, net } = setup({ latency: 1 });
    const a = net.newTransport("a");
    const b = net.newTransport("b");
    listen(a);
    const inB = { ...listen(b), t: b };
    const [ab, ba] = await connect(clock, a, inB);
    await ab.write(text("one "));
    net.partition([b.addr], [a.addr]);
    await ab.write(text("two "));
    await ab.write(text("three"));
    ab.close();
    const first = watch(clock, ba.read());
    await clock.advance(1);
    assert.equal(str(first.value), "one ");
    const second = watch(clock, ba.read());
    await clock.advance(1000);
    assert.equal(second.done, false, "data written during the partition is held");
    net.heal();
    await clock.advance(1);
    assert.equal(str(second.value), "two ");
    assert.equal(await readAll(clock, ba), "three");
  });
});

describe("MockNetwork.blockUdp()", () => {
  it("drops datagrams from and to the address while streams keep working", async () => {
    const { clock, net } = setup({ latency: 1 });
    const a = net.newTransport("a");
    const b = net.newTransport("b");
    const inA = { ...listen(a), t: a };
    const inB = { ...listen(b), t: b };
    net.blockUdp(b.addr, true);
    a.writeTo(bytes(1), to(b));
    b.writeTo(bytes(2), to(a));
    await clock.advance(5);
    assert.equal(inA.packets.length + inB.packets.length, 0);
    // The TCP fallback of a ping: both directions over a stream.
    const [ab, ba] = await connect(clock, a, inB);
    await ab.write(text("ping"));
    const got = watch(clock, ba.read());
    await clock.advance(1);
    assert.equal(str(got.value), "ping");
    await ba.write(text("ack"));
    ba.close();
    assert.equal(await readAll(clock, ab), "ack");
    net.blockUdp(b.addr, false);
    a.writeTo(bytes(3), to(b));
    await clock.advance(1);
    assert.equal(inB.packets.length, 1);
  });
});

describe("MockNetwork.setSlow()", () => {
  it("delivers a slow node's input late and in order, and the backlog first when it recovers", async () => {
    const { clock, net } = setup({ latency: 5 });
    const a = net.newTransport("a");
    const b = net.newTransport("b");
    const log: string[] = [];
    b.setHandlers({ packet: (p) => log.push(`${p.buf[0]}@${p.timestamp}`), stream: () => {} });
    net.setSlow(b.addr, { delayMs: 100 });
    a.writeTo(bytes(1), to(b)); // arrives at 5, handled at 105
    await clock.advance(10);
    a.writeTo(bytes(2), to(b)); // arrives at 15, handled at 115
    await clock.advance(95);
    assert.deepEqual(log, ["1@105"]);
    net.setSlow(b.addr, { delayMs: 0 });
    a.writeTo(bytes(3), to(b)); // arrives at 110, but waits behind 2
    await clock.advance(10);
    assert.deepEqual(log, ["1@105", "2@115", "3@115"]);

    await clock.advance(5);
    net.setSlow(b.addr, { delayMs: 1000 });
    a.writeTo(bytes(4), to(b)); // arrives at 125, due at 1125
    a.writeTo(bytes(5), to(b));
    await clock.advance(50);
    net.setSlow(b.addr, null); // caught up at 170: the backlog now, in order
    a.writeTo(bytes(6), to(b));
    await clock.advance(0);
    assert.deepEqual(log.slice(3), ["4@170", "5@170"]);
    await clock.advance(5);
    assert.deepEqual(log.slice(3), ["4@170", "5@170", "6@175"]);
  });

  it("delays stream chunks to a slow node in order", async () => {
    const { clock, net } = setup({ latency: 1, jitter: 3 });
    const a = net.newTransport("a");
    const b = net.newTransport("b");
    listen(a);
    const inB = { ...listen(b), t: b };
    const [ab, ba] = await connect(clock, a, inB);
    net.setSlow(b.addr, { delayMs: 50 });
    const start = clock.now();
    for (let i = 0; i < 20; i++) await ab.write(text(`${i},`));
    ab.close();
    const first = watch(clock, ba.read());
    await clock.advance(50);
    assert.equal(first.done, false);
    await clock.advance(10);
    assert.ok(first.done && (first.at ?? 0) - start >= 51);
    const rest = await readAll(clock, ba);
    assert.equal(str(first.value!) + rest, Array.from({ length: 20 }, (_, i) => `${i},`).join(""));
  });
});

describe("MockTransport streams", () => {
  it("carry data both ways; close() ends the data for the peer after what was written", async () => {
    const { clock, net } = setup({ latency: 3 });
    const a = net.newTransport("a");
    const b = net.newTransport("b");
    listen(a);
    const inB = { ...listen(b), t: b };
    const dial = watch(clock, a.dialTimeout(to(b), 1000));
    await clock.advance(2);
    assert.equal(dial.done, false);
    await clock.advance(1);
    assert.equal(dial.at, 3);
    const ab = dial.value!;
    const ba = inB.conns[0]!;
    assert.equal(ab.remoteAddr, b.addr);
    assert.equal(ba.remoteAddr, a.addr);
    assert.equal(net.stats.streams, 1);

    // Request: two writes, then the dialer keeps reading for the reply.
    const req = new Uint8Array([1, 2, 3]);
    await ab.write(req);
    req[0] = 99; // reused buffer
    await ab.write(bytes(4));
    const r1 = watch(clock, ba.read());
    await clock.advance(2);
    assert.equal(r1.done, false, "chunks arrive after the latency, never inside write()");
    await clock.advance(1);
    assert.deepEqual(r1.value, bytes(1, 2, 3));
    assert.deepEqual(await ba.read(), bytes(4));

    // Reply, then the acceptor closes: the dialer reads the reply, then null.
    await ba.write(text("reply"));
    ba.close();
    assert.equal(await readAll(clock, ab), "reply");
    assert.equal(await ab.read(), null);
    // The acceptor reads null too once the dialer closes; writes after close fail.
    ab.close();
    assert.equal(await ba.read(), null);
    await assert.rejects(ab.write(bytes(1)), { name: "ConnectionClosedError" });
    assert.equal(net.stats.streamBytes, 9);
  });

  it("never let chunks overtake each other under jitter", async () => {
    const { clock, net } = setup({ latency: 1, jitter: 20 });
    const a = net.newTransport("a");
    const b = net.newTransport("b");
    listen(a);
    const inB = { ...listen(b), t: b };
    const [ab, ba] = await connect(clock, a, inB);
    const expected: string[] = [];
    for (let i = 0; i < 200; i++) {
      expected.push(`${i};`);
      await ab.write(text(`${i};`));
      if (i % 7 === 0) await clock.advance(1);
    }
    ab.close();
    assert.equal(await readAll(clock, ba), expected.join(""));
  });

  it("reject pending and later reads and writes with TimeoutError once the deadline passes", async () => {
    const { clock, net } = setup({ latency: 1 });
    const a = net.newTransport("a");
    const b = net.newTransport("b");
    listen(a);
    const inB = { ...listen(b), t: b };
    const [ab, ba] = await connect(clock, a, inB);
    ab.setDeadline(100);
    ab.setDeadline(200); // replaces the first
    const pending = watch(clock, ab.read());
    await clock.advance(199);
    assert.equal(pending.done, false);
    await clock.advance(1);
    assert.equal(pending.error?.name, "TimeoutError");
    await assert.rejects(ab.read(), { name: "TimeoutError" });
    await assert.rejects(ab.write(bytes(1)), { name: "TimeoutError" });
    // The peer sees the stream end.
    const end = watch(clock, ba.read());
    await clock.advance(1);
    assert.equal(end.done, true);
    assert.equal(end.value, null);
    // A deadline of Infinity clears one.
    const [cd] = await connect(clock, a, inB);
    cd.setDeadline(10);
    cd.setDeadline(Infinity);
    await clock.advance(100);
    await cd.write(bytes(1));
    cd.close();
  });

  it("refuse a dial to an address with nobody there after the latency", async () => {
    const { clock, net } = setup({ latency: 7 });
    const a = net.newTransport("a");
    const mute = net.newTransport("mute"); // no handlers
    const nobody = watch(clock, a.dialTimeout({ addr: "127.0.0.1:9", name: "" }, 1000));
    const noHandlers = watch(clock, a.dialTimeout(to(mute), 1000));
    await clock.advance(6);
    assert.equal(nobody.done, false);
    await clock.advance(1);
    assert.equal(nobody.error?.name, "ConnectionRefusedError");
    assert.equal((nobody.error as Error & { code: string }).code, "ECONNREFUSED");
    assert.equal(noHandlers.error?.name, "ConnectionRefusedError");
    // A timeout shorter than the latency wins.
    const short = watch(clock, a.dialTimeout({ addr: "127.0.0.1:9", name: "" }, 3));
    await clock.advance(3);
    assert.equal(short.error?.name, "TimeoutError");
  });
});

describe("MockTransport.shutdown()", () => {
  it("ends streams, fails dials, releases the address and leaves no timers", async () => {
    const { clock, net } = setup({ latency: 2 });
    const a = net.newTransport("a", { addr: "10.0.0.1:7946" });
    const b = net.newTransport("b");
    const c = net.newTransport("c");
    listen(a);
    const inB = { ...listen(b), t: b };
    listen(c);
    const [ab, ba] = await connect(clock, a, inB);
    ab.setDeadline(10_000);
    const aRead = watch(clock, ab.read());
    // Timers a owns: a stream deadline, a dial across a partition, a slow backlog.
    net.partition([a.addr], [c.addr]);
    const blackHole = watch(clock, a.dialTimeout(to(c), 60_000));
    net.setSlow(a.addr, { delayMs: 5000 });
    b.writeTo(bytes(1), to(a));
    await ba.write(text("late"));
    await clock.advance(10);
    assert.ok(clock.pending >= 3);

    await a.shutdown();
    await a.shutdown(); // idempotent
    assert.equal(aRead.done, true);
    assert.equal(aRead.value, null);
    assert.equal(blackHole.error?.name, "TransportClosedError");
    await assert.rejects(a.dialTimeout(to(b), 100), { name: "TransportClosedError" });
    assert.equal(await readAll(clock, ba), "", "the peer reads the end of data");
    await clock.advance(100);
    assert.equal(clock.pending, 0, "no timer of the shut-down transport is left");
    assert.equal(net.stats.dropped, 1, "the backlogged datagram");

    // The address can be taken again, and is reachable.
    const a2 = net.newTransport("a2", { addr: "10.0.0.1:7946" });
    net.setSlow(a2.addr, null);
    net.heal();
    const inA2 = listen(a2);
    b.writeTo(bytes(2), to(a2));
    await clock.advance(2);
    assert.equal(inA2.packets.length, 1);

    await Promise.all([a2.shutdown(), b.shutdown(), c.shutdown()]);
    assert.equal(clock.pending, 0);
  });

  it("after everything is shut down, drops what is in flight and leaves clock.pending at 0", async () => {
    const { clock, net } = setup({ latency: 50 });
    const a = net.newTransport("a");
    const b = net.newTransport("b");
    listen(a);
    listen(b);
    for (let i = 0; i < 10; i++) a.writeTo(bytes(i), to(b));
    const dial = watch(clock, a.dialTimeout(to(b), 1000));
    assert.ok(clock.pending > 0);
    await Promise.all([a.shutdown(), b.shutdown()]);
    assert.equal(clock.pending, 0);
    await clock.advance(100);
    assert.equal(dial.error?.name, "TransportClosedError");
    assert.equal(net.stats.dropped, 10);
  });
});

describe("MockNetwork.kill()", () => {
  it("stops a transport without goodbye: peers' streams stall, its in-flight data is dropped", async () => {
    const { clock, net } = setup({ latency: 5 });
    const a = net.newTransport("a");
    const b = net.newTransport("b");
    listen(a);
    const inB = { ...listen(b), t: b };
    const [ab, ba] = await connect(clock, a, inB);
    a.writeTo(bytes(1), to(b));
    await ab.write(text("in flight"));
    net.kill(a.addr);
    assert.equal(a.closed, true);
    ba.setDeadline(1000);
    const read = watch(clock, ba.read());
    await clock.advance(999);
    assert.equal(read.done, false, "no end of data from a killed peer");
    assert.equal(inB.packets.length, 0);
    await clock.advance(1);
    assert.equal(read.error?.name, "TimeoutError");
    assert.throws(() => a.writeTo(bytes(1), to(b)), { name: "TransportClosedError" });
    const refused = watch(clock, b.dialTimeout(to(a), 1000));
    await clock.advance(5);
    assert.equal(refused.error?.name, "ConnectionRefusedError");
    await b.shutdown();
    assert.equal(clock.pending, 0);
  });
});

describe("MockNetwork determinism", () => {
  it("replays a seeded run with loss, jitter, streams and faults identically", async () => {
    const run = async (seed: number): Promise<string[]> => {
      const { clock, net } = setup({
        random: createSeededRandom(seed),
        latency: (from, dest) => (from < dest ? 2 : 4),
        jitter: 5,
        loss: 0.1,
      });
      const log: string[] = [];
      const nodes = Array.from({ length: 8 }, (_, i) => net.newTransport(`n${i}`));
      for (const t of nodes) {
        t.setHandlers({
          packet: (p) => log.push(`${clock.now()} ${t.addr}<${p.from} ${p.buf[0]}`),
          stream: (conn) => {
            log.push(`${clock.now()} ${t.addr} accept ${conn.remoteAddr}`);
            conn.read().then((b) => {
              log.push(`${clock.now()} ${t.addr} read ${str(b)}`);
              conn.close();
            });
          },
        });
      }
      const pick = createSeededRandom(seed + 1);
      for (let step = 0; step < 200; step++) {
        const from = nodes[Math.floor(pick() * nodes.length)]!;
        const dest = nodes[Math.floor(pick() * nodes.length)]!;
        from.writeTo(bytes(step & 255), to(dest));
        if (step % 25 === 0) {
          from.dialTimeout(to(dest), 50).then(
            (conn) => conn.write(text(`s${step}`)),
            (err: Error) => log.push(`${clock.now()} dial ${err.name}`),
          );
        }
        if (step === 80) net.partition([nodes[0]!.addr, nodes[1]!.addr], [nodes[2]!.addr]);
        if (step === 120) net.heal();
        if (step === 150) net.setSlow(nodes[3]!.addr, { delayMs: 7 });
        await clock.advance(Math.floor(pick() * 3));
      }
      await clock.advance(1000);
      log.push(JSON.stringify(net.stats));
      await Promise.all(nodes.map((t) => t.shutdown()));
      assert.equal(clock.pending, 0);
      return log;
    };
    const first = await run(42);
    assert.ok(first.length > 150);
    assert.deepEqual(await run(42), first);
    assert.notDeepEqual(await run(43), first);
  });
});
