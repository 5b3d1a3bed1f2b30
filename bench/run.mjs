#!/usr/bin/env node
// Copyright (c) memberlist-ts authors. SPDX-License-Identifier: MPL-2.0
//
// `npm run bench [-- --json] [--seconds S] [--rounds R] [--runtimes deno,bun,node] [--suite wire,cluster]
//                  [--cluster-nodes 32,128] [--steady-seconds 30] [--attacks REGEXP] [--cap-seconds 15]`
//
// The hostile suite (`--suite hostile`, not in the default set) runs every attack of tests/_attacks.ts once
// against a target node in its own process, Go 0.2.2's and ours on each runtime, and prints one line per
// attack and implementation (bench/hostile.ts says what each field means).
//
// Runs each benchmark on every runtime and, in the same run, the same operations in
// Go memberlist 0.2.2 (bench/go/*, built against Debian's sources), then reports
// each TypeScript figure with its ratio to Go's. Rounds alternate Go and TS so that
// load from other processes on this shared machine hits both alike; the median of
// the rounds is reported.
//
// --json prints one JSON object per line:
//   {"suite":"wire","op":"alive","runtime":"deno","opsPerSec":…,"goOpsPerSec":…,"ratio":…,"bytes":…,"rounds":[…]}

import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
const args = process.argv.slice(2);
const opt = (name, fallback) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : fallback;
};
const json = args.includes("--json");
const seconds = Number(opt("seconds", "1"));
const rounds = Number(opt("rounds", "3"));
const runtimes = opt("runtimes", "deno,bun,node").split(",");
const suites = opt("suite", "wire,cluster").split(",");
const log = (...a) => { if (!json) console.error(...a); };

function run(cmd, argv, env = {}) {
  const r = spawnSync(cmd, argv, { cwd: root, encoding: "utf8", maxBuffer: 64 << 20, env: { ...process.env, ...env } });
  if (r.status !== 0) throw new Error(`${cmd} ${argv.join(" ")} failed (${r.status}): ${r.stderr || r.error}`);
  return r.stdout.trim().split("\n").filter(Boolean).map((l) => JSON.parse(l));
}

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

// The Node run uses the compiled build; the Go programs are built against memberlist's sources.
log("building the TypeScript (tsc) and the Go benchmark programs…");
run(`${root}node_modules/.bin/tsc`, ["-p", "tsconfig.test.json"]);
const { buildGoProgram, goAvailable } = await import(`${root}build/tests/interop/_go.js`);
if (!goAvailable()) {
  console.error("bench: Go and golang-github-hashicorp-memberlist-dev are needed to measure Go beside us");
  process.exit(1);
}

const SUITES = {
  wire: {
    go: () => [buildGoProgram("bench/go/wirebench"), ["--seconds", String(seconds)]],
    ts: {
      deno: [`${root}node_modules/.bin/deno`, ["run", "-A", "bench/wire.ts", "--seconds", String(seconds)]],
      bun: [`${root}node_modules/.bin/bun`, ["bench/wire.ts", "--seconds", String(seconds)]],
      node: [process.execPath, ["build/bench/wire.js", "--seconds", String(seconds)]],
    },
  },
};

// The cluster suite: N nodes in one process per runtime, beside N Go nodes in one Go process
// (bench/cluster.ts). One run each; the ratios compare with Go's figures of the same run.
async function clusterSuite() {
  const out = [];
  const sizes = opt("cluster-nodes", "32,128").split(",").map(Number);
  const steady = opt("steady-seconds", "30");
  for (const n of sizes) {
    const common = ["--nodes", String(n), "--steady-seconds", steady];
    log(`cluster: ${n} Go nodes`);
    const [go] = run(`${root}node_modules/.bin/deno`, ["run", "-A", "bench/cluster.ts", "--impl", "go", ...common]);
    out.push({ suite: "cluster", ...go });
    for (const rt of runtimes) {
      log(`cluster: ${n} TS nodes on ${rt}`);
      const cmd = {
        deno: [`${root}node_modules/.bin/deno`, ["run", "-A", "bench/cluster.ts", ...common]],
        bun: [`${root}node_modules/.bin/bun`, ["bench/cluster.ts", ...common]],
        node: [process.execPath, ["build/bench/cluster.js", ...common]],
      }[rt];
      const [ts] = run(cmd[0], cmd[1]);
      const ratio = (a, b) => (a === null || b === null || b === 0 ? null : Math.round((a / b) * 100) / 100);
      out.push({
        suite: "cluster",
        ...ts,
        vsGo: {
          cpuPerNodePerSec: ratio(ts.cpuPerNodePerSec, go.cpuPerNodePerSec),
          bytesPerNodePerSec: ratio(ts.bytesPerNodePerSec, go.bytesPerNodePerSec),
          detectionMedian: ratio(ts.detection?.median ?? null, go.detection?.median ?? null),
          convergeMs: ratio(ts.convergeMs, go.convergeMs),
          heapPerNodeBytes: ratio(ts.heapPerNodeBytes, go.heapPerNodeBytes),
        },
      });
    }
  }
  return out;
}

// The hostile suite: bench/hostile.ts drives the targets of every implementation from one Deno process.
function hostileSuite() {
  const argv = ["run", "-A", "bench/hostile.ts", "--impls", ["go", ...runtimes].join(",")];
  for (const name of ["attacks", "cap-seconds"]) {
    const v = opt(name, undefined);
    if (v !== undefined) argv.push(`--${name}`, v);
  }
  log(`hostile: ${argv.join(" ")}`);
  const r = spawnSync(`${root}node_modules/.bin/deno`, argv, {
    cwd: root,
    encoding: "utf8",
    maxBuffer: 64 << 20,
    stdio: ["ignore", "pipe", json ? "ignore" : "inherit"],
  });
  if (r.status !== 0) throw new Error(`bench/hostile.ts failed (${r.status}): ${r.error ?? ""}`);
  return r.stdout.trim().split("\n").filter(Boolean).map((l) => JSON.parse(l));
}

const results = [];
for (const suite of suites) {
  if (suite === "cluster") {
    results.push(...(await clusterSuite()));
    continue;
  }
  if (suite === "hostile") {
    results.push(...hostileSuite());
    continue;
  }
  const def = SUITES[suite];
  if (def === undefined) throw new Error(`unknown suite "${suite}"`);
  const [goBin, goArgs] = def.go();
  const go = new Map(); // op → [opsPerSec per round]
  const ts = new Map(); // runtime/op → [opsPerSec per round]
  const bytes = new Map();
  for (let round = 0; round < rounds; round++) {
    log(`${suite}: round ${round + 1}/${rounds}: go`);
    for (const r of run(goBin, goArgs)) {
      (go.get(r.op) ?? go.set(r.op, []).get(r.op)).push(r.opsPerSec);
      bytes.set(`go/${r.op}`, r.bytes);
    }
    for (const rt of runtimes) {
      const [cmd, argv] = def.ts[rt];
      if (!existsSync(cmd)) throw new Error(`${rt} is not installed (${cmd}): run npm ci`);
      log(`${suite}: round ${round + 1}/${rounds}: ${rt}`);
      for (const r of run(cmd, argv)) {
        const k = `${rt}/${r.op}`;
        (ts.get(k) ?? ts.set(k, []).get(k)).push(r.opsPerSec);
        bytes.set(k, r.bytes);
      }
    }
  }
  for (const [op, goRounds] of go) {
    const goOps = median(goRounds);
    results.push({ suite, op, runtime: "go", opsPerSec: Math.round(goOps), rounds: goRounds, bytes: bytes.get(`go/${op}`) });
    for (const rt of runtimes) {
      const k = `${rt}/${op}`;
      const tsRounds = ts.get(k);
      if (tsRounds === undefined) continue;
      const ops = median(tsRounds);
      if (bytes.get(k) !== bytes.get(`go/${op}`)) {
        throw new Error(`${k}: measured ${bytes.get(k)} bytes, Go ${bytes.get(`go/${op}`)}: not the same workload`);
      }
      results.push({
        suite, op, runtime: rt, opsPerSec: Math.round(ops), goOpsPerSec: Math.round(goOps),
        ratio: Math.round((ops / goOps) * 100) / 100, rounds: tsRounds, bytes: bytes.get(k),
      });
    }
  }
}

if (json) {
  for (const r of results) console.log(JSON.stringify(r));
} else if (suites.includes("hostile")) {
  const cols = ["attack", "impl", "attackBytes", "units", "cpuMs", "cpuMsPerUnit", "rssGrowthMB", "replyBytes", "suspected", "crashed"];
  console.log(cols.join("\t"));
  for (const r of results) {
    if (r.suite !== "hostile") console.log(JSON.stringify(r));
    else console.log(cols.map((c) => String(r[c])).join("\t") + `\t${Object.entries(r.meets).filter(([, ok]) => !ok).map(([k]) => `misses ${k}`).join(", ")}`);
  }
} else if (suites.includes("cluster")) {
  for (const r of results) console.log(JSON.stringify(r));
} else {
  console.log(`${"suite".padEnd(6)} ${"op".padEnd(20)} ${"runtime".padEnd(8)} ${"ops/s".padStart(12)} ${"Go ops/s".padStart(12)} ${"× Go".padStart(6)}`);
  for (const r of results) {
    console.log(`${r.suite.padEnd(6)} ${r.op.padEnd(20)} ${r.runtime.padEnd(8)} ${String(r.opsPerSec).padStart(12)} ${String(r.goOpsPerSec ?? "").padStart(12)} ${String(r.ratio ?? "").padStart(6)}`);
  }
}
