// Copyright (c) memberlist-ts authors. SPDX-License-Identifier: MPL-2.0
//
// Go tests covered (hashicorp/memberlist awareness_test.go), ported in our own words:
//   describe("Awareness"): TestAwareness (the delta / score / scaled-timeout table), plus the
//     memberlist.health.score gauge (Go's SetGaugeWithLabels in ApplyDelta), which Go does not test
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { Awareness } from "../lib/awareness.ts";
import type { MetricLabel, Metrics } from "../lib/metrics.ts";

interface Call {
  kind: string;
  key: string[];
  value: number;
  labels: MetricLabel[];
}

/** A Metrics sink that records every call. */
function recordingMetrics(): { metrics: Metrics; calls: Call[] } {
  const calls: Call[] = [];
  const record =
    (kind: string) => (key: readonly string[], value: number, labels: readonly MetricLabel[]) => {
      calls.push({ kind, key: [...key], value, labels: [...labels] });
    };
  return {
    metrics: {
      incrCounter: record("incrCounter"),
      setGauge: record("setGauge"),
      addSample: record("addSample"),
      measureSince: record("measureSince"),
    },
    calls,
  };
}

describe("Awareness", () => {
  it("getHealthScore() starts at 0 and scaleTimeout() leaves a timeout unchanged", () => {
    const { metrics, calls } = recordingMetrics();
    const a = new Awareness({ max: 8, metrics, metricLabels: [] });
    assert.equal(a.getHealthScore(), 0);
    assert.equal(a.scaleTimeout(500), 500);
    assert.deepEqual(calls, []);
  });

  it("applyDelta() clamps to 0 … max − 1 and scaleTimeout() multiplies by score + 1 (Go's table)", () => {
    // [delta, score after, 1 s timeout scaled], max 8.
    const steps: [number, number, number][] = [
      [0, 0, 1000],
      [-1, 0, 1000],
      [-10, 0, 1000],
      [1, 1, 2000],
      [-1, 0, 1000],
      [10, 7, 8000],
      [-1, 6, 7000],
      [-1, 5, 6000],
      [-1, 4, 5000],
      [-1, 3, 4000],
      [-1, 2, 3000],
      [-1, 1, 2000],
      [-1, 0, 1000],
      [-1, 0, 1000],
    ];
    const a = new Awareness({ max: 8, metrics: recordingMetrics().metrics, metricLabels: [] });
    steps.forEach(([delta, score, timeout], i) => {
      a.applyDelta(delta);
      assert.equal(a.getHealthScore(), score, `step ${i}: score`);
      assert.equal(a.scaleTimeout(1000), timeout, `step ${i}: scaled timeout`);
    });
  });

  it("applyDelta() sets the memberlist.health.score gauge, with the labels, only when the score changes", () => {
    const { metrics, calls } = recordingMetrics();
    const labels: MetricLabel[] = [{ name: "cluster", value: "lan" }];
    const a = new Awareness({ max: 3, metrics, metricLabels: labels });
    for (const delta of [0, -1, 1, 5, 1, -2, 0, -1, -1]) a.applyDelta(delta);
    const gauge = (value: number): Call => ({
      kind: "setGauge",
      key: ["memberlist", "health", "score"],
      value,
      labels,
    });
    // Scores: 0 0 1 2 2 0 0 0 0: changes at +1, +5 (clamped to 2) and -2.
    assert.deepEqual(calls, [gauge(1), gauge(2), gauge(0)]);
  });

  it("with max 1 the score never leaves 0 and no gauge is set", () => {
    const { metrics, calls } = recordingMetrics();
    const a = new Awareness({ max: 1, metrics, metricLabels: [] });
    for (const delta of [1, 3, -1]) a.applyDelta(delta);
    assert.equal(a.getHealthScore(), 0);
    assert.equal(a.scaleTimeout(250), 250);
    assert.deepEqual(calls, []);
  });
});
