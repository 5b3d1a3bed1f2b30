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

/**
 * A metric label, attached to every metric from `Config.metricLabels`.
 *
 * @example Usage
 * ```ts
 * import { defaultLocalConfig, Memberlist } from "@gossip/memberlist";
 * import { MockNetwork } from "@gossip/memberlist/transports/mock";
 * import assert from "node:assert/strict";
 * import { type MetricLabel, PrometheusMetrics } from "@gossip/memberlist";
 *
 * const metricLabels: MetricLabel[] = [{ name: "cluster", value: "eu-1" }];
 * const metrics = new PrometheusMetrics();
 * const ml = await Memberlist.create({ ...defaultLocalConfig(), name: "a", transport: new MockNetwork().newTransport("a"), metrics, metricLabels });
 * await ml.updateNode();
 * await ml.shutdown();
 * assert.match(metrics.render(), /\{cluster="eu-1"\}/);
 * ```
 */
export interface MetricLabel {
  /** Label name. */
  name: string;
  /** Label value. */
  value: string;
}

/**
 * A metrics sink in the shape of go-metrics. Keys are path segments; a sink
 * usually joins them with ".".
 *
 * @example Usage
 * ```ts
 * import { defaultLocalConfig, Memberlist } from "@gossip/memberlist";
 * import { MockNetwork } from "@gossip/memberlist/transports/mock";
 * import assert from "node:assert/strict";
 * import type { Metrics } from "@gossip/memberlist";
 *
 * const counters = new Map<string, number>();
 * const metrics: Metrics = {
 *   incrCounter: (key, value) => void counters.set(key.join("."), (counters.get(key.join(".")) ?? 0) + value),
 *   setGauge() {},
 *   addSample() {},
 *   measureSince() {},
 * };
 * const net = new MockNetwork();
 * const a = await Memberlist.create({ ...defaultLocalConfig(), name: "a", transport: net.newTransport("a"), metrics });
 * const b = await Memberlist.create({ ...defaultLocalConfig(), name: "b", transport: net.newTransport("b") });
 * await b.join([a.localNode().address]);
 * await Promise.all([a.shutdown(), b.shutdown()]);
 * assert.ok((counters.get("memberlist.msg.alive") ?? 0) > 0);
 * ```
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
