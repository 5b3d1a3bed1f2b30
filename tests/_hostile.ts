// Copyright (c) memberlist-ts authors. SPDX-License-Identifier: MPL-2.0

/**
 * The attacker's sockets, for the hostile harness (`tests/hostile_test.ts`) and the hostile benchmark
 * (`bench/hostile.ts`): a UDP socket that sends attack datagrams and counts every reply it gets (the
 * attacker's, or a victim's), TCP connections that send a stream all at once or 64 KiB at a time, connections
 * that claim a large body and then trickle, and the probes that watch the attacked process: event-loop lag,
 * RSS, and (Linux) another process's CPU time and peak RSS from `/proc`. Uses only `node:` modules, so it runs
 * the same on Deno, Bun and Node. Every loop is bounded in count and time, and sends only to loopback.
 *
 * @module
 */

import * as dgram from "node:dgram";
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import * as net from "node:net";
import process from "node:process";
import type { Endpoint } from "./_attacks.ts";
import type { Timing } from "./interop/_mixed.ts";

/**
 * The timing of attacked clusters: LAN probing (every second, 500 ms to answer), so that a peer suspects the
 * attacked node when it stalls for about a second, what a production cluster would notice, and not for a
 * busy moment of a loaded shared machine. No periodic push/pull: the attacks bring their own.
 */
export const HOSTILE_TIMING: Timing = {
  probeInterval: 1000,
  probeTimeout: 500,
  gossipInterval: 200,
  suspicionMult: 4,
  suspicionMaxTimeoutMult: 6,
  pushPullInterval: 60_000,
  tcpTimeout: 2000,
};

/** Waits `ms`. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Parses `ip:port` (IPv4). */
export function endpoint(address: string): Endpoint {
  const i = address.lastIndexOf(":");
  return { ip: address.slice(0, i), port: Number(address.slice(i + 1)) };
}

// ---------------------------------------------------------------- UDP

/**
 * A UDP socket on 127.0.0.1 that counts what it receives: the attacker's own socket (replies to the sender)
 * or a victim's (replies an attack redirected). It never answers.
 */
export class UdpSink {
  readonly #socket: dgram.Socket;
  /** Where it is bound. */
  readonly endpoint: Endpoint;
  /** Datagrams received so far. */
  datagrams = 0;
  /** Bytes received so far. */
  bytes = 0;
  /** Datagrams sent so far (by {@linkcode UdpSink.send}). */
  sent = 0;
  /** Bytes sent so far. */
  sentBytes = 0;

  private constructor(socket: dgram.Socket, ep: Endpoint) {
    this.#socket = socket;
    this.endpoint = ep;
    socket.on("message", (msg: Uint8Array) => {
      this.datagrams++;
      this.bytes += msg.length;
    });
  }

  /** Binds a new sink on 127.0.0.1, a free port. */
  static async open(): Promise<UdpSink> {
    const socket = dgram.createSocket({ type: "udp4", recvBufferSize: 4 << 20, sendBufferSize: 4 << 20 });
    socket.on("error", () => {});
    await new Promise<void>((resolve, reject) => {
      socket.once("error", reject);
      socket.bind(0, "127.0.0.1", () => {
        socket.off("error", reject);
        resolve();
      });
    });
    return new UdpSink(socket, { ip: "127.0.0.1", port: socket.address().port });
  }

  /** What it received so far, as a mark to subtract later. */
  mark(): { datagrams: number; bytes: number } {
    return { datagrams: this.datagrams, bytes: this.bytes };
  }

  /**
   * Sends datagrams to `to`, `burst` at a time with a macrotask between bursts (so a flood does not
   * overrun this process's own send buffer).
   */
  async send(datagrams: readonly Uint8Array[], to: Endpoint, burst = 64): Promise<void> {
    for (let i = 0; i < datagrams.length; i += burst) {
      const group = datagrams.slice(i, i + burst);
      await Promise.all(group.map((d) =>
        new Promise<void>((resolve) => {
          this.#socket.send(d, to.port, to.ip, () => resolve());
        })
      ));
      for (const d of group) {
        this.sent++;
        this.sentBytes += d.length;
      }
      if (i + burst < datagrams.length) await sleep(1);
    }
  }

  /** Closes the socket. */
  close(): void {
    try {
      this.#socket.close();
    } catch {
      // already closed
    }
  }
}

// ---------------------------------------------------------------- TCP

/** What one attack connection saw. */
export interface StreamOutcome {
  /** Bytes written. */
  sent: number;
  /** Bytes the node wrote back. */
  received: number;
  /** Whether the node closed (or reset) the connection before we were done. */
  closedByNode: boolean;
  /** Wall time from connect to close, ms. */
  ms: number;
}

function connect(to: Endpoint): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const s = net.connect({ host: to.ip, port: to.port, noDelay: true });
    s.once("connect", () => {
      s.off("error", reject);
      resolve(s);
    });
    s.once("error", reject);
  });
}

/**
 * Opens one connection and writes `bytes` `chunk` bytes at a time, each write waiting for the last to drain
 * (`chunk` 0: one write), then waits up to `lingerMs` for the node to close the connection, and closes it.
 */
export async function sendStream(
  to: Endpoint,
  bytes: Uint8Array,
  options: { chunk?: number; lingerMs?: number; timeoutMs?: number } = {},
): Promise<StreamOutcome> {
  const started = performance.now();
  const s = await connect(to);
  const out: StreamOutcome = { sent: 0, received: 0, closedByNode: false, ms: 0 };
  let closed = false;
  const closedPromise = new Promise<void>((resolve) => {
    s.on("data", (d: Uint8Array) => void (out.received += d.length));
    s.on("error", () => {});
    s.once("close", () => {
      closed = true;
      resolve();
    });
    s.once("end", () => void (out.closedByNode = true));
  });
  const chunk = options.chunk && options.chunk > 0 ? options.chunk : bytes.length;
  const deadline = started + (options.timeoutMs ?? 120_000);
  for (let at = 0; at < bytes.length && !closed && performance.now() < deadline; at += chunk) {
    const piece = bytes.subarray(at, Math.min(bytes.length, at + chunk));
    const flushed = s.write(piece);
    out.sent += piece.length;
    if (!flushed) {
      await Promise.race([new Promise<void>((r) => s.once("drain", () => r())), closedPromise]);
    }
  }
  if (closed) out.closedByNode = true;
  await Promise.race([closedPromise, sleep(options.lingerMs ?? 0)]);
  if (!closed) s.destroy();
  await closedPromise;
  out.ms = performance.now() - started;
  return out;
}

/** What a trickling attack saw. */
export interface TrickleOutcome {
  /** Connections that were opened. */
  opened: number;
  /** Connections the node closed before the end. */
  closedByNode: number;
  /** Bytes written, headers included. */
  sent: number;
  /** Bytes the node wrote back. */
  received: number;
}

/**
 * Opens `connections` connections at once, writes `header` on each, then `bytesPerTick` bytes (4 KiB) every
 * `tickMs` (50 ms) on each still open, for `durationMs`; then closes them all. 128 connections for 3 s send
 * about 31 MB, the scale of issue 9's 24 MB that cost main 1.2 GB.
 */
export async function trickle(
  to: Endpoint,
  header: Uint8Array,
  options: { connections: number; durationMs: number; tickMs?: number; bytesPerTick?: number },
): Promise<TrickleOutcome> {
  const out: TrickleOutcome = { opened: 0, closedByNode: 0, sent: 0, received: 0 };
  const sockets = await Promise.all(Array.from({ length: options.connections }, async () => {
    try {
      const s = await connect(to);
      out.opened++;
      const state = { s, open: true };
      s.on("data", (d: Uint8Array) => void (out.received += d.length));
      s.on("error", () => {});
      s.once("close", () => {
        if (state.open) out.closedByNode++;
        state.open = false;
      });
      s.write(header);
      out.sent += header.length;
      return state;
    } catch {
      return null;
    }
  }));
  const live = sockets.filter((x) => x !== null);
  const filler = new Uint8Array(options.bytesPerTick ?? 4096).fill(0x41);
  const end = performance.now() + options.durationMs;
  while (performance.now() < end) {
    await sleep(options.tickMs ?? 50);
    for (const c of live) {
      if (!c.open) continue;
      c.s.write(filler);
      out.sent += filler.length;
    }
  }
  for (const c of live) {
    c.open = false;
    c.s.destroy();
  }
  return out;
}

// ---------------------------------------------------------------- probes of this process

/**
 * Watches this process while an attack runs: the largest event-loop lag (how late a 20 ms timer fired) and
 * the highest RSS, sampled on the same timer.
 */
export class ProcessProbe {
  #timer: ReturnType<typeof setInterval> | undefined;
  #last = 0;
  /** The largest lag seen, ms. */
  maxLagMs = 0;
  /** RSS when the probe started, bytes. */
  baseRss = 0;
  /** The highest RSS seen, bytes. */
  peakRss = 0;
  /** CPU time (user + system) when the probe started, µs. */
  #cpu0 = 0;
  /** CPU time used since the start, ms (the whole process: node and attacker alike). */
  cpuMs = 0;

  /** Starts sampling every `intervalMs`. */
  start(intervalMs = 20): this {
    this.baseRss = process.memoryUsage().rss;
    this.peakRss = this.baseRss;
    const c = process.cpuUsage();
    this.#cpu0 = c.user + c.system;
    this.#last = performance.now();
    this.#timer = setInterval(() => {
      const now = performance.now();
      this.maxLagMs = Math.max(this.maxLagMs, now - this.#last - intervalMs);
      this.#last = now;
      this.peakRss = Math.max(this.peakRss, process.memoryUsage().rss);
    }, intervalMs);
    return this;
  }

  /** Stops sampling (takes a last sample). */
  stop(): this {
    clearInterval(this.#timer);
    const now = performance.now();
    this.maxLagMs = Math.max(this.maxLagMs, now - this.#last - 20);
    this.peakRss = Math.max(this.peakRss, process.memoryUsage().rss);
    const c = process.cpuUsage();
    this.cpuMs = (c.user + c.system - this.#cpu0) / 1000;
    return this;
  }

  /** RSS growth from the start to the peak, MB. */
  get rssGrowthMB(): number {
    return (this.peakRss - this.baseRss) / 1e6;
  }
}

// ---------------------------------------------------------------- probes of another process (Linux)

/** CPU time of a process so far, ms: the sum over its threads of `/proc/<pid>/task/<tid>/schedstat`. */
export function processCpuMs(pid: number): number {
  // schedstat's first field is ns on the CPU; the process-wide /proc/<pid>/schedstat covers only the main
  // thread, so sum the threads (a thread that exited takes its time with it: runtimes keep theirs).
  let ns = 0;
  let tids: string[];
  try {
    tids = readdirSync(`/proc/${pid}/task`);
  } catch {
    return NaN;
  }
  for (const tid of tids) {
    try {
      ns += Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, "utf8").split(" ")[0]);
    } catch {
      // the thread exited
    }
  }
  return ns / 1e6;
}

/** VmRSS and VmHWM of a process, bytes (NaN when it is gone). */
export function processMemory(pid: number): { rss: number; hwm: number } {
  try {
    const status = readFileSync(`/proc/${pid}/status`, "utf8");
    const field = (name: string) => Number(/\s(\d+) kB/.exec(status.split("\n").find((l) => l.startsWith(name)) ?? "")?.[1]) * 1024;
    return { rss: field("VmRSS:"), hwm: field("VmHWM:") };
  } catch {
    return { rss: NaN, hwm: NaN };
  }
}

/** Resets a process's peak RSS (VmHWM) to its current RSS (`echo 5 > /proc/<pid>/clear_refs`); false when not allowed. */
export function resetPeakRss(pid: number): boolean {
  try {
    writeFileSync(`/proc/${pid}/clear_refs`, "5");
    return true;
  } catch {
    return false;
  }
}
