// Copyright (c) memberlist-ts authors. SPDX-License-Identifier: MPL-2.0
/**
 * An in-memory network for tests and the deterministic simulator (Go
 * `mock_transport.go`, libp2p's memory transport). A {@linkcode MockNetwork}
 * hands out {@linkcode MockTransport}s, each with its own `"ip:port"` address,
 * that exchange datagrams and streams through the network's clock, never
 * synchronously. On a `VirtualClock` with a seeded random source, the same
 * sequence of calls gives the same deliveries in the same order, every run.
 *
 * Faults can be changed at any moment of a run: latency and jitter, packet
 * loss (global and per directed link), partitions, UDP-only blackholes, slow
 * receivers and abrupt kills.
 *
 * Faults are judged when a datagram is sent or a stream chunk written: what
 * is already in flight arrives (a killed sender's in-flight data excepted).
 * Across a partition datagrams are dropped, dials time out like a black hole,
 * and writes on open streams stall (in order) until {@linkcode MockNetwork.heal}
 * releases them, as TCP would keep retransmitting; stream deadlines keep running.
 *
 * Errors are plain `Error`s with a `name` and a Node-style `code`:
 *
 * | name | code | when |
 * | --- | --- | --- |
 * | `TimeoutError` | `ETIMEDOUT` | a stream's deadline passed; a dial across a partition (or to a slow node) ran out of time |
 * | `ConnectionRefusedError` | `ECONNREFUSED` | a dial to an address with no transport or no handlers |
 * | `ConnectionClosedError` | `ERR_STREAM_CLOSED` | a write on a stream this side closed |
 * | `TransportClosedError` | `ERR_TRANSPORT_CLOSED` | `writeTo` or `dialTimeout` on a shut-down transport |
 * | `AddressInUseError` | `EADDRINUSE` | `newTransport` with an address already taken |
 *
 * @example Usage
 * ```ts
 * import { MockNetwork } from "@gossip/memberlist/transports/mock";
 * import assert from "node:assert/strict";
 *
 * const net = new MockNetwork({ latency: 2 });
 * const a = net.newTransport("a");
 * const b = net.newTransport("b");
 * const ignore = { packet() {}, stream(conn: { close(): void }) { conn.close(); } };
 * a.setHandlers(ignore);
 *
 * // A datagram arrives from a's address, after the latency.
 * const received = new Promise<{ buf: Uint8Array; from: string }>((resolve) =>
 *   b.setHandlers({ ...ignore, packet: resolve })
 * );
 * a.writeTo(new TextEncoder().encode("ping"), { addr: b.addr, name: "b" });
 * const packet = await received;
 * assert.equal(packet.from, a.addr);
 * assert.equal(new TextDecoder().decode(packet.buf), "ping");
 * assert.equal(net.stats.packets, 1);
 *
 * await Promise.all([a.shutdown(), b.shutdown()]);
 * ```
 *
 * @module
 */

import { type Clock, systemClock, type TimerHandle } from "../lib/clock.ts";
import { createSeededRandom, type RandomSource } from "../lib/random.ts";
import type { Address, AdvertiseAddress, Conn, Transport, TransportHandlers } from "../lib/transport.ts";

/**
 * One-way delay in milliseconds from the transport at address `from` to the one
 * at `to`. Called once per datagram, stream chunk and dial; negative results
 * count as 0. Whole milliseconds keep a simulation fast: a virtual clock yields
 * a macrotask per distinct instant.
 */
export type LatencyFunction = (from: string, to: string) => number;

/** Options of a {@linkcode MockNetwork}. */
export interface MockNetworkOptions {
  /**
   * The clock that times every delivery. The simulator passes a `VirtualClock`.
   *
   * @default {systemClock}
   */
  clock?: Clock;
  /**
   * Draws loss and jitter. The default is seeded, so runs are reproducible.
   *
   * @default {createSeededRandom(1)}
   */
  random?: RandomSource;
  /**
   * One-way delay of datagrams and stream chunks, in milliseconds, or a
   * function of the link. With 0, delivery is still asynchronous.
   *
   * @default {0}
   */
  latency?: number | LatencyFunction;
  /**
   * Extra delay for each datagram, stream chunk and dial: a whole number of
   * milliseconds drawn uniformly from 0 to `jitter`. Datagrams may overtake each
   * other; a stream's chunks never do.
   *
   * @default {0}
   */
  jitter?: number;
  /**
   * Probability in [0, 1] that a datagram is lost. Streams are reliable but,
   * as over TCP, slowed by the same loss: a dial waits a retransmission
   * timeout of 1 s (doubling) for each lost SYN or SYN-ACK, and a chunk one of
   * 200 ms (doubling) each time it is lost, still in order.
   *
   * @default {0}
   */
  loss?: number;
}

/** Options of {@linkcode MockNetwork.newTransport}. */
export interface MockTransportOptions {
  /**
   * The address to take, `"ip:port"` (IPv6 in brackets). Port 0 picks a free
   * port on that ip. It may be an address a shut-down transport released.
   *
   * @default {"127.0.0.1:<next free port from 10000>"}
   */
  addr?: string;
}

/** How late a slow node handles its input (see {@linkcode MockNetwork.setSlow}). */
export interface MockSlowness {
  /** Milliseconds between an input's arrival and its delivery to the node's handlers. */
  delayMs: number;
}

/** Counters of everything sent through a {@linkcode MockNetwork} since it was created. */
export interface MockNetworkStats {
  /** Datagrams handed to `writeTo` on a live transport. */
  readonly packets: number;
  /** Bytes of those datagrams. */
  readonly bytes: number;
  /**
   * Datagrams never delivered: lost, blocked, cut off by a partition, to an
   * unknown or shut-down address, or to a transport without handlers.
   */
  readonly dropped: number;
  /** Streams opened (dials that were accepted). */
  readonly streams: number;
  /** Bytes written to streams, in both directions. */
  readonly streamBytes: number;
}

interface Counters {
  packets: number;
  bytes: number;
  dropped: number;
  streams: number;
  streamBytes: number;
}

interface NetError extends Error {
  code: string;
}

function netError(name: string, code: string, message: string): NetError {
  const err = new Error(message) as NetError;
  err.name = name;
  err.code = code;
  return err;
}

function closedTransport(addr: string, action: string): NetError {
  return netError(
    "TransportClosedError",
    "ERR_TRANSPORT_CLOSED",
    `Cannot ${action}: transport "${addr}" is shut down`,
  );
}

function checkProbability(p: number, what: string): number {
  if (!(p >= 0 && p <= 1)) throw new RangeError(`Cannot set ${what}: probability ${p} is outside [0, 1]`);
  return p;
}

function checkDelay(ms: number, what: string): number {
  if (!(ms >= 0 && ms < Infinity)) {
    throw new RangeError(`Cannot set ${what}: ${ms} is not a delay in milliseconds`);
  }
  return ms;
}

const RESOLVED: Promise<void> = Promise.resolve();

// What a Delivery carries.
const PACKET = 0;
const CHUNK = 1; // stream bytes
const FIN = 2; // end of a stream's data
const ACCEPT = 3; // a dial reaching its destination

/** One item on the wire or in a slow node's backlog. One shape for all kinds keeps the hot path monomorphic. */
class Delivery {
  at: number;
  seq = 0;
  readonly kind: number;
  readonly to: Endpoint;
  readonly src: Endpoint;
  readonly buf: Uint8Array | null;
  readonly conn: MockConn | null;
  readonly dial: PendingDial | null;
  constructor(
    at: number,
    kind: number,
    to: Endpoint,
    src: Endpoint,
    buf: Uint8Array | null,
    conn: MockConn | null,
    dial: PendingDial | null,
  ) {
    this.at = at;
    this.kind = kind;
    this.to = to;
    this.src = src;
    this.buf = buf;
    this.conn = conn;
    this.dial = dial;
  }
}

// A binary min-heap of deliveries ordered by (at, seq): time order, ties in send order.
function before(a: Delivery, b: Delivery): boolean {
  return a.at < b.at || (a.at === b.at && a.seq < b.seq);
}

function heapPush(h: Delivery[], d: Delivery): void {
  let i = h.length;
  h.push(d);
  while (i > 0) {
    const parent = (i - 1) >> 1;
    const p = h[parent]!;
    if (!before(d, p)) break;
    h[i] = p;
    i = parent;
  }
  h[i] = d;
}

function heapPop(h: Delivery[]): void {
  const last = h.pop()!;
  const n = h.length;
  if (n === 0) return;
  let i = 0;
  for (;;) {
    const l = 2 * i + 1;
    if (l >= n) break;
    const r = l + 1;
    const c = r < n && before(h[r]!, h[l]!) ? r : l;
    const child = h[c]!;
    if (!before(child, last)) break;
    h[i] = child;
    i = c;
  }
  h[i] = last;
}

/** A dial waiting for its destination, its timeout or its refusal. */
class PendingDial {
  readonly ep: Endpoint;
  readonly target: string;
  readonly timeoutMs: number;
  settled = false;
  timer: TimerHandle | null = null;
  // Whether the timer refuses (unknown address) rather than times out.
  refuseOnTimer = false;
  #resolve: (conn: Conn) => void;
  #reject: (err: Error) => void;

  constructor(
    ep: Endpoint,
    target: string,
    timeoutMs: number,
    resolve: (conn: Conn) => void,
    reject: (err: Error) => void,
  ) {
    this.ep = ep;
    this.target = target;
    this.timeoutMs = timeoutMs;
    this.#resolve = resolve;
    this.#reject = reject;
  }

  readonly onTimer = (): void => {
    this.timer = null;
    this.fail(
      this.refuseOnTimer
        ? netError(
          "ConnectionRefusedError",
          "ECONNREFUSED",
          `Cannot dial "${this.target}": connection refused`,
        )
        : netError(
          "TimeoutError",
          "ETIMEDOUT",
          `Cannot dial "${this.target}": timed out after ${this.timeoutMs} ms`,
        ),
    );
  };

  #settle(): boolean {
    if (this.settled) return false;
    this.settled = true;
    this.timer?.cancel();
    this.timer = null;
    this.ep.dials.delete(this);
    return true;
  }

  succeed(conn: Conn): void {
    if (this.#settle()) this.#resolve(conn);
  }

  fail(err: Error): void {
    if (this.#settle()) this.#reject(err);
  }
}

/** The network's side of one transport: its address, handlers, open streams, dials and slow backlog. */
class Endpoint {
  readonly fabric: Fabric;
  readonly addr: string;
  readonly host: string;
  readonly port: number;
  handlers: TransportHandlers | null = null;
  closed = false;
  killed = false;
  readonly conns: Set<MockConn> = new Set();
  readonly dials: Set<PendingDial> = new Set();
  // Slowness: input waits in `backlog` (in arrival order, non-decreasing `at`) until its time.
  slowDelay = -1; // < 0: not slow
  backlog: Array<Delivery | null> = [];
  backlogHead = 0;
  backlogTail = -Infinity; // `at` of the last item queued
  #timer: TimerHandle | null = null;
  #timerAt = Infinity;

  constructor(fabric: Fabric, addr: string, host: string, port: number) {
    this.fabric = fabric;
    this.addr = addr;
    this.host = host;
    this.port = port;
  }

  get backlogged(): boolean {
    return this.backlogHead < this.backlog.length;
  }

  /** Queues an input that arrived at `now` (models a node that reads its sockets late). */
  enqueue(d: Delivery, now: number): void {
    let at = now + (this.slowDelay > 0 ? this.slowDelay : 0);
    if (at < this.backlogTail) at = this.backlogTail;
    d.at = at;
    this.backlogTail = at;
    this.backlog.push(d);
    if (at < this.#timerAt) this.#schedule();
  }

  /** Makes the whole backlog due now (the node caught up). */
  flush(now: number): void {
    for (let i = this.backlogHead; i < this.backlog.length; i++) this.backlog[i]!.at = now;
    this.backlogTail = now;
    this.#schedule();
  }

  #schedule(): void {
    const head = this.backlog[this.backlogHead];
    if (head != null && this.#timer !== null && this.#timerAt <= head.at) return;
    this.#timer?.cancel();
    this.#timer = null;
    this.#timerAt = Infinity;
    if (head == null) return;
    this.#timerAt = head.at;
    this.#timer = this.fabric.clock.setTimeout(this.#drain, head.at - this.fabric.clock.now());
  }

  readonly #drain = (): void => {
    this.#timer = null;
    this.#timerAt = Infinity;
    const now = this.fabric.clock.now();
    try {
      // Only what was queued before this call: input queued meanwhile waits for the next turn.
      const end = this.backlog.length;
      while (this.backlogHead < end && !this.closed) {
        const d = this.backlog[this.backlogHead]!;
        if (d.at > now) break;
        this.backlog[this.backlogHead++] = null;
        this.fabric.deliver(d, now);
      }
      if (this.backlogHead === this.backlog.length) {
        this.backlog = [];
        this.backlogHead = 0;
      } else if (this.backlogHead > 1024 && this.backlogHead * 2 > this.backlog.length) {
        this.backlog = this.backlog.slice(this.backlogHead);
        this.backlogHead = 0;
      }
    } finally {
      if (!this.closed) this.#schedule();
    }
  };

  /** Drops the backlog and its timer (shutdown). */
  clearBacklog(): void {
    this.#timer?.cancel();
    this.#timer = null;
    this.#timerAt = Infinity;
    const backlog = this.backlog;
    this.backlog = [];
    for (let i = this.backlogHead; i < backlog.length; i++) this.fabric.discard(backlog[i]!);
    this.backlogHead = 0;
  }
}

/** One end of an in-memory stream. */
class MockConn implements Conn {
  readonly remoteAddr: string;
  readonly ep: Endpoint;
  peer: MockConn | null = null;
  closed = false;
  // Delivery time of the last chunk sent, so chunks never overtake each other under jitter.
  lastAt = -Infinity;
  // Chunks held at this (sending) side while the link is cut.
  stall: Delivery[] | null = null;
  #chunks: Uint8Array[] = [];
  #chunksHead = 0;
  #readers: Array<{ resolve: (b: Uint8Array | null) => void; reject: (err: Error) => void }> = [];
  #eof = false;
  #error: Error | null = null;
  #deadline: TimerHandle | null = null;

  constructor(ep: Endpoint, remoteAddr: string) {
    this.ep = ep;
    this.remoteAddr = remoteAddr;
  }

  read(): Promise<Uint8Array | null> {
    if (this.#error !== null) return Promise.reject(this.#error);
    if (this.#chunksHead < this.#chunks.length) {
      const chunk = this.#chunks[this.#chunksHead]!;
      if (++this.#chunksHead === this.#chunks.length) {
        this.#chunks = [];
        this.#chunksHead = 0;
      }
      return Promise.resolve(chunk);
    }
    if (this.#eof || this.closed) return Promise.resolve(null);
    return new Promise((resolve, reject) => this.#readers.push({ resolve, reject }));
  }

  write(b: Uint8Array): Promise<void> {
    if (this.#error !== null) return Promise.reject(this.#error);
    if (this.closed) {
      return Promise.reject(
        netError(
          "ConnectionClosedError",
          "ERR_STREAM_CLOSED",
          `Cannot write to "${this.remoteAddr}": stream is closed`,
        ),
      );
    }
    if (b.length > 0) {
      this.ep.fabric.stats.streamBytes += b.length;
      this.ep.fabric.sendStream(this, CHUNK, b.slice());
    }
    return RESOLVED;
  }

  setDeadline(ms: number): void {
    if (this.closed) return;
    this.#deadline?.cancel();
    this.#deadline = null;
    // A deadline that never comes clears it (Go's zero time).
    if (ms < Infinity) this.#deadline = this.ep.fabric.clock.setTimeout(this.#onDeadline, ms);
  }

  readonly #onDeadline = (): void => {
    this.#deadline = null;
    this.#error = netError(
      "TimeoutError",
      "ETIMEDOUT",
      `Cannot use stream to "${this.remoteAddr}": deadline passed`,
    );
    const readers = this.#readers;
    this.#readers = [];
    for (const r of readers) r.reject(this.#error);
    this.close();
  };

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.#deadline?.cancel();
    this.#deadline = null;
    this.ep.conns.delete(this);
    this.#chunks = [];
    this.#chunksHead = 0;
    const readers = this.#readers;
    this.#readers = [];
    for (const r of readers) r.resolve(null);
    const fabric = this.ep.fabric;
    if (!this.ep.killed) {
      fabric.sendStream(this, FIN, null);
    } else if (this.stall !== null) {
      this.stall = null;
      fabric.stalled.delete(this);
    }
  }

  /** Bytes from the peer. */
  receive(chunk: Uint8Array): void {
    if (this.closed) return;
    const reader = this.#readers.shift();
    if (reader !== undefined) reader.resolve(chunk);
    else this.#chunks.push(chunk);
  }

  /** The peer's end of data. */
  receiveEnd(): void {
    if (this.closed || this.#eof) return;
    this.#eof = true;
    const readers = this.#readers;
    this.#readers = [];
    for (const r of readers) r.resolve(null);
  }
}

interface Cut {
  a: Set<string>;
  b: Set<string>;
}

const HOST_PORT = /^(?:\[([^\]]+)\]|([^:[\]]+)):(\d{1,5})$/;

/** The network's state and its delivery loop, kept out of the public classes. */
class Fabric {
  readonly clock: Clock;
  readonly random: RandomSource;
  latency = 0;
  latencyFn: LatencyFunction | null = null;
  jitter = 0;
  loss = 0;
  readonly stats: Counters = { packets: 0, bytes: 0, dropped: 0, streams: 0, streamBytes: 0 };
  readonly endpoints: Map<string, Endpoint> = new Map();
  #nextPort = 10000;

  // Faults, by address.
  cuts: Cut[] = [];
  readonly udpBlocked: Set<string> = new Set();
  readonly linkLoss: Map<string, Map<string, number>> = new Map();
  readonly slow: Map<string, number> = new Map();
  // Whether any per-datagram fault is set: when not, sending skips every check.
  faulty = false;
  readonly stalled: Set<MockConn> = new Set();

  // The wire: deliveries in time order, and one clock timer for the earliest.
  #heap: Delivery[] = [];
  #seq = 0;
  #timer: TimerHandle | null = null;
  #timerAt = Infinity;
  #pumping = false;

  constructor(clock: Clock, random: RandomSource) {
    this.clock = clock;
    this.random = random;
  }

  updateFaulty(): void {
    this.faulty = this.cuts.length > 0 || this.udpBlocked.size > 0 || this.linkLoss.size > 0;
  }

  open(addr: string | undefined): Endpoint {
    let host = "127.0.0.1";
    let port = 0;
    if (addr !== undefined) {
      const m = HOST_PORT.exec(addr);
      port = m === null ? -1 : Number(m[3]);
      if (m === null || port > 65535) {
        throw new TypeError(`Cannot create transport: address "${addr}" is not "ip:port"`);
      }
      host = m[1] ?? m[2]!;
    }
    const prefix = host.includes(":") ? `[${host}]:` : `${host}:`;
    if (port === 0) {
      while (this.endpoints.has(prefix + this.#nextPort)) this.#nextPort++;
      if (this.#nextPort > 65535) throw new RangeError(`Cannot create transport: no free port on "${host}"`);
      port = this.#nextPort++;
    }
    const key = prefix + port;
    if (this.endpoints.has(key)) {
      throw netError(
        "AddressInUseError",
        "EADDRINUSE",
        `Cannot create transport: address "${key}" is in use`,
      );
    }
    const ep = new Endpoint(this, key, host, port);
    ep.slowDelay = this.slow.get(key) ?? -1;
    this.endpoints.set(key, ep);
    return ep;
  }

  delay(from: string, to: string): number {
    let d = this.latencyFn === null ? this.latency : this.latencyFn(from, to);
    // Whole milliseconds: a virtual clock yields once per distinct instant, so
    // fractional delays would make every delivery an instant of its own.
    if (this.jitter > 0) d += Math.floor(this.random() * (this.jitter + 1));
    return d > 0 ? d : 0;
  }

  isCut(from: string, to: string): boolean {
    for (const c of this.cuts) {
      if ((c.a.has(from) && c.b.has(to)) || (c.b.has(from) && c.a.has(to))) return true;
    }
    return false;
  }

  #packetBlocked(from: string, to: string): boolean {
    const blocked = this.udpBlocked;
    if (blocked.size > 0 && (blocked.has(from) || blocked.has(to))) return true;
    if (this.cuts.length > 0 && this.isCut(from, to)) return true;
    if (this.linkLoss.size > 0) {
      const p = this.linkLoss.get(from)?.get(to);
      if (p !== undefined && this.random() < p) return true;
    }
    return false;
  }

  sendPacket(src: Endpoint, b: Uint8Array, to: string): number {
    const now = this.clock.now();
    const stats = this.stats;
    stats.packets++;
    stats.bytes += b.length;
    const dest = this.endpoints.get(to);
    if (
      dest === undefined ||
      (this.loss > 0 && this.random() < this.loss) ||
      (this.faulty && this.#packetBlocked(src.addr, to))
    ) {
      stats.dropped++;
      return now;
    }
    this.#push(new Delivery(now + this.delay(src.addr, to), PACKET, dest, src, b.slice(), null, null));
    return now;
  }

  sendStream(conn: MockConn, kind: number, buf: Uint8Array | null): void {
    const peer = conn.peer!;
    const d = new Delivery(0, kind, peer.ep, conn.ep, buf, peer, null);
    if (conn.stall !== null) {
      conn.stall.push(d);
    } else if (this.cuts.length > 0 && this.isCut(conn.ep.addr, peer.ep.addr)) {
      conn.stall = [d];
      this.stalled.add(conn);
    } else {
      this.#sendStreamNow(conn, d);
    }
  }

  /**
   * What TCP's retransmissions add at the global loss: `rto` (doubling) for
   * each lost try, a try being lost with probability `p` (capped at about a
   * minute, as a kernel gives up).
   */
  retransmitDelay(p: number, rto: number): number {
    let extra = 0;
    while (p > 0 && rto <= 32_000 && this.random() < p) {
      extra += rto;
      rto *= 2;
    }
    return extra;
  }

  #sendStreamNow(conn: MockConn, d: Delivery): void {
    let at = this.clock.now() + this.delay(conn.ep.addr, d.to.addr) + this.retransmitDelay(this.loss, 200);
    if (at < conn.lastAt) at = conn.lastAt;
    conn.lastAt = at;
    d.at = at;
    this.#push(d);
  }

  /** Sends what streams held back while their link was cut, where it no longer is. */
  releaseStalled(): void {
    for (const conn of this.stalled) {
      if (this.isCut(conn.ep.addr, conn.peer!.ep.addr)) continue;
      const held = conn.stall!;
      conn.stall = null;
      this.stalled.delete(conn);
      for (const d of held) this.#sendStreamNow(conn, d);
    }
  }

  dial(ep: Endpoint, to: string, timeoutMs: number): Promise<Conn> {
    if (!(timeoutMs >= 0)) {
      return Promise.reject(
        new RangeError(`Cannot dial "${to}": timeout ${timeoutMs} is not a duration in milliseconds`),
      );
    }
    return new Promise<Conn>((resolve, reject) => {
      const pd = new PendingDial(ep, to, timeoutMs, resolve, reject);
      ep.dials.add(pd);
      let wait = timeoutMs;
      if (!(this.cuts.length > 0 && this.isCut(ep.addr, to))) {
        // A SYN or its SYN-ACK lost costs a retransmission timeout.
        const synLoss = 1 - (1 - this.loss) ** 2;
        const latency = this.delay(ep.addr, to) + this.retransmitDelay(synLoss, 1000);
        const dest = this.endpoints.get(to);
        if (dest === undefined) {
          // Nobody there: refused once the attempt got there, unless the timeout comes first.
          if (latency < timeoutMs) {
            wait = latency;
            pd.refuseOnTimer = true;
          }
        } else {
          this.#push(new Delivery(this.clock.now() + latency, ACCEPT, dest, ep, null, null, pd));
        }
      }
      if (wait < Infinity) pd.timer = this.clock.setTimeout(pd.onTimer, wait);
    });
  }

  #accept(pd: PendingDial, to: Endpoint): void {
    if (pd.settled) return;
    const handlers = to.handlers;
    if (handlers === null) {
      pd.fail(
        netError("ConnectionRefusedError", "ECONNREFUSED", `Cannot dial "${pd.target}": connection refused`),
      );
      return;
    }
    const dialer = new MockConn(pd.ep, to.addr);
    const acceptor = new MockConn(to, pd.ep.addr);
    dialer.peer = acceptor;
    acceptor.peer = dialer;
    pd.ep.conns.add(dialer);
    to.conns.add(acceptor);
    this.stats.streams++;
    pd.succeed(dialer);
    handlers.stream(acceptor);
  }

  #push(d: Delivery): void {
    d.seq = this.#seq++;
    heapPush(this.#heap, d);
    if (!this.#pumping && d.at < this.#timerAt) this.#schedule();
  }

  #schedule(): void {
    const head = this.#heap[0];
    if (head !== undefined && this.#timer !== null && this.#timerAt <= head.at) return;
    this.#timer?.cancel();
    this.#timer = null;
    this.#timerAt = Infinity;
    if (head === undefined) return;
    this.#timerAt = head.at;
    this.#timer = this.clock.setTimeout(this.#pump, head.at - this.clock.now());
  }

  // Delivers everything due; what those deliveries send waits for the next turn
  // (so nothing is ever delivered synchronously inside a send).
  readonly #pump = (): void => {
    this.#timer = null;
    this.#timerAt = Infinity;
    const now = this.clock.now();
    const limit = this.#seq;
    const heap = this.#heap;
    this.#pumping = true;
    try {
      for (;;) {
        const d = heap[0];
        if (d === undefined || d.at > now || d.seq >= limit) break;
        heapPop(heap);
        const to = d.to;
        if (to.closed) this.discard(d);
        else if (to.slowDelay >= 0 || to.backlogged) to.enqueue(d, now);
        else this.deliver(d, now);
      }
    } finally {
      this.#pumping = false;
      this.#schedule();
    }
  };

  deliver(d: Delivery, now: number): void {
    switch (d.kind) {
      case PACKET: {
        const handlers = d.to.handlers;
        if (handlers === null || d.src.killed) this.stats.dropped++;
        else handlers.packet({ buf: d.buf!, from: d.src.addr, timestamp: now });
        return;
      }
      case CHUNK:
        if (!d.src.killed) d.conn!.receive(d.buf!);
        return;
      case FIN:
        if (!d.src.killed) d.conn!.receiveEnd();
        return;
      default:
        this.#accept(d.dial!, d.to);
    }
  }

  /** Accounts for a delivery that will never happen. */
  discard(d: Delivery): void {
    if (d.kind === PACKET) {
      this.stats.dropped++;
    } else if (d.kind === ACCEPT) {
      d.dial!.fail(
        netError("ConnectionRefusedError", "ECONNREFUSED", `Cannot dial "${d.to.addr}": connection refused`),
      );
    }
  }

  close(ep: Endpoint, graceful: boolean): void {
    if (ep.closed) return;
    ep.killed = !graceful;
    ep.closed = true;
    ep.handlers = null;
    if (this.endpoints.get(ep.addr) === ep) this.endpoints.delete(ep.addr);
    ep.clearBacklog();
    for (const conn of ep.conns) conn.close();
    for (const pd of ep.dials) pd.fail(closedTransport(ep.addr, `dial "${pd.target}"`));
    if (this.endpoints.size === 0) {
      // Nobody left to deliver to: drop what is in flight and stop the timer.
      for (const d of this.#heap) this.discard(d);
      this.#heap = [];
      this.stalled.clear();
      this.#schedule();
    }
  }
}

// Lets MockNetwork build transports through MockTransport's private constructor.
let wrapEndpoint: (ep: Endpoint, name: string) => MockTransport;

/**
 * One node's attachment to a {@linkcode MockNetwork}: a {@linkcode Transport}
 * with an `"ip:port"` address. Get one from {@linkcode MockNetwork.newTransport}.
 *
 * Datagrams are copied when sent and delivered to the destination's `packet`
 * handler with `from` set to this address and `timestamp` to the delivery
 * time. Streams are reliable and ordered; closing one delivers the end of
 * data to the peer after everything written before.
 *
 * @example Usage
 * ```ts
 * import { MockNetwork } from "@gossip/memberlist/transports/mock";
 * import assert from "node:assert/strict";
 *
 * const net = new MockNetwork();
 * const t = net.newTransport("a", { addr: "10.0.0.1:7946" });
 * assert.equal(t.addr, "10.0.0.1:7946");
 * assert.deepEqual(t.finalAdvertiseAddr("", 0), { ip: "10.0.0.1", port: 7946 });
 * await t.shutdown();
 * assert.throws(() => t.writeTo(new Uint8Array([1]), { addr: "10.0.0.2:7946", name: "" }), {
 *   name: "TransportClosedError",
 * });
 * ```
 */
export class MockTransport implements Transport {
  /** This transport's address, `"ip:port"`. */
  readonly addr: string;
  /** The name it was created with (for logs; routing is by address). */
  readonly name: string;
  #ep: Endpoint;

  private constructor(ep: Endpoint, name: string) {
    this.#ep = ep;
    this.addr = ep.addr;
    this.name = name;
  }

  static {
    wrapEndpoint = (ep, name) => new MockTransport(ep, name);
  }

  /** Whether {@linkcode MockTransport.shutdown} (or {@linkcode MockNetwork.kill}) was called. */
  get closed(): boolean {
    return this.#ep.closed;
  }

  /**
   * Returns the given ip and port when `ip` is not empty, else this
   * transport's own.
   *
   * @param ip The configured advertise address, or "".
   * @param port The configured advertise port.
   * @returns The address to advertise.
   */
  finalAdvertiseAddr(ip: string, port: number): AdvertiseAddress {
    return ip !== "" ? { ip, port } : { ip: this.#ep.host, port: this.#ep.port };
  }

  /**
   * Installs the input handlers. Datagrams that arrive before are dropped and
   * dials are refused.
   *
   * @param handlers The callbacks for datagrams and accepted streams.
   */
  setHandlers(handlers: TransportHandlers): void {
    if (!this.#ep.closed) this.#ep.handlers = handlers;
  }

  /**
   * Sends a datagram. It is copied now and delivered after the link's latency,
   * unless a fault drops it. Unknown destinations drop it silently, like UDP.
   *
   * @param b The datagram.
   * @param addr The destination; routed by `addr.addr`.
   * @returns The clock's time of sending.
   * @throws {Error} Named `TransportClosedError` after shutdown.
   */
  writeTo(b: Uint8Array, addr: Address): number {
    const ep = this.#ep;
    if (ep.closed) throw closedTransport(ep.addr, `send to "${addr.addr}"`);
    return ep.fabric.sendPacket(ep, b, addr.addr);
  }

  /**
   * Opens a stream. It connects after the link's latency (later if the
   * destination is slow); an address with nobody listening refuses after the
   * latency; across a partition the dial times out.
   *
   * @param addr The destination; routed by `addr.addr`.
   * @param timeoutMs How long to wait for the connection, in milliseconds.
   * @returns The connected stream.
   * @throws {Error} Named `ConnectionRefusedError`, `TimeoutError` or `TransportClosedError`.
   * @throws {RangeError} When `timeoutMs` is negative or NaN.
   */
  dialTimeout(addr: Address, timeoutMs: number): Promise<Conn> {
    const ep = this.#ep;
    if (ep.closed) return Promise.reject(closedTransport(ep.addr, `dial "${addr.addr}"`));
    return ep.fabric.dial(ep, addr.addr, timeoutMs);
  }

  /**
   * Closes every stream (the peers read the end of data), fails pending dials,
   * drops undelivered input, cancels this transport's timers and releases its
   * address. Idempotent.
   *
   * @returns A promise that resolves when done (at once).
   */
  shutdown(): Promise<void> {
    this.#ep.fabric.close(this.#ep, true);
    return RESOLVED;
  }
}

/**
 * An in-memory network of {@linkcode MockTransport}s with fault injection.
 * Every fault is keyed by address and may change at any time during a run.
 *
 * @example Usage
 * ```ts
 * import { MockNetwork } from "@gossip/memberlist/transports/mock";
 * import assert from "node:assert/strict";
 *
 * const net = new MockNetwork();
 * const a = net.newTransport("a");
 * const b = net.newTransport("b");
 * assert.equal(a.addr, "127.0.0.1:10000");
 * assert.equal(b.addr, "127.0.0.1:10001");
 * net.partition([a.addr], [b.addr]);
 * a.writeTo(new Uint8Array([1]), { addr: b.addr, name: "b" });
 * assert.equal(net.stats.dropped, 1);
 * await assert.rejects(a.dialTimeout({ addr: b.addr, name: "b" }, 5), { name: "TimeoutError" });
 * net.heal();
 * await Promise.all([a.shutdown(), b.shutdown()]);
 * ```
 */
export class MockNetwork {
  #fabric: Fabric;

  /**
   * Creates an empty network.
   *
   * @param options Clock, random source, latency, jitter and loss.
   * @throws {RangeError} When latency, jitter or loss is out of range.
   */
  constructor(options: MockNetworkOptions = {}) {
    this.#fabric = new Fabric(options.clock ?? systemClock, options.random ?? createSeededRandom(1));
    this.setLatency(options.latency ?? 0);
    this.setJitter(options.jitter ?? 0);
    this.setLoss(options.loss ?? 0);
  }

  /** Live counters of traffic since the network was created. */
  get stats(): MockNetworkStats {
    return this.#fabric.stats;
  }

  /**
   * Attaches a new transport.
   *
   * @param name A name for logs (Go's mock routes by it; this one routes by address).
   * @param options An explicit address.
   * @returns The transport, at `"127.0.0.1:<port>"` with ports from 10000 up unless `options.addr` is given.
   * @throws {TypeError} When `options.addr` is not `"ip:port"`.
   * @throws {Error} Named `AddressInUseError` when the address is taken by a live transport.
   */
  newTransport(name: string = "", options: MockTransportOptions = {}): MockTransport {
    return wrapEndpoint(this.#fabric.open(options.addr), name);
  }

  /**
   * Sets the probability that any datagram is lost (combined independently
   * with link loss); streams are slowed as TCP's retransmissions would be (see
   * {@linkcode MockNetworkOptions.loss}).
   *
   * @param p A probability in [0, 1].
   * @throws {RangeError} When `p` is outside [0, 1].
   */
  setLoss(p: number): void {
    this.#fabric.loss = checkProbability(p, "loss");
  }

  /**
   * Sets the one-way delay of datagrams, stream chunks and dials.
   *
   * @param latency Milliseconds, or a function of the link.
   * @throws {RangeError} When a fixed latency is negative or not finite.
   */
  setLatency(latency: number | LatencyFunction): void {
    const f = this.#fabric;
    if (typeof latency === "function") {
      f.latencyFn = latency;
    } else {
      f.latency = checkDelay(latency, "latency");
      f.latencyFn = null;
    }
  }

  /**
   * Sets the random extra delay added to each datagram, stream chunk and dial.
   *
   * @param ms The largest extra delay, in whole milliseconds (0 turns jitter off).
   * @throws {RangeError} When `ms` is negative or not finite.
   */
  setJitter(ms: number): void {
    this.#fabric.jitter = Math.floor(checkDelay(ms, "jitter"));
  }

  /**
   * Sets the loss probability of datagrams from address `a` to address `b`
   * (one direction only; 0 removes it).
   *
   * @param a The sender's address.
   * @param b The receiver's address.
   * @param p A probability in [0, 1].
   * @throws {RangeError} When `p` is outside [0, 1].
   */
  setLinkLoss(a: string, b: string, p: number): void {
    checkProbability(p, `loss from "${a}" to "${b}"`);
    const f = this.#fabric;
    const links = f.linkLoss.get(a);
    if (p > 0) {
      if (links === undefined) f.linkLoss.set(a, new Map([[b, p]]));
      else links.set(b, p);
    } else if (links !== undefined) {
      links.delete(b);
      if (links.size === 0) f.linkLoss.delete(a);
    }
    f.updateFaulty();
  }

  /**
   * Cuts every link between the two groups of addresses, both ways: datagrams
   * across are dropped, dials time out, and open streams stall until
   * {@linkcode MockNetwork.heal}. Calls add up: each adds one more cut.
   *
   * @param groupA Addresses on one side.
   * @param groupB Addresses on the other side.
   */
  partition(groupA: readonly string[], groupB: readonly string[]): void {
    const f = this.#fabric;
    f.cuts.push({ a: new Set(groupA), b: new Set(groupB) });
    f.updateFaulty();
  }

  /** Removes every partition and lets stalled streams carry on. */
  heal(): void {
    const f = this.#fabric;
    f.cuts = [];
    f.updateFaulty();
    f.releaseStalled();
  }

  /**
   * Drops every datagram from or to `addr` while blocked; streams still work
   * (to test the TCP fallback of pings).
   *
   * @param addr The address.
   * @param blocked Whether to block.
   */
  blockUdp(addr: string, blocked: boolean): void {
    const f = this.#fabric;
    if (blocked) f.udpBlocked.add(addr);
    else f.udpBlocked.delete(addr);
    f.updateFaulty();
  }

  /**
   * Makes the node at `addr` handle its input late (a CPU-starved process):
   * datagrams, stream chunks and incoming dials that reach it are queued and
   * delivered `delayMs` after arrival, in arrival order. `null` ends it: the
   * backlog is delivered at once, in order, before any newer input.
   *
   * @param addr The address (also applies to a transport created there later).
   * @param slow The delay, or null.
   * @throws {RangeError} When `delayMs` is negative or not finite.
   */
  setSlow(addr: string, slow: MockSlowness | null): void {
    const f = this.#fabric;
    const delay = slow === null ? -1 : checkDelay(slow.delayMs, "slowness");
    if (delay < 0) f.slow.delete(addr);
    else f.slow.set(addr, delay);
    const ep = f.endpoints.get(addr);
    if (ep === undefined) return;
    ep.slowDelay = delay;
    if (delay < 0 && ep.backlogged) ep.flush(f.clock.now());
  }

  /**
   * Stops the transport at `addr` at once without any goodbye, as if its
   * process died: its streams end without notice to the peers (they stall
   * until their deadlines), whatever it had in flight is dropped, its timers
   * are cancelled and its address is released (dials to it are then refused).
   * Like after shutdown, its `writeTo` throws and `dialTimeout` rejects.
   * Does nothing when no transport is there.
   *
   * @param addr The address.
   */
  kill(addr: string): void {
    const ep = this.#fabric.endpoints.get(addr);
    if (ep !== undefined) this.#fabric.close(ep, false);
  }
}
