// Copyright (c) memberlist-ts authors. SPDX-License-Identifier: MPL-2.0
/**
 * LZW as Go's `compress/lzw` does it with LSB bit order and a literal width of 8,
 * the only compression memberlist knows (`compressMsg`, algorithm 0; spec §2.5).
 * Private to the package.
 *
 * The code stream:
 * - codes 0-255 are literal bytes, 256 is "clear", 257 is "end"; the first
 *   dictionary entry is 258;
 * - codes are packed least significant bit first; they start 9 bits wide and grow
 *   by one bit each time the number of codes since the last clear brings the next
 *   free entry to 512, 1024 and 2048, up to 12 bits;
 * - the writer starts with a clear code, sends another clear (and starts over at 9
 *   bits) when the next free entry would be 4095, and ends with the pending code,
 *   the end code and a zero-padded final byte;
 * - a reader honours a clear code anywhere, and once the 12-bit table is full it
 *   keeps decoding without adding entries.
 *
 * Go's reader also accepts a stream that does not start with a clear code, never
 * looks at the bytes after the end code, and ignores the padding bits of the last
 * byte; {@linkcode lzwDecompress} does the same.
 *
 * Both functions reuse module-level tables and scratch buffers (each buffer kept
 * only while it is at most 1 MiB), so they allocate little more than their result.
 * They are synchronous, so calls never interleave.
 *
 * @module
 */

import { DecodeError } from "./errors.ts";

const CLEAR = 256;
const END = 257;
/** The highest code. The writer never assigns it: it sends a clear code instead. */
const MAX_CODE = 4095;

// Writer dictionary: a hash table from (code << 8 | byte) to the entry for that
// string, with linear probing. A slot holds key << 12 | entry, and 0 marks an empty
// slot (an entry is never 0). 32768 slots for at most 3837 live entries keeps the
// probes short. The hash function does not change the output: LZW's dictionary is
// fixed by the input alone.
const HASH_BITS = 15;
const HASH_MASK = (1 << HASH_BITS) - 1;
const hashTable = new Int32Array(1 << HASH_BITS);
/**
 * The most recently added entry that extends each code, as (byte + 1) << 12 | entry
 * (0 for none). Small enough to stay in the L1 cache, it answers most lookups on
 * repetitive input (such as msgpack records) before the hash table is touched.
 */
const lastChild = new Int32Array(MAX_CODE + 1);
/** Slots filled since the tables were last clean, so that small inputs clear only those. */
const usedSlots = new Int32Array(MAX_CODE + 1);
let usedCount = 0;
/** Whether the tables may hold entries that usedSlots does not list (a compression was interrupted). */
let tablesDirty = false;
/** Where compressBody() leaves the writer: output length, bit buffer, bit count, width, last entry, pending code. */
const encoderState = new Int32Array(6);

// Reader table: each entry is a run of earlier output, `entryPos[c]` (start) and
// `entryLen[c]` (length), since an entry is always the expansion of the previous
// code plus the first byte of the code after it, which sit side by side in the output.
const entryPos = new Int32Array(MAX_CODE + 1);
const entryLen = new Int32Array(MAX_CODE + 1);

// Scratch output buffers, reused between calls while they stay small.
const KEEP_SCRATCH = 1 << 20;
let writeScratch: Uint8Array = new Uint8Array(4096);
let readScratch: Uint8Array = new Uint8Array(4096);

/**
 * Empties the writer's dictionary: slot by slot when few were used (small inputs),
 * otherwise all at once.
 *
 * @returns Nothing; `hashTable` and `lastChild` are all zeros afterwards.
 */
function clearTables(): void {
  if (usedCount < 2048) {
    for (let i = 0; i < usedCount; i++) {
      const h = usedSlots[i]!;
      lastChild[hashTable[h]! >>> 20] = 0;
      hashTable[h] = 0;
    }
  } else {
    hashTable.fill(0);
    lastChild.fill(0);
  }
  usedCount = 0;
}

/**
 * Compresses bytes exactly as Go's `lzw.NewWriter(w, lzw.LSB, 8)` followed by one
 * `Write` and `Close` does, byte for byte.
 *
 * @param input The bytes to compress (any length, may be empty).
 * @returns A new array holding the code stream; an empty input gives `00 03 02`.
 * @throws {RangeError} Only if memory for the output cannot be allocated; every
 * input has a compressed form.
 */
export function lzwCompress(input: Uint8Array): Uint8Array {
  const n = input.length;
  // Worst case: one code per input byte, plus a clear per 3838 codes, plus the
  // first clear, the pending code and the end code, each at most 12 bits.
  const bound = Math.ceil(((n + ((n / 3838) | 0) + 4) * 12) / 8) + 2;
  if (n === 0) {
    const bits = CLEAR | (END << 9);
    return new Uint8Array([bits & 0xff, (bits >>> 8) & 0xff, bits >>> 16]);
  }
  let out = writeScratch;
  if (out.length < bound) {
    out = new Uint8Array(Math.max(bound, out.length * 2));
    if (out.length <= KEEP_SCRATCH) writeScratch = out;
  }

  if (tablesDirty) {
    hashTable.fill(0);
    lastChild.fill(0);
  }
  tablesDirty = true;
  compressBody(input, out);
  const state = encoderState;
  let o = state[0]!;
  let bits = state[1]!;
  let nBits = state[2]!;
  let width = state[3]!;
  // The pending code counts like any other, so it may widen the codes or force a
  // clear before the end code.
  bits |= state[5]! << nBits;
  nBits += width;
  while (nBits >= 8) {
    out[o++] = bits;
    bits >>>= 8;
    nBits -= 8;
  }
  const hi = state[4]! + 1;
  if (hi === 1 << width) {
    width++;
  } else if (hi === MAX_CODE) {
    bits |= CLEAR << nBits;
    nBits += width;
    while (nBits >= 8) {
      out[o++] = bits;
      bits >>>= 8;
      nBits -= 8;
    }
    width = 9;
  }
  bits |= END << nBits;
  nBits += width;
  while (nBits > 0) {
    out[o++] = bits;
    bits >>>= 8;
    nBits -= 8;
  }
  clearTables();
  tablesDirty = false;
  return out.slice(0, o);
}

/**
 * The hot loop of {@linkcode lzwCompress}: writes the first clear code and every
 * code but the pending one into `out`, then leaves the writer's state in
 * `encoderState`. It is kept apart from the rare end-of-input paths, which would
 * otherwise make V8 drop the optimised code the first time one of them runs.
 *
 * @param input The bytes to compress; at least one.
 * @param out Room for the worst case (see `bound` in lzwCompress()).
 * @returns Nothing; the results are in `out` and `encoderState`.
 */
function compressBody(input: Uint8Array, out: Uint8Array): void {
  const n = input.length;
  const table = hashTable;
  const used = usedSlots;
  const children = lastChild;
  let nUsed = 0;
  let o = 0;
  // The first code is 9 bits wide, so it needs no flush yet.
  let bits = CLEAR;
  let nBits = 9;
  let width = 9;
  let hi = END;
  let overflow = 512;
  let code = input[0]!;
  outer: for (let i = 1; i < n; i++) {
    const b = input[i]!;
    const child = children[code]!;
    if (child >>> 12 === b + 1) {
      code = child & MAX_CODE;
      continue;
    }
    const key = (code << 8) | b;
    let h = ((key >>> 12) ^ key) & HASH_MASK;
    for (let t = table[h]!; t !== 0; t = table[h]!) {
      if (t >>> 12 === key) {
        code = t & MAX_CODE;
        continue outer;
      }
      h = (h + 1) & HASH_MASK;
    }
    // Not in the dictionary: send the code for the longest match so far.
    bits |= code << nBits;
    nBits += width;
    if (nBits >= 16) {
      out[o] = bits;
      out[o + 1] = bits >>> 8;
      o += 2;
      bits >>>= 16;
      nBits -= 16;
    }
    code = b;
    if (++hi === overflow) {
      width++;
      overflow <<= 1;
    }
    if (hi === MAX_CODE) {
      // Out of codes: send a clear at the current (12-bit) width and start over.
      bits |= CLEAR << nBits;
      nBits += width;
      if (nBits >= 16) {
        out[o] = bits;
        out[o + 1] = bits >>> 8;
        o += 2;
        bits >>>= 16;
        nBits -= 16;
      }
      width = 9;
      hi = END;
      overflow = 512;
      usedCount = nUsed;
      clearTables();
      nUsed = 0;
    } else {
      table[h] = (key << 12) | hi;
      children[key >>> 8] = ((b + 1) << 12) | hi;
      used[nUsed++] = h;
    }
  }
  usedCount = nUsed;
  const state = encoderState;
  state[0] = o;
  state[1] = bits;
  state[2] = nBits;
  state[3] = width;
  state[4] = hi;
  state[5] = code;
}

/**
 * Decompresses a code stream as Go's `lzw.NewReader(r, lzw.LSB, 8)` reads it, but
 * with a bound on the output size. Bytes after the end code are ignored, as Go's
 * reader never reads them.
 *
 * @param input The code stream.
 * @param maxOutput The largest output accepted, in bytes.
 * @returns A new array holding the decompressed bytes.
 * @throws {DecodeError} If the input ends before the end code, holds a code that
 * is neither a literal, clear, end nor a defined or next dictionary entry, or
 * decodes to more than `maxOutput` bytes (thrown before the excess is written).
 * @throws {RangeError} If `maxOutput` is not a non-negative safe integer.
 */
export function lzwDecompress(input: Uint8Array, maxOutput: number): Uint8Array {
  if (!Number.isSafeInteger(maxOutput) || maxOutput < 0) {
    throw new RangeError(
      `Cannot decompress LZW data: maxOutput must be a non-negative integer, got ${maxOutput}`,
    );
  }
  const n = input.length;
  const pos = entryPos;
  const len = entryLen;
  let out: Uint8Array = readScratch;
  let cap = Math.min(out.length, maxOutput);
  let o = 0;
  let ip = 0;
  let bits = 0;
  let nBits = 0;
  let width = 9;
  let mask = 511;
  let hi = END;
  let overflow = 512;
  // The previous code's output run; lastLen 0 means there is no previous code
  // (start, after a clear, or with a full table), so no entry is added.
  let lastPos = 0;
  let lastLen = 0;

  for (;;) {
    if (nBits < width) {
      if (ip + 1 < n) {
        // Two bytes at a time: at most 11 + 16 bits buffered.
        bits |= (input[ip]! | (input[ip + 1]! << 8)) << nBits;
        ip += 2;
        nBits += 16;
      } else {
        while (nBits < width) {
          if (ip >= n) throw new DecodeError("Cannot decompress LZW data: input ends before the end code");
          bits |= input[ip++]! << nBits;
          nBits += 8;
        }
      }
    }
    const code = bits & mask;
    bits >>>= width;
    nBits -= width;

    if (code < CLEAR) {
      if (o >= cap) {
        if (o >= maxOutput) throw tooLong(maxOutput);
        out = grow(out, o, o + 1, maxOutput);
        cap = Math.min(out.length, maxOutput);
      }
      if (lastLen !== 0) {
        pos[hi] = lastPos;
        len[hi] = lastLen + 1;
      }
      out[o] = code;
      lastPos = o++;
      lastLen = 1;
    } else if (code <= hi && code > END) {
      let src: number;
      let l: number;
      if (code === hi && lastLen !== 0) {
        // The entry being defined right now: the previous run plus its own first
        // byte, which this (overlapping, forward) copy produces.
        src = lastPos;
        l = lastLen + 1;
      } else {
        src = pos[code]!;
        l = len[code]!;
      }
      const end = o + l;
      if (end > cap) {
        if (end > maxOutput) throw tooLong(maxOutput);
        out = grow(out, o, end, maxOutput);
        cap = Math.min(out.length, maxOutput);
      }
      if (lastLen !== 0) {
        pos[hi] = lastPos;
        len[hi] = lastLen + 1;
      }
      lastPos = o;
      lastLen = l;
      if (l <= 32 || src + l > o) {
        for (let j = 0; j < l; j++) out[o + j] = out[src + j]!;
      } else {
        out.copyWithin(o, src, src + l);
      }
      o = end;
    } else if (code === CLEAR) {
      width = 9;
      mask = 511;
      hi = END;
      overflow = 512;
      lastLen = 0;
      continue;
    } else if (code === END) {
      break;
    } else {
      throw new DecodeError(`Cannot decompress LZW data: invalid code ${code}`);
    }

    if (++hi === overflow) {
      if (width === 12) {
        // Table full: keep decoding with the entries there are, add no more.
        hi--;
        lastLen = 0;
      } else {
        width++;
        mask = (mask << 1) | 1;
        overflow <<= 1;
      }
    }
  }

  const result = out.slice(0, o);
  if (out.length <= KEEP_SCRATCH) readScratch = out;
  return result;
}

/**
 * Copies the output so far into a larger buffer: double the size, but no larger
 * than the output limit, so a hostile input cannot make the reader allocate more
 * than `limit` bytes.
 *
 * @param buf The current buffer.
 * @param used How many bytes of `buf` hold output.
 * @param need The size needed now (at most `limit`).
 * @param limit The output limit.
 * @returns A new buffer of at least `need` and at most `limit` bytes, starting with `buf[0, used)`.
 */
function grow(buf: Uint8Array, used: number, need: number, limit: number): Uint8Array {
  const size = Math.min(Math.max(buf.length * 2, need, 4096), limit);
  const next = new Uint8Array(size);
  next.set(buf.subarray(0, used));
  return next;
}

/**
 * Builds the error for output over the limit.
 *
 * @param maxOutput The limit.
 * @returns The error to throw.
 */
function tooLong(maxOutput: number): DecodeError {
  return new DecodeError(`Cannot decompress LZW data: output exceeds the limit of ${maxOutput} bytes`);
}
