// Copyright (c) memberlist-ts authors. SPDX-License-Identifier: MPL-2.0
/**
 * Logging, injected. Memberlist logs what Go memberlist logs, at the same
 * levels (`[DEBUG]`, `[INFO]`, `[WARN]`, `[ERR]`), through the
 * {@linkcode Logger} in its configuration. Bad input from the network is
 * logged and dropped, never thrown.
 *
 * @module
 */

/**
 * Structured context for a log line (node names, addresses, errors).
 *
 * @example Usage
 * ```ts
 * import type { LogFields } from "@gossip/memberlist";
 * import assert from "node:assert/strict";
 *
 * const fields: LogFields = { node: "b", addr: "10.0.0.2:7946", error: new Error("timeout") };
 * assert.equal(Object.keys(fields).length, 3);
 * ```
 */
export type LogFields = Record<string, unknown>;

/**
 * A levelled logger, called as `logger.warn(message, fields)`. `console` and
 * winston take their arguments in that order and fit as they are; pino and
 * bunyan take the fields first (`logger.warn(fields, message)`): wrap them in
 * {@linkcode pinoLogger}.
 *
 * @example Usage
 * ```ts
 * import { defaultLocalConfig, Memberlist } from "@gossip/memberlist";
 * import { MockNetwork } from "@gossip/memberlist/transports/mock";
 * import assert from "node:assert/strict";
 * import type { Logger } from "@gossip/memberlist";
 *
 * const warnings: string[] = [];
 * const logger: Logger = { debug() {}, info() {}, warn: (message) => void warnings.push(message), error() {} };
 * const ml = await Memberlist.create({ ...defaultLocalConfig(), name: "a", transport: new MockNetwork().newTransport("a"), logger });
 * await ml.shutdown();
 * assert.deepEqual(warnings, []);
 * ```
 */
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
 * The object-first logging methods of pino (and bunyan): `logger.warn(fields, message)`.
 *
 * @example Usage
 * ```ts
 * import { type PinoLike, pinoLogger } from "@gossip/memberlist";
 * import assert from "node:assert/strict";
 *
 * const lines: string[] = [];
 * const record = (fields: object, message: string) => void lines.push(`${message} ${JSON.stringify(fields)}`);
 * const target: PinoLike = { debug: record, info: record, warn: record, error: record }; // a pino logger fits
 * pinoLogger(target).info("Joined", { nodes: 2 });
 * assert.deepEqual(lines, ['Joined {"nodes":2}']);
 * ```
 */
export interface PinoLike {
  /** Logs at debug level. */
  debug(fields: object, message: string): void;
  /** Logs at info level. */
  info(fields: object, message: string): void;
  /** Logs at warn level. */
  warn(fields: object, message: string): void;
  /** Logs at error level. */
  error(fields: object, message: string): void;
}

/**
 * Adapts a pino (or bunyan) logger: the fields go first, as those loggers
 * expect, and an `error` field is passed as `err`, which their standard
 * serializer turns into `{ type, message, stack }` (under any other key an
 * `Error` would be written as `{}`). Passed as is, pino would read the fields
 * as format arguments and drop them.
 *
 * @param target A pino logger, or a child of one (`pino().child({ component: "memberlist" })`).
 * @returns A {@linkcode Logger} for `Config.logger`.
 *
 * @example Usage
 * ```ts
 * import { pinoLogger } from "@gossip/memberlist";
 * import assert from "node:assert/strict";
 *
 * // Any object with pino's method shape; with pino: pinoLogger(pino()).
 * const lines: [object, string][] = [];
 * const record = (fields: object, message: string) => lines.push([fields, message]);
 * const logger = pinoLogger({ debug: record, info: record, warn: record, error: record });
 * const cause = new Error("connection refused");
 * logger.warn("Failed to join", { addr: "10.0.0.2:7946", error: cause });
 * assert.deepEqual(lines, [[{ addr: "10.0.0.2:7946", err: cause }, "Failed to join"]]);
 * ```
 */
export function pinoLogger(target: PinoLike): Logger {
  const fieldsFor = (fields?: LogFields): object => {
    if (fields === undefined) return {};
    if (!("error" in fields) || "err" in fields) return fields;
    const { error, ...rest } = fields;
    return { ...rest, err: error };
  };
  return {
    debug: (message, fields) => target.debug(fieldsFor(fields), message),
    info: (message, fields) => target.info(fieldsFor(fields), message),
    warn: (message, fields) => target.warn(fieldsFor(fields), message),
    error: (message, fields) => target.error(fieldsFor(fields), message),
  };
}

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

/**
 * Formats fields as ` key=value …` on one line; errors show their message,
 * not their stack.
 *
 * @param fields The fields.
 * @returns The text, with a leading space before each field.
 */
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
