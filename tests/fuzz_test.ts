// Fuzzing in `npm test`: 100,000 random, mutated and grammar-built inputs
// through every decoder, the packet and stream receive pipelines and a live
// node's table, on each runtime. Longer runs: `npm run fuzz -- --iterations N
// [--seed S]`.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { runFuzz } from "./_fuzz.ts";

const ITERATIONS = Number(globalThis.process?.env?.FUZZ_ITERATIONS ?? 100_000);

describe("fuzzing", () => {
  it(`every decoder refuses ${ITERATIONS} hostile inputs with an input error, never anything else`, { timeout: 300_000 }, async () => {
    const report = await runFuzz(ITERATIONS, 20261125);
    assert.deepEqual(report.failures, []);
    assert.equal(report.accepted + report.refused, ITERATIONS);
    // The mutations must reach past the first checks: some inputs decode.
    assert.ok(report.accepted > ITERATIONS / 50, `only ${report.accepted} inputs were accepted`);
    assert.ok(report.refused > ITERATIONS / 10, `only ${report.refused} inputs were refused`);
  });
});
