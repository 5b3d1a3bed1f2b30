// Copyright (c) memberlist-ts authors. SPDX-License-Identifier: MPL-2.0
/**
 * The keyring (Go `keyring.go`, spec §13.6): the AES keys a node can decrypt
 * with, one of which, the primary, encrypts everything it sends.
 *
 * Rotating a key across a cluster takes three steps, each finished on every
 * node before the next starts: `addKey(next)` everywhere (nodes can now read
 * it), `useKey(next)` everywhere (nodes now send with it), then
 * `removeKey(previous)` everywhere.
 *
 * @module
 */

import { decryptPayload, type EncryptionVersion, encryptPayload } from "./security.ts";

function describe(value: unknown): string {
  if (value === null) return "null";
  if (typeof value !== "object") return typeof value;
  return value.constructor?.name ?? "object";
}

/** Checks `key` and returns a private copy of it. */
function copyKey(key: unknown, action: string, name?: string): Uint8Array {
  if (!(key instanceof Uint8Array)) {
    const what = name === undefined ? "key" : `"${name}"`;
    throw new TypeError(`Cannot ${action}: ${what} must be a Uint8Array, got ${describe(key)}`);
  }
  const n = key.length;
  if (n !== 16 && n !== 24 && n !== 32) {
    const what = name === undefined ? "length" : `length of ${name}`;
    throw new RangeError(`Cannot ${action}: ${what} must be 16, 24 or 32 bytes, got ${n}`);
  }
  return new Uint8Array(key);
}

function equalKeys(a: Uint8Array, b: Uint8Array): boolean {
  const n = a.length;
  if (n !== b.length) return false;
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * Checks that `key` can be an AES key: 16, 24 or 32 bytes (AES-128, AES-192
 * or AES-256). Go `ValidateKey`.
 *
 * @param key The key to check.
 * @throws {TypeError} When `key` is not a Uint8Array.
 * @throws {RangeError} When its length is not 16, 24 or 32.
 * @example Usage
 * ```ts
 * import { validateKey } from "@gossip/memberlist";
 * import assert from "node:assert/strict";
 *
 * validateKey(new Uint8Array(32));
 * assert.throws(() => validateKey(new Uint8Array(15)), RangeError);
 * assert.throws(() => validateKey("0123456789abcdef" as unknown as Uint8Array), TypeError);
 * ```
 */
export function validateKey(key: Uint8Array): void {
  copyKey(key, "use key");
}

/**
 * A set of AES keys. The primary key encrypts outgoing messages; incoming
 * messages are tried with every key, primary first. An empty keyring means
 * encryption is off.
 *
 * The keyring keeps its own copies: changing an array after passing it in,
 * or one returned by `getKeys()`, does not change the keyring.
 *
 * @example Usage
 * ```ts
 * import { Keyring } from "@gossip/memberlist";
 * import assert from "node:assert/strict";
 *
 * const a = Keyring.create([new Uint8Array(32).fill(1)]);
 * const b = Keyring.create([new Uint8Array(32).fill(1)]);
 * const aad = new Uint8Array();
 * const sealed = a.encrypt(1, new Uint8Array([1, 2, 3]), aad);
 * assert.deepEqual(b.decrypt(sealed, aad), new Uint8Array([1, 2, 3]));
 * ```
 *
 * @example Rotating a key
 * ```ts
 * import { Keyring } from "@gossip/memberlist";
 * import assert from "node:assert/strict";
 *
 * const oldKey = new Uint8Array(16).fill(1);
 * const newKey = new Uint8Array(16).fill(2);
 * const keyring = Keyring.create([oldKey]);
 * keyring.addKey(newKey);   // step 1, on every node: accept the new key
 * keyring.useKey(newKey);   // step 2, on every node: send with it
 * keyring.removeKey(oldKey); // step 3, on every node: forget the old one
 * assert.deepEqual(keyring.getKeys(), [newKey]);
 * ```
 */
export class Keyring {
  /** The installed keys, primary first; private copies. */
  #keys: Uint8Array[] = [];

  /**
   * Creates a keyring (Go `NewKeyring`). The primary key is installed first,
   * then the other keys in order; duplicates are dropped. With no keys at all
   * the keyring is empty and encryption is off.
   *
   * @param keys The keys to install. May be empty.
   * @param primary The key to encrypt with; it is added if `keys` lacks it.
   * Defaults to `keys[0]`.
   * @returns The new keyring.
   * @throws {TypeError} When `keys` is not an array, or a key is not a Uint8Array.
   * @throws {RangeError} When a key length is not 16, 24 or 32.
   * @example Usage
   * ```ts
   * import { Keyring } from "@gossip/memberlist";
   * import assert from "node:assert/strict";
   *
   * const k1 = new Uint8Array(16).fill(1);
   * const k2 = new Uint8Array(16).fill(2);
   * assert.deepEqual(Keyring.create([k1, k2]).getPrimaryKey(), k1);
   * assert.deepEqual(Keyring.create([k1, k2], k2).getKeys(), [k2, k1]);
   * assert.equal(Keyring.create([]).size, 0);
   * ```
   */
  static create(keys: readonly Uint8Array[], primary?: Uint8Array): Keyring {
    const action = "create keyring";
    if (!Array.isArray(keys)) {
      throw new TypeError(`Cannot ${action}: "keys" must be an array, got ${describe(keys)}`);
    }
    const copies = keys.map((key: unknown, i) => copyKey(key, action, `keys[${i}]`));
    const keyring = new Keyring();
    const first = primary === undefined ? copies[0] : copyKey(primary, action, "primary");
    if (first === undefined) return keyring;
    keyring.#keys = [first];
    for (const key of copies) keyring.#install(key);
    return keyring;
  }

  /** Appends `key` (a private copy) unless an equal key is installed. */
  #install(key: Uint8Array): void {
    for (const installed of this.#keys) if (equalKeys(installed, key)) return;
    this.#keys.push(key);
  }

  #indexOf(key: Uint8Array): number {
    return this.#keys.findIndex((installed) => equalKeys(installed, key));
  }

  /**
   * Installs a key so messages sealed with it can be decrypted (Go
   * `AddKey`). Does nothing if the key is already installed. The first key
   * added to an empty keyring becomes the primary; otherwise the primary does
   * not change.
   *
   * @param key The key, 16, 24 or 32 bytes.
   * @throws {TypeError} When `key` is not a Uint8Array.
   * @throws {RangeError} When its length is not 16, 24 or 32.
   * @example Usage
   * ```ts
   * import { Keyring } from "@gossip/memberlist";
   * import assert from "node:assert/strict";
   *
   * const keyring = Keyring.create([]);
   * keyring.addKey(new Uint8Array(24).fill(1));
   * keyring.addKey(new Uint8Array(24).fill(2));
   * keyring.addKey(new Uint8Array(24).fill(2));
   * assert.equal(keyring.size, 2);
   * assert.deepEqual(keyring.getPrimaryKey(), new Uint8Array(24).fill(1));
   * ```
   */
  addKey(key: Uint8Array): void {
    this.#install(copyKey(key, "add key"));
  }

  /**
   * Makes an installed key the primary, the one every outgoing message is
   * encrypted with (Go `UseKey`). Other nodes should hold the key before this
   * is called.
   *
   * @param key A key already in the keyring.
   * @throws {TypeError} When `key` is not a Uint8Array.
   * @throws {RangeError} When the key is not installed.
   * @example Usage
   * ```ts
   * import { Keyring } from "@gossip/memberlist";
   * import assert from "node:assert/strict";
   *
   * const k1 = new Uint8Array(16).fill(1);
   * const k2 = new Uint8Array(16).fill(2);
   * const keyring = Keyring.create([k1, k2]);
   * keyring.useKey(k2);
   * assert.deepEqual(keyring.getKeys(), [k2, k1]);
   * assert.throws(() => keyring.useKey(new Uint8Array(16).fill(3)), RangeError);
   * ```
   */
  useKey(key: Uint8Array): void {
    const action = "use key";
    if (!(key instanceof Uint8Array)) {
      throw new TypeError(`Cannot ${action}: key must be a Uint8Array, got ${describe(key)}`);
    }
    const i = this.#indexOf(key);
    if (i < 0) throw new RangeError(`Cannot ${action}: key is not installed`);
    if (i === 0) return;
    const keys = this.#keys;
    const chosen = keys[i]!;
    this.#keys = [chosen, ...keys.slice(0, i), ...keys.slice(i + 1)];
  }

  /**
   * Uninstalls a key (Go `RemoveKey`). Does nothing if the key is not
   * installed. The primary key cannot be removed; make another key primary
   * with {@linkcode Keyring.useKey} first.
   *
   * @param key The key to remove.
   * @throws {TypeError} When `key` is not a Uint8Array.
   * @throws {RangeError} When `key` is the primary key.
   * @example Usage
   * ```ts
   * import { Keyring } from "@gossip/memberlist";
   * import assert from "node:assert/strict";
   *
   * const k1 = new Uint8Array(16).fill(1);
   * const k2 = new Uint8Array(16).fill(2);
   * const keyring = Keyring.create([k1, k2]);
   * assert.throws(() => keyring.removeKey(k1), RangeError);
   * keyring.removeKey(k2);
   * keyring.removeKey(k2);
   * assert.deepEqual(keyring.getKeys(), [k1]);
   * ```
   */
  removeKey(key: Uint8Array): void {
    const action = "remove key";
    if (!(key instanceof Uint8Array)) {
      throw new TypeError(`Cannot ${action}: key must be a Uint8Array, got ${describe(key)}`);
    }
    const i = this.#indexOf(key);
    if (i === 0) {
      throw new RangeError(`Cannot ${action}: it is the primary key: make another key primary first`);
    }
    if (i > 0) this.#keys = this.#keys.filter((_, j) => j !== i);
  }

  /**
   * Returns copies of the installed keys, primary first: the order in which
   * they are tried for decryption (Go `GetKeys`).
   *
   * @returns New arrays; changing them does not change the keyring.
   * @example Usage
   * ```ts
   * import { Keyring } from "@gossip/memberlist";
   * import assert from "node:assert/strict";
   *
   * const keyring = Keyring.create([new Uint8Array(16).fill(1)]);
   * const keys = keyring.getKeys();
   * keys[0]!.fill(9);
   * assert.deepEqual(keyring.getKeys(), [new Uint8Array(16).fill(1)]);
   * ```
   */
  getKeys(): Uint8Array[] {
    return this.#keys.map((key) => key.slice());
  }

  /**
   * Returns a copy of the primary key, the one outgoing messages are
   * encrypted with (Go `GetPrimaryKey`).
   *
   * @returns A new array, or `undefined` when the keyring is empty.
   * @example Usage
   * ```ts
   * import { Keyring } from "@gossip/memberlist";
   * import assert from "node:assert/strict";
   *
   * assert.equal(Keyring.create([]).getPrimaryKey(), undefined);
   * const key = new Uint8Array(32).fill(5);
   * assert.deepEqual(Keyring.create([], key).getPrimaryKey(), key);
   * ```
   */
  getPrimaryKey(): Uint8Array | undefined {
    return this.#keys[0]?.slice();
  }

  /**
   * The number of installed keys; 0 means encryption is off.
   *
   * @example Usage
   * ```ts
   * import { Keyring } from "@gossip/memberlist";
   * import assert from "node:assert/strict";
   *
   * assert.equal(Keyring.create([new Uint8Array(16), new Uint8Array(32)]).size, 2);
   * ```
   */
  get size(): number {
    return this.#keys.length;
  }

  /**
   * Encrypts a message with the primary key (see
   * {@linkcode encryptPayload}): version byte, random nonce, ciphertext and
   * tag.
   *
   * @param vsn The encryption version: 1 normally, 0 for protocol version 1.
   * @param msg The plaintext.
   * @param aad Additional authenticated data (label or stream header); may be empty.
   * @returns The envelope.
   * @throws {Error} When the keyring is empty.
   * @throws {TypeError} When `msg` or `aad` is not a Uint8Array.
   * @throws {RangeError} When `vsn` is not 0 or 1.
   * @example Usage
   * ```ts
   * import { Keyring } from "@gossip/memberlist";
   * import assert from "node:assert/strict";
   *
   * const keyring = Keyring.create([new Uint8Array(16).fill(3)]);
   * const envelope = keyring.encrypt(1, new Uint8Array(100), new Uint8Array());
   * assert.equal(envelope.length, 100 + 29);
   * assert.throws(() => Keyring.create([]).encrypt(1, new Uint8Array(1), new Uint8Array()), Error);
   * ```
   */
  encrypt(vsn: EncryptionVersion, msg: Uint8Array, aad: Uint8Array): Uint8Array {
    const primary = this.#keys[0];
    if (primary === undefined) throw new Error("Cannot encrypt message: the keyring has no keys");
    return encryptPayload(vsn, primary, msg, aad);
  }

  /**
   * Decrypts an envelope with each installed key in turn, primary first (see
   * {@linkcode decryptPayload}).
   *
   * @param msg The envelope.
   * @param aad The additional data the sender used.
   * @returns The plaintext.
   * @throws {DecryptError} When no key opens the envelope, it is malformed, or
   * the keyring is empty.
   * @throws {TypeError} When `msg` or `aad` is not a Uint8Array.
   * @example Usage
   * ```ts
   * import { DecryptError, Keyring } from "@gossip/memberlist";
   * import assert from "node:assert/strict";
   *
   * const keyring = Keyring.create([new Uint8Array(16)]);
   * assert.throws(() => keyring.decrypt(new Uint8Array(40), new Uint8Array()), DecryptError);
   * ```
   */
  decrypt(msg: Uint8Array, aad: Uint8Array): Uint8Array {
    return decryptPayload(this.#keys, msg, aad);
  }
}
