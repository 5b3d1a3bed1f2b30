// Copyright (c) memberlist-ts authors. SPDX-License-Identifier: MPL-2.0
/**
 * Cluster labels (Go `label.go`, memberlist ≥ 0.3.0; spec §2.2 and §3.2).
 *
 * A label keeps clusters that share a network apart (Kubernetes pods reusing
 * another cluster's IPs, say). When one is configured, every packet and every
 * dialled stream starts with a label header:
 *
 * | Offset | Size | Value                      |
 * |-------:|-----:|----------------------------|
 * | 0      | 1    | `0xf4` (`hasLabelMsg`)     |
 * | 1      | 1    | label length L, 1..255     |
 * | 2      | L    | label bytes (UTF-8)        |
 *
 * and the label is the additional authenticated data of encryption, so a
 * labelled encrypted packet cannot be replayed into another cluster with the
 * same key. A label is not a secret: without encryption it only guards against
 * mistakes, not attackers.
 *
 * Memberlist 0.2.x knows no labels and drops labelled input: clusters that
 * contain such nodes must not set one.
 *
 * @module
 */

import { alloc } from "./_bytes.ts";
import { DecodeError, LabelMismatchError } from "./errors.ts";
import { MessageType } from "./codec.ts";

/**
 * The longest label, in UTF-8 bytes (Go `LabelMaxSize`).
 *
 * @example Usage
 * ```ts
 * import { LABEL_MAX_SIZE } from "@gossip/memberlist/wire";
 * import assert from "node:assert/strict";
 *
 * assert.equal(LABEL_MAX_SIZE, 255);
 * ```
 */
export const LABEL_MAX_SIZE: number = 255;

const encoder = new TextEncoder();
const decoder = new TextDecoder();
const EMPTY: Uint8Array = new Uint8Array(0);

/**
 * Encodes a configured label to its wire bytes, checking its length.
 *
 * @param label The label ("" for none).
 * @returns Its UTF-8 bytes (empty for none).
 * @throws {TypeError} When `label` is not a string.
 * @throws {RangeError} When it is longer than {@linkcode LABEL_MAX_SIZE} bytes.
 *
 * @example Usage
 * ```ts
 * import { encodeLabel } from "@gossip/memberlist/wire";
 * import assert from "node:assert/strict";
 *
 * assert.deepEqual(encodeLabel("lbl"), new Uint8Array([0x6c, 0x62, 0x6c]));
 * assert.throws(() => encodeLabel("x".repeat(256)), RangeError);
 * ```
 */
export function encodeLabel(label: string): Uint8Array {
  if (typeof label !== "string") throw new TypeError(`Cannot use label: expected a string, got ${typeof label}`);
  const bytes = encoder.encode(label);
  if (bytes.length > LABEL_MAX_SIZE) {
    throw new RangeError(`Cannot use label: "label" must be at most ${LABEL_MAX_SIZE} bytes, got ${bytes.length}`);
  }
  return bytes;
}

/**
 * Bytes a label header adds to a packet: 0 without a label, else 2 + its length
 * (Go `labelOverhead`).
 *
 * @param label The label's bytes.
 * @returns The overhead in bytes.
 *
 * @example Usage
 * ```ts
 * import { encodeLabel, labelOverhead } from "@gossip/memberlist/wire";
 * import assert from "node:assert/strict";
 *
 * assert.equal(labelOverhead(encodeLabel("")), 0);
 * assert.equal(labelOverhead(encodeLabel("prod")), 6);
 * ```
 */
export function labelOverhead(label: Uint8Array): number {
  return label.length === 0 ? 0 : 2 + label.length;
}

/**
 * Prepends a label header to a packet (or writes the header a dialer sends first
 * on a stream, when `buf` is empty). Without a label, returns `buf` unchanged.
 *
 * @param buf The packet.
 * @param label The label's bytes, at most 255.
 * @returns The labelled packet.
 * @throws {RangeError} When the label is longer than 255 bytes.
 *
 * @example Usage
 * ```ts
 * import { addLabelHeaderToPacket, encodeLabel } from "@gossip/memberlist/wire";
 * import assert from "node:assert/strict";
 *
 * const out = addLabelHeaderToPacket(new Uint8Array([0]), encodeLabel("lbl"));
 * assert.deepEqual(out, new Uint8Array([0xf4, 3, 0x6c, 0x62, 0x6c, 0]));
 * ```
 */
export function addLabelHeaderToPacket(buf: Uint8Array, label: Uint8Array): Uint8Array {
  if (label.length === 0) return buf;
  if (label.length > LABEL_MAX_SIZE) {
    throw new RangeError(`Cannot add label header: label must be at most ${LABEL_MAX_SIZE} bytes, got ${label.length}`);
  }
  const out = alloc(2 + label.length + buf.length);
  out[0] = MessageType.HasLabel;
  out[1] = label.length;
  out.set(label, 2);
  out.set(buf, 2 + label.length);
  return out;
}

/** A packet with its label header taken off. */
export interface LabelledPacket {
  /** The rest of the packet (a view into the input). */
  buf: Uint8Array;
  /** The label's bytes; empty when the packet had no header. */
  label: Uint8Array;
}

/**
 * Takes the label header off a packet, if it has one. Does not judge the label:
 * see {@linkcode checkLabel}.
 *
 * @param buf The packet as received.
 * @returns The rest of the packet and the label (empty when none).
 * @throws {DecodeError} When the header is truncated or announces an empty label.
 *
 * @example Usage
 * ```ts
 * import { removeLabelHeaderFromPacket } from "@gossip/memberlist/wire";
 * import assert from "node:assert/strict";
 *
 * const { buf, label } = removeLabelHeaderFromPacket(new Uint8Array([0xf4, 1, 0x61, 9]));
 * assert.deepEqual(label, new Uint8Array([0x61]));
 * assert.deepEqual(buf, new Uint8Array([9]));
 * ```
 */
export function removeLabelHeaderFromPacket(buf: Uint8Array): LabelledPacket {
  if (buf.length === 0 || buf[0] !== MessageType.HasLabel) return { buf, label: EMPTY };
  if (buf.length < 2) throw new DecodeError("Cannot read label header: packet is too short", { reason: "label" });
  const size = buf[1]!;
  if (size === 0) throw new DecodeError("Cannot read label header: label is empty", { reason: "label" });
  if (buf.length < 2 + size) throw new DecodeError(`Cannot read label header: label of ${size} bytes is truncated`, { reason: "label" });
  return { buf: buf.subarray(2 + size), label: buf.subarray(2, 2 + size) };
}

/** How a node judges the labels of its input. */
export interface LabelPolicy {
  /** The configured label's bytes (empty for none). */
  label: Uint8Array;
  /**
   * Accept unlabelled input as if it carried the configured label, and reject
   * labelled input (Go `SkipInboundLabelCheck`), for a transport that checks
   * and strips label headers itself.
   */
  skipInboundLabelCheck: boolean;
}

/**
 * Decides whether input that carried `received` (empty for no header) may be
 * processed, and returns the label to use as additional authenticated data.
 *
 * @param received The label found on the input.
 * @param policy The node's label settings.
 * @returns The label to authenticate with.
 * @throws {LabelMismatchError} When the label is not the configured one, or a
 * header arrived while `skipInboundLabelCheck` is set.
 *
 * @example Usage
 * ```ts
 * import { LabelMismatchError } from "@gossip/memberlist";
 * import { checkLabel, encodeLabel } from "@gossip/memberlist/wire";
 * import assert from "node:assert/strict";
 *
 * const policy = { label: encodeLabel("prod"), skipInboundLabelCheck: false };
 * assert.deepEqual(checkLabel(encodeLabel("prod"), policy), encodeLabel("prod"));
 * assert.throws(() => checkLabel(encodeLabel("dev"), policy), LabelMismatchError);
 * assert.throws(() => checkLabel(new Uint8Array(), policy), LabelMismatchError);
 * ```
 */
export function checkLabel(received: Uint8Array, policy: LabelPolicy): Uint8Array {
  if (policy.skipInboundLabelCheck) {
    if (received.length !== 0) {
      throw new LabelMismatchError(
        decoder.decode(received),
        decoder.decode(policy.label),
        `Cannot accept input: unexpected label "${decoder.decode(received)}" while inbound label checks are skipped`,
      );
    }
    return policy.label;
  }
  const want = policy.label;
  let same = received.length === want.length;
  for (let i = 0; same && i < want.length; i++) same = received[i] === want[i];
  if (!same) throw new LabelMismatchError(decoder.decode(received), decoder.decode(want));
  return want;
}
