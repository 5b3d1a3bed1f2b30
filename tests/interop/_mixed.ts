// Copyright (c) memberlist-ts authors. SPDX-License-Identifier: MPL-2.0

/**
 * Shared pieces of the mixed Go/TypeScript cluster tests (`mixed_*_test.ts`): Go memberlist 0.2.2 nodes in
 * {@linkcode GoPeer} processes and our `Memberlist` on the running runtime's sockets, in one cluster on
 * loopback, plus what the scenarios need to break it and to watch it:
 *
 * - {@linkcode FaultTransport} wraps a TS node's transport: it loses the datagrams exchanged with chosen
 *   addresses (or all of them), holds inbound datagrams and connections back (a slow node), counts dials,
 *   and can decode every datagram it passes (the node's own keys) to show which messages crossed.
 * - {@linkcode MixedCluster} starts Go peers and TS nodes, counts suspicions on both sides (TS: the state
 *   machine's `suspect` hook; Go: the `memberlist.msg.suspect` go-metrics counter of each peer), collects
 *   warnings and errors (TS logger, Go `--log` stderr), waits for convergence and closes everything.
 *
 * Which scenarios run where: every file runs under `deno test`, `bun test` and Node; the non-core scenarios
 * skip themselves outside Deno ({@linkcode denoOnly}) to keep those runs short.
 *
 * @module
 */

import process from "node:process";
import { type Config, defaultLocalConfig, Memberlist, type Node, NodeState, validateConfig } from "../../mod.ts";
import { detectRuntime } from "../../lib/_runtime.ts";
import { type DecodedMessage, decodeMessage, MessageType } from "../../lib/codec.ts";
import type { LogFields, Logger } from "../../lib/logging.ts";
import { memberlistState } from "../../lib/memberlist.ts";
import { openPacket, unpackMessages, type WireOptions } from "../../lib/packet.ts";
import type { Address, Conn, Packet, Transport, TransportHandlers } from "../../lib/transport.ts";
import { netTransportFactory } from "../../transports/_net_transport.ts";
import { createNetTransport } from "../../transports/mod.ts";
import { requireGoOrSkip } from "./_go.ts";
import { buildGoPeer, GoPeer, type GoPeerOptions } from "./_peer.ts";

/** false when Go is here; otherwise the skip reason (outside CI) — `requireGoOrSkip()`. */
export const goSkip: string | false = requireGoOrSkip();

// Built while the file loads, outside any per-test timeout; a failure is reported by the first test.
let built: { bin: string } | { error: unknown } = { bin: "" };
if (!goSkip) {
  try {
    built = { bin: buildGoPeer() };
  } catch (error) {
    built = { error };
  }
}

/** The Go peer binary (throws the build error, if the build failed). */
export function goBinary(): string {
  if ("error" in built) throw built.error;
  return built.bin;
}

/** The runtime running the tests. */
export const runtime: string = detectRuntime();

/**
 * The skip option of a scenario that runs on Deno only (the core scenarios run everywhere): the Go skip
 * reason, a reason naming the runtime, or false.
 */
export function denoOnly(): string | false {
  if (goSkip) return goSkip;
  if (runtime !== "deno") {
    return `non-core mixed Go/TS scenario: runs on Deno only, to keep the ${runtime} run short`;
  }
  return false;
}

// ---------------------------------------------------------------- timing profiles

/** A timing profile, in ms, applied to both languages alike. */
export interface Timing {
  probeInterval: number;
  probeTimeout: number;
  gossipInterval: number;
  suspicionMult: number;
  suspicionMaxTimeoutMult: number;
  pushPullInterval: number;
  tcpTimeout: number;
  /** The profile's (2 in the local profile) when absent. */
  retransmitMult?: number;
}

/**
 * For failure detection: a node killed without a leave is declared dead in about a second (a failed probe
 * plus a 400 ms suspicion timeout, at most doubled).
 */
export const FAST: Timing = {
  probeInterval: 200,
  probeTimeout: 100,
  gossipInterval: 50,
  suspicionMult: 2,
  suspicionMaxTimeoutMult: 2,
  pushPullInterval: 2000,
  tcpTimeout: 500,
};

/**
 * For the scenarios that assert that nobody is ever suspected: still several probes a second, with more
 * slack for a loaded 2-core machine (a late ack is not a protocol bug) and no pointless TCP push/pulls.
 */
export const STEADY: Timing = {
  probeInterval: 400,
  probeTimeout: 200,
  gossipInterval: 100,
  suspicionMult: 4,
  suspicionMaxTimeoutMult: 4,
  pushPullInterval: 5000,
  tcpTimeout: 1000,
};

/** The Go peer flags of a timing profile. */
export function goFlags(t: Timing): string[] {
  return [
    "--probe-interval-ms", String(t.probeInterval),
    "--probe-timeout-ms", String(t.probeTimeout),
    "--gossip-interval-ms", String(t.gossipInterval),
    "--suspicion-mult", String(t.suspicionMult),
    "--suspicion-max-timeout-mult", String(t.suspicionMaxTimeoutMult),
    "--push-pull-interval-ms", String(t.pushPullInterval),
    "--tcp-timeout-ms", String(t.tcpTimeout),
    ...(t.retransmitMult === undefined ? [] : ["--retransmit-mult", String(t.retransmitMult)]),
  ];
}

/** The TS config fields of a timing profile. */
export function tsTiming(t: Timing): Partial<Config> {
  return { ...t };
}

// ---------------------------------------------------------------- small helpers

/**
 * Polls `check` every `interval` ms until it returns true.
 *
 * @throws {Error} after `timeout` ms, naming `what` (and the last value of `explain`, if given)
 */
export async function eventually(
  check: () => boolean | Promise<boolean>,
  options: { timeout?: number; what?: string; interval?: number; explain?: () => unknown } = {},
): Promise<void> {
  const timeout = options.timeout ?? 10_000;
  const start = Date.now();
  while (!(await check())) {
    if (Date.now() - start > timeout) {
      let detail = "";
      if (options.explain) {
        try {
          detail = `: ${JSON.stringify(await options.explain())}`;
        } catch (err) {
          detail = `: (explain failed: ${err})`;
        }
      }
      throw new Error(`Timed out after ${timeout} ms waiting for ${options.what ?? "a condition"}${detail}`);
    }
    await sleep(options.interval ?? 25);
  }
}

/** Waits `ms`: only to let time pass while watching (a quiet period), never to wait for an outcome. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Random key bytes (16, 24 or 32). */
export function randomKey(length: 16 | 24 | 32 = 32): Uint8Array {
  const k = new Uint8Array(length);
  crypto.getRandomValues(k);
  return k;
}

/** Bytes to lower-case hex. */
export function hex(b: Uint8Array): string {
  return Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
}

const enc = new TextEncoder();
const dec = new TextDecoder();

/** UTF-8 bytes of a string. */
export function utf8(s: string): Uint8Array {
  return enc.encode(s);
}

/** A string from UTF-8 bytes. */
export function text(b: Uint8Array): string {
  return dec.decode(b);
}

// ---------------------------------------------------------------- logging

/** One line a TS node logged. */
export interface LogLine {
  readonly level: "debug" | "info" | "warn" | "error";
  readonly message: string;
  readonly fields: LogFields | undefined;
}

/** Keeps a TS node's info, warn and error lines; prints them too when MEMBERLIST_INTEROP_LOG is set. */
export class CollectingLogger implements Logger {
  readonly lines: LogLine[] = [];
  readonly #name: string;
  readonly #print: boolean;
  constructor(name: string) {
    this.#name = name;
    this.#print = !!process.env["MEMBERLIST_INTEROP_LOG"];
  }
  debug(message: string, fields?: LogFields): void {
    if (this.#print) this.#add("debug", message, fields);
  }
  info(message: string, fields?: LogFields): void {
    this.#add("info", message, fields);
  }
  warn(message: string, fields?: LogFields): void {
    this.#add("warn", message, fields);
  }
  error(message: string, fields?: LogFields): void {
    this.#add("error", message, fields);
  }
  #add(level: LogLine["level"], message: string, fields: LogFields | undefined): void {
    if (level !== "debug") this.lines.push({ level, message, fields });
    if (this.#print) {
      let f = "";
      if (fields) {
        f = " " + Object.entries(fields).map(([k, v]) => `${k}=${v instanceof Error ? v.message : String(v)}`).join(" ");
      }
      process.stderr.write(`[${this.#name}] ${level} ${message}${f}\n`);
    }
  }
  /** The warn and error lines, as text. */
  problems(): string[] {
    return this.lines.filter((l) => l.level === "warn" || l.level === "error").map((l) => {
      const f = l.fields
        ? " " + Object.entries(l.fields).map(([k, v]) => `${k}=${v instanceof Error ? v.message : String(v)}`).join(" ")
        : "";
      return `${l.level}: ${l.message}${f}`;
    });
  }
}

// ---------------------------------------------------------------- FaultTransport

/** A datagram that crossed a {@linkcode FaultTransport}, decoded. */
export interface SeenPacket {
  readonly dir: "in" | "out";
  /** The other end, `ip:port`. */
  readonly peer: string;
  /** The datagram's first byte: the encryption version (0 or 1) when encrypted, else a message type. */
  readonly first: number;
  /** Whether the datagram opened with one of the node's keys (it was sealed, not plaintext). */
  readonly encrypted: boolean;
  /** Whether the message (after decryption and CRC) was a compress message. */
  readonly compressed: boolean;
  /** The leaf messages that decoded (user messages as raw bytes). */
  readonly messages: readonly DecodedMessage[];
  /** Whether decoding failed (wrong key, garbage). */
  readonly undecodable: boolean;
  /** Whether the fault rules lost it. */
  readonly dropped: boolean;
}

/**
 * Wraps a TS node's transport to break and watch the network the way the Go peer's faultTransport does:
 * lose datagrams (all, or those exchanged with some addresses), hold inbound datagrams and connections back,
 * count dials, and (with {@linkcode FaultTransport.record}) decode every datagram.
 */
export class FaultTransport implements Transport {
  readonly inner: Transport;
  /** Lose every datagram sent or received. */
  dropAllUdp = false;
  /** Lose the datagrams sent to or received from these `ip:port` addresses. */
  readonly dropPeers: Set<string> = new Set();
  /** Hold each inbound datagram back this long (ms); 0: off. */
  delayPacketsMs = 0;
  /** Hold each inbound connection back this long (ms); 0: off. */
  delayStreamsMs = 0;
  /** Decode and keep every datagram in {@linkcode FaultTransport.seen} (needs {@linkcode FaultTransport.wire}). */
  record = false;
  /** The node's wire settings (keys), for decoding; set by {@linkcode MixedCluster.ts}. */
  wire: WireOptions | null = null;
  readonly seen: SeenPacket[] = [];
  /** Dials by `ip:port`. */
  readonly dials: Map<string, number> = new Map();
  /** Inbound datagrams by sender `ip:port` (before any loss). */
  readonly packetsFrom: Map<string, number> = new Map();
  readonly #timers = new Set<ReturnType<typeof setTimeout>>();
  readonly #held = new Set<Conn>();
  #closed = false;

  constructor(inner: Transport) {
    this.inner = inner;
  }

  finalAdvertiseAddr(ip: string, port: number): { ip: string; port: number } {
    return this.inner.finalAdvertiseAddr(ip, port);
  }

  setHandlers(handlers: TransportHandlers): void {
    this.inner.setHandlers({
      packet: (p) => this.#packet(p, handlers),
      stream: (c) => this.#stream(c, handlers),
    });
  }

  #drops(addr: string): boolean {
    return this.dropAllUdp || this.dropPeers.has(addr);
  }

  #packet(p: Packet, handlers: TransportHandlers): void {
    this.packetsFrom.set(p.from, (this.packetsFrom.get(p.from) ?? 0) + 1);
    const dropped = this.#drops(p.from);
    if (this.record) this.#see("in", p.from, p.buf, dropped);
    if (dropped) return;
    const delay = this.delayPacketsMs;
    if (delay <= 0) {
      handlers.packet(p);
      return;
    }
    const timer = setTimeout(() => {
      this.#timers.delete(timer);
      if (this.#closed || this.#drops(p.from)) return;
      // As the Go peer does: the node only reads it now.
      handlers.packet({ ...p, timestamp: performance.now() });
    }, delay);
    this.#timers.add(timer);
  }

  #stream(c: Conn, handlers: TransportHandlers): void {
    const delay = this.delayStreamsMs;
    if (delay <= 0) {
      handlers.stream(c);
      return;
    }
    this.#held.add(c);
    const timer = setTimeout(() => {
      this.#timers.delete(timer);
      this.#held.delete(c);
      if (this.#closed) c.close();
      else handlers.stream(c);
    }, delay);
    this.#timers.add(timer);
  }

  writeTo(b: Uint8Array, addr: Address): number {
    const dropped = this.#drops(addr.addr);
    if (this.record) this.#see("out", addr.addr, b, dropped);
    if (dropped) return performance.now();
    return this.inner.writeTo(b, addr);
  }

  dialTimeout(addr: Address, timeoutMs: number): Promise<Conn> {
    this.dials.set(addr.addr, (this.dials.get(addr.addr) ?? 0) + 1);
    return this.inner.dialTimeout(addr, timeoutMs);
  }

  async shutdown(): Promise<void> {
    this.#closed = true;
    for (const t of this.#timers) clearTimeout(t);
    this.#timers.clear();
    for (const c of this.#held) c.close();
    this.#held.clear();
    await this.inner.shutdown();
  }

  #see(dir: "in" | "out", peer: string, datagram: Uint8Array, dropped: boolean): void {
    const wire = this.wire;
    if (wire === null) return;
    let compressed = false;
    let encrypted = false;
    if (wire.keyring !== null && wire.keyring.size > 0) {
      try {
        wire.keyring.decrypt(datagram, wire.label);
        encrypted = true;
      } catch {
        // plaintext (or another key's)
      }
    }
    const messages: DecodedMessage[] = [];
    let undecodable = false;
    try {
      const plain = openPacket(datagram, wire);
      compressed = plain[0] === MessageType.Compress;
      const { messages: leaves, drops } = unpackMessages(plain);
      if (drops.length > 0) undecodable = true;
      for (const leaf of leaves) {
        try {
          messages.push(decodeMessage(leaf));
        } catch {
          undecodable = true;
        }
      }
    } catch {
      undecodable = true;
    }
    this.seen.push({ dir, peer, first: datagram[0] ?? -1, encrypted, compressed, messages, undecodable, dropped });
  }

  /** The decoded messages of one type that crossed in one direction (optionally with one peer). */
  messages<T extends DecodedMessage["type"]>(dir: "in" | "out", type: T, peer?: string): BodyOf<T>[] {
    const out: unknown[] = [];
    for (const s of this.seen) {
      if (s.dir !== dir || (peer !== undefined && s.peer !== peer)) continue;
      for (const m of s.messages) if (m.type === type) out.push(m.body);
    }
    return out as BodyOf<T>[];
  }
}

/** The decoded body of a message type. */
export type BodyOf<T extends DecodedMessage["type"]> = Extract<DecodedMessage, { type: T }>["body"];

// ---------------------------------------------------------------- the cluster

/** One TS node of a mixed cluster. */
export interface TsNode {
  readonly name: string;
  readonly ml: Memberlist;
  /** `127.0.0.1:port`, ready for a join. */
  readonly address: string;
  readonly logger: CollectingLogger;
  /** The transport wrapper, when asked for (`fault: true`). */
  readonly fault: FaultTransport | null;
  /** The nodes this one marked suspect (alive -> suspect), in order. */
  readonly suspected: string[];
  /** join, leave and update events as this node's listeners saw them. */
  readonly events: { type: "join" | "leave" | "update"; node: Node }[];
}

/** Options of {@linkcode MixedCluster.ts}. */
export interface TsNodeOptions {
  /** Config fields over `defaultLocalConfig()` and the cluster's timing. */
  config?: Partial<Config>;
  /** Wrap the transport in a {@linkcode FaultTransport}. @default {false} */
  fault?: boolean;
  /** Bind address. @default {"127.0.0.1"} */
  bindAddr?: string;
  /** Bind port (0: a free one). @default {0} */
  bindPort?: number;
}

/** Options of {@linkcode MixedCluster.go}. */
export interface GoOptions extends Omit<GoPeerOptions, "binary" | "flags"> {
  /** Flags after the timing flags (so they win). */
  flags?: readonly string[];
  /** Timing; the cluster's by default. */
  timing?: Timing;
}

/**
 * A mixed cluster under construction: Go peers and TS nodes, all on loopback. Every test makes one and
 * closes it in `finally`, which shuts every TS node down and closes every peer (killing it if need be).
 */
export class MixedCluster {
  readonly timing: Timing;
  readonly peers: GoPeer[] = [];
  readonly tsNodes: TsNode[] = [];
  /** [WARN] and [ERR] lines of the Go peers' memberlist logs. */
  readonly goProblems: string[] = [];

  constructor(timing: Timing = FAST) {
    this.timing = timing;
  }

  /** Starts a Go peer (with `--log` and `--metrics`) on the cluster's timing. */
  async go(options: GoOptions = {}): Promise<GoPeer> {
    const { flags = [], timing = this.timing, ...rest } = options;
    let partial = "";
    const problems = this.goProblems;
    const peer = await GoPeer.start({
      profile: "local",
      ...rest,
      binary: goBinary(),
      log: true,
      metrics: true,
      flags: [...goFlags(timing), ...flags],
      onStderr: (chunk) => {
        partial += chunk;
        let nl: number;
        while ((nl = partial.indexOf("\n")) >= 0) {
          const line = partial.slice(0, nl);
          partial = partial.slice(nl + 1);
          if (line.includes("[WARN]") || line.includes("[ERR]")) problems.push(line);
          if (process.env["MEMBERLIST_INTEROP_LOG"] && !line.includes("[DEBUG]")) process.stderr.write(`${line}\n`);
        }
      },
    });
    this.peers.push(peer);
    return peer;
  }

  /** Creates a TS node on the runtime's default transport (wrapped in a FaultTransport with `fault`). */
  async ts(name: string, options: TsNodeOptions = {}): Promise<TsNode> {
    const logger = new CollectingLogger(name);
    const config: Partial<Config> = {
      ...defaultLocalConfig(),
      ...tsTiming(this.timing),
      name,
      bindAddr: options.bindAddr ?? "127.0.0.1",
      bindPort: options.bindPort ?? 0,
      logger,
      ...options.config,
    };
    let fault: FaultTransport | null = null;
    if (options.fault) {
      // The transport Memberlist.create would make by default, wrapped.
      const inner = await netTransportFactory(createNetTransport)(validateConfig(config));
      fault = new FaultTransport(inner);
      config.transport = fault;
    } else {
      config.transport = null; // mod.ts's default: this runtime's native sockets
    }
    const ml = await Memberlist.create(config);
    const suspected: string[] = [];
    const events: TsNode["events"] = [];
    const state = memberlistState(ml);
    state.events.suspect = (node) => void suspected.push(node.name);
    for (const type of ["join", "leave", "update"] as const) {
      ml.addEventListener(type, (e) => void events.push({ type, node: e.node }));
    }
    if (fault) fault.wire = state.wire;
    const node: TsNode = { name, ml, address: ml.localNode().address, logger, fault, suspected, events };
    this.tsNodes.push(node);
    return node;
  }

  /** The TS nodes still running. */
  liveTs(): TsNode[] {
    return this.tsNodes.filter((n) => !memberlistState(n.ml).shutdown);
  }

  /** Suspicions so far: TS (per node, by name) and Go (`memberlist.msg.suspect` summed over every peer). */
  async suspicions(): Promise<{ ts: Record<string, string[]>; go: number }> {
    const ts: Record<string, string[]> = {};
    for (const n of this.tsNodes) if (n.suspected.length > 0) ts[n.name] = [...n.suspected];
    let go = 0;
    for (const p of this.peers) {
      if (p.exited) continue;
      go += (await p.counters())["memberlist.msg.suspect"] ?? 0;
    }
    return { ts, go };
  }

  /** Every alive member as each running node sees it: `{ observer: [names] }`. */
  async views(): Promise<Record<string, string[]>> {
    const out: Record<string, string[]> = {};
    for (const n of this.liveTs()) {
      out[n.name] = n.ml.members().filter((m) => m.state === NodeState.Alive).map((m) => m.name).sort();
    }
    for (const p of this.peers) {
      if (p.exited) continue;
      for (const g of p.nodes) {
        const r = await p.command({ cmd: "members", node: g.name });
        if (!r.ok || r["down"]) continue;
        out[g.name] = (r["members"] as { name: string; state: string }[])
          .filter((m) => m.state === "alive").map((m) => m.name).sort();
      }
    }
    return out;
  }

  /** Waits until every running node (of both languages) lists exactly `names` as alive. */
  async converged(names: readonly string[], timeout = 10_000): Promise<void> {
    const want = [...names].sort().join();
    let last: Record<string, string[]> = {};
    await eventually(async () => {
      last = await this.views();
      return Object.values(last).every((v) => v.join() === want);
    }, { timeout, interval: 50, what: `every node to list ${want} alive`, explain: () => last });
  }

  /**
   * Every record's incarnation as each running node sees it: `{ "observer>node": incarnation }`; a
   * refutation anywhere changes one.
   */
  async incarnations(): Promise<Record<string, number>> {
    const out: Record<string, number> = {};
    for (const n of this.liveTs()) {
      for (const r of memberlistState(n.ml).nodes) out[`${n.name}>${r.name}`] = r.incarnation;
    }
    for (const p of this.peers) {
      if (p.exited) continue;
      for (const g of p.nodes) {
        const r = await p.command({ cmd: "members", node: g.name, all: true });
        if (!r.ok || r["down"]) continue;
        for (const m of r["members"] as { name: string; incarnation: number }[]) {
          out[`${g.name}>${m.name}`] = m.incarnation;
        }
      }
    }
    return out;
  }

  /**
   * Watches the cluster for `ms`: every running node must list exactly `names` alive at every look (every
   * 250 ms), nobody may be suspected on either side, and no incarnation may change (no refutation).
   *
   * @throws {assert.AssertionError}-like Error describing the first deviation
   */
  async staysQuiet(names: readonly string[], ms: number): Promise<void> {
    const want = [...names].sort().join();
    const before = await this.suspicions();
    const inc0 = await this.incarnations();
    const end = Date.now() + ms;
    while (Date.now() < end) {
      const views = await this.views();
      for (const [observer, v] of Object.entries(views)) {
        if (v.join() !== want) {
          throw new Error(`${observer} lists ${v.join()} alive, not ${want} (${JSON.stringify(await this.suspicions())})`);
        }
      }
      await sleep(250);
    }
    const after = await this.suspicions();
    if (after.go !== before.go || JSON.stringify(after.ts) !== JSON.stringify(before.ts)) {
      throw new Error(`Suspicions while the cluster should be quiet: before ${JSON.stringify(before)}, after ${JSON.stringify(after)}`);
    }
    const inc1 = await this.incarnations();
    const changed = Object.keys(inc1).filter((k) => k in inc0 && inc0[k] !== inc1[k]);
    if (changed.length > 0) {
      throw new Error(`Incarnations changed (a refutation): ${changed.map((k) => `${k} ${inc0[k]}->${inc1[k]}`).join(", ")}`);
    }
  }

  /** Shuts every TS node down and closes every Go peer; never throws. */
  async close(): Promise<void> {
    await Promise.allSettled(this.tsNodes.map((n) => n.ml.shutdown()));
    await Promise.allSettled(this.peers.map((p) => p.close()));
  }
}

/** The Go node records (`members`) of one Go node, by name. */
export async function goRecords(
  peer: GoPeer,
  node: string | number,
): Promise<Map<string, Awaited<ReturnType<GoPeer["members"]>>[number]>> {
  const list = await peer.members(node, { all: true });
  return new Map(list.map((m) => [m.name, m]));
}

/** True when every Go node in `observers` holds `name` in `state` ("alive", "suspect", "dead", "left"). */
export async function goAllHold(peer: GoPeer, observers: readonly string[], name: string, state: string): Promise<boolean> {
  for (const g of observers) if ((await goRecords(peer, g)).get(name)?.state !== state) return false;
  return true;
}

/** What `node` knows of `name`: its state, or undefined. */
export function tsState(node: TsNode, name: string): NodeState | undefined {
  return memberlistState(node.ml).nodeMap.get(name)?.state;
}

/** The record `node` keeps of `name`. */
export function tsRecord(node: TsNode, name: string): ReturnType<typeof memberlistState>["nodes"][number] | undefined {
  return memberlistState(node.ml).nodeMap.get(name);
}
