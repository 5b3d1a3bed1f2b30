// Copyright (c) memberlist-ts authors. SPDX-License-Identifier: MPL-2.0
/**
 * CRC-32 with the IEEE 802.3 polynomial (the zlib/PNG checksum, Go's
 * `crc32.ChecksumIEEE`), used by the `hasCrcMsg` packet header (spec §2.4).
 * Private to the package.
 *
 * `crc32()` uses `node:zlib`'s `crc32` when the runtime provides it (Node 20.15
 * and later, Deno, Bun: several times faster) and a slicing-by-8 table
 * implementation otherwise. Both are exported so tests can prove they agree.
 *
 * @module
 */

import { getBuiltinModule } from "./_runtime.ts";

/** The reflected IEEE polynomial. */
const POLY = 0xedb88320;

/** Eight 256-entry tables for slicing-by-8, built on first use. */
let tables: Uint32Array | undefined;

function buildTables(): Uint32Array {
  const t = new Uint32Array(8 * 256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ POLY : c >>> 1;
    t[n] = c;
  }
  // Table k gives the effect of a byte followed by k zero bytes.
  for (let k = 1; k < 8; k++) {
    for (let n = 0; n < 256; n++) {
      const prev = t[(k - 1) * 256 + n]!;
      t[k * 256 + n] = (prev >>> 8) ^ t[prev & 0xff]!;
    }
  }
  return t;
}

/**
 * Computes the IEEE CRC-32 of `data` in TypeScript (slicing-by-8 over
 * precomputed tables).
 *
 * @param data The bytes to checksum.
 * @returns The checksum as an unsigned 32-bit integer.
 */
export function crc32Table(data: Uint8Array): number {
  const t = (tables ??= buildTables());
  const n = data.length;
  let c = 0xffffffff;
  let i = 0;
  for (; i + 8 <= n; i += 8) {
    c ^= data[i]! | (data[i + 1]! << 8) | (data[i + 2]! << 16) | (data[i + 3]! << 24);
    c = t[1792 + (c & 0xff)]! ^
      t[1536 + ((c >>> 8) & 0xff)]! ^
      t[1280 + ((c >>> 16) & 0xff)]! ^
      t[1024 + (c >>> 24)]! ^
      t[768 + data[i + 4]!]! ^
      t[512 + data[i + 5]!]! ^
      t[256 + data[i + 6]!]! ^
      t[data[i + 7]!]!;
  }
  for (; i < n; i++) c = t[(c ^ data[i]!) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

/** The part of `node:zlib` used here. */
interface ZlibCrc {
  crc32?: (data: Uint8Array, value?: number) => number;
}

/** The check value of CRC-32/ISO-HDLC: the checksum of the ASCII text "123456789". */
const CHECK_INPUT = new Uint8Array([0x31, 0x32, 0x33, 0x34, 0x35, 0x36, 0x37, 0x38, 0x39]);
const CHECK_VALUE = 0xcbf43926;

/** Picks `node:zlib`'s crc32 if present and it gives the known answer, else the table version. */
function pickImplementation(): (data: Uint8Array) => number {
  const native = getBuiltinModule<ZlibCrc>("node:zlib")?.crc32;
  if (typeof native === "function") {
    try {
      if (native(CHECK_INPUT) >>> 0 === CHECK_VALUE) return (data) => native(data) >>> 0;
    } catch {
      // Fall through to the table version.
    }
  }
  return crc32Table;
}

let impl: ((data: Uint8Array) => number) | undefined;

/**
 * Computes the IEEE CRC-32 of `data` (Go `crc32.ChecksumIEEE`), with the
 * fastest implementation this runtime offers.
 *
 * @param data The bytes to checksum.
 * @returns The checksum as an unsigned 32-bit integer.
 */
export function crc32(data: Uint8Array): number {
  return (impl ??= pickImplementation())(data);
}

/**
 * Names the implementation `crc32()` uses, for tests and benchmarks.
 *
 * @returns "node:zlib" or "table".
 */
export function crc32Implementation(): "node:zlib" | "table" {
  return (impl ??= pickImplementation()) === crc32Table ? "table" : "node:zlib";
}
