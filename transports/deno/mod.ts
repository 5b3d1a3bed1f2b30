// Copyright (c) memberlist-ts authors. SPDX-License-Identifier: MPL-2.0
/**
 * The network transport on Deno's own sockets (Go `NetTransport`):
 * `Deno.listenDatagram` for UDP, `Deno.listen` and `Deno.connect` for TCP,
 * with listeners on every bind address, all on one port.
 *
 * **`--unstable-net`.** `Deno.listenDatagram` is still unstable in Deno 2.9:
 * it exists only when the *application* runs with `--unstable-net`, or has
 * `"unstable": ["net"]` in its `deno.json` (a library cannot turn it on for
 * its users; `DENO_UNSTABLE_NET=1` does not either). Without it,
 * {@linkcode createNetTransport} falls back to the whole `node:dgram`/`node:net`
 * backend (`@gossip/memberlist/transports/node`, which needs no flag on Deno)
 * and logs one warning per process, through the transport's logger, saying how
 * to enable the native path. Both halves fall back together, rather than
 * native TCP beside `node:dgram` UDP: TCP is as fast either way on Deno, and the
 * Node backend is tested on Deno as a whole. The fallback leaves the UDP
 * receive buffer alone (`udpRecvBufferSize: 0`): Deno's `node:dgram` cannot
 * set the kernel's buffer, and asking for one makes it allocate a read buffer
 * of that size for every datagram. What is lost is UDP speed: `node:dgram`
 * moves 2–3× fewer datagrams per second on Deno than the native socket (still
 * far more than memberlist needs).
 *
 * Loading this module has no side effects: `Deno` is reached through a small
 * local interface, and `node:timers` is imported, only when
 * {@linkcode createNetTransport} is called.
 *
 * What it takes care of:
 *
 * - each UDP socket receives into one 64 KiB buffer of its own, and each
 *   datagram is copied out at its own length (a datagram never pins, or is
 *   overwritten through, that buffer);
 * - stream writes loop until the kernel took every byte (`conn.write()` may
 *   write part of a large buffer), and concurrent writes on one stream go out
 *   one after the other, never interleaved;
 * - deadlines and dial timeouts are timers that close the connection (Deno has
 *   none of its own); a dial is aborted through its `AbortSignal`;
 * - closing a listener or socket waits until its pending `accept()` or
 *   `receive()` has ended, so the port can be bound again at once;
 * - sends made by a packet handler leave on the next macrotask through
 *   `setImmediate` (`node:timers`), not `setTimeout(fn, 0)`, which Deno runs a
 *   millisecond or more later;
 * - `"0.0.0.0"` binds `"::"`, dual-stack, as in Go; peers reported as
 *   `::ffff:a.b.c.d` are normalised to `a.b.c.d`;
 * - Deno has no API for the UDP receive buffer size: `udpRecvBufferSize` is
 *   ignored (logged at debug) and the system default applies.
 *
 * Permissions: `--allow-net`, plus `--allow-sys` (network interfaces) and
 * `--allow-read=/proc/net/route` (the default route) when a wildcard is bound
 * without an `advertiseAddr`.
 *
 * @example Usage
 * ```ts
 * import { createNetTransport } from "@gossip/memberlist/transports/deno";
 * import assert from "node:assert/strict";
 *
 * const a = await createNetTransport({ bindAddrs: ["127.0.0.1"], bindPort: 0 });
 * const b = await createNetTransport({ bindAddrs: ["127.0.0.1"], bindPort: 0 });
 * const ignore = { packet() {}, stream(conn: { close(): void }) { conn.close(); } };
 * a.setHandlers(ignore);
 * const received = new Promise<{ buf: Uint8Array; from: string }>((resolve) => b.setHandlers({ ...ignore, packet: resolve }));
 * a.writeTo(new TextEncoder().encode("ping"), { addr: `127.0.0.1:${b.port}`, name: "b" });
 * const packet = await received;
 * assert.equal(new TextDecoder().decode(packet.buf), "ping");
 * assert.equal(packet.from, `127.0.0.1:${a.port}`);
 * await Promise.all([a.shutdown(), b.shutdown()]);
 * ```
 *
 * @module
 */

import type { Clock } from "../../lib/clock.ts";
import type { Logger } from "../../lib/logging.ts";
import {
  type BindRequest,
  type ConnectAttempt,
  formatAddress,
  type HostInterface,
  hostInterfacesFromTable,
  type NetBackend,
  type NetInput,
  type NetTransport,
  type NetTransportOptions,
  openNetTransport,
  parseDefaultRoute,
  type ResolvedNetTransportOptions,
  resolveNetTransportOptions,
  SocketConn,
  type TcpListenerHandle,
  UDP_PACKET_BUF_SIZE,
  type UdpSocketHandle,
} from "../_net_transport.ts";
import { errorCode, toNetError } from "../_errors.ts";
import { createNetTransport as createNodeNetTransport } from "../node/mod.ts";

export type { CreateNetTransport, NetTransport, NetTransportOptions } from "../_net_transport.ts";
export {
  AddressInUseError,
  ConnectionClosedError,
  ConnectionRefusedError,
  ConnectionResetError,
  NetError,
  TimeoutError,
} from "../_errors.ts";

// ---------------------------------------------------------------- the Deno API we use

/** `Deno.NetAddr`. */
interface DenoNetAddr {
  readonly transport: string;
  readonly hostname: string;
  readonly port: number;
}

/** `Deno.TcpConn`. */
interface DenoTcpConn {
  readonly remoteAddr: DenoNetAddr;
  read(p: Uint8Array): Promise<number | null>;
  write(p: Uint8Array): Promise<number>;
  close(): void;
  setNoDelay?(noDelay?: boolean): void;
  setKeepAlive?(keepAlive?: boolean): void;
}

/** `Deno.TcpListener`. */
interface DenoTcpListener {
  readonly addr: DenoNetAddr;
  accept(): Promise<DenoTcpConn>;
  close(): void;
}

/** `Deno.DatagramConn`. */
interface DenoDatagramConn {
  receive(p?: Uint8Array): Promise<[Uint8Array, DenoNetAddr]>;
  send(p: Uint8Array, addr: { hostname: string; port: number; transport: "udp" }): Promise<number>;
  close(): void;
}

/** `Deno.NetworkInterfaceInfo`. */
interface DenoNetworkInterface {
  readonly name: string;
  readonly address: string;
  readonly netmask: string;
  readonly cidr: string;
}

/** The part of the `Deno` namespace this backend uses. */
interface DenoLike {
  listen(options: { hostname: string; port: number; transport: "tcp" }): DenoTcpListener;
  connect(
    options: { hostname: string; port: number; transport: "tcp"; signal?: AbortSignal },
  ): Promise<DenoTcpConn>;
  /** Present only with `--unstable-net` (or `"unstable": ["net"]` in deno.json). */
  listenDatagram?(options: { hostname: string; port: number; transport: "udp" }): DenoDatagramConn;
  networkInterfaces?(): DenoNetworkInterface[];
  readTextFileSync?(path: string): string;
}

/** Timer functions every runtime has. */
interface TimerGlobals {
  setTimeout(fn: () => void, ms: number): unknown;
}

function denoGlobal(): DenoLike | undefined {
  return (globalThis as unknown as { Deno?: DenoLike }).Deno;
}

function timers(): TimerGlobals {
  return globalThis as unknown as TimerGlobals;
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => timers().setTimeout(resolve, ms));

// ---------------------------------------------------------------- streams

/** Bytes read from a TCP socket at a time. */
const TCP_READ_SIZE = 64 * 1024;
// Go tcpListen's backoff after a failed accept.
const ACCEPT_BASE_DELAY_MS = 5;
const ACCEPT_MAX_DELAY_MS = 1000;

// Deno's errors for an operation cut short by close(): the socket is gone, not failed.
function isClosedByUs(err: unknown): boolean {
  const name = (err as { name?: unknown } | null)?.name;
  return name === "Interrupted" || name === "BadResource";
}

/** A stream over a `Deno.TcpConn`: a read loop feeds it, writes loop until done. */
class DenoConn extends SocketConn {
  readonly #conn: DenoTcpConn;
  // The last write queued: the next one starts when it ends, so partial writes never interleave.
  #tail: Promise<void> = Promise.resolve();
  #paused = false;
  #wake: (() => void) | null = null;

  constructor(conn: DenoTcpConn, remoteAddr: string, clock: Clock) {
    super(remoteAddr, clock);
    this.#conn = conn;
    try {
      conn.setNoDelay?.(true);
      conn.setKeepAlive?.(true);
    } catch {
      // Options are best effort (the socket may already be closing).
    }
    void this.#readLoop();
  }

  async #readLoop(): Promise<void> {
    const buf = new Uint8Array(TCP_READ_SIZE);
    for (;;) {
      while (this.#paused && !this.closed) await new Promise<void>((resolve) => (this.#wake = resolve));
      if (this.closed) return;
      let n: number | null;
      try {
        n = await this.#conn.read(buf);
      } catch (err) {
        if (!this.closed && !isClosedByUs(err)) this.receiveError(err);
        else this.receiveEnd();
        return;
      }
      if (n === null) {
        this.receiveEnd();
        return;
      }
      // A copy at its own length: the reader keeps it, and buf is read into again.
      this.receive(buf.slice(0, n));
    }
  }

  protected writeBytes(b: Uint8Array): Promise<void> {
    const conn = this.#conn;
    const done = this.#tail.then(async () => {
      for (let off = 0; off < b.length;) {
        const n = await conn.write(off === 0 ? b : b.subarray(off));
        if (!(n > 0)) throw new Error(`write returned ${n}`);
        off += n;
      }
    });
    this.#tail = done.catch(() => {});
    return done;
  }

  protected destroySocket(): void {
    this.#wake?.();
    this.#wake = null;
    this.#conn.close();
  }

  protected pauseReading(): void {
    this.#paused = true;
  }

  protected resumeReading(): void {
    this.#paused = false;
    this.#wake?.();
    this.#wake = null;
  }
}

// ---------------------------------------------------------------- the backend

function denoBackend(
  deno: DenoLike,
  setImmediate: (fn: () => void) => void,
  opts: ResolvedNetTransportOptions,
): NetBackend {
  const listenDatagram = deno.listenDatagram!.bind(deno);
  const { clock, logger } = opts;
  let bufferNoted = false;
  return {
    listenTcp(req: BindRequest, port: number, input: NetInput): Promise<TcpListenerHandle> {
      let listener: DenoTcpListener;
      try {
        listener = deno.listen({ hostname: req.host, port, transport: "tcp" });
      } catch (err) {
        return Promise.reject(err);
      }
      const state = { closed: false };
      const loop = acceptLoop(listener, state, input, clock, logger);
      return Promise.resolve({
        port: listener.addr.port,
        close: async () => {
          state.closed = true;
          try {
            listener.close();
          } catch {
            // Already closed.
          }
          // The pending accept() holds the socket: the port is free once it has ended.
          await loop;
        },
      });
    },

    bindUdp(req: BindRequest, port: number, input: NetInput): Promise<UdpSocketHandle> {
      let sock: DenoDatagramConn;
      try {
        sock = listenDatagram({ hostname: req.host, port, transport: "udp" });
      } catch (err) {
        return Promise.reject(err);
      }
      if (opts.udpRecvBufferSize > 0 && !bufferNoted) {
        bufferNoted = true;
        logger.debug("Deno cannot set a UDP receive buffer size: the system default applies", {
          requested: opts.udpRecvBufferSize,
        });
      }
      const state = { closed: false };
      const loop = receiveLoop(sock, state, input, logger);
      return Promise.resolve({
        family: req.family,
        dualStack: req.dualStack,
        send(b: Uint8Array, host: string, toPort: number, onError: (err: unknown) => void): void {
          try {
            sock.send(b, { hostname: host, port: toPort, transport: "udp" }).catch(onError);
          } catch (err) {
            onError(err);
          }
        },
        close: async () => {
          state.closed = true;
          try {
            sock.close();
          } catch {
            // Already closed.
          }
          // As for TCP: the port is released once the pending receive() has ended.
          await loop;
        },
      });
    },

    connect(host: string, port: number, remoteAddr: string): ConnectAttempt {
      const abort = new AbortController();
      const conn = deno.connect({ hostname: host, port, transport: "tcp", signal: abort.signal })
        .then((c): SocketConn => new DenoConn(c, remoteAddr, clock));
      return { conn, abort: () => abort.abort() };
    },

    // Sends made by a packet handler go out on the next macrotask. Not setTimeout(fn, 0):
    // Deno runs those a millisecond or more later, which capped a UDP ping-pong at about
    // 470 round trips a second and added that much to every measured RTT.
    defer: (fn: () => void) => {
      setImmediate(fn);
    },

    network: {
      interfaces: (): HostInterface[] => {
        if (deno.networkInterfaces === undefined) throw new Error("Deno.networkInterfaces is not available");
        const table: Record<string, DenoNetworkInterface[]> = {};
        for (const i of deno.networkInterfaces()) (table[i.name] ??= []).push(i);
        return hostInterfacesFromTable(table);
      },
      defaultInterface: (): string | null => {
        try {
          return parseDefaultRoute(deno.readTextFileSync?.("/proc/net/route") ?? "");
        } catch {
          return null; // Not Linux, or no permission to read it.
        }
      },
    },
  };
}

// Go tcpListen: accept until closed; after an error, back off from 5 ms doubling to 1 s.
async function acceptLoop(
  listener: DenoTcpListener,
  state: { closed: boolean },
  input: NetInput,
  clock: Clock,
  logger: Logger,
): Promise<void> {
  let delay = 0;
  for (;;) {
    let conn: DenoTcpConn;
    try {
      conn = await listener.accept();
    } catch (err) {
      if (state.closed || isClosedByUs(err)) return;
      delay = delay === 0 ? ACCEPT_BASE_DELAY_MS : Math.min(2 * delay, ACCEPT_MAX_DELAY_MS);
      logger.error("Error accepting TCP connection", { error: toNetError(err, "accept").message, delay });
      await sleep(delay);
      continue;
    }
    delay = 0;
    if (state.closed) {
      conn.close();
      return;
    }
    const peer = conn.remoteAddr;
    input.stream(new DenoConn(conn, formatAddress(peer.hostname, peer.port), clock));
  }
}

// Go udpListen: one buffer per socket, each datagram copied out at its own length.
async function receiveLoop(
  sock: DenoDatagramConn,
  state: { closed: boolean },
  input: NetInput,
  logger: Logger,
): Promise<void> {
  const buf = new Uint8Array(UDP_PACKET_BUF_SIZE);
  for (;;) {
    let got: [Uint8Array, DenoNetAddr];
    try {
      got = await sock.receive(buf);
    } catch (err) {
      if (state.closed || isClosedByUs(err)) return;
      const code = errorCode(err);
      if (code === "ECONNREFUSED" || code === "EHOSTUNREACH" || code === "ENETUNREACH") {
        logger.debug("UDP destination unreachable", { error: toNetError(err, "receive").message });
      } else {
        logger.error("Error reading UDP packet", { error: toNetError(err, "receive").message });
        await sleep(ACCEPT_BASE_DELAY_MS); // never spin on an error that repeats
      }
      continue;
    }
    const [data, from] = got;
    input.packet(data.slice(), from.hostname, from.port);
  }
}

// ---------------------------------------------------------------- the factory

let fallbackWarned = false;

// Logged once per process when createNetTransport() falls back to the node:dgram/node:net backend.
const UNSTABLE_NET_WARNING =
  'Deno.listenDatagram is not available, so the transport uses node:dgram and node:net instead of Deno\'s native sockets (UDP is 2-3x slower that way). To use the native transport, run with --unstable-net or add "unstable": ["net"] to your deno.json';

/**
 * Creates a transport on Deno's native sockets and binds it: TCP then UDP on
 * each bind address, all on one port (Go `NewNetTransport`). Without
 * `--unstable-net` (no `Deno.listenDatagram`), returns the `node:dgram`/
 * `node:net` transport instead and logs, once per process, a warning saying
 * how to enable the native one.
 *
 * @param options Bind addresses and port, logger, clock (`udpRecvBufferSize`
 * only applies to the fallback: Deno cannot set it).
 * @returns The bound transport; shut it down to release its sockets.
 * @throws {TypeError} When an option has the wrong type or a bind address is not an IP.
 * @throws {RangeError} When the port is out of range or no bind address is given.
 * @throws {AddressInUseError} When the port is taken on one of the addresses.
 * @throws {NetError} When binding fails otherwise (`EACCES` without `--allow-net`).
 * @throws {Error} When not running on Deno.
 *
 * @example Usage
 * ```ts
 * import { createNetTransport } from "@gossip/memberlist/transports/deno";
 * import assert from "node:assert/strict";
 *
 * const t = await createNetTransport({ bindAddrs: ["127.0.0.1"], bindPort: 0 });
 * assert.ok(t.port > 0);
 * assert.deepEqual(t.finalAdvertiseAddr("", 0), { ip: "127.0.0.1", port: t.port });
 * await t.shutdown();
 * ```
 */
export async function createNetTransport(options: NetTransportOptions = {}): Promise<NetTransport> {
  const opts = resolveNetTransportOptions(options);
  const deno = denoGlobal();
  if (deno === undefined) {
    throw new Error(
      `Cannot create a Deno transport: not running on Deno: use @gossip/memberlist/transports, which picks the runtime's backend`,
    );
  }
  if (typeof deno.listenDatagram !== "function") {
    if (!fallbackWarned) {
      fallbackWarned = true;
      opts.logger.warn(UNSTABLE_NET_WARNING);
    }
    // udpRecvBufferSize 0: Deno's node:dgram cannot set the kernel's buffer either, but
    // setRecvBufferSize() makes it allocate (and zero) a read buffer of that size for
    // every datagram: the default 2 MiB request cut it from ~60k to ~1.6k datagrams/s.
    return await createNodeNetTransport({ ...options, udpRecvBufferSize: 0 });
  }
  // node:timers needs no flag or permission on Deno.
  const timersModule = await import("node:timers");
  const setImmediate = (fn: () => void): void => void timersModule.setImmediate(fn);
  return await openNetTransport(opts, denoBackend(deno, setImmediate, opts));
}
