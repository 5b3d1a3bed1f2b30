// Wire settings for tests of the codec and framing layers.
import type { WireOptions } from "../lib/packet.ts";

/**
 * Wire settings with Go's defaults for a node without key or label
 * (compression on, both verifications on), overridden by `overrides`.
 */
export function wireOptions(overrides: Partial<WireOptions> = {}): WireOptions {
  return {
    label: new Uint8Array(),
    skipInboundLabelCheck: false,
    keyring: null,
    encryptionVersion: 1,
    gossipVerifyIncoming: true,
    gossipVerifyOutgoing: true,
    enableCompression: true,
    ...overrides,
  };
}
