// Copyright (c) memberlist-ts authors. SPDX-License-Identifier: MPL-2.0
// `npm run fuzz -- --iterations N [--seed S] [--json]`: long fuzzing of every decoder.
// Runs under Deno, Bun or Node (compiled); exits 1 when any input threw something
// other than an input error, printing those inputs so they can become tests.
import { runFuzz } from "../tests/_fuzz.ts";

const args = globalThis.process?.argv.slice(2) ?? [];
const flag = (name: string, fallback: number) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : fallback;
};
const iterations = flag("iterations", 1_000_000);
const seed = flag("seed", Date.now() % 0x7fffffff);
const report = await runFuzz(iterations, seed);
const summary = { seed, ...report, inputsPerSecond: Math.round(report.iterations / (report.ms / 1000)) };
if (args.includes("--json")) console.log(JSON.stringify(summary));
else {
  console.log(`fuzz: ${report.iterations} inputs, seed ${seed}, ${report.accepted} accepted, ${report.refused} refused, ` +
    `${report.failures.length} failures, ${report.ms} ms (${summary.inputsPerSecond}/s)`);
  for (const f of report.failures) console.log(`FAIL ${f.target}: ${f.error}\n  input ${f.input}`);
}
if (report.failures.length > 0) globalThis.process?.exit(1);
