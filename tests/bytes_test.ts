import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { bytesEqual, concat, fromHex, Reader, toHex, Writer } from "../lib/_bytes.ts";
import { DecodeError } from "../lib/errors.ts";

describe("Writer", () => {
  it("u8/u16/u32/bytes() write big-endian and grow past the initial capacity", () => {
    const w = new Writer(2);
    w.u8(0xab);
    w.u16(0x1f0a);
    w.u32(0xdeadbeef);
    w.bytes(new Uint8Array(20).fill(7));
    const out = w.finish();
    assert.equal(toHex(out.subarray(0, 7)), "ab1f0adeadbeef");
    assert.equal(out.length, 27);
    assert.ok(out.subarray(7).every((b) => b === 7));
  });
});

describe("Reader", () => {
  it("reads what Writer wrote and throws DecodeError past the end", () => {
    const r = new Reader(fromHex("ab1f0adeadbeef0102"));
    assert.equal(r.u8(), 0xab);
    assert.equal(r.u16(), 0x1f0a);
    assert.equal(r.u32(), 0xdeadbeef);
    assert.equal(r.remaining, 2);
    assert.throws(() => r.u32(), DecodeError);
    assert.deepEqual([...r.bytes(2)], [1, 2]);
    assert.throws(() => r.u8(), DecodeError);
  });
});

describe("bytesEqual()", () => {
  it("treats null and empty as equal and compares contents", () => {
    assert.ok(bytesEqual(null, new Uint8Array()));
    assert.ok(bytesEqual(fromHex("0102"), fromHex("0102")));
    assert.ok(!bytesEqual(fromHex("0102"), fromHex("0103")));
    assert.equal(toHex(concat([fromHex("01"), fromHex("0203")])), "010203");
  });
});
