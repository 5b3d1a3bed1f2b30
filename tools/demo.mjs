#!/usr/bin/env node
// Copyright (c) memberlist-ts authors. SPDX-License-Identifier: MPL-2.0
//
// `npm run demo [-- --runtime deno|bun|node] [--nodes N]`: installs what is missing
// (npm ci), then runs tools/demo.ts on the chosen runtime (default: Deno).
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
const args = process.argv.slice(2);
const at = args.indexOf("--runtime");
const runtime = at >= 0 ? args[at + 1] : "deno";
const rest = at >= 0 ? [...args.slice(0, at), ...args.slice(at + 2)] : args;
if (!["deno", "bun", "node"].includes(runtime)) {
  console.error(`demo: --runtime must be deno, bun or node, got "${runtime}"`);
  process.exit(2);
}

function run(cmd, argv, options = {}) {
  const r = spawnSync(cmd, argv, { cwd: root, stdio: "inherit", ...options });
  if (r.error) throw r.error;
  return r.status ?? 1;
}

const bin = (name) => `${root}node_modules/.bin/${name}`;
if (!existsSync(bin("deno")) || !existsSync(bin("bun")) || !existsSync(`${root}node_modules/@noble/ciphers`)) {
  console.log("demo: installing dependencies (npm ci)…");
  if (run("npm", ["ci", "--no-audit", "--no-fund"]) !== 0) process.exit(1);
}

let status;
if (runtime === "deno") status = run(bin("deno"), ["run", "-A", "tools/demo.ts", ...rest]);
else if (runtime === "bun") status = run(bin("bun"), ["tools/demo.ts", ...rest]);
else {
  if (run(bin("tsc"), ["-p", "tsconfig.test.json"]) !== 0) process.exit(1);
  status = run(process.execPath, ["build/tools/demo.js", ...rest]);
}
process.exit(status);
