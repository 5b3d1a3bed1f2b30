// Copyright (c) memberlist-ts authors. SPDX-License-Identifier: MPL-2.0
/**
 * Accounting of refused input. A node on an open port meets garbage, replays,
 * wrong keys and deliberate floods; each refusal is counted under a metric with
 * a `reason` label (so an operator sees an attack on a dashboard) and logged at
 * a bounded rate: the first refusal of a kind is logged at once, the ones that
 * follow within {@linkcode DROP_LOG_INTERVAL} only counted, and a summary line
 * ("suppressed N") closes the window. However fast input arrives, each kind
 * costs at most two log lines per interval.
 *
 * Not in Go, which logs every dropped packet (and can be made to write
 * hundreds of megabytes of log by one small datagram).
 *
 * @module
 */

import type { Clock, TimerHandle } from "./clock.ts";
import type { LogFields, Logger } from "./logging.ts";
import type { MetricLabel, Metrics } from "./metrics.ts";

/** How long, in ms, refusals of one kind are only counted after one was logged. */
export const DROP_LOG_INTERVAL = 10_000;

/** Counter of refused datagrams and packet messages, labelled by `reason`. */
export const UDP_DROPPED: readonly string[] = ["memberlist", "udp", "dropped"];
/** Counter of refused or cut-off streams, labelled by `reason`. */
export const TCP_DROPPED: readonly string[] = ["memberlist", "tcp", "dropped"];
/** Counter of node records kept out of the node table, labelled by `reason`. */
export const NODE_REJECTED: readonly string[] = ["memberlist", "node", "rejected"];

/** A log level a refusal is reported at (Go's level for the same event). */
export type DropLevel = "debug" | "info" | "warn" | "error";

interface Window {
  readonly key: readonly string[];
  readonly reason: string;
  readonly level: DropLevel;
  suppressed: number;
  timer: TimerHandle | null;
}

/** What a {@linkcode DropLog} reports through. */
export interface DropLogOptions {
  clock: Clock;
  logger: Logger;
  metrics: Metrics;
  /** `Config.metricLabels`, added to every counter. */
  labels: readonly MetricLabel[];
  /** The rate-limiting window in ms (default {@linkcode DROP_LOG_INTERVAL}). */
  interval?: number;
}

/**
 * Counts refusals per metric and reason, and logs them at a bounded rate.
 */
export class DropLog {
  readonly #opts: DropLogOptions;
  readonly #interval: number;
  readonly #windows = new Map<string, Window>();
  readonly #labels = new Map<string, readonly MetricLabel[]>();
  #closed = false;

  /** @param opts Where counters and log lines go. */
  constructor(opts: DropLogOptions) {
    this.#opts = opts;
    this.#interval = opts.interval ?? DROP_LOG_INTERVAL;
  }

  /**
   * Records `count` refusals of one kind.
   *
   * @param key The counter (`UDP_DROPPED`, `TCP_DROPPED`, `NODE_REJECTED`).
   * @param reason The `reason` label, a short code.
   * @param level The level to log at.
   * @param message The log line, when this one is logged.
   * @param fields Its fields.
   * @param count How many refusals this call stands for.
   */
  drop(
    key: readonly string[],
    reason: string,
    level: DropLevel,
    message: string,
    fields?: LogFields,
    count = 1,
  ): void {
    const id = `${key.join(".")}:${reason}`;
    let labels = this.#labels.get(id);
    if (labels === undefined) {
      labels = [...this.#opts.labels, { name: "reason", value: reason }];
      this.#labels.set(id, labels);
    }
    if (key.length > 0) {
      try {
        this.#opts.metrics.incrCounter(key, count, labels);
      } catch {
        // A broken sink must not break the receive path.
      }
    }
    if (this.#closed) return;
    const w = this.#windows.get(id);
    if (w !== undefined) {
      w.suppressed += count;
      return;
    }
    this.#log(level, message, count > 1 ? { ...fields, reason, count } : { ...fields, reason });
    this.#open(id, { key, reason, level, suppressed: 0, timer: null });
  }

  /**
   * Logs an event the input can trigger at will (a refutation, say) at the
   * same bounded rate as refusals, without counting it.
   *
   * @param kind Events of one kind share a window.
   * @param level The level to log at.
   * @param message The log line, when this one is logged.
   * @param fields Its fields.
   */
  note(kind: string, level: DropLevel, message: string, fields?: LogFields): void {
    this.drop([], kind, level, message, fields);
  }

  #open(id: string, w: Window): void {
    this.#windows.set(id, w);
    w.timer = this.#opts.clock.setTimeout(() => {
      this.#windows.delete(id);
      if (this.#closed || w.suppressed === 0) return;
      this.#summarize(w);
      // Still under attack: keep summarizing once per interval.
      this.#open(id, { ...w, suppressed: 0, timer: null });
    }, this.#interval);
  }

  #summarize(w: Window): void {
    const what = w.key.length > 0 ? "log lines of refused input" : `"${w.reason}" log lines`;
    this.#log(w.level, `Suppressed ${w.suppressed} more ${what} in the last ${this.#interval / 1000} s`, {
      ...(w.key.length > 0 ? { metric: w.key.join(".") } : {}),
      reason: w.reason,
      count: w.suppressed,
    });
  }

  #log(level: DropLevel, message: string, fields: LogFields): void {
    try {
      this.#opts.logger[level](message, fields);
    } catch {
      // A broken logger must not break the receive path.
    }
  }

  /** Stops the windows' timers, logging what they had suppressed. Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const w of this.#windows.values()) {
      w.timer?.cancel();
      if (w.suppressed > 0) this.#summarize(w);
    }
    this.#windows.clear();
  }
}
