// Copyright (c) memberlist-ts authors. SPDX-License-Identifier: MPL-2.0
/**
 * A {@linkcode Metrics} sink that keeps what memberlist reports and renders it
 * in the Prometheus text exposition format (version 0.0.4), named as
 * go-metrics' Prometheus sink names Go memberlist's metrics: the key's parts
 * joined with "_" (`memberlist.msg.alive` → `memberlist_msg_alive`), counters
 * and gauges as such, samples and timings as summaries (quantiles 0.5, 0.9
 * and 0.99 over the last 10 s, with `_sum` and `_count`), and
 * `Config.metricLabels` as labels. Whatever flows through `Metrics` is
 * rendered, including keys this file does not know.
 *
 * @module
 */

import { type Clock, systemClock } from "./clock.ts";
import type { MetricLabel, Metrics } from "./metrics.ts";

/**
 * Options of {@linkcode PrometheusMetrics}.
 *
 * @example Usage
 * ```ts
 * import { PrometheusMetrics, type PrometheusMetricsOptions } from "@gossip/memberlist";
 * import assert from "node:assert/strict";
 *
 * const options: PrometheusMetricsOptions = { summaryMaxAge: 60_000, maxSeries: 1000 };
 * const metrics = new PrometheusMetrics(options);
 * metrics.setGauge(["memberlist", "health", "score"], 0, []);
 * assert.match(metrics.render(), /^memberlist_health_score 0$/m);
 * ```
 */
export interface PrometheusMetricsOptions {
  /**
   * How long a sample counts towards a summary's quantiles, in ms (go-metrics:
   * 10 s). `_sum` and `_count` cover every sample ever recorded.
   *
   * @default {10000}
   */
  summaryMaxAge?: number;
  /**
   * Most samples a summary keeps for its quantiles; older ones are dropped
   * first.
   *
   * @default {1024}
   */
  summaryMaxSamples?: number;
  /**
   * Most series (name and label set) kept; samples for further series are
   * counted in `memberlist_prometheus_series_dropped` and dropped.
   *
   * @default {10000}
   */
  maxSeries?: number;
  /** The clock that ages summary samples. @default {systemClock} */
  clock?: Clock;
}

type Kind = "counter" | "gauge" | "summary";

interface Series {
  labels: string;
  value: number;
  sum: number;
  count: number;
  /** Summary samples in arrival order: [time, value]. */
  samples: [number, number][];
}

interface Family {
  kind: Kind;
  help: string;
  series: Map<string, Series>;
}

const QUANTILES = [0.5, 0.9, 0.99];

/**
 * A metrics sink for Prometheus. Pass it as `Config.metrics` (one sink may
 * serve several nodes: their `metricLabels` tell them apart) and serve
 * {@linkcode PrometheusMetrics.render} at `/metrics`, or mount the handler of
 * `@gossip/memberlist/http`, which does.
 *
 * @example Usage
 * ```ts
 * import { defaultLocalConfig, Memberlist, PrometheusMetrics } from "@gossip/memberlist";
 * import { MockNetwork } from "@gossip/memberlist/transports/mock";
 * import assert from "node:assert/strict";
 *
 * const metrics = new PrometheusMetrics();
 * const net = new MockNetwork();
 * const config = { ...defaultLocalConfig(), metrics, metricLabels: [{ name: "cluster", value: "demo" }] };
 * const a = await Memberlist.create({ ...config, name: "a", transport: net.newTransport("a") });
 * const b = await Memberlist.create({ ...config, name: "b", transport: net.newTransport("b") });
 * await b.join([a.localNode().address]);
 *
 * const text = metrics.render();
 * assert.match(text, /^# TYPE memberlist_pushPullNode summary$/m);
 * assert.match(text, /^memberlist_pushPullNode_count\{cluster="demo"\} 1$/m);
 * await Promise.all([a.shutdown(), b.shutdown()]);
 * ```
 */
export class PrometheusMetrics implements Metrics {
  #families = new Map<string, Family>();
  #seriesCount = 0;
  #dropped = 0;
  #maxAge: number;
  #maxSamples: number;
  #maxSeries: number;
  #clock: Clock;

  /**
   * Creates an empty sink.
   *
   * @param options Summary window and bounds.
   * @throws {RangeError} When a bound is not a positive integer.
   */
  constructor(options: PrometheusMetricsOptions = {}) {
    this.#maxAge = positive("summaryMaxAge", options.summaryMaxAge ?? 10_000);
    this.#maxSamples = positive("summaryMaxSamples", options.summaryMaxSamples ?? 1024);
    this.#maxSeries = positive("maxSeries", options.maxSeries ?? 10_000);
    this.#clock = options.clock ?? systemClock;
  }

  /**
   * Adds to a counter.
   *
   * @param key The go-metrics key (`["memberlist", "msg", "alive"]`).
   * @param value The increment.
   * @param labels The labels.
   */
  incrCounter(key: readonly string[], value: number, labels: readonly MetricLabel[]): void {
    const s = this.#series("counter", key, labels);
    if (s !== null) s.value += value;
  }

  /**
   * Sets a gauge.
   *
   * @param key The go-metrics key.
   * @param value The value.
   * @param labels The labels.
   */
  setGauge(key: readonly string[], value: number, labels: readonly MetricLabel[]): void {
    const s = this.#series("gauge", key, labels);
    if (s !== null) s.value = value;
  }

  /**
   * Records one sample of a summary.
   *
   * @param key The go-metrics key.
   * @param value The sample.
   * @param labels The labels.
   */
  addSample(key: readonly string[], value: number, labels: readonly MetricLabel[]): void {
    const s = this.#series("summary", key, labels);
    if (s === null) return;
    s.sum += value;
    s.count++;
    s.samples.push([this.#clock.now(), value]);
    if (s.samples.length > this.#maxSamples) s.samples.shift();
  }

  /**
   * Records a duration in ms as a summary sample (go-metrics `MeasureSince`).
   *
   * @param key The go-metrics key.
   * @param ms The duration.
   * @param labels The labels.
   */
  measureSince(key: readonly string[], ms: number, labels: readonly MetricLabel[]): void {
    this.addSample(key, ms, labels);
  }

  /**
   * Renders every metric in the Prometheus text format, families sorted by
   * name. Serve it with `Content-Type: text/plain; version=0.0.4`.
   *
   * @returns The exposition text, ending in a newline.
   */
  render(): string {
    const now = this.#clock.now();
    const lines: string[] = [];
    const names = [...this.#families.keys()].sort();
    for (const name of names) {
      const f = this.#families.get(name)!;
      lines.push(`# HELP ${name} ${f.help}`, `# TYPE ${name} ${f.kind}`);
      for (const s of f.series.values()) {
        if (f.kind !== "summary") {
          lines.push(`${name}${braces(s.labels)} ${number(s.value)}`);
          continue;
        }
        while (s.samples.length > 0 && now - s.samples[0]![0] > this.#maxAge) s.samples.shift();
        const sorted = s.samples.map((x) => x[1]).sort((a, b) => a - b);
        for (const q of QUANTILES) {
          const v = sorted.length === 0 ? NaN : sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
          const labels = s.labels === "" ? `quantile="${q}"` : `${s.labels},quantile="${q}"`;
          lines.push(`${name}{${labels}} ${number(v)}`);
        }
        lines.push(`${name}_sum${braces(s.labels)} ${number(s.sum)}`, `${name}_count${braces(s.labels)} ${s.count}`);
      }
    }
    if (this.#dropped > 0) {
      const name = "memberlist_prometheus_series_dropped";
      lines.push(`# HELP ${name} Samples dropped: more than maxSeries series`, `# TYPE ${name} counter`);
      lines.push(`${name} ${this.#dropped}`);
    }
    return lines.length === 0 ? "" : `${lines.join("\n")}\n`;
  }

  #series(kind: Kind, key: readonly string[], labels: readonly MetricLabel[]): Series | null {
    const name = metricName(key);
    let f = this.#families.get(name);
    const id = labelText(labels);
    let s = f?.series.get(id);
    if (s === undefined) {
      if (this.#seriesCount >= this.#maxSeries) {
        this.#dropped++;
        return null;
      }
      if (f === undefined) {
        // The same name reported as two kinds (never by memberlist) keeps its first kind.
        f = { kind, help: key.join(".").replace(/\\/g, "\\\\").replace(/\n/g, "\\n"), series: new Map() };
        this.#families.set(name, f);
      }
      this.#seriesCount++;
      s = { labels: id, value: 0, sum: 0, count: 0, samples: [] };
      f.series.set(id, s);
    }
    return s;
  }
}

function positive(field: string, value: number): number {
  if (!Number.isInteger(value) || value < 1) {
    throw new RangeError(`Invalid option "${field}": expected a positive integer, got ${value}`);
  }
  return value;
}

/** go-metrics' Prometheus sink: parts joined with "_", anything else than [a-zA-Z0-9_:] made "_". */
function metricName(key: readonly string[]): string {
  const name = key.join("_").replace(/[^a-zA-Z0-9_:]/g, "_");
  return /^[0-9]/.test(name) ? `_${name}` : name;
}

function labelText(labels: readonly MetricLabel[]): string {
  return labels.map((l) => `${l.name.replace(/[^a-zA-Z0-9_]/g, "_").replace(/^(?=[0-9])/, "_")}="${escapeValue(l.value)}"`).join(",");
}

function escapeValue(v: string): string {
  return v.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n");
}

function braces(labels: string): string {
  return labels === "" ? "" : `{${labels}}`;
}

function number(v: number): string {
  if (Number.isNaN(v)) return "NaN";
  if (v === Infinity) return "+Inf";
  if (v === -Infinity) return "-Inf";
  return String(v);
}
