// Copyright (c) memberlist-ts authors. SPDX-License-Identifier: MPL-2.0
//
// Tests for lib/_lzw.ts. The expected outputs were made with Go's compress/lzw
// (LSB, literal width 8) by tests/testdata/go/lzw_vectors/main.go:
//
//   cd tests/testdata/go/lzw_vectors && GO111MODULE=off go run .
//
// Inputs come from a xorshift32 generator implemented the same way here and there.
// Small outputs are kept in hex, large ones as length and SHA-256.

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { fromHex, toHex } from "../lib/_bytes.ts";
import { lzwCompress, lzwDecompress } from "../lib/_lzw.ts";
import { DecodeError } from "../lib/errors.ts";

/** n bytes: the low byte of each xorshift32 state (as xorshift32() in main.go). */
function xorshift32(seed: number, n: number): Uint8Array {
  let x = seed >>> 0;
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x;
  }
  return out;
}

const WORDS = (
  "memberlist gossip node alive suspect dead probe ack the a of and push pull state incarnation cluster " +
  "address port meta udp tcp label key"
).split(" ");

/** n bytes of words picked by xorshift32 (as text() in main.go). */
function text(seed: number, n: number): Uint8Array {
  let x = seed >>> 0;
  let s = "";
  while (s.length < n) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    s += WORDS[x % WORDS.length]! + (x >>> 24 < 32 ? "\n" : " ");
  }
  return ascii(s.slice(0, n));
}

function ascii(s: string): Uint8Array {
  return new TextEncoder().encode(s);
}

function sha256(b: Uint8Array): string {
  return createHash("sha256").update(b).digest("hex");
}

/** Packs codes LSB first at the widths a reader expects for them (as pack() in main.go). */
function pack(codes: readonly number[]): Uint8Array {
  const out: number[] = [];
  let bits = 0;
  let nBits = 0;
  let width = 9;
  let hi = 257;
  for (const code of codes) {
    bits |= code << nBits;
    nBits += width;
    while (nBits >= 8) {
      out.push(bits & 0xff);
      bits >>>= 8;
      nBits -= 8;
    }
    if (code === 256) {
      width = 9;
      hi = 257;
    } else if (code !== 257 && ++hi === 1 << width) {
      if (width === 12) hi--;
      else width++;
    }
  }
  if (nBits > 0) out.push(bits & 0xff);
  return new Uint8Array(out);
}

function decodeError(message: RegExp): (e: unknown) => boolean {
  return (e) => e instanceof DecodeError && message.test(e.message);
}

type GoVector =
  & { name: string; input: () => Uint8Array }
  & ({ hex: string } | { length: number; sha256: string });

/** Outputs of Go's lzw.NewWriter(w, lzw.LSB, 8) for one Write and Close. */
const GO_VECTORS: readonly GoVector[] = [
  {
    name: "an empty input",
    input: () => new Uint8Array(0),
    hex: "000302",
  },
  {
    name: '"a"',
    input: () => ascii("a"),
    hex: "00c30404",
  },
  {
    name: '"aaaa"',
    input: () => ascii("aaaa"),
    hex: "00c3080c1310",
  },
  {
    name: "the ping of spec §6.2",
    input: () => fromHex("0082a44e6f6465a162a55365714e6f01"),
    hex: "00010822e5e40d9932a1c4949a52264ec1000101",
  },
  {
    name: '"ab"',
    input: () => ascii("ab"),
    hex: "00c3880908",
  },
  {
    name: "1 random byte",
    input: () => xorshift32(1, 1),
    hex: "00430404",
  },
  {
    name: "2 random bytes",
    input: () => xorshift32(2, 2),
    hex: "0085080808",
  },
  {
    name: '255 bytes from "abcd"',
    input: () => xorshift32(3, 255).map((b) => 0x61 + (b & 3)),
    hex: "00c9081423904c988163c8242c1826a11831631e3e1478f020c43004232a7c1811a3c683142f62f4d8300cc68b11178e" +
      "49099160c38e632a367c0812624c8c64c48c649993a0c29c094942ec49d0e648a01a5df60cea7120518a065b4a8c2871" +
      "624c8e3a5d9a6cba5261cc981bb1b6b4a8d364c6952b2d965c085226d080",
  },
  {
    name: "the 256 byte values in order",
    input: () => new Uint8Array(256).map((_, i) => i),
    hex: "00010410308040010307102450b0804103070f204490308142050b173064d0b08143070f1f40841031824409132750a4" +
      "50b182450b172f60c4903183460d1b3770e4d0b183470f1f3f800411328448112347902451b2844913274fa044913285" +
      "4a152b57b064d1b2854b172f5fc0841133864c193367d0a451b3864d1b376fe0c49133874e1d3b77f0e4d1b3874f1f3f" +
      "7f000512348850214387102552b4885123478f204592348952254b973065d2b48953274f9f408512358a542953a750a5" +
      "52b58a552b57af60c592358b562d5bb770e5d2b58b572f5fbf800513368c583163c7902553b68c593367cfa04593368d" +
      "5a356bd7b065d3b68d5b376fdfc08513378e5c3973e7d0a553b78e5d3b77efe0c593378f5e3d7bf7f0e5d3b78f5f3f7f" +
      "ff0404",
  },
  {
    name: "1,000 zero bytes",
    input: () => new Uint8Array(1000),
    hex: "0001081c48b0a0c18308132a5cc8b0a1c38710234a9c48b1a2c58b18336adcc8b1a3c78f20438a1c49b2a4c9932853aa" +
      "5cc9526140",
  },
  {
    name: "5,000 random bytes",
    input: () => xorshift32(5, 5000),
    length: 6727,
    sha256: "4e7af7feda26868886132c9e5e1484775bf27fd0f11f1eef73ccdd5557420e0b",
  },
  {
    name: "20 KB of text",
    input: () => text(20, 20000),
    length: 5236,
    sha256: "94ded90009466fd352e9d0c9c366429c51c40567105829cac510ac99542275c6",
  },
  {
    name: "30 KB of random bytes (several clears at 4095)",
    input: () => xorshift32(30, 30000),
    length: 40945,
    sha256: "444ee91237821c605cedc7a7f06608d2c8129b13160914b6085db2a0612e636a",
  },
  {
    name: "100 KB of zero bytes",
    input: () => new Uint8Array(100000),
    length: 530,
    sha256: "7a2b74e419500a3be5ff7cda6b8829a1eb730ccfee1d9e062be7a8ef00a0f6bf",
  },
  // The pending code at the end advances the counter like any other code. When that
  // widens the codes, the end code gains one zero bit on top, which changes the
  // output only when it starts a new byte: never before the first clear (the bit
  // counts there are fixed), so these were found by search in later generations.
  {
    name: "random bytes whose pending code forces a clear before the end code",
    input: () => xorshift32(7, 3958),
    length: 5410,
    sha256: "956e0575145ccdd97bd1de638f963de5ce779e41c2d3dac50de51fb1f507c901",
  },
  {
    name: "random bytes whose pending code widens the end code to 10 bits",
    input: () => xorshift32(7, 4214),
    length: 5697,
    sha256: "0e886f4bc56e2d5732e32c51227ccf3982cdc25b4f6e73e582b24224c69d547a",
  },
  {
    name: "random bytes whose pending code widens the end code to 11 bits",
    input: () => xorshift32(7, 8676),
    length: 11744,
    sha256: "40fa10a6e97931785512f29d8c6e093bee6a177de6711ddfc19987a5e0dcbb95",
  },
  {
    name: "random bytes whose pending code widens the end code to 12 bits",
    input: () => xorshift32(7, 13663),
    length: 18559,
    sha256: "26730ff24f15c147b0da172f2f9003e08d0db71ff52061879abd832c239a2599",
  },
];

describe("lzwCompress()", () => {
  for (const v of GO_VECTORS) {
    it(`matches Go's output for ${v.name}`, () => {
      const out = lzwCompress(v.input());
      if ("hex" in v) {
        assert.equal(toHex(out), v.hex);
      } else {
        assert.equal(out.length, v.length);
        assert.equal(sha256(out), v.sha256);
      }
    });
  }

  it("returns arrays that later calls do not change", () => {
    const first = lzwCompress(ascii("hello hello hello"));
    const copy = first.slice();
    lzwCompress(xorshift32(9, 10000));
    lzwCompress(ascii("another"));
    assert.deepEqual(first, copy);
  });
});

describe("lzwDecompress()", () => {
  it("decodes Go's output for every vector", () => {
    for (const v of GO_VECTORS) {
      const input = v.input();
      const compressed = "hex" in v ? fromHex(v.hex) : lzwCompress(input);
      assert.deepEqual(lzwDecompress(compressed, input.length), input, v.name);
    }
  });

  it("round-trips random inputs of many lengths and entropies", () => {
    let seed = 1;
    for (const alphabet of [1, 2, 4, 16, 256]) {
      for (let n = 0; n < 600; n += 1 + (n >> 4)) {
        const input = xorshift32(seed++, n).map((b) => b % alphabet);
        assert.deepEqual(lzwDecompress(lzwCompress(input), n), input, `alphabet ${alphabet}, length ${n}`);
      }
    }
    for (const [alphabet, n] of [[3, 200_000], [256, 70_000], [40, 50_000], [1, 300_000]] as const) {
      const input = xorshift32(seed++, n).map((b) => b % alphabet);
      assert.deepEqual(lzwDecompress(lzwCompress(input), n), input, `alphabet ${alphabet}, length ${n}`);
    }
  });

  it("accepts what Go's reader accepts", () => {
    // Each case was checked with Go's lzw.NewReader (see main.go).
    const cases: [string, string, string][] = [
      ["no leading clear code", "610202", "a"],
      ["bytes after the end code are ignored", "00c30404ffffffff", "a"],
      ["the next entry right after a literal", "00c3080c08", "aaa"],
      ["an end code right after a clear code", "000302", ""],
      ["clear codes anywhere", "00018601280620c031020302", "abccc"],
    ];
    for (const [name, hex, want] of cases) {
      assert.equal(new TextDecoder().decode(lzwDecompress(fromHex(hex), 100)), want, name);
    }
  });

  it("adds no entries once the 12-bit table is full, as Go's reader does", () => {
    const codes = [256];
    for (let i = 0; i < 3838; i++) codes.push(i & 0xff);
    codes.push(4095, 258, 300, 97, 4000, 4095, 256, 98, 258, 257);
    const input = pack(codes);
    assert.equal(input.length, 5421);
    const out = lzwDecompress(input, 1 << 20);
    assert.equal(out.length, 3852);
    assert.equal(sha256(out), "b76b355d9fed2adbbf7eb66d95f2ef586ee8e05963566b63ab4dca6b40b4455a");
  });

  it("throws DecodeError when the input ends before the end code", () => {
    const eof = decodeError(/^Cannot decompress LZW data: input ends before the end code$/);
    assert.throws(() => lzwDecompress(new Uint8Array(0), 100), eof);
    assert.throws(() => lzwDecompress(fromHex("00c304"), 100), eof);
    assert.throws(() => lzwDecompress(fromHex("00c38801"), 100), eof);
    const full = lzwCompress(text(4, 5000));
    for (let cut = 1; cut < full.length; cut += 97) {
      assert.throws(() => lzwDecompress(full.subarray(0, full.length - cut), 5000), eof);
    }
  });

  it("throws DecodeError on invalid codes", () => {
    const invalid = decodeError(/^Cannot decompress LZW data: invalid code \d+$/);
    assert.throws(() => lzwDecompress(fromHex("00050604"), 100), invalid); // clear, 258
    assert.throws(() => lzwDecompress(fromHex("020302"), 100), invalid); // 258 first
    assert.throws(() => lzwDecompress(fromHex("00c388211810"), 100), invalid); // clear, a, b, 260
    assert.throws(() => lzwDecompress(pack([256, 97, 258, 256, 259, 257]), 100), invalid);
  });

  it("throws DecodeError as soon as the output would exceed the limit", () => {
    const tooLong = decodeError(/^Cannot decompress LZW data: output exceeds the limit of 1000 bytes$/);
    const zeros = lzwCompress(new Uint8Array(100_000));
    assert.equal(zeros.length, 530);
    assert.throws(() => lzwDecompress(zeros, 1000), tooLong);
    // Each code repeats the last string plus one byte: 1 + 2 + ... + 700 bytes from ~1 KB.
    const codes = [256, 0x61];
    for (let c = 258; c < 958; c++) codes.push(c);
    codes.push(257);
    assert.throws(() => lzwDecompress(pack(codes), 1000), tooLong);
    const exact = lzwCompress(new Uint8Array(1000).fill(7));
    assert.equal(lzwDecompress(exact, 1000).length, 1000);
    assert.throws(() => lzwDecompress(exact, 999), decodeError(/limit of 999 bytes/));
    assert.throws(() => lzwDecompress(lzwCompress(ascii("a")), 0), decodeError(/limit of 0 bytes/));
    assert.equal(lzwDecompress(lzwCompress(new Uint8Array(0)), 0).length, 0);
  });

  it("throws RangeError for a bad maxOutput", () => {
    assert.throws(() => lzwDecompress(fromHex("000302"), -1), RangeError);
    assert.throws(() => lzwDecompress(fromHex("000302"), 1.5), RangeError);
    assert.throws(() => lzwDecompress(fromHex("000302"), Number.NaN), RangeError);
  });

  it("throws only DecodeError, within the limit, for 20,000 random and mutated inputs", () => {
    const limit = 4096;
    let x = 0x9e3779b9;
    const rnd = (n: number): number => {
      x ^= x << 13;
      x ^= x >>> 17;
      x ^= x << 5;
      return (x >>> 0) % n;
    };
    const valid = [
      lzwCompress(text(1, 3000)),
      lzwCompress(xorshift32(2, 600)),
      lzwCompress(new Uint8Array(5000)),
      lzwCompress(xorshift32(3, 2000).map((b) => b & 1)),
    ];
    let decoded = 0;
    for (let k = 0; k < 20_000; k++) {
      let input: Uint8Array;
      switch (k % 4) {
        case 0: // random bytes, sometimes after a clear code
          input = xorshift32(k + 1, rnd(80));
          if (k & 4 && input.length > 1) input[0] = 0;
          break;
        case 1: { // a valid stream with a few bits flipped
          input = valid[rnd(valid.length)]!.slice();
          for (let f = 1 + rnd(3); f > 0; f--) input[rnd(input.length)]! ^= 1 << rnd(8);
          break;
        }
        case 2: { // a valid stream cut short or with bytes spliced in
          const v = valid[rnd(valid.length)]!;
          const at = rnd(v.length);
          input = k & 4
            ? v.subarray(0, at)
            : new Uint8Array([...v.subarray(0, at), ...xorshift32(k, 1 + rnd(8))]);
          break;
        }
        default: { // codes near the edge of the dictionary, including its next entry
          const codes = [256];
          let hi = 257;
          for (let c = rnd(2000); c > 0; c--) {
            const r = rnd(100);
            const code = r < 30 ? rnd(256) : r < 33 ? 256 : r < 34 ? 257 : Math.min(4095, hi + rnd(4) - 2);
            codes.push(code);
            hi = code === 256 ? 257 : Math.min(hi + 1, 4095);
          }
          input = pack(codes);
        }
      }
      try {
        const out = lzwDecompress(input, limit);
        assert.ok(out.length <= limit);
        decoded++;
      } catch (e) {
        if (!(e instanceof DecodeError)) throw e;
      }
    }
    assert.ok(decoded > 100, `only ${decoded} inputs decoded`);
  });
});
