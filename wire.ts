// Copyright (c) memberlist-ts authors. SPDX-License-Identifier: MPL-2.0
/**
 * The wire layers of memberlist, for tools, custom transports and tests that
 * work on raw packets: AES-GCM envelopes (Go `security.go`), cluster label
 * headers (Go `label.go`), the version array nodes advertise, and the address
 * allow-list checks. An application does not need these: `Memberlist` applies
 * them itself.
 *
 * @example Usage
 * ```ts
 * import { addLabelHeaderToPacket, decryptPayload, encodeLabel, encryptPayload, removeLabelHeaderFromPacket } from "@gossip/memberlist/wire";
 * import assert from "node:assert/strict";
 *
 * const key = new Uint8Array(16).fill(1);
 * const label = encodeLabel("prod");
 * const sealed = encryptPayload(1, key, new TextEncoder().encode("hello"), label);
 * const packet = addLabelHeaderToPacket(sealed, label);
 *
 * const { label: got, buf: body } = removeLabelHeaderFromPacket(packet);
 * assert.deepEqual(got, label);
 * assert.equal(new TextDecoder().decode(decryptPayload([key], body, got)), "hello");
 * ```
 *
 * @module
 */
export { buildVsnArray, encryptionEnabled, ipAllowed, ipMustBeChecked } from "./lib/config.ts";
export {
  decryptPayload,
  ENCRYPTION_VERSION_MAX,
  encryptedLength,
  encryptOverhead,
  encryptPayload,
  type EncryptionVersion,
} from "./lib/security.ts";
export {
  addLabelHeaderToPacket,
  checkLabel,
  encodeLabel,
  LABEL_MAX_SIZE,
  type LabelledPacket,
  labelOverhead,
  type LabelPolicy,
  removeLabelHeaderFromPacket,
} from "./lib/label.ts";
