// Copyright (c) memberlist-ts authors. SPDX-License-Identifier: MPL-2.0
/**
 * Error classes for the conditions callers are meant to catch.
 *
 * Bad arguments and bad configuration throw the built-in `TypeError` or
 * `RangeError` instead; these classes are for what arrives from the network or
 * from peers. Everything the receive path throws is one of them, so a caller
 * (or the library's own receive loop) can log it and drop the input.
 *
 * @module
 */

/**
 * Thrown when bytes from the network cannot be decoded: malformed msgpack, a
 * truncated or inconsistent frame, a length or count over its bound, an
 * unknown compression algorithm.
 *
 * The receive path catches it, logs the message and drops the packet or stream.
 *
 * @example Usage
 * ```ts
 * import { DecodeError } from "@gossip/memberlist";
 * import { removeLabelHeaderFromPacket } from "@gossip/memberlist/wire";
 * import assert from "node:assert/strict";
 *
 * // A label header announcing 5 bytes of label, with only 1 present.
 * assert.throws(() => removeLabelHeaderFromPacket(new Uint8Array([0xf4, 5, 0x61])), DecodeError);
 * ```
 */
export class DecodeError extends Error {
  /** The class name, `"DecodeError"` (kept when code is minified). */
  static override readonly name: string = "DecodeError";
  /**
   * Why the input was refused, as a short code: the `reason` label of the
   * `memberlist.udp.dropped` and `memberlist.tcp.dropped` counters
   * (`"malformed"`, `"crc"`, `"compress"`, `"too_large"`, …; SECURITY.md lists them).
   */
  readonly reason: string;
  /**
   * Creates a decode error.
   *
   * @param message What could not be decoded and why.
   * @param options The underlying error, if any, as `cause`, and the drop
   * reason (default `"malformed"`).
   */
  constructor(message: string, options?: ErrorOptions & { reason?: string }) {
    super(message, options);
    this.name = "DecodeError";
    this.reason = options?.reason ?? "malformed";
  }
}

/**
 * Thrown when an encrypted packet or stream message cannot be opened with any
 * installed key, or its envelope is malformed (unknown version, too short).
 *
 * @example Usage
 * ```ts
 * import { DecryptError, Keyring } from "@gossip/memberlist";
 * import assert from "node:assert/strict";
 *
 * const keyring = Keyring.create([new Uint8Array(16)]);
 * assert.throws(() => keyring.decrypt(new Uint8Array(40), new Uint8Array()), DecryptError);
 * ```
 */
export class DecryptError extends Error {
  /** The class name, `"DecryptError"` (kept when code is minified). */
  static override readonly name: string = "DecryptError";
  /**
   * Creates a decryption error.
   *
   * @param message Why decryption failed.
   * @param options The underlying error, if any, as `cause`.
   */
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "DecryptError";
  }
}

/**
 * Thrown when a packet or stream carries a cluster label other than the
 * configured one (see `Config.label`), or a label header where none may be.
 *
 * @example Usage
 * ```ts
 * import { LabelMismatchError } from "@gossip/memberlist";
 * import { checkLabel, encodeLabel } from "@gossip/memberlist/wire";
 * import assert from "node:assert/strict";
 *
 * const policy = { label: encodeLabel("b"), skipInboundLabelCheck: false };
 * assert.throws(() => checkLabel(encodeLabel("a"), policy), LabelMismatchError);
 * ```
 */
export class LabelMismatchError extends Error {
  /** The class name, `"LabelMismatchError"` (kept when code is minified). */
  static override readonly name: string = "LabelMismatchError";
  /** The label the input carried ("" when it carried none). */
  readonly received: string;
  /** The label this node expects ("" when none is configured). */
  readonly expected: string;
  /**
   * Creates a label mismatch error.
   *
   * @param received The label found on the input.
   * @param expected The label this node expects.
   * @param message Overrides the default message.
   */
  constructor(received: string, expected: string, message?: string) {
    super(message ?? `Cannot accept input: label "${received}" does not match "${expected}"`);
    this.name = "LabelMismatchError";
    this.received = received;
    this.expected = expected;
  }
}

/**
 * Thrown by `Memberlist.join()` when no address could be joined (Go's `Join`
 * returning an error with zero successes). `errors` holds one error per
 * address tried.
 *
 * @example Usage
 * ```ts
 * import { JoinError } from "@gossip/memberlist";
 * import assert from "node:assert/strict";
 *
 * const err = new JoinError([new Error("connection refused")]);
 * assert.equal(err.errors.length, 1);
 * assert.match(err.message, /Cannot join/);
 * ```
 */
export class JoinError extends AggregateError {
  /** The class name, `"JoinError"` (kept when code is minified). */
  static override readonly name: string = "JoinError";
  /**
   * Creates a join error.
   *
   * @param errors The error of each address tried.
   * @param message Overrides the default message.
   */
  constructor(errors: readonly unknown[], message?: string) {
    super(errors, message ?? `Cannot join the cluster: ${errors.length} addresses tried, none answered`);
    this.name = "JoinError";
  }
}

/**
 * Thrown by `Memberlist.ping()` when the node did not answer in time (Go
 * `NoPingResponseError`).
 *
 * @example Usage
 * ```ts
 * import { NoPingResponseError } from "@gossip/memberlist";
 * import assert from "node:assert/strict";
 *
 * assert.equal(new NoPingResponseError("b").node, "b");
 * ```
 */
export class NoPingResponseError extends Error {
  /** The class name, `"NoPingResponseError"` (kept when code is minified). */
  static override readonly name: string = "NoPingResponseError";
  /** The node that did not answer. */
  readonly node: string;
  /**
   * Creates the error.
   *
   * @param node The node pinged.
   */
  constructor(node: string) {
    super(`No response from node "${node}"`);
    this.name = "NoPingResponseError";
    this.node = node;
  }
}

/**
 * Thrown by operations on a memberlist that has been shut down.
 *
 * @example Usage
 * ```ts
 * import { TransportClosedError } from "@gossip/memberlist";
 * import assert from "node:assert/strict";
 *
 * assert.equal(new TransportClosedError().name, "TransportClosedError");
 * ```
 */
export class TransportClosedError extends Error {
  /** The class name, `"TransportClosedError"` (kept when code is minified). */
  static override readonly name: string = "TransportClosedError";
  /**
   * Creates the error.
   *
   * @param message Overrides the default message.
   */
  constructor(message?: string) {
    super(message ?? "Cannot use memberlist: it has been shut down");
    this.name = "TransportClosedError";
  }
}
