// Copyright (c) memberlist-ts authors. SPDX-License-Identifier: MPL-2.0
/**
 * Metrics, injected. Memberlist reports what it does through the
 * {@linkcode Metrics} in its configuration, under the key names Go memberlist
 * gives to go-metrics (`memberlist.msg.alive`, `memberlist.health.score`, ...),
 * so dashboards built for Go nodes work for ours. The default discards
 * everything.
 *
 * @module
 */

/** A metric label, attached to every metric from `Config.metricLabels`. */
export interface MetricLabel {
  /** Label name. */
  name: string;
  /** Label value. */
  value: string;
}

/**
 * A metrics sink in the shape of go-metrics. Keys are path segments; a sink
 * usually joins them with ".".
 */
export interface Metrics {
  /** Adds `value` to a counter. */
  incrCounter(key: readonly string[], value: number, labels: readonly MetricLabel[]): void;
  /** Sets a gauge. */
  setGauge(key: readonly string[], value: number, labels: readonly MetricLabel[]): void;
  /** Records one sample of a distribution. */
  addSample(key: readonly string[], value: number, labels: readonly MetricLabel[]): void;
  /** Records a duration in milliseconds (go-metrics `MeasureSince`). */
  measureSince(key: readonly string[], ms: number, labels: readonly MetricLabel[]): void;
}

/**
 * A sink that discards everything (the default).
 *
 * @example Usage
 * ```ts
 * import { noopMetrics } from "@gossip/memberlist";
 *
 * noopMetrics.incrCounter(["memberlist", "msg", "alive"], 1, []);
 * ```
 */
export const noopMetrics: Metrics = {
  incrCounter() {},
  setGauge() {},
  addSample() {},
  measureSince() {},
};
