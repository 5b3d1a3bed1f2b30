#!/usr/bin/env node
// Copyright (c) memberlist-ts authors. SPDX-License-Identifier: MPL-2.0
//
// `npm run bench [-- --json] [--seconds S] [--rounds R] [--runtimes deno,bun,node]
//                  [--suite wire,aes,disseminate,cluster]
//                  [--cluster-nodes 32,128] [--cluster-modes plain,encrypted] [--steady-seconds 30]
//                  [--like-go-runtimes deno,bun,node] [--joins-in-flight 32] [--cluster-profile local|lan] [--tcp-timeout-ms MS] [--sim-nodes 1000]
//                  [--attacks REGEXP] [--cap-seconds 15] [--cycles 1000]`
//
// Runs each benchmark on every runtime and, in the same run, the same work in Go
// memberlist 0.2.2 (bench/go/*, built against Debian's sources), then reports each
// TypeScript figure with its ratio to Go's. Every suite runs in rounds; each round
// runs Go, then each runtime, so that load from other processes on this shared machine
// hits both alike; each figure is the median of its rounds (the rounds are listed).
//
//   wire         codec operations (bench/wire.ts, bench/go/wirebench)
//   aes          AES-GCM seal+open of 1,400 B on every path a runtime has (bench/aes.ts)
//                beside Go's aes-gcm-1400
//   disseminate  Go memberlist's own in-memory network (bench/go/dissemination, real time)
//                beside the simulator's disseminate scenario (tools/sim.ts, virtual time),
//                --sim-nodes nodes (default 1,000)
//   cluster      N real nodes on loopback per process (bench/cluster.ts), Go and each
//                runtime; per N and mode (plaintext, encrypted); plus, per runtime, a
//                convergence-only row with pushPullAfterJoin and reconnect off (likeGo)
//
//   hostile      (not in the default set) every attack of tests/_attacks.ts once against a target node
//                in its own process, Go 0.2.2's and ours on each runtime; one line per attack and
//                implementation (bench/hostile.ts says what each field means)
//   lifecycle    (not in the default set) --cycles create/join/shutdown cycles of two nodes on real
//                sockets per runtime (bench/lifecycle.ts): what is left, and the exit by itself
//
// --json prints one JSON object per line, e.g.
//   {"suite":"wire","op":"alive","runtime":"deno","opsPerSec":…,"goOpsPerSec":…,"ratio":…,"rounds":[…],
//    "opsPerCpuSec":…,"goOpsPerCpuSec":…,"cpuRatio":…,"cpuRounds":[…],"bytes":…}
// opsPerSec divides by wall time; opsPerCpuSec by the CPU time the process used, which other
// processes on a loaded machine disturb far less (the benchmarks are single-threaded).

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
const suites = opt("suite", "wire,aes,disseminate,cluster").split(",");
const log = (...a) => { if (!json) console.error(...a); };

function run(cmd, argv, env = {}) {
  const r = spawnSync(cmd, argv, { cwd: root, encoding: "utf8", maxBuffer: 64 << 20, env: { ...process.env, ...env } });
  if (r.status !== 0) throw new Error(`${cmd} ${argv.join(" ")} failed (${r.status}): ${r.stderr || r.error}`);
  return r.stdout.trim().split("\n").filter(Boolean).map((l) => JSON.parse(l));
}

function median(xs) {
  const s = xs.filter((x) => typeof x === "number" && Number.isFinite(x)).sort((a, b) => a - b);
  if (s.length === 0) return null;
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}
const ratio = (a, b) => (a === null || b === null || a === undefined || b === undefined || b === 0 ? null : Math.round((a / b) * 100) / 100);

/** How to start a TypeScript program on each runtime (Node runs the tsc build). */
function tsCommand(rt, file, argv) {
  const cmd = {
    deno: [`${root}node_modules/.bin/deno`, ["run", "-A", `${file}.ts`, ...argv]],
    bun: [`${root}node_modules/.bin/bun`, [`${file}.ts`, ...argv]],
    node: [process.execPath, [`build/${file}.js`, ...argv]],
  }[rt];
  if (cmd === undefined) throw new Error(`unknown runtime "${rt}"`);
  if (!existsSync(cmd[0])) throw new Error(`${rt} is not installed (${cmd[0]}): run npm ci`);
  return cmd;
}

// The Node run uses the compiled build; the Go programs are built against memberlist's sources.
log("building the TypeScript (tsc) and the Go benchmark programs…");
run(`${root}node_modules/.bin/tsc`, ["-p", "tsconfig.test.json"]);
const { buildGoProgram, goAvailable } = await import(`${root}build/tests/interop/_go.js`);
if (!goAvailable()) {
  console.error("bench: Go and golang-github-hashicorp-memberlist-dev are needed to measure Go beside us");
  process.exit(1);
}

/** Operations per second: Go's program and bench/<file>.ts, R rounds alternating, medians. */
function opsSuite(suite, goArgs, file, keyOf) {
  const goBin = buildGoProgram("bench/go/wirebench");
  const go = new Map(); // op → [opsPerSec per round]
  const goCpu = new Map(); // op → [opsPerCpuSec per round]
  const ts = new Map(); // runtime/key → { rounds: [opsPerSec], cpuRounds: [opsPerCpuSec], last: row }
  const goBytes = new Map();
  for (let round = 0; round < rounds; round++) {
    log(`${suite}: round ${round + 1}/${rounds}: go`);
    for (const r of run(goBin, ["--seconds", String(seconds), ...goArgs])) {
      (go.get(r.op) ?? go.set(r.op, []).get(r.op)).push(r.opsPerSec);
      (goCpu.get(r.op) ?? goCpu.set(r.op, []).get(r.op)).push(r.opsPerCpuSec);
      goBytes.set(r.op, r.bytes);
    }
    for (const rt of runtimes) {
      log(`${suite}: round ${round + 1}/${rounds}: ${rt}`);
      const [cmd, argv] = tsCommand(rt, file, ["--seconds", String(seconds)]);
      for (const r of run(cmd, argv)) {
        const k = `${rt}/${keyOf(r)}`;
        const e = ts.get(k) ?? ts.set(k, { rounds: [], cpuRounds: [], last: r }).get(k);
        e.rounds.push(r.opsPerSec);
        e.cpuRounds.push(r.opsPerCpuSec);
        e.last = r;
      }
    }
  }
  const out = [];
  for (const [op, goRounds] of go) {
    const goOps = median(goRounds);
    const goOpsCpu = median(goCpu.get(op));
    out.push({
      suite, op, runtime: "go", opsPerSec: Math.round(goOps), rounds: goRounds,
      opsPerCpuSec: Math.round(goOpsCpu), cpuRounds: goCpu.get(op), bytes: goBytes.get(op),
    });
    for (const [k, e] of ts) {
      if (e.last.op !== op) continue;
      const rt = k.slice(0, k.indexOf("/"));
      if (e.last.bytes !== goBytes.get(op)) {
        throw new Error(`${k}: measured ${e.last.bytes} bytes, Go ${goBytes.get(op)}: not the same workload`);
      }
      const ops = median(e.rounds);
      const opsCpu = median(e.cpuRounds);
      out.push({
        suite, op, ...(e.last.path === undefined ? {} : { path: e.last.path }), runtime: rt,
        opsPerSec: Math.round(ops), goOpsPerSec: Math.round(goOps), ratio: ratio(ops, goOps), rounds: e.rounds,
        opsPerCpuSec: Math.round(opsCpu), goOpsPerCpuSec: Math.round(goOpsCpu), cpuRatio: ratio(opsCpu, goOpsCpu),
        cpuRounds: e.cpuRounds,
        bytes: e.last.bytes, ...(e.last.identical === undefined ? {} : { identical: e.last.identical }),
      });
    }
  }
  return out;
}

/**
 * Go memberlist on its MockNetwork (real time) beside the simulator (virtual time), at the same
 * size: how long a meta update takes to reach every node. The simulator is deterministic, so its
 * rounds differ only in wall time; Go's vary, and their medians are reported.
 */
function disseminateSuite() {
  const n = opt("sim-nodes", "1000");
  const goBin = buildGoProgram("bench/go/dissemination");
  const goRows = [];
  const simRows = [];
  for (let round = 0; round < rounds; round++) {
    log(`disseminate: round ${round + 1}/${rounds}: go, ${n} nodes`);
    goRows.push(run(goBin, ["--nodes", n, "--setup", "inject", "--seed", String(round + 1)])[0]);
    log(`disseminate: round ${round + 1}/${rounds}: simulator, ${n} nodes`);
    const [cmd, argv] = tsCommand("bun", "tools/sim", ["--nodes", n, "--scenario", "disseminate", "--seed", "1", "--json"]);
    simRows.push(run(cmd, argv)[0]);
  }
  const pick = (rows, k) => rows.map((r) => r.informed[k]);
  const goInformed = Object.fromEntries(["p50", "p99", "p9999", "p100"].map((k) => [k, median(pick(goRows, k))]));
  const sim = simRows[simRows.length - 1];
  return [
    {
      suite: "disseminate", runtime: "go", nodes: Number(n), setup: "inject", informed: goInformed,
      rounds: goRows.map((r) => r.informed), heapBytes: median(goRows.map((r) => r.heapBytes)),
      wallMs: median(goRows.map((r) => r.wallMs)),
    },
    {
      suite: "disseminate", runtime: "sim", simulated: true, nodes: Number(n), seed: 1, informed: sim.informed,
      vsGo: Object.fromEntries(Object.keys(goInformed).map((k) => [k, ratio(sim.informed[k], goInformed[k])])),
      speedup: median(simRows.map((r) => r.speedup)), heapMB: sim.heapMB,
    },
  ];
}

/**
 * The cluster suite: per size and mode, R rounds of [Go, each runtime], and per runtime one
 * like-for-like convergence row per round. Medians over the rounds; ratios against Go's medians.
 */
function clusterSuite() {
  const sizes = opt("cluster-nodes", "32,128").split(",").map(Number);
  const modes = opt("cluster-modes", "plain,encrypted").split(",");
  const likeGoRuntimes = opt("like-go-runtimes", runtimes.join(",")).split(",").filter(Boolean);
  const steady = opt("steady-seconds", "30");
  const inFlight = opt("joins-in-flight", "32");
  const tcpTimeout = opt("tcp-timeout-ms", "");
  const profile = opt("cluster-profile", "local");
  const out = [];
  for (const n of sizes) {
    for (const mode of modes) {
      const common = [
        "--nodes", String(n), "--steady-seconds", steady, "--joins-in-flight", inFlight,
        "--profile", profile,
        ...(tcpTimeout !== "" ? ["--tcp-timeout-ms", tcpTimeout] : []),
        ...(mode === "encrypted" ? ["--encrypt"] : []),
      ];
      const byImpl = new Map(); // "go" | runtime | "<runtime>/like-go" → reports
      const failures = [];
      // A run that fails (joins timing out on a loaded machine) is reported, not fatal to the suite.
      const add = (k, cmd) => {
        try {
          const [r] = run(...cmd);
          (byImpl.get(k) ?? byImpl.set(k, []).get(k)).push(r);
        } catch (err) {
          log(`cluster: ${k} failed: ${String(err.message).split("\n")[0]}`);
          failures.push({ impl: k, error: String(err.message).replace(/\x1b\[[0-9;]*m/g, "").split("\n").slice(0, 2).join(" ") });
        }
      };
      for (let round = 0; round < rounds; round++) {
        log(`cluster: ${n} nodes, ${mode}, round ${round + 1}/${rounds}: go`);
        add("go", [`${root}node_modules/.bin/deno`, ["run", "-A", "bench/cluster.ts", "--impl", "go", ...common]]);
        for (const rt of runtimes) {
          log(`cluster: ${n} nodes, ${mode}, round ${round + 1}/${rounds}: ${rt}`);
          add(rt, tsCommand(rt, "bench/cluster", common));
        }
        for (const rt of likeGoRuntimes) {
          log(`cluster: ${n} nodes, ${mode}, round ${round + 1}/${rounds}: ${rt}, like Go (convergence only)`);
          add(`${rt}/like-go`, tsCommand(rt, "bench/cluster", [...common, "--like-go", "--converge-only"]));
        }
      }
      const summarize = (reports) => {
        const m = (f) => median(reports.map(f));
        return {
          convergeMs: m((r) => r.convergeMs),
          detectionMedian: m((r) => r.detection?.median ?? null),
          cpuPerNodePerSec: m((r) => r.cpuPerNodePerSec),
          bytesPerNodePerSec: m((r) => r.bytesPerNodePerSec),
          rssPerNodeBytes: m((r) => r.rssPerNodeBytes),
          heapPerNodeBytes: m((r) => r.heapPerNodeBytes),
        };
      };
      const base = { suite: "cluster", nodes: n, encrypted: mode === "encrypted", rounds: rounds, profile, ...(tcpTimeout !== "" ? { tcpTimeoutMs: Number(tcpTimeout) } : {}) };
      for (const f of failures) out.push({ ...base, runtime: f.impl, failed: f.error });
      const go = summarize(byImpl.get("go") ?? []);
      if (byImpl.has("go")) out.push({ ...base, runtime: "go", likeGo: true, ...go, perRound: byImpl.get("go") });
      for (const [k, reports] of byImpl) {
        if (k === "go") continue;
        const likeGo = k.endsWith("/like-go");
        const s = summarize(reports);
        const row = { ...base, runtime: likeGo ? k.slice(0, -8) : k, likeGo };
        if (likeGo) {
          out.push({ ...row, convergeMs: s.convergeMs, vsGo: { convergeMs: ratio(s.convergeMs, go.convergeMs) }, perRound: reports.map((r) => r.convergeMs) });
          continue;
        }
        out.push({
          ...row, ...s,
          vsGo: Object.fromEntries(Object.keys(s).map((f) => [f, ratio(s[f], go[f])])),
          perRound: reports,
        });
      }
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

// The lifecycle suite (bench/lifecycle.ts): create/join/shutdown cycles on real sockets, per
// runtime; what is left afterwards, and how long the process takes to exit by itself once the
// last node is shut down (a left-over timer or socket would keep it alive: then null).
async function lifecycleSuite() {
  const { spawn } = await import("node:child_process");
  const cycles = opt("cycles", "1000");
  const out = [];
  for (const rt of runtimes) {
    log(`lifecycle: ${cycles} cycles on ${rt}`);
    const [cmd, argv] = {
      deno: [`${root}node_modules/.bin/deno`, ["run", "-A", "--v8-flags=--expose-gc", "bench/lifecycle.ts", "--cycles", cycles]],
      bun: [`${root}node_modules/.bin/bun`, ["bench/lifecycle.ts", "--cycles", cycles]],
      node: [process.execPath, ["--expose-gc", "build/bench/lifecycle.js", "--cycles", cycles]],
    }[rt];
    const child = spawn(cmd, argv, { cwd: root, stdio: ["ignore", "pipe", "inherit"] });
    let text = "";
    let printedAt = 0;
    child.stdout.on("data", (d) => {
      text += d;
      if (printedAt === 0 && text.includes("\n")) printedAt = performance.now();
    });
    const exited = await new Promise((resolve) => {
      const timer = setTimeout(() => {
        child.kill();
        resolve(null);
      }, 30 * 60_000);
      child.on("exit", (code) => {
        clearTimeout(timer);
        resolve(code === 0 ? performance.now() : null);
      });
    });
    const r = JSON.parse(text.trim().split("\n")[0]);
    out.push({ suite: "lifecycle", ...r, exitMs: exited === null || printedAt === 0 ? null : Math.round(exited - printedAt) });
  }
  return out;
}

const results = [];
for (const suite of suites) {
  if (suite === "wire") results.push(...opsSuite("wire", [], "bench/wire", (r) => r.op));
  else if (suite === "aes") results.push(...opsSuite("aes", ["--op", "aes-gcm-1400"], "bench/aes", (r) => r.path));
  else if (suite === "disseminate") results.push(...disseminateSuite());
  else if (suite === "cluster") results.push(...clusterSuite());
  else if (suite === "hostile") results.push(...hostileSuite());
  else if (suite === "lifecycle") results.push(...(await lifecycleSuite()));
  else throw new Error(`unknown suite "${suite}"`);
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
} else {
  for (const r of results) {
    if (r.opsPerSec !== undefined) {
      const name = r.path === undefined ? r.op : `${r.op} ${r.path}`;
      console.log(`${r.suite.padEnd(6)} ${name.padEnd(36)} ${r.runtime.padEnd(6)} ${String(r.opsPerSec).padStart(10)} ${String(r.goOpsPerSec ?? "").padStart(10)} ${String(r.ratio ?? "").padStart(6)}  per CPU-s: ${String(r.opsPerCpuSec).padStart(10)} ${String(r.cpuRatio ?? "").padStart(6)}`);
    } else {
      const { perRound: _, ...rest } = r;
      console.log(JSON.stringify(rest));
    }
  }
}
