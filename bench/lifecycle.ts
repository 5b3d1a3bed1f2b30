// Copyright (c) memberlist-ts authors. SPDX-License-Identifier: MPL-2.0
//
// Lifecycle: N cycles of create two nodes on real sockets (this runtime's default transport),
// join one to the other, shut both down. Before and after (each time after a forced GC), it
// measures what a leak would leave: open file descriptors (/proc/self/fd), the runtime's active
// resources (process.getActiveResourcesInfo(): sockets, timers; Bun reports none), heap and RSS.
// Then it lets the event loop run dry: a process whose timers and sockets are all gone exits by
// itself, and bench/run.mjs (or the test) times that exit.
//
//   deno run -A --v8-flags=--expose-gc bench/lifecycle.ts [--cycles 1000] [--warmup 300]
//   bun bench/lifecycle.ts [--cycles 1000] [--warmup 300]
//   node --expose-gc build/bench/lifecycle.js [--cycles 1000] [--warmup 300]
//
// Prints one JSON line: {"runtime","cycles","ms","before":{…},"after":{…},"delta":{fds,resources,heapKB,rssKB}},
// with --warmup cycles before "before".
import { readdirSync } from "node:fs";
import { defaultLocalConfig, Memberlist } from "../mod.ts";
import { detectRuntime } from "../lib/_runtime.ts";
import { silentLogger } from "../lib/logging.ts";

interface Snapshot {
  fds: number;
  /** Active resources by kind (Node and Deno; Bun reports none). */
  resources: Record<string, number>;
  heapKB: number;
  rssKB: number;
}

const argv = globalThis.process?.argv.slice(2) ?? [];
function count(name: string, fallback: number): number {
  const at = argv.indexOf(`--${name}`);
  const v = at >= 0 ? Number(argv[at + 1]) : fallback;
  if (!Number.isInteger(v) || v < 0) throw new RangeError(`Invalid option "--${name}": expected a whole number, got "${argv[at + 1]}"`);
  return v;
}
const cycles = count("cycles", 1000);
const warmup = count("warmup", 300);

async function collect(): Promise<void> {
  const g = globalThis as { gc?: () => void; Bun?: { gc(force: boolean): void } };
  for (let i = 0; i < 3; i++) {
    if (g.Bun !== undefined) g.Bun.gc(true);
    else g.gc?.();
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function snapshot(): Promise<Snapshot> {
  await collect();
  const resources: Record<string, number> = {};
  const info = (process as { getActiveResourcesInfo?: () => string[] }).getActiveResourcesInfo?.() ?? [];
  for (const kind of info) resources[kind] = (resources[kind] ?? 0) + 1;
  const mem = process.memoryUsage();
  return {
    fds: readdirSync("/proc/self/fd").length,
    resources,
    heapKB: Math.round(mem.heapUsed / 1024),
    rssKB: Math.round(mem.rss / 1024),
  };
}

let n = 0;
async function cycle(): Promise<void> {
  const make = () => Memberlist.create({ ...defaultLocalConfig(), name: `life-${n++}`, bindAddr: "127.0.0.1", bindPort: 0, logger: silentLogger });
  const a = await make();
  const b = await make();
  try {
    if (await b.join([a.localNode().address]) !== 1) throw new Error("join failed");
  } finally {
    await Promise.all([a.shutdown(), b.shutdown()]);
  }
}

// Warm up, then measure. The JIT keeps compiling for a few hundred cycles (a heap snapshot diff on
// Node shows only code objects growing), so the warm-up is long.
for (let i = 0; i < warmup; i++) await cycle();
const before = await snapshot();
const started = performance.now();
for (let i = 0; i < cycles; i++) await cycle();
const ms = Math.round(performance.now() - started);
const after = await snapshot();
const total = (r: Record<string, number>) => Object.values(r).reduce((x, y) => x + y, 0);
console.log(JSON.stringify({
  runtime: detectRuntime(),
  cycles,
  ms,
  before,
  after,
  delta: {
    fds: after.fds - before.fds,
    resources: total(after.resources) - total(before.resources),
    heapKB: after.heapKB - before.heapKB,
    rssKB: after.rssKB - before.rssKB,
  },
}));
// Nothing else: with every node shut down the process must exit by itself.
