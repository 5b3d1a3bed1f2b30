// Copyright (c) memberlist-ts authors. SPDX-License-Identifier: MPL-2.0
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { Keyring, validateKey } from "../lib/keyring.ts";
import { decryptPayload, encryptPayload } from "../lib/security.ts";
import { DecryptError } from "../lib/errors.ts";

const EMPTY = new Uint8Array();
const K1 = Uint8Array.from({ length: 16 }, (_, i) => i);
const K2 = Uint8Array.from({ length: 24 }, (_, i) => 0x40 + i);
const K3 = Uint8Array.from({ length: 32 }, (_, i) => 0x80 + i);
const K4 = new Uint8Array(16).fill(0xee);
const MSG = new TextEncoder().encode("the quick brown fox");

describe("Keyring.create()", () => {
  it("with no keys gives an empty keyring (encryption off)", () => {
    const keyring = Keyring.create([]);
    assert.equal(keyring.size, 0);
    assert.deepEqual(keyring.getKeys(), []);
    assert.equal(keyring.getPrimaryKey(), undefined);
  });

  it("with only a primary installs just that key", () => {
    const keyring = Keyring.create([], K2);
    assert.deepEqual(keyring.getKeys(), [K2]);
    assert.deepEqual(keyring.getPrimaryKey(), K2);
  });

  it("makes keys[0] primary by default and keeps the given order", () => {
    const keyring = Keyring.create([K1, K2, K3]);
    assert.deepEqual(keyring.getPrimaryKey(), K1);
    assert.deepEqual(keyring.getKeys(), [K1, K2, K3]);
  });

  it("installs the primary first, then the others in order, without duplicates", () => {
    assert.deepEqual(Keyring.create([K1, K2, K3], K3).getKeys(), [K3, K1, K2]);
    assert.deepEqual(Keyring.create([K1, K2], K4).getKeys(), [K4, K1, K2]);
    assert.deepEqual(Keyring.create([K1, K2, K1, Uint8Array.from(K2)]).getKeys(), [K1, K2]);
  });

  it("rejects keys of the wrong type or length", () => {
    assert.throws(() => Keyring.create([K1, new Uint8Array(15)]), {
      name: "RangeError",
      message: "Cannot create keyring: length of keys[1] must be 16, 24 or 32 bytes, got 15",
    });
    assert.throws(() => Keyring.create([K1], new Uint8Array(33)), {
      name: "RangeError",
      message: "Cannot create keyring: length of primary must be 16, 24 or 32 bytes, got 33",
    });
    assert.throws(() => Keyring.create(["secret" as unknown as Uint8Array]), {
      name: "TypeError",
      message: 'Cannot create keyring: "keys[0]" must be a Uint8Array, got string',
    });
    assert.throws(() => Keyring.create(K1 as unknown as Uint8Array[]), TypeError);
  });

  it("keeps its own copies of the keys", () => {
    const key = Uint8Array.from(K1);
    const keys = [key];
    const keyring = Keyring.create(keys);
    key.fill(0);
    keys.push(K2);
    assert.deepEqual(keyring.getKeys(), [K1]);
  });
});

describe("Keyring", () => {
  it("addKey() installs a key without changing the primary, and ignores duplicates", () => {
    const keyring = Keyring.create([K1]);
    keyring.addKey(K2);
    assert.deepEqual(keyring.getPrimaryKey(), K1);
    assert.deepEqual(keyring.getKeys(), [K1, K2]);
    keyring.addKey(Uint8Array.from(K2));
    keyring.addKey(K1);
    assert.equal(keyring.size, 2);
  });

  it("addKey() makes the first key added to an empty keyring the primary", () => {
    const keyring = Keyring.create([]);
    keyring.addKey(K3);
    keyring.addKey(K1);
    assert.deepEqual(keyring.getKeys(), [K3, K1]);
  });

  it("addKey() validates the key and keeps a copy", () => {
    const keyring = Keyring.create([K1]);
    assert.throws(() => keyring.addKey(new Uint8Array(15)), {
      name: "RangeError",
      message: "Cannot add key: length must be 16, 24 or 32 bytes, got 15",
    });
    assert.throws(() => keyring.addKey(null as unknown as Uint8Array), {
      name: "TypeError",
      message: "Cannot add key: key must be a Uint8Array, got null",
    });
    const key = Uint8Array.from(K2);
    keyring.addKey(key);
    key.fill(1);
    assert.deepEqual(keyring.getKeys(), [K1, K2]);
  });

  it("useKey() makes an installed key primary and keeps the rest in order", () => {
    const keyring = Keyring.create([K1, K2, K3]);
    keyring.useKey(K3);
    assert.deepEqual(keyring.getKeys(), [K3, K1, K2]);
    keyring.useKey(Uint8Array.from(K2));
    assert.deepEqual(keyring.getKeys(), [K2, K3, K1]);
    keyring.useKey(K2);
    assert.deepEqual(keyring.getKeys(), [K2, K3, K1]);
  });

  it("useKey() of a key that is not installed fails and changes nothing", () => {
    const keyring = Keyring.create([K1, K2]);
    assert.throws(() => keyring.useKey(K3), {
      name: "RangeError",
      message: "Cannot use key: key is not installed",
    });
    assert.throws(() => Keyring.create([]).useKey(K1), RangeError);
    assert.throws(() => keyring.useKey("k" as unknown as Uint8Array), TypeError);
    assert.deepEqual(keyring.getKeys(), [K1, K2]);
  });

  it("removeKey() removes a secondary key and ignores absent ones", () => {
    const keyring = Keyring.create([K1, K2, K3]);
    keyring.removeKey(Uint8Array.from(K2));
    assert.deepEqual(keyring.getKeys(), [K1, K3]);
    keyring.removeKey(K2);
    keyring.removeKey(K4);
    assert.deepEqual(keyring.getKeys(), [K1, K3]);
    Keyring.create([]).removeKey(K1);
  });

  it("removeKey() of the primary fails until another key is made primary", () => {
    const keyring = Keyring.create([K1, K2]);
    assert.throws(() => keyring.removeKey(K1), {
      name: "RangeError",
      message: "Cannot remove key: it is the primary key: make another key primary first",
    });
    assert.deepEqual(keyring.getKeys(), [K1, K2]);
    keyring.useKey(K2);
    keyring.removeKey(K1);
    assert.deepEqual(keyring.getKeys(), [K2]);
  });

  it("walks the add, use, remove rotation", () => {
    const keyring = Keyring.create([K1]);
    keyring.addKey(K2);
    assert.deepEqual(keyring.getPrimaryKey(), K1);
    assert.equal(keyring.size, 2);
    keyring.useKey(K2);
    assert.deepEqual(keyring.getPrimaryKey(), K2);
    assert.throws(() => keyring.removeKey(K2), RangeError);
    keyring.removeKey(K1);
    assert.deepEqual(keyring.getKeys(), [K2]);
  });

  it("getKeys() and getPrimaryKey() return copies", () => {
    const keyring = Keyring.create([K1, K2]);
    const keys = keyring.getKeys();
    keys[0]!.fill(0);
    keys[1]!.fill(0);
    keys.pop();
    keyring.getPrimaryKey()!.fill(0);
    assert.deepEqual(keyring.getKeys(), [K1, K2]);
    assert.notEqual(keyring.getKeys()[0], keyring.getKeys()[0]);
    assert.equal(Object.getPrototypeOf(keyring.getKeys()[0]), Uint8Array.prototype);
  });

  it("encrypt() seals with the primary key in either version", () => {
    const keyring = Keyring.create([K1, K2], K2);
    for (const vsn of [0, 1] as const) {
      const envelope = keyring.encrypt(vsn, MSG, EMPTY);
      assert.equal(envelope[0], vsn);
      assert.deepEqual(decryptPayload([K2], envelope, EMPTY), MSG);
      assert.throws(() => decryptPayload([K1], envelope, EMPTY), DecryptError);
    }
  });

  it("encrypt() fails on an empty keyring", () => {
    assert.throws(() => Keyring.create([]).encrypt(1, MSG, EMPTY), {
      name: "Error",
      message: "Cannot encrypt message: the keyring has no keys",
    });
  });

  it("decrypt() tries every key, so messages sealed with any installed key open", () => {
    const aad = new TextEncoder().encode("label");
    const sender = Keyring.create([K1, K2, K3]);
    const receiver = Keyring.create([K3, K2, K1]);
    for (const key of [K1, K2, K3]) {
      sender.useKey(key);
      assert.deepEqual(receiver.decrypt(sender.encrypt(1, MSG, aad), aad), MSG);
      assert.deepEqual(receiver.decrypt(sender.encrypt(0, MSG, aad), aad), MSG);
    }
    receiver.useKey(K3);
    receiver.removeKey(K1);
    sender.useKey(K1);
    assert.throws(() => receiver.decrypt(sender.encrypt(1, MSG, aad), aad), DecryptError);
  });

  it("decrypt() throws DecryptError for garbage and on an empty keyring", () => {
    const keyring = Keyring.create([new Uint8Array(16)]);
    assert.throws(() => keyring.decrypt(new Uint8Array(40), EMPTY), DecryptError);
    assert.throws(() => keyring.decrypt(EMPTY, EMPTY), DecryptError);
    const envelope = encryptPayload(1, K1, MSG, EMPTY);
    assert.throws(() => Keyring.create([]).decrypt(envelope, EMPTY), DecryptError);
  });
});

describe("validateKey()", () => {
  it("accepts 16, 24 and 32 bytes", () => {
    for (const n of [16, 24, 32]) validateKey(new Uint8Array(n));
  });

  it("rejects other lengths with RangeError naming the length", () => {
    for (const n of [0, 1, 15, 17, 23, 25, 31, 33, 64]) {
      assert.throws(() => validateKey(new Uint8Array(n)), {
        name: "RangeError",
        message: `Cannot use key: length must be 16, 24 or 32 bytes, got ${n}`,
      });
    }
  });

  it("rejects anything but a Uint8Array with TypeError", () => {
    for (const value of ["0123456789abcdef", Array(16).fill(0), new Uint16Array(16), undefined, 16]) {
      assert.throws(() => validateKey(value as unknown as Uint8Array), TypeError);
    }
  });
});
