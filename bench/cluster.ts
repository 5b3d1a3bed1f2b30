// Copyright (c) memberlist-ts authors. SPDX-License-Identifier: MPL-2.0
//
// The cluster benchmark: N nodes in one process on loopback (real UDP/TCP, local
// profile), either ours on this runtime (--impl ts) or Go memberlist 0.2.2 in one Go
// process driven through tests/interop/go/peer (--impl go). Measures, in order:
//   join convergence  N-1 nodes join, at most 32 at a time: up to 33 nodes all join node 0 at
//                     once, later ones join a node of an earlier wave; ms until every node sees
//                     N members
//   steady state      after --settle-seconds (default 10) of calm and no earlier than
//                     --warmup-seconds (default 60) after the joins, CPU seconds per node
//                     per second and UDP+TCP bytes sent per node per second, over
//                     --steady-seconds (default 30); memory per node at the end of that window,
//                     counted alike on both sides: resident set size (RSS) of the process, and
//                     the heap including the memory of byte arrays (V8/JSC heapUsed + external,
//                     which holds every ArrayBuffer; Go's HeapAlloc, which holds every slice)
//   failure detection --kills (default 3) nodes are killed one after the other (no leave);
//                     ms until each other node declares each dead (first, median, last
//                     over all, and each kill's median)
//
// --encrypt         every node encrypts (one 32-byte key; Go: --key), as production clusters do
// --like-go         ours without what Go lacks: pushPullAfterJoin 0 and reconnectInterval 0, so
//                   that the convergence figure compares the same protocol
// --converge-only   stop after join convergence (for the like-for-like convergence row)
// --joins-in-flight at most this many joins at a time (default 32; fewer for big clusters on a
//                   loaded machine, where Go's joins time out)
// --profile         local (default) or lan: the base config of every node, Go's and ours
// --tcp-timeout-ms  TCPTimeout for every node, Go and ours alike (default: the local profile's 1 s;
//                   hundreds of nodes in one process on two cores answer a join's push/pull later)
//
// Prints one JSON line. Run through `npm run bench -- --suite cluster`.
import process from "node:process";
import { defaultLANConfig, defaultLocalConfig, Memberlist, type Metrics, NodeState } from "../mod.ts";
import { detectRuntime } from "../lib/_runtime.ts";
import { silentLogger } from "../lib/logging.ts";
import { pushPullScale } from "../lib/util.ts";
import { GoPeer } from "../tests/interop/_peer.ts";

const args = process.argv.slice(2);
const opt = (name: string, fallback: string): string => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1]! : fallback;
};
const impl = opt("impl", "ts");
const nodes = Number(opt("nodes", "32"));
// Go's DefaultLocalConfig or DefaultLANConfig, for Go and ours alike.
const profileArg = opt("profile", "local");
if (profileArg !== "local" && profileArg !== "lan") throw new RangeError(`--profile: expected local or lan, got ${profileArg}`);
const profile: "local" | "lan" = profileArg;
const baseConfig = profile === "lan" ? defaultLANConfig : defaultLocalConfig;
// The window spans at least one periodic push/pull period (local profile: 15 s, scaled up past 32
// nodes: 45 s at 128), so that each node's push/pull is counted once whatever its phase.
const steadySeconds = Math.max(
  Number(opt("steady-seconds", "30")),
  pushPullScale(baseConfig().pushPullInterval, nodes) / 1000,
);
const convergeTimeoutMs = Number(opt("converge-timeout-ms", "90000"));
// After convergence, let join traffic (alive gossip, follow-up push/pulls) die down before measuring,
// and start no earlier than --warmup-seconds after the joins, so that the periodic push/pulls (first
// due up to 60 s after a join at 128 nodes: a random stagger, then pushPullScale) are in the window
// for Go and for us alike.
const settleSeconds = Number(opt("settle-seconds", "10"));
const warmupSeconds = Number(opt("warmup-seconds", "60"));

/** Waits until `settleSeconds` after convergence and `warmupSeconds` after the joins. */
function settle(joinedAt: number): Promise<void> {
  const until = Math.max(performance.now() + settleSeconds * 1000, joinedAt + warmupSeconds * 1000);
  return new Promise((r) => setTimeout(r, until - performance.now()));
}
const detectTimeoutMs = 60_000;
const kills = Number(opt("kills", "3"));
// Config overrides for experiments, as JSON (ours only).
const overrides = JSON.parse(opt("config", "{}")) as Record<string, unknown>;
// The one override applied to both sides, so that rows stay like for like.
const tcpTimeoutMs = opt("tcp-timeout-ms", "");
if (tcpTimeoutMs !== "") overrides.tcpTimeout ??= Number(tcpTimeoutMs);
const encrypt = args.includes("--encrypt");
const likeGo = args.includes("--like-go");
const convergeOnly = args.includes("--converge-only");
/** The cluster key of --encrypt (AES-256). */
const KEY = new Uint8Array(32).map((_, i) => 0x5a ^ i);

interface Report {
  lang: "ts" | "go";
  runtime: string;
  nodes: number;
  encrypted: boolean;
  /** Ours with pushPullAfterJoin and reconnect off (--like-go); always true for Go. */
  likeGo: boolean;
  convergeMs: number | null;
  detection: { first: number; median: number; last: number; count: number; kills: number[] } | null;
  cpuPerNodePerSec: number;
  /** The user-space share of that CPU time. */
  cpuUserShare: number;
  bytesPerNodePerSec: number;
  /** Resident set size of the whole process over the nodes. */
  rssPerNodeBytes: number;
  /** Heap with byte arrays over the nodes: heapUsed + external (TS), HeapAlloc (Go). */
  heapPerNodeBytes: number;
  steadySeconds: number;
}

function median(xs: readonly number[]): number {
  const t = [...xs].sort((a, b) => a - b);
  return t.length === 0 ? NaN : t[Math.floor((t.length - 1) / 2)]!;
}

/** First, median and last over every observation of every kill, and each kill's median. */
function summary(times: number[], perKill: number[]): Report["detection"] {
  if (times.length === 0) return null;
  const t = [...times].sort((a, b) => a - b);
  return {
    first: Math.round(t[0]!),
    median: Math.round(median(t)),
    last: Math.round(t[t.length - 1]!),
    count: t.length,
    kills: perKill,
  };
}

/**
 * Runs a join again when it fails, up to `JOIN_TRIES` times: hundreds of simultaneous push/pulls to
 * one seed can outlast the local profile's 1 s TCP timeout on a loaded machine, for Go and for us alike.
 */
const JOIN_TRIES = 5;
async function withRetries<T>(join: () => Promise<T>): Promise<T> {
  for (let i = 1; ; i++) {
    try {
      return await join();
    } catch (err) {
      if (i >= JOIN_TRIES) throw err;
      await new Promise((r) => setTimeout(r, 200 * i));
    }
  }
}

/**
 * The node that node `i` joins: node 0 for the first 33 (all at once), then nodes that joined at
 * least one wave earlier, two joiners each, so that no single node serves hundreds of push/pulls.
 */
function seedOf(i: number): number {
  return i <= JOINS_IN_FLIGHT + 1 ? 0 : Math.floor((i - JOINS_IN_FLIGHT - 1) / 2);
}

/**
 * Runs the joins with at most `JOINS_IN_FLIGHT` at a time (all at once up to 33 nodes by default): one seed
 * answering 511 push/pulls at once times them out, in Go as in ours.
 */
const JOINS_IN_FLIGHT = Number(opt("joins-in-flight", "32"));
async function inWaves(joins: (() => Promise<unknown>)[]): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < joins.length) await joins[next++]!();
  };
  await Promise.all(Array.from({ length: Math.min(JOINS_IN_FLIGHT, joins.length) }, worker));
}

async function poll(predicate: () => boolean, timeoutMs: number): Promise<number | null> {
  const start = performance.now();
  while (!predicate()) {
    if (performance.now() - start > timeoutMs) return null;
    await new Promise((r) => setTimeout(r, 10));
  }
  return performance.now() - start;
}

/** Counts the bytes memberlist hands to its sockets (Go's udp.sent and tcp.sent). */
class ByteCounter implements Metrics {
  bytes = 0;
  incrCounter(key: readonly string[], value: number): void {
    if (key[2] === "sent" && (key[1] === "udp" || key[1] === "tcp")) this.bytes += value;
  }
  setGauge(): void {}
  addSample(): void {}
  measureSince(): void {}
}

async function runTs(): Promise<Report> {
  const counter = new ByteCounter();
  const members: Memberlist[] = [];
  for (let i = 0; i < nodes; i++) {
    members.push(await Memberlist.create({
      ...baseConfig(),
      name: `ts-${i}`,
      bindAddr: "127.0.0.1",
      bindPort: 0,
      logger: silentLogger,
      metrics: counter,
      ...(encrypt ? { secretKey: KEY } : {}),
      ...(likeGo ? { pushPullAfterJoin: 0, reconnectInterval: 0 } : {}),
      ...overrides,
    }));
  }
  const joined = performance.now();
  await inWaves(
    members.slice(1).map((m, i) => () => withRetries(() => m.join([members[seedOf(i + 1)]!.localNode().address]))),
  );
  const left = convergeTimeoutMs - (performance.now() - joined);
  const converged = await poll(() => members.every((m) => m.numMembers() === nodes), left);
  const convergeMs = converged === null ? null : Math.round(performance.now() - joined);
  if (convergeOnly) {
    await Promise.all(members.map((m) => m.shutdown()));
    return { ...emptyReport("ts", detectRuntime()), convergeMs };
  }

  await settle(joined);
  const cpu0 = process.cpuUsage();
  const bytes0 = counter.bytes;
  await new Promise((r) => setTimeout(r, steadySeconds * 1000));
  const cpu = process.cpuUsage(cpu0);
  const bytes = counter.bytes - bytes0;
  const mem = process.memoryUsage();

  // Several kills, one after the other: one kill's timing depends a lot on when the first
  // prober happens to pick the victim.
  const times: number[] = [];
  const perKill: number[] = [];
  for (let k = 0; k < kills; k++) {
    const victim = members[nodes - 1 - k]!;
    const name = victim.localNode().name;
    const round: number[] = [];
    const killedAt = performance.now();
    const survivors = members.slice(0, nodes - 1 - k);
    for (const m of survivors) {
      m.addEventListener("leave", (e) => {
        if (e.node.name === name && e.node.state === NodeState.Dead) round.push(performance.now() - killedAt);
      }, { once: true });
    }
    await victim.shutdown();
    await poll(() => round.length >= survivors.length, detectTimeoutMs);
    times.push(...round);
    perKill.push(Math.round(median(round)));
  }
  await Promise.all(members.slice(0, nodes - kills).map((m) => m.shutdown()));
  return {
    ...emptyReport("ts", detectRuntime()),
    convergeMs,
    detection: summary(times, perKill),
    cpuPerNodePerSec: (cpu.user + cpu.system) / 1e6 / nodes / steadySeconds,
    cpuUserShare: Math.round((cpu.user / (cpu.user + cpu.system)) * 100) / 100,
    bytesPerNodePerSec: Math.round(bytes / nodes / steadySeconds),
    rssPerNodeBytes: Math.round(mem.rss / nodes),
    heapPerNodeBytes: Math.round((mem.heapUsed + mem.external) / nodes),
    steadySeconds,
  };
}

/** A report with nothing measured yet. */
function emptyReport(lang: "ts" | "go", runtime: string): Report {
  return {
    lang,
    runtime,
    nodes,
    encrypted: encrypt,
    likeGo: lang === "go" || likeGo,
    convergeMs: null,
    detection: null,
    cpuPerNodePerSec: NaN,
    cpuUserShare: NaN,
    bytesPerNodePerSec: NaN,
    rssPerNodeBytes: NaN,
    heapPerNodeBytes: NaN,
    steadySeconds: convergeOnly ? 0 : steadySeconds,
  };
}

async function runGo(): Promise<Report> {
  const flags = encrypt ? ["--key", Array.from(KEY, (b) => b.toString(16).padStart(2, "0")).join("")] : [];
  if (tcpTimeoutMs !== "") flags.push("--tcp-timeout-ms", tcpTimeoutMs);
  const peer = await GoPeer.start({ nodes, profile, events: ["join", "leave"], history: false, flags });
  try {
    const names = peer.nodes.map((n) => n.name);
    const known = new Map(names.map((n) => [n, new Set<string>([n])]));
    const deadTimes: number[] = [];
    let killedAt = 0;
    let victim = "";
    let round: number[] = [];
    peer.on((e) => {
      if (e.event === "join") known.get(e.observer)?.add(e.node);
      else if (e.event === "leave" && e.node === victim && killedAt > 0 && e.state !== "left") {
        round.push(performance.now() - killedAt);
      }
    });
    const joined = performance.now();
    await inWaves(names.slice(1).map((_, i) => () => withRetries(() => peer.join(i + 1, [peer.nodes[seedOf(i + 1)]!.address]))));
    const left = convergeTimeoutMs - (performance.now() - joined);
    const converged = await poll(() => [...known.values()].every((s) => s.size === nodes), left);
    const convergeMs = converged === null ? null : Math.round(performance.now() - joined);
    if (convergeOnly) return { ...emptyReport("go", "go"), convergeMs };

    await settle(joined);
    const s0 = await peer.stats();
    await new Promise((r) => setTimeout(r, steadySeconds * 1000));
    const s1 = await peer.stats();
    const sent = (s: typeof s0) => s.perNode.reduce((sum, n) => sum + n.udpOut + n.tcpOut, 0);
    const cpuMs = s1.cpuUserMs + s1.cpuSystemMs - s0.cpuUserMs - s0.cpuSystemMs;

    const perKill: number[] = [];
    for (let k = 0; k < kills; k++) {
      victim = names[nodes - 1 - k]!;
      round = [];
      killedAt = performance.now();
      await peer.kill(nodes - 1 - k);
      await poll(() => round.length >= nodes - 1 - k, detectTimeoutMs);
      deadTimes.push(...round);
      perKill.push(Math.round(median(round)));
    }
    return {
      ...emptyReport("go", "go"),
      convergeMs,
      detection: summary(deadTimes, perKill),
      cpuPerNodePerSec: cpuMs / 1000 / nodes / steadySeconds,
      cpuUserShare: Math.round(((s1.cpuUserMs - s0.cpuUserMs) / cpuMs) * 100) / 100,
      bytesPerNodePerSec: Math.round((sent(s1) - sent(s0)) / nodes / steadySeconds),
      rssPerNodeBytes: Math.round((s1.rssBytes >= 0 ? s1.rssBytes : s1.maxRssBytes) / nodes),
      heapPerNodeBytes: Math.round(s1.heapBytes / nodes),
      steadySeconds,
    };
  } finally {
    await peer.close();
  }
}

const report = impl === "go" ? await runGo() : await runTs();
console.log(JSON.stringify(report));
