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
  addLabelHeaderToPacket,
  checkLabel,
  encodeLabel,
  LABEL_MAX_SIZE,
  type LabelledPacket,
  labelOverhead,
  type LabelPolicy,
  removeLabelHeaderFromPacket,
} from "./lib/label.ts";
export {
  type Broadcast,
  type NamedBroadcast,
  type QueuedBroadcast,
  TransmitLimitedQueue,
  type TransmitLimitedQueueOptions,
  type UniqueBroadcast,
} from "./lib/queue.ts";
export {
  buildVsnArray,
  type Config,
  defaultLANConfig,
  defaultLocalConfig,
  defaultWANConfig,
  encryptionEnabled,
  ipAllowed,
  ipMustBeChecked,
  type IPNet,
  META_MAX_SIZE,
  PROTOCOL_VERSION_2_COMPATIBLE,
  PROTOCOL_VERSION_MAX,
  PROTOCOL_VERSION_MIN,
  type ResolvedConfig,
  validateConfig,
} from "./lib/config.ts";
export type {
  AliveDelegate,
  ConflictDelegate,
  Delegate,
  EventDelegate,
  MergeDelegate,
  PingDelegate,
} from "./lib/delegate.ts";
