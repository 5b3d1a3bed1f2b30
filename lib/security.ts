// Copyright (c) memberlist-ts authors. SPDX-License-Identifier: MPL-2.0
/**
 * The encryption envelope of memberlist (Go `security.go`, spec §2.3 and §3.3):
 * AES-GCM with a 12-byte random nonce and a 16-byte tag, keyed with 16, 24 or
 * 32 bytes (AES-128, AES-192 or AES-256).
 *
 * An envelope is laid out as
 *
 * | Offset | Size | Content                                    |
 * |-------:|-----:|--------------------------------------------|
 * | 0      | 1    | encryption version, 0 or 1                 |
 * | 1      | 12   | nonce                                      |
 * | 13     | rest | GCM ciphertext followed by the 16-byte tag |
 *
 * Version 1 seals the plaintext as it is, so the overhead is 1 + 12 + 16 = 29
 * bytes. Version 0, which Go only sends when its protocol version is 1, first
 * pads the plaintext PKCS#7-style to a multiple of 16 (1 to 16 bytes, each
 * holding the pad count), so the overhead is at most 1 + 12 + 16 + 16 = 45
 * bytes. Receivers accept both versions whatever their own protocol version.
 *
 * The additional data is the label for packets, and the 5-byte stream header
 * (followed by the label, if any) for streams; the caller supplies it.
 *
 * Two AES-GCM implementations back these functions: the runtime's own
 * `node:crypto` (Node, Deno and Bun all provide it; several times faster) and
 * `@noble/ciphers` (pure TypeScript) where `node:crypto` is missing or lacks a
 * key size. Both produce the same bytes; the choice is made on first use.
 *
 * @module
 */

import { gcm } from "@noble/ciphers/aes.js";
import { DecryptError } from "./errors.ts";
import { getBuiltinModule } from "./_runtime.ts";

/**
 * An encryption version byte: `1` (no padding; used from protocol version 2)
 * or `0` (PKCS#7 padding; used only at protocol version 1).
 *
 * @example Usage
 * ```ts
 * import { encryptOverhead, type EncryptionVersion } from "@gossip/memberlist/wire";
 * import assert from "node:assert/strict";
 *
 * const vsn: EncryptionVersion = 1;
 * assert.equal(encryptOverhead(vsn), 29);
 * ```
 */
export type EncryptionVersion = 0 | 1;

/**
 * The highest encryption version this implementation reads and writes (Go
 * `maxEncryptionVersion`). Envelopes with a higher version byte are rejected.
 *
 * @example Usage
 * ```ts
 * import { ENCRYPTION_VERSION_MAX, encryptedLength } from "@gossip/memberlist/wire";
 * import assert from "node:assert/strict";
 *
 * assert.equal(encryptedLength(ENCRYPTION_VERSION_MAX, 100), 129);
 * ```
 */
export const ENCRYPTION_VERSION_MAX = 1;

const NONCE_SIZE = 12;
const TAG_SIZE = 16;
const BLOCK_SIZE = 16;
/** Version byte plus nonce: where the GCM output starts. */
const HEADER_SIZE = 1 + NONCE_SIZE;

/**
 * One AES-GCM implementation, as used by {@linkcode encryptPayload} and
 * {@linkcode decryptPayload}. Internal: exported for tests and benchmarks only,
 * and not re-exported from the package entry point.
 *
 * @internal
 * @example Usage
 * ```ts
 * import { type Aead, gcmBackends } from "./security.ts";
 * import assert from "node:assert/strict";
 *
 * const aead: Aead = gcmBackends.noble;
 * const key = new Uint8Array(16);
 * const nonce = new Uint8Array(12);
 * const out = new Uint8Array(3 + 16);
 * aead.seal(key, nonce, new Uint8Array([1, 2, 3]), new Uint8Array(), out, 0);
 * assert.deepEqual(aead.open(key, nonce, out, new Uint8Array()), new Uint8Array([1, 2, 3]));
 * assert.equal(aead.open(new Uint8Array(16).fill(1), nonce, out, new Uint8Array()), undefined);
 * ```
 */
export interface Aead {
  /** What implements it: "@noble/ciphers" or "node:crypto". */
  readonly name: string;
  /**
   * The key lengths this implementation handles itself. Any other valid
   * length (16, 24 or 32) is passed on to `@noble/ciphers`.
   */
  readonly keySizes: readonly number[];
  /**
   * Seals `plaintext` and writes the ciphertext followed by the 16-byte tag
   * into `out` at `offset` (`plaintext.length + 16` bytes).
   *
   * @param key A 16, 24 or 32-byte AES key.
   * @param nonce A 12-byte nonce.
   * @param plaintext The bytes to seal.
   * @param aad Additional authenticated data (may be empty).
   * @param out Where to write; must not overlap `plaintext` or `nonce`.
   * @param offset Where in `out` to start.
   */
  seal(
    key: Uint8Array,
    nonce: Uint8Array,
    plaintext: Uint8Array,
    aad: Uint8Array,
    out: Uint8Array,
    offset: number,
  ): void;
  /**
   * Opens a ciphertext followed by its 16-byte tag. Never throws for a wrong
   * key or tampered input: it returns `undefined`.
   *
   * @param key A 16, 24 or 32-byte AES key.
   * @param nonce A 12-byte nonce.
   * @param sealed Ciphertext followed by the tag (at least 16 bytes).
   * @param aad Additional authenticated data (may be empty).
   * @returns A new array with the plaintext, or `undefined` when the tag does not verify.
   */
  open(key: Uint8Array, nonce: Uint8Array, sealed: Uint8Array, aad: Uint8Array): Uint8Array | undefined;
}

const NOBLE: Aead = {
  name: "@noble/ciphers",
  keySizes: [16, 24, 32],
  seal(key, nonce, plaintext, aad, out, offset) {
    out.set(gcm(key, nonce, aad).encrypt(plaintext), offset);
  },
  open(key, nonce, sealed, aad) {
    try {
      return gcm(key, nonce, aad).decrypt(sealed);
    } catch {
      return undefined;
    }
  },
};

/** The parts of a `node:crypto` cipher and decipher used here. */
interface NodeCipher {
  setAAD(aad: Uint8Array): unknown;
  update(data: Uint8Array): Uint8Array;
  final(): Uint8Array;
  getAuthTag(): Uint8Array;
}
interface NodeDecipher {
  setAAD(aad: Uint8Array): unknown;
  setAuthTag(tag: Uint8Array): unknown;
  update(data: Uint8Array): Uint8Array;
  final(): Uint8Array;
}
interface NodeCrypto {
  createCipheriv(algorithm: string, key: Uint8Array, iv: Uint8Array): NodeCipher;
  createDecipheriv(algorithm: string, key: Uint8Array, iv: Uint8Array): NodeDecipher;
}

/**
 * Returns a plain `Uint8Array` with the bytes of `b` (a `Buffer` from
 * `node:crypto`). When `b` alone spans its backing store, it is re-viewed
 * without a copy; otherwise (a pooled buffer) it is copied, so the caller
 * never sees unrelated bytes through `.buffer`.
 */
function plain(b: Uint8Array): Uint8Array {
  return b.byteOffset === 0 && b.buffer.byteLength === b.length
    ? new Uint8Array(b.buffer, 0, b.length)
    : new Uint8Array(b);
}

function makeNativeBackend(crypto: NodeCrypto, algorithms: ReadonlyMap<number, string>): Aead {
  return {
    name: "node:crypto",
    keySizes: [...algorithms.keys()],
    seal(key, nonce, plaintext, aad, out, offset) {
      const algorithm = algorithms.get(key.length);
      if (algorithm === undefined) return NOBLE.seal(key, nonce, plaintext, aad, out, offset);
      const cipher = crypto.createCipheriv(algorithm, key, nonce);
      if (aad.length !== 0) cipher.setAAD(aad);
      const head = cipher.update(plaintext);
      const tail = cipher.final();
      if (head.length + tail.length !== plaintext.length) {
        throw new Error(`Cannot seal payload: node:crypto returned ${head.length + tail.length} bytes`);
      }
      out.set(head, offset);
      if (tail.length !== 0) out.set(tail, offset + head.length);
      out.set(cipher.getAuthTag(), offset + plaintext.length);
    },
    open(key, nonce, sealed, aad) {
      const algorithm = algorithms.get(key.length);
      if (algorithm === undefined) return NOBLE.open(key, nonce, sealed, aad);
      const n = sealed.length - TAG_SIZE;
      try {
        const decipher = crypto.createDecipheriv(algorithm, key, nonce);
        if (aad.length !== 0) decipher.setAAD(aad);
        decipher.setAuthTag(sealed.subarray(n));
        const head = decipher.update(sealed.subarray(0, n));
        const tail = decipher.final(); // Throws when the tag does not verify.
        if (tail.length === 0 && head.length === n) return plain(head);
        if (head.length + tail.length !== n) return undefined;
        const out = new Uint8Array(n);
        out.set(head);
        out.set(tail, head.length);
        return out;
      } catch {
        return undefined;
      }
    },
  };
}

/** A fixed message for the known-answer check of the native backend. */
const CHECK_NONCE = new Uint8Array(NONCE_SIZE).map((_, i) => 0x10 + i);
const CHECK_AAD = new Uint8Array([0x6c, 0x62, 0x6c]);
const CHECK_PLAINTEXT = new Uint8Array(37).map((_, i) => i * 7);

function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a[i]! ^ b[i]!;
  return diff === 0;
}

/**
 * Loads `node:crypto` and keeps the AES-GCM key sizes for which it gives the
 * same bytes as `@noble/ciphers` on a known message and opens them again
 * (Deno 2.9, for one, has no aes-192-gcm). `undefined` when none passes.
 */
function loadNativeBackend(): Aead | undefined {
  const crypto = getBuiltinModule<Partial<NodeCrypto>>("node:crypto");
  if (typeof crypto?.createCipheriv !== "function" || typeof crypto.createDecipheriv !== "function") {
    return undefined;
  }
  const nodeCrypto = crypto as NodeCrypto;
  const algorithms = new Map<number, string>();
  for (const size of [16, 24, 32]) {
    const candidate = makeNativeBackend(nodeCrypto, new Map([[size, `aes-${size * 8}-gcm`]]));
    try {
      const key = new Uint8Array(size).map((_, i) => 0xa0 ^ i);
      const expected = new Uint8Array(CHECK_PLAINTEXT.length + TAG_SIZE);
      const actual = new Uint8Array(expected.length);
      NOBLE.seal(key, CHECK_NONCE, CHECK_PLAINTEXT, CHECK_AAD, expected, 0);
      candidate.seal(key, CHECK_NONCE, CHECK_PLAINTEXT, CHECK_AAD, actual, 0);
      const opened = candidate.open(key, CHECK_NONCE, actual, CHECK_AAD);
      actual[0]! ^= 1;
      const forged = candidate.open(key, CHECK_NONCE, actual, CHECK_AAD);
      actual[0]! ^= 1;
      if (
        equalBytes(expected, actual) && opened !== undefined && equalBytes(opened, CHECK_PLAINTEXT) &&
        forged === undefined
      ) {
        algorithms.set(size, `aes-${size * 8}-gcm`);
      }
    } catch {
      // This key size is not available natively.
    }
  }
  return algorithms.size === 0 ? undefined : makeNativeBackend(nodeCrypto, algorithms);
}

/** `null` until the native backend has been looked for. */
let native: Aead | undefined | null = null;
/** The backend in use; chosen on first use. */
let active: Aead | undefined;

function nativeBackend(): Aead | undefined {
  if (native === null) native = loadNativeBackend();
  return native;
}

function activeBackend(): Aead {
  return (active ??= nativeBackend() ?? NOBLE);
}

/**
 * The AES-GCM implementations: `noble` (`@noble/ciphers`, always present) and
 * `native` (`node:crypto`, or `undefined` where the runtime has none). The
 * native one is loaded on first access. Internal: exported for tests and
 * benchmarks only, and not re-exported from the package entry point.
 *
 * @internal
 * @example Usage
 * ```ts
 * import { gcmBackends } from "./security.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(gcmBackends.noble.name, "@noble/ciphers");
 * assert.ok(gcmBackends.native === undefined || gcmBackends.native.name === "node:crypto");
 * ```
 */
export const gcmBackends: { readonly noble: Aead; readonly native: Aead | undefined } = {
  noble: NOBLE,
  get native(): Aead | undefined {
    return nativeBackend();
  },
};

/**
 * Chooses the AES-GCM implementation that {@linkcode encryptPayload} and
 * {@linkcode decryptPayload} use, for tests and benchmarks. Pass `undefined`
 * to go back to the default (native when available). Internal: not
 * re-exported from the package entry point.
 *
 * @internal
 * @param backend The implementation to use, or `undefined` for the default.
 * @returns The implementation that was in use before.
 * @example Usage
 * ```ts
 * import { gcmBackends, setGcmBackend } from "./security.ts";
 * import assert from "node:assert/strict";
 *
 * const previous = setGcmBackend(gcmBackends.noble);
 * try {
 *   assert.equal(setGcmBackend(gcmBackends.noble).name, "@noble/ciphers");
 * } finally {
 *   setGcmBackend(previous);
 * }
 * ```
 */
export function setGcmBackend(backend: Aead | undefined): Aead {
  const previous = activeBackend();
  active = backend;
  return previous;
}

/** The part of Web Crypto used here (present on Node 20, Deno and Bun). */
interface RandomSource {
  getRandomValues<T extends Uint8Array>(array: T): T;
}

/**
 * Random bytes for nonces, drawn from the system in blocks: on Node one
 * `getRandomValues` call costs about half as much as sealing a 1400-byte
 * packet, so each call fills enough for 256 nonces. Every byte is handed out
 * once. Nonces are public, so holding them before use reveals nothing.
 */
const NONCE_POOL_SIZE = NONCE_SIZE * 256;
let noncePool: Uint8Array | undefined;
let noncePoolOffset = NONCE_POOL_SIZE;

function fillRandomNonce(out: Uint8Array): void {
  if (noncePoolOffset === NONCE_POOL_SIZE) {
    const source = (globalThis as unknown as { crypto?: Partial<RandomSource> }).crypto;
    if (typeof source?.getRandomValues !== "function") {
      throw new Error("Cannot encrypt payload: globalThis.crypto.getRandomValues is not available");
    }
    noncePool ??= new Uint8Array(NONCE_POOL_SIZE);
    source.getRandomValues(noncePool);
    noncePoolOffset = 0;
  }
  const pool = noncePool!;
  const start = noncePoolOffset;
  for (let i = 0; i < NONCE_SIZE; i++) {
    out[i] = pool[start + i]!;
    pool[start + i] = 0;
  }
  noncePoolOffset = start + NONCE_SIZE;
}

function describe(value: unknown): string {
  if (value === null) return "null";
  if (typeof value !== "object") return typeof value;
  return value.constructor?.name ?? "object";
}

function assertBytes(value: unknown, name: string, action: string): asserts value is Uint8Array {
  if (!(value instanceof Uint8Array)) {
    throw new TypeError(`Cannot ${action}: "${name}" must be a Uint8Array, got ${describe(value)}`);
  }
}

function assertVersion(vsn: unknown, action: string): asserts vsn is EncryptionVersion {
  if (vsn !== 0 && vsn !== 1) {
    throw new RangeError(`Cannot ${action}: encryption version must be 0 or 1, got ${String(vsn)}`);
  }
}

function isKeyLength(n: number): boolean {
  return n === 16 || n === 24 || n === 32;
}

/**
 * Returns the largest number of bytes encryption can add to a message of the
 * given version (Go `encryptOverhead`), for packing budgets: 29 for version 1
 * (version byte, nonce, tag) and 45 for version 0 (plus up to 16 bytes of
 * padding).
 *
 * @param vsn The encryption version.
 * @returns The overhead in bytes.
 * @throws {RangeError} When `vsn` is not 0 or 1.
 * @example Usage
 * ```ts
 * import { encryptOverhead } from "@gossip/memberlist/wire";
 * import assert from "node:assert/strict";
 *
 * assert.equal(encryptOverhead(1), 29);
 * assert.equal(encryptOverhead(0), 45);
 * ```
 */
export function encryptOverhead(vsn: EncryptionVersion): number {
  assertVersion(vsn, "compute encryption overhead");
  return vsn === 1 ? HEADER_SIZE + TAG_SIZE : HEADER_SIZE + BLOCK_SIZE + TAG_SIZE;
}

/**
 * Returns the exact length of the envelope {@linkcode encryptPayload} makes
 * for a message of `inputLength` bytes (Go `encryptedLength`). Stream senders
 * write it into the `encryptMsg` header before encrypting.
 *
 * @param vsn The encryption version.
 * @param inputLength The plaintext length in bytes.
 * @returns `inputLength + 29` for version 1; for version 0, that plus the
 * 1 to 16 padding bytes.
 * @throws {RangeError} When `vsn` is not 0 or 1, or `inputLength` is not a
 * non-negative safe integer.
 * @example Usage
 * ```ts
 * import { encryptedLength } from "@gossip/memberlist/wire";
 * import assert from "node:assert/strict";
 *
 * assert.equal(encryptedLength(1, 16), 45);
 * assert.equal(encryptedLength(0, 16), 61); // 16 bytes of padding
 * assert.equal(encryptedLength(0, 15), 45); // 1 byte of padding
 * ```
 */
export function encryptedLength(vsn: EncryptionVersion, inputLength: number): number {
  assertVersion(vsn, "compute encrypted length");
  if (!Number.isSafeInteger(inputLength) || inputLength < 0) {
    throw new RangeError(
      `Cannot compute encrypted length: input length must be a non-negative integer, got ${inputLength}`,
    );
  }
  if (vsn === 1) return HEADER_SIZE + inputLength + TAG_SIZE;
  return HEADER_SIZE + inputLength + (BLOCK_SIZE - (inputLength % BLOCK_SIZE)) + TAG_SIZE;
}

/**
 * Encrypts `msg` into a new envelope (Go `encryptPayload`): the version byte,
 * a 12-byte nonce, then the AES-GCM ciphertext and tag. Version 0 pads the
 * plaintext PKCS#7-style first.
 *
 * The nonce comes from `globalThis.crypto.getRandomValues`. A GCM nonce must
 * never be used twice with one key, so pass `nonce` only to reproduce test
 * vectors.
 *
 * @param vsn The encryption version: 1 normally, 0 for protocol version 1.
 * @param key The AES key: 16, 24 or 32 bytes (AES-128, AES-192, AES-256).
 * @param msg The plaintext.
 * @param aad Additional authenticated data: the label for packets, the stream
 * header (and label) for streams; empty for none.
 * @param nonce For tests only: a fixed 12-byte nonce instead of a random one.
 * @returns The envelope, {@linkcode encryptedLength}`(vsn, msg.length)` bytes.
 * @throws {TypeError} When `key`, `msg`, `aad` or `nonce` is not a Uint8Array.
 * @throws {RangeError} When `vsn` is not 0 or 1, the key length is not 16, 24
 * or 32, or the nonce is not 12 bytes.
 * @example Usage
 * ```ts
 * import { decryptPayload, encryptPayload } from "@gossip/memberlist/wire";
 * import assert from "node:assert/strict";
 *
 * const key = new Uint8Array(32).fill(0x42);
 * const msg = new TextEncoder().encode("hello");
 * const envelope = encryptPayload(1, key, msg, new Uint8Array());
 * assert.equal(envelope.length, 1 + 12 + 5 + 16);
 * assert.equal(envelope[0], 1);
 * assert.deepEqual(decryptPayload([key], envelope, new Uint8Array()), msg);
 * ```
 *
 * @example A fixed nonce reproduces a test vector (spec §6.2)
 * ```ts
 * import { encryptPayload } from "@gossip/memberlist/wire";
 * import assert from "node:assert/strict";
 *
 * const hex = (b: Uint8Array) => Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
 * const key = Uint8Array.from({ length: 16 }, (_, i) => i);
 * const nonce = Uint8Array.from({ length: 12 }, (_, i) => 0x10 + i);
 * const ping = Uint8Array.from([0x00, 0x82, 0xa4, 0x4e, 0x6f, 0x64, 0x65, 0xa1, 0x62, 0xa5, 0x53, 0x65, 0x71, 0x4e, 0x6f, 0x01]);
 * assert.equal(
 *   hex(encryptPayload(1, key, ping, new Uint8Array(), nonce)),
 *   "01101112131415161718191a1bc4aca7e1602bd34e75780e90b669843f277fe12a58cc13a2266c985a11a0af4e",
 * );
 * ```
 */
export function encryptPayload(
  vsn: EncryptionVersion,
  key: Uint8Array,
  msg: Uint8Array,
  aad: Uint8Array,
  nonce?: Uint8Array,
): Uint8Array {
  const action = "encrypt payload";
  assertVersion(vsn, action);
  assertBytes(key, "key", action);
  assertBytes(msg, "msg", action);
  assertBytes(aad, "aad", action);
  if (!isKeyLength(key.length)) {
    throw new RangeError(`Cannot ${action}: key length must be 16, 24 or 32 bytes, got ${key.length}`);
  }
  const n = msg.length;
  const sealedLength = vsn === 1 ? n : n + BLOCK_SIZE - (n % BLOCK_SIZE);
  const out = new Uint8Array(HEADER_SIZE + sealedLength + TAG_SIZE);
  out[0] = vsn;
  const nonceView = out.subarray(1, HEADER_SIZE);
  if (nonce === undefined) {
    fillRandomNonce(nonceView);
  } else {
    assertBytes(nonce, "nonce", action);
    if (nonce.length !== NONCE_SIZE) {
      throw new RangeError(`Cannot ${action}: nonce length must be 12 bytes, got ${nonce.length}`);
    }
    nonceView.set(nonce);
  }
  let plaintext = msg;
  if (vsn === 0) {
    plaintext = new Uint8Array(sealedLength);
    plaintext.set(msg);
    plaintext.fill(sealedLength - n, n);
  }
  activeBackend().seal(key, nonceView, plaintext, aad, out, HEADER_SIZE);
  return out;
}

/**
 * Opens an envelope made by {@linkcode encryptPayload} or by Go memberlist
 * (Go `decryptPayload`). Each key is tried in order (put the primary first)
 * and the first that verifies the tag wins. Version 0 padding is removed.
 *
 * Both versions are accepted. The checks run in Go's order: empty input,
 * unknown version, shorter than the smallest envelope of that version (29
 * bytes for version 1, 45 for version 0), then the keys. Any input, however
 * malformed, yields either the plaintext or a {@linkcode DecryptError}.
 *
 * @param keys The keys to try, in order (16, 24 or 32 bytes each).
 * @param msg The envelope.
 * @param aad The additional data the sender used.
 * @returns The plaintext, in a new array (the input is not modified).
 * @throws {DecryptError} When the envelope is empty, has an unknown version,
 * is too short, no key opens it, or its version 0 padding is longer than the
 * plaintext.
 * @throws {TypeError} When `keys` is not an array or `msg`, `aad` or a key is
 * not a Uint8Array.
 * @throws {RangeError} When a key length is not 16, 24 or 32.
 * @example Usage
 * ```ts
 * import { DecryptError } from "@gossip/memberlist";
 * import { decryptPayload, encryptPayload } from "@gossip/memberlist/wire";
 * import assert from "node:assert/strict";
 *
 * const oldKey = new Uint8Array(16).fill(1);
 * const newKey = new Uint8Array(16).fill(2);
 * const label = new TextEncoder().encode("prod");
 * const msg = new Uint8Array([4, 0x85]);
 *
 * const envelope = encryptPayload(1, oldKey, msg, label);
 * assert.deepEqual(decryptPayload([newKey, oldKey], envelope, label), msg);
 * assert.throws(() => decryptPayload([newKey], envelope, label), DecryptError);
 * assert.throws(() => decryptPayload([oldKey], envelope, new Uint8Array()), DecryptError);
 * ```
 */
export function decryptPayload(keys: readonly Uint8Array[], msg: Uint8Array, aad: Uint8Array): Uint8Array {
  const action = "decrypt payload";
  if (!Array.isArray(keys)) {
    throw new TypeError(`Cannot ${action}: "keys" must be an array, got ${describe(keys)}`);
  }
  assertBytes(msg, "msg", action);
  assertBytes(aad, "aad", action);
  const count = keys.length;
  for (let i = 0; i < count; i++) {
    const key: unknown = keys[i];
    assertBytes(key, `keys[${i}]`, action);
    if (!isKeyLength(key.length)) {
      throw new RangeError(
        `Cannot ${action}: length of keys[${i}] must be 16, 24 or 32 bytes, got ${key.length}`,
      );
    }
  }
  if (msg.length === 0) throw new DecryptError(`Cannot ${action}: input is empty`);
  const vsn = msg[0]!;
  if (vsn > ENCRYPTION_VERSION_MAX) {
    throw new DecryptError(`Cannot ${action}: encryption version ${vsn} is not supported`);
  }
  const minimum = vsn === 1 ? HEADER_SIZE + TAG_SIZE : HEADER_SIZE + BLOCK_SIZE + TAG_SIZE;
  if (msg.length < minimum) {
    throw new DecryptError(
      `Cannot ${action}: ${msg.length} bytes is shorter than the ${minimum}-byte minimum for version ${vsn}`,
    );
  }
  const nonce = msg.subarray(1, HEADER_SIZE);
  const sealed = msg.subarray(HEADER_SIZE);
  const backend = activeBackend();
  for (let i = 0; i < count; i++) {
    const plaintext = backend.open(keys[i]!, nonce, sealed, aad);
    if (plaintext === undefined) continue;
    if (vsn === 1) return plaintext;
    // Version 0: the last byte counts the padding. Go trusts it; only make sure
    // it cannot reach past the start (the sender held a valid key, so this is a
    // broken peer rather than an attacker).
    const pad = plaintext[plaintext.length - 1]!;
    if (pad > plaintext.length) {
      throw new DecryptError(
        `Cannot ${action}: padding length ${pad} exceeds the ${plaintext.length} decrypted bytes`,
      );
    }
    return plaintext.subarray(0, plaintext.length - pad);
  }
  throw new DecryptError(
    count === 0 ? `Cannot ${action}: no keys are installed` : `Cannot ${action}: no installed key matches`,
  );
}
