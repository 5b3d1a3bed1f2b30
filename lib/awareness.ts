// Copyright (c) memberlist-ts authors. SPDX-License-Identifier: MPL-2.0
/**
 * Local health awareness (Go `awareness.go`, spec §9.5): Lifeguard's local
 * health multiplier (§IV.A of "Lifeguard: Local Health Awareness for More
 * Accurate Failure Detection", Dadgar et al., 2018).
 *
 * A node that misses probes, fails to get nacks back, or is accused of being
 * dead is more likely to be the slow one itself. It raises its score and
 * waits proportionally longer before judging others, instead of spreading
 * false suspicions about healthy peers.
 *
 * @module
 */

import type { MetricLabel, Metrics } from "./metrics.ts";

/** Options of an {@linkcode Awareness}. */
export interface AwarenessOptions {
  /**
   * The score stays below this: it ranges over 0 … max − 1 (Go
   * `AwarenessMaxMultiplier`, default 8).
   */
  max: number;
  /** Where the `memberlist.health.score` gauge goes. */
  metrics: Metrics;
  /** Labels put on the gauge (Go `MetricLabels`). */
  metricLabels: readonly MetricLabel[];
}

const HEALTH_SCORE_KEY: readonly string[] = ["memberlist", "health", "score"];

/**
 * The local health score (Go `awareness`): 0 is healthy, higher is less
 * healthy. Probe intervals and probe deadlines are multiplied by score + 1.
 */
export class Awareness {
  /** The score is kept below this (Go `max`). */
  readonly #max: number;
  /** The current score (Go `score`). */
  #score = 0;
  readonly #metrics: Metrics;
  readonly #labels: readonly MetricLabel[];

  /**
   * Creates a score of 0.
   *
   * @param options The bound, the metrics sink and its labels.
   */
  constructor(options: AwarenessOptions) {
    this.#max = options.max;
    this.#metrics = options.metrics;
    this.#labels = options.metricLabels;
  }

  /**
   * Adds `delta` to the score, then clamps it to 0 … max − 1, so a score
   * railed at either end may not move (Go `ApplyDelta`). When the score
   * changes, sets the `memberlist.health.score` gauge.
   *
   * @param delta The change: −1 after a successful probe, +1 or more after
   * failures (spec §9.5).
   */
  applyDelta(delta: number): void {
    const initial = this.#score;
    let score = initial + delta;
    // The floor is checked first, as in Go.
    if (score < 0) score = 0;
    else if (score > this.#max - 1) score = this.#max - 1;
    this.#score = score;
    if (score !== initial) this.#metrics.setGauge(HEALTH_SCORE_KEY, score, this.#labels);
  }

  /**
   * The current score (Go `GetHealthScore`).
   *
   * @returns The score, 0 (healthy) … max − 1.
   */
  getHealthScore(): number {
    return this.#score;
  }

  /**
   * Stretches a timeout by the score (Go `ScaleTimeout`, Lifeguard §IV.A).
   *
   * @param timeoutMs The timeout for a healthy node, in milliseconds.
   * @returns `timeoutMs × (score + 1)`.
   */
  scaleTimeout(timeoutMs: number): number {
    return timeoutMs * (this.#score + 1);
  }
}
