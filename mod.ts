// Copyright (c) memberlist-ts authors. SPDX-License-Identifier: MPL-2.0
/**
 * Cluster membership and failure detection over gossip.
 *
 * @module
 */
export { DecodeError, DecryptError, LabelMismatchError } from "./lib/errors.ts";
export { Keyring, validateKey } from "./lib/keyring.ts";
export {
  decryptPayload,
  ENCRYPTION_VERSION_MAX,
  encryptedLength,
  encryptOverhead,
  encryptPayload,
  type EncryptionVersion,
} from "./lib/security.ts";
export {
  type Broadcast,
  type NamedBroadcast,
  type QueuedBroadcast,
  TransmitLimitedQueue,
  type TransmitLimitedQueueOptions,
  type UniqueBroadcast,
} from "./lib/queue.ts";
