// Copyright (c) memberlist-ts authors. SPDX-License-Identifier: MPL-2.0
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { crc32, crc32Implementation, crc32Table } from "../lib/_crc32.ts";
import { fromHex } from "../lib/_bytes.ts";
import { detectRuntime } from "../lib/_runtime.ts";

/** The 57-byte alive message of spec §6.1; spec §6.2 gives its CRC. */
const ALIVE = fromHex(
  "0486a441646472a47f000001ab496e6361726e6174696f6e01a44d657461c0a44e6f6465a161a4506f7274cd1f0aa356736ea6010502000000",
);

/** A small deterministic generator (xorshift32), so failures can be replayed. */
function makeRandom(seed: number): (n: number) => Uint8Array {
  let s = seed >>> 0 || 1;
  return (n) => {
    const out = new Uint8Array(n);
    for (let i = 0; i < n; i++) {
      s ^= s << 13;
      s ^= s >>> 17;
      s ^= s << 5;
      out[i] = s;
    }
    return out;
  };
}

describe("crc32()", () => {
  it("matches the alive message vector of the spec", () => {
    assert.equal(ALIVE.length, 57);
    assert.equal(crc32(ALIVE).toString(16).padStart(8, "0"), "29ae395e");
    assert.equal(crc32Table(ALIVE), 0x29ae395e);
  });

  it("gives the standard check value and the empty checksum", () => {
    const check = new TextEncoder().encode("123456789");
    assert.equal(crc32(check), 0xcbf43926);
    assert.equal(crc32Table(check), 0xcbf43926);
    assert.equal(crc32(new Uint8Array()), 0);
    assert.equal(crc32Table(new Uint8Array()), 0);
  });

  it("returns an unsigned 32-bit integer", () => {
    const ff = new Uint8Array(64).fill(0xff);
    const value = crc32(ff);
    assert.ok(Number.isInteger(value) && value >= 0 && value <= 0xffffffff);
    assert.equal(crc32Table(ff), value);
  });

  it("uses node:zlib on Node, Deno and Bun", () => {
    if (detectRuntime() === "unknown") return;
    assert.equal(crc32Implementation(), "node:zlib");
  });

  it("agrees with crc32Table() on random data, lengths and offsets", () => {
    const random = makeRandom(0x5eed);
    const pool = random(5000);
    for (let i = 0; i < 400; i++) {
      const [a, b] = random(4);
      const start = (a! * 7) % 64;
      const length = i < 64 ? i : (b! * 17 + i) % (pool.length - start);
      const view = pool.subarray(start, start + length);
      assert.equal(crc32(view), crc32Table(view), `start ${start} length ${length}`);
    }
    const big = random(1 << 20);
    assert.equal(crc32(big), crc32Table(big));
  });
});
