// Copyright (c) memberlist-ts authors. SPDX-License-Identifier: MPL-2.0
/**
 * One set of network errors for every runtime (the idea of std's
 * `fs/_map_error.ts`). Node, Deno and Bun report the same socket failure in
 * different shapes: Node and Bun set a `code` (`"EADDRINUSE"`), Deno throws
 * `Deno.errors.AddrInUse` with the OS text, and each words its messages its
 * own way. {@linkcode toNetError} turns any of them into a {@linkcode NetError}
 * with one `code`, a message in the project's style, and the original error
 * as `cause`.
 *
 * | class | `code` | when |
 * | --- | --- | --- |
 * | {@linkcode TimeoutError} | `ETIMEDOUT` | a dial ran out of time; a stream's deadline passed |
 * | {@linkcode ConnectionRefusedError} | `ECONNREFUSED` | nobody listens at the address dialed |
 * | {@linkcode ConnectionResetError} | `ECONNRESET` (also for `EPIPE`) | the peer aborted the connection |
 * | {@linkcode ConnectionClosedError} | `ERR_STREAM_CLOSED` | a write on a stream this side closed |
 * | {@linkcode AddressInUseError} | `EADDRINUSE` | the port is taken on that address |
 * | {@linkcode NetError} | anything else (`EMSGSIZE`, `EADDRNOTAVAIL`, `EACCES`, `EHOSTUNREACH`, ...) | |
 * | `TransportClosedError` (from `lib/errors.ts`) | `ERR_TRANSPORT_CLOSED` | `writeTo`/`dialTimeout` after shutdown |
 *
 * The names and codes are those of `transports/mock.ts`, so code written
 * against the mock sees the same errors on real sockets.
 *
 * @module
 */

import { TransportClosedError } from "../lib/errors.ts";

/**
 * A network failure with a runtime-independent `code` (Node's names for the
 * POSIX errors: `EADDRINUSE`, `ECONNREFUSED`, `ETIMEDOUT`, `EMSGSIZE`, ...).
 * The runtime's own error, when there is one, is the `cause`.
 *
 * @example Usage
 * ```ts
 * import { NetError } from "@gossip/memberlist/transports";
 * import assert from "node:assert/strict";
 *
 * const err = new NetError("EMSGSIZE", "Cannot send to \"10.0.0.1:7946\": message is too long");
 * assert.equal(err.code, "EMSGSIZE");
 * assert.ok(err instanceof Error);
 * ```
 */
export class NetError extends Error {
  /** The class name, `"NetError"` (kept when code is minified). */
  static override readonly name: string = "NetError";
  /** The error code, as Node names it (`"ECONNREFUSED"`). */
  readonly code: string;
  /**
   * Creates a network error.
   *
   * @param code The error code.
   * @param message What failed and why.
   * @param options The runtime's error as `cause`.
   */
  constructor(code: string, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "NetError";
    this.code = code;
  }
}

/**
 * A dial did not connect in time, or a stream's deadline passed (`ETIMEDOUT`).
 *
 * @example Usage
 * ```ts
 * import { TimeoutError } from "@gossip/memberlist/transports";
 * import assert from "node:assert/strict";
 *
 * assert.equal(new TimeoutError("Cannot dial \"10.0.0.1:7946\": timed out after 10 ms").code, "ETIMEDOUT");
 * ```
 */
export class TimeoutError extends NetError {
  /** The class name, `"TimeoutError"` (kept when code is minified). */
  static override readonly name: string = "TimeoutError";
  /**
   * Creates the error.
   *
   * @param message What timed out.
   * @param options The runtime's error, if any, as `cause`.
   */
  constructor(message: string, options?: ErrorOptions) {
    super("ETIMEDOUT", message, options);
    this.name = "TimeoutError";
  }
}

/**
 * Nobody accepted the connection at the address dialed (`ECONNREFUSED`).
 *
 * @example Usage
 * ```ts
 * import { ConnectionRefusedError } from "@gossip/memberlist/transports";
 * import assert from "node:assert/strict";
 *
 * assert.equal(new ConnectionRefusedError("Cannot dial \"127.0.0.1:1\": connection refused").code, "ECONNREFUSED");
 * ```
 */
export class ConnectionRefusedError extends NetError {
  /** The class name, `"ConnectionRefusedError"` (kept when code is minified). */
  static override readonly name: string = "ConnectionRefusedError";
  /**
   * Creates the error.
   *
   * @param message What was refused.
   * @param options The runtime's error as `cause`.
   */
  constructor(message: string, options?: ErrorOptions) {
    super("ECONNREFUSED", message, options);
    this.name = "ConnectionRefusedError";
  }
}

/**
 * The peer aborted the connection (`ECONNRESET`; a broken pipe, `EPIPE`, is
 * reported the same way).
 *
 * @example Usage
 * ```ts
 * import { ConnectionResetError } from "@gossip/memberlist/transports";
 * import assert from "node:assert/strict";
 *
 * assert.equal(new ConnectionResetError("Cannot read from \"10.0.0.1:7946\": connection reset").code, "ECONNRESET");
 * ```
 */
export class ConnectionResetError extends NetError {
  /** The class name, `"ConnectionResetError"` (kept when code is minified). */
  static override readonly name: string = "ConnectionResetError";
  /**
   * Creates the error.
   *
   * @param message What failed.
   * @param options The runtime's error as `cause`.
   */
  constructor(message: string, options?: ErrorOptions) {
    super("ECONNRESET", message, options);
    this.name = "ConnectionResetError";
  }
}

/**
 * A write on a stream that this side already closed (`ERR_STREAM_CLOSED`).
 *
 * @example Usage
 * ```ts
 * import { ConnectionClosedError } from "@gossip/memberlist/transports";
 * import assert from "node:assert/strict";
 *
 * assert.equal(new ConnectionClosedError("Cannot write to \"10.0.0.1:7946\": stream is closed").code, "ERR_STREAM_CLOSED");
 * ```
 */
export class ConnectionClosedError extends NetError {
  /** The class name, `"ConnectionClosedError"` (kept when code is minified). */
  static override readonly name: string = "ConnectionClosedError";
  /**
   * Creates the error.
   *
   * @param message What failed.
   * @param options The runtime's error, if any, as `cause`.
   */
  constructor(message: string, options?: ErrorOptions) {
    super("ERR_STREAM_CLOSED", message, options);
    this.name = "ConnectionClosedError";
  }
}

/**
 * The port is already taken on the address (`EADDRINUSE`).
 *
 * @example Usage
 * ```ts
 * import { AddressInUseError } from "@gossip/memberlist/transports";
 * import assert from "node:assert/strict";
 *
 * assert.equal(new AddressInUseError("Cannot listen on TCP \"127.0.0.1\" port 7946: address in use").code, "EADDRINUSE");
 * ```
 */
export class AddressInUseError extends NetError {
  /** The class name, `"AddressInUseError"` (kept when code is minified). */
  static override readonly name: string = "AddressInUseError";
  /**
   * Creates the error.
   *
   * @param message What could not be bound.
   * @param options The runtime's error as `cause`.
   */
  constructor(message: string, options?: ErrorOptions) {
    super("EADDRINUSE", message, options);
    this.name = "AddressInUseError";
  }
}

/** A `TransportClosedError` carrying the code the mock transport gives it. */
export type TransportClosedNetError = TransportClosedError & { readonly code: "ERR_TRANSPORT_CLOSED" };

/**
 * The error for `writeTo` and `dialTimeout` on a shut-down transport: a
 * `TransportClosedError` with `code` `"ERR_TRANSPORT_CLOSED"`.
 *
 * @param action What was attempted, such as `send to "10.0.0.1:7946"`.
 * @returns The error.
 */
export function transportClosed(action: string): TransportClosedNetError {
  const err = new TransportClosedError(`Cannot ${action}: transport is shut down`);
  Object.defineProperty(err, "code", { value: "ERR_TRANSPORT_CLOSED", enumerable: true });
  return err as TransportClosedNetError;
}

// Deno's error class names (Deno.errors.*) and the code each one stands for.
const DENO_NAMES: Record<string, string> = {
  AddrInUse: "EADDRINUSE",
  AddrNotAvailable: "EADDRNOTAVAIL",
  ConnectionRefused: "ECONNREFUSED",
  ConnectionReset: "ECONNRESET",
  ConnectionAborted: "ECONNABORTED",
  BrokenPipe: "EPIPE",
  NotConnected: "ENOTCONN",
  TimedOut: "ETIMEDOUT",
  TimeoutError: "ETIMEDOUT",
  PermissionDenied: "EACCES",
  NotCapable: "EACCES",
  Interrupted: "ERR_STREAM_CLOSED",
  BadResource: "ERR_STREAM_CLOSED",
  NetworkUnreachable: "ENETUNREACH",
  HostUnreachable: "EHOSTUNREACH",
  InvalidData: "EINVAL",
};

// OS error numbers (Linux) and messages runtimes put in the text when no code is given.
const OS_TEXT: readonly [RegExp, string][] = [
  [/address (already )?in use|os error 98\b/i, "EADDRINUSE"],
  [/connection refused|os error 111\b/i, "ECONNREFUSED"],
  [/connection reset|os error 104\b/i, "ECONNRESET"],
  [/broken pipe|os error 32\b/i, "EPIPE"],
  [/timed? ?out|os error 110\b/i, "ETIMEDOUT"],
  [/message too long|os error 90\b/i, "EMSGSIZE"],
  [/cannot assign requested address|os error 99\b/i, "EADDRNOTAVAIL"],
  [/address family not supported|os error 97\b/i, "EAFNOSUPPORT"],
  [/network is unreachable|os error 101\b/i, "ENETUNREACH"],
  [/no route to host|os error 113\b/i, "EHOSTUNREACH"],
  [/permission denied|os error 13\b/i, "EACCES"],
];

// How each code reads at the end of a message.
const CODE_TEXT: Record<string, string> = {
  EADDRINUSE: "address in use",
  EADDRNOTAVAIL: "address not available",
  EAFNOSUPPORT: "address family not supported",
  ECONNREFUSED: "connection refused",
  ECONNRESET: "connection reset",
  ECONNABORTED: "connection aborted",
  EPIPE: "connection reset",
  ETIMEDOUT: "timed out",
  EMSGSIZE: "message is too long",
  ENETUNREACH: "network is unreachable",
  EHOSTUNREACH: "host is unreachable",
  EACCES: "permission denied",
  ENOTCONN: "not connected",
  EINVAL: "invalid argument",
  ERR_STREAM_CLOSED: "stream is closed",
  ERR_STREAM_DESTROYED: "stream is closed",
};

/**
 * Finds the error code a runtime gave an error: Node's and Bun's `code`, then
 * Deno's error class name, then the OS text in the message.
 *
 * @param err What a runtime threw or reported.
 * @returns The code (`"ECONNREFUSED"`), or "" when none can be told.
 */
export function errorCode(err: unknown): string {
  if (typeof err !== "object" || err === null) return "";
  const e = err as { code?: unknown; name?: unknown; message?: unknown };
  if (typeof e.code === "string" && e.code !== "") {
    return e.code === "ERR_STREAM_DESTROYED" ? "ERR_STREAM_CLOSED" : e.code;
  }
  if (typeof e.name === "string" && Object.hasOwn(DENO_NAMES, e.name)) return DENO_NAMES[e.name]!;
  const text = typeof e.message === "string" ? e.message : "";
  for (const [pattern, code] of OS_TEXT) if (pattern.test(text)) return code;
  return "";
}

/**
 * Turns a runtime's socket error into a {@linkcode NetError} (or one of its
 * subclasses) with one `code` on every runtime. Errors that already are
 * `NetError`s, and `TransportClosedError`s, are returned as they are.
 *
 * @param err What the runtime threw or reported.
 * @param action What was attempted, for the message: `dial "10.0.0.1:7946"`.
 * @returns The normalised error, with `err` as its `cause`.
 *
 * @example Usage
 * ```ts ignore
 * const err = toNetError(Object.assign(new Error("connect ECONNREFUSED"), { code: "ECONNREFUSED" }), 'dial "127.0.0.1:1"');
 * // err is a ConnectionRefusedError: Cannot dial "127.0.0.1:1": connection refused
 * ```
 */
export function toNetError(err: unknown, action: string): Error {
  if (err instanceof NetError || err instanceof TransportClosedError) return err;
  const code = errorCode(err) || "EUNKNOWN";
  const reason = CODE_TEXT[code] ?? (err instanceof Error ? err.message : String(err));
  const message = `Cannot ${action}: ${reason}`;
  const options = { cause: err };
  switch (code) {
    case "ETIMEDOUT":
      return new TimeoutError(message, options);
    case "ECONNREFUSED":
      return new ConnectionRefusedError(message, options);
    case "ECONNRESET":
    case "EPIPE":
      return new ConnectionResetError(message, options);
    case "ERR_STREAM_CLOSED":
      return new ConnectionClosedError(message, options);
    case "EADDRINUSE":
      return new AddressInUseError(message, options);
    default:
      return new NetError(code, message, options);
  }
}
