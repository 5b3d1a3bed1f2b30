#!/usr/bin/env node
// Copyright (c) memberlist-ts authors. SPDX-License-Identifier: MPL-2.0
//
// `npm test`: every step of the suite, in order, on every runtime. Each step runs even
// when an earlier one failed, so one run shows everything that is broken; the exit
// code is non-zero when any step failed.
//
//   node tools/test.mjs [--only types,node,deno,bun,doc,publish]
//
// The node step runs the tests that drive every runtime from outside (the CLI, the examples,
// the npm package, the status page in headless Chromium): they need the compiled build.
//
// Environment: CI=1 makes the Go interop tests fail (not skip) when Go is missing.

import { spawnSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
const bin = (name) => `${root}node_modules/.bin/${name}`;

function entryPoints() {
  const jsr = JSON.parse(readFileSync(`${root}jsr.json`, "utf8"));
  return Object.values(jsr.exports);
}

function agentModules() {
  return readdirSync(`${root}agent`).filter((f) => f.endsWith(".ts") && f !== "cli.ts").map((f) => `agent/${f}`);
}

const steps = [
  { name: "types", cmd: bin("tsc"), args: ["-p", "tsconfig.json"] },
  {
    name: "node",
    pre: () => rmSync(`${root}build`, { recursive: true, force: true }),
    cmd: bin("tsc"),
    args: ["-p", "tsconfig.test.json"],
    then: { cmd: process.execPath, args: ["--test", "--test-reporter=dot", "build/tests/"] },
  },
  { name: "deno", cmd: bin("deno"), args: ["test", "-A", "--quiet", "tests/"] },
  { name: "bun", cmd: bin("bun"), args: ["test"] },
  // `deno doc --lint` over every entry point of jsr.json (as JSR scores the package), then every
  // documentation example run as a test. agent/cli.ts runs the command line when loaded, so it is
  // linted but not loaded by `deno test`.
  {
    name: "doc",
    cmd: bin("deno"),
    args: ["doc", "--lint", ...entryPoints()],
    then: {
      cmd: bin("deno"),
      args: ["test", "-A", "--quiet", "--doc", "mod.ts", "wire.ts", "testing.ts", "lib/", "transports/", ...agentModules()],
    },
  },
  { name: "publish", cmd: bin("deno"), args: ["publish", "--dry-run", "--allow-dirty", "--config", "jsr.json"] },
];

// A fresh clone has no node_modules: install what the suite needs first (deno, bun, tsc, …).
if (!["tsc", "deno", "bun"].every((name) => existsSync(bin(name)))) {
  console.log("=== installing dependencies (npm ci) ===");
  const r = spawnSync("npm", ["ci", "--no-audit", "--no-fund"], { cwd: root, stdio: "inherit" });
  if (r.status !== 0) process.exit(1);
}

const onlyArg = process.argv.indexOf("--only");
const only = onlyArg > 0 ? new Set(process.argv[onlyArg + 1].split(",")) : null;

const results = [];
for (const step of steps) {
  if (only && !only.has(step.name)) continue;
  console.log(`\n=== ${step.name} ===`);
  const started = Date.now();
  step.pre?.();
  let ok = run(step.cmd, step.args);
  if (ok && step.then) ok = run(step.then.cmd, step.then.args);
  results.push({ name: step.name, ok, seconds: ((Date.now() - started) / 1000).toFixed(1) });
}

console.log("\n=== summary ===");
for (const r of results) console.log(`${r.ok ? "pass" : "FAIL"}  ${r.name.padEnd(8)} ${r.seconds} s`);
process.exit(results.every((r) => r.ok) ? 0 : 1);

function run(cmd, args) {
  const r = spawnSync(cmd, args, { cwd: root, stdio: "inherit", env: { ...process.env, NO_COLOR: "1" } });
  if (r.error) console.error(`cannot run ${cmd}: ${r.error.message}`);
  return r.status === 0;
}
