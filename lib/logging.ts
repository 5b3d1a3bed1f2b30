// Copyright (c) memberlist-ts authors. SPDX-License-Identifier: MPL-2.0
/**
 * Logging, injected. Memberlist logs what Go memberlist logs, at the same
 * levels (`[DEBUG]`, `[INFO]`, `[WARN]`, `[ERR]`), through the
 * {@linkcode Logger} in its configuration. Bad input from the network is
 * logged and dropped, never thrown.
 *
 * @module
 */

/** Structured context for a log line (node names, addresses, errors). */
export type LogFields = Record<string, unknown>;

/** A levelled logger; any of `console`, pino, winston or a custom object fits. */
export interface Logger {
  /** Detailed protocol events (every probe, every merge). */
  debug(message: string, fields?: LogFields): void;
  /** Notable events (a node marked dead, a join). */
  info(message: string, fields?: LogFields): void;
  /** Something is off but memberlist carries on (bad packets, failed probes). */
  warn(message: string, fields?: LogFields): void;
  /** An operation failed. */
  error(message: string, fields?: LogFields): void;
}

interface ConsoleLike {
  error(...args: unknown[]): void;
}

/**
 * The default logger: warnings and errors go to stderr (`console.error`) with
 * Go's prefixes; debug and info are dropped.
 *
 * @example Usage
 * ```ts
 * import { defaultLogger } from "@gossip/memberlist";
 *
 * defaultLogger.debug("not printed");
 * ```
 */
export const defaultLogger: Logger = {
  debug() {},
  info() {},
  warn(message: string, fields?: LogFields) {
    write("[WARN] memberlist:", message, fields);
  },
  error(message: string, fields?: LogFields) {
    write("[ERR] memberlist:", message, fields);
  },
};

/**
 * A logger that drops everything.
 *
 * @example Usage
 * ```ts
 * import { silentLogger } from "@gossip/memberlist";
 *
 * silentLogger.error("not printed");
 * ```
 */
export const silentLogger: Logger = { debug() {}, info() {}, warn() {}, error() {} };

function write(prefix: string, message: string, fields?: LogFields): void {
  const out = (globalThis as unknown as { console?: ConsoleLike }).console;
  out?.error(`${prefix} ${message}${fields === undefined ? "" : formatFields(fields)}`);
}

/** Formats fields as ` key=value …` on one line; errors show their message, not their stack. */
export function formatFields(fields: LogFields): string {
  let s = "";
  for (const [key, value] of Object.entries(fields)) s += ` ${key}=${formatValue(value)}`;
  return s;
}

function formatValue(v: unknown): string {
  if (v instanceof Error) return JSON.stringify(v.message);
  if (typeof v === "string") return /^[\w.:\[\]/-]+$/.test(v) ? v : JSON.stringify(v);
  if (v instanceof Uint8Array) return `0x${Array.from(v, (b) => b.toString(16).padStart(2, "0")).join("")}`;
  try {
    return JSON.stringify(v) ?? String(v);
  } catch {
    return String(v);
  }
}
