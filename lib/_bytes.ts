// Copyright (c) memberlist-ts authors. SPDX-License-Identifier: MPL-2.0
/**
 * Byte helpers for the wire layer: a growable big-endian writer, a bounds-checked
 * reader, and small comparisons. Private to the package.
 *
 * @module
 */

import { DecodeError } from "./errors.ts";
import { detectRuntime } from "./_runtime.ts";

const EMPTY: Uint8Array = new Uint8Array(0);

// On V8 (Deno and Node), small arrays are carved out of shared 8 KiB slabs, as
// Node's Buffer pool does: V8 puts the memory of a typed array longer than 64
// bytes (Node) or of every typed array (Deno) outside the JS heap, at 200-300 ns
// an allocation, while a view into a slab costs 20 ns. Bun's JavaScriptCore
// allocates small typed arrays in a few ns, faster than a view, so it allocates
// directly. A slab lives as long as any view into it, so only short arrays come
// from it.
const SLAB_SIZE = 8192;
const SLAB_MAX = 512;
const useSlabs = detectRuntime() !== "bun";
let slab = new Uint8Array(useSlabs ? SLAB_SIZE : 0);
let slabOffset = 0;

/**
 * A new zero-filled byte array of length `n` (from a shared slab when short,
 * on runtimes where that is faster). The caller owns it; its neighbours in the
 * slab belong to others.
 */
export function alloc(n: number): Uint8Array {
  if (!useSlabs || n > SLAB_MAX) return new Uint8Array(n);
  if (slabOffset + n > SLAB_SIZE) {
    slab = new Uint8Array(SLAB_SIZE);
    slabOffset = 0;
  }
  const out = slab.subarray(slabOffset, slabOffset + n);
  // Keep views 8-byte aligned.
  slabOffset = (slabOffset + n + 7) & ~7;
  return out;
}

/** A new array holding a copy of `src[start, end)`. */
export function copyOf(src: Uint8Array, start = 0, end: number = src.length): Uint8Array {
  const n = end - start;
  const out = alloc(n);
  if (n <= 32) for (let i = 0; i < n; i++) out[i] = src[start + i]!;
  else out.set(src.subarray(start, end));
  return out;
}

/**
 * A growable byte buffer with big-endian integer writes (the order of every
 * length and checksum in memberlist's framing).
 */
export class Writer {
  /** The backing buffer; only `buf.subarray(0, pos)` is meaningful. */
  buf: Uint8Array;
  /** Number of bytes written so far. */
  pos = 0;

  /**
   * Creates a writer.
   *
   * @param capacity Initial capacity in bytes.
   */
  constructor(capacity = 256) {
    this.buf = new Uint8Array(capacity);
  }

  /**
   * Makes room for `n` more bytes.
   *
   * @param n Number of bytes about to be written.
   */
  ensure(n: number): void {
    const need = this.pos + n;
    if (need <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < need) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.pos));
    this.buf = next;
  }

  /** Appends one byte. */
  u8(v: number): void {
    if (this.pos >= this.buf.length) this.ensure(1);
    this.buf[this.pos++] = v;
  }

  /** Appends a big-endian uint16. */
  u16(v: number): void {
    this.ensure(2);
    const b = this.buf;
    let p = this.pos;
    b[p++] = v >>> 8;
    b[p++] = v;
    this.pos = p;
  }

  /** Appends a big-endian uint32. */
  u32(v: number): void {
    this.ensure(4);
    const b = this.buf;
    let p = this.pos;
    b[p++] = v >>> 24;
    b[p++] = v >>> 16;
    b[p++] = v >>> 8;
    b[p++] = v;
    this.pos = p;
  }

  /** Appends raw bytes. */
  bytes(v: Uint8Array): void {
    const n = v.length;
    this.ensure(n);
    if (n < 16) {
      const b = this.buf;
      let p = this.pos;
      for (let i = 0; i < n; i++) b[p++] = v[i]!;
      this.pos = p;
    } else {
      this.buf.set(v, this.pos);
      this.pos += n;
    }
  }

  /** Returns a copy of the bytes written. */
  finish(): Uint8Array {
    return copyOf(this.buf, 0, this.pos);
  }

  /** Returns a view of the bytes written (valid until the next write or reset). */
  view(): Uint8Array {
    return this.buf.subarray(0, this.pos);
  }

  /** Forgets what was written, keeping the capacity. */
  reset(): void {
    this.pos = 0;
  }
}

/**
 * A cursor over received bytes. Every read is bounds-checked and throws
 * {@linkcode DecodeError} when the input is too short.
 */
export class Reader {
  /** The bytes being read. */
  readonly buf: Uint8Array;
  /** Offset of the next byte to read. */
  pos: number;
  /** Offset just past the last readable byte. */
  readonly end: number;

  /**
   * Creates a reader over `buf[pos, end)`.
   *
   * @param buf The input.
   * @param pos Where to start.
   * @param end Where to stop.
   */
  constructor(buf: Uint8Array, pos = 0, end: number = buf.length) {
    this.buf = buf;
    this.pos = pos;
    this.end = end;
  }

  /** Bytes left to read. */
  get remaining(): number {
    return this.end - this.pos;
  }

  /** Reads one byte. */
  u8(): number {
    if (this.pos >= this.end) throw truncated(1, 0);
    return this.buf[this.pos++]!;
  }

  /** Reads a big-endian uint16. */
  u16(): number {
    const p = this.pos;
    if (p + 2 > this.end) throw truncated(2, this.end - p);
    const b = this.buf;
    this.pos = p + 2;
    return (b[p]! << 8) | b[p + 1]!;
  }

  /** Reads a big-endian uint32. */
  u32(): number {
    const p = this.pos;
    if (p + 4 > this.end) throw truncated(4, this.end - p);
    const b = this.buf;
    this.pos = p + 4;
    return ((b[p]! << 24) | (b[p + 1]! << 16) | (b[p + 2]! << 8) | b[p + 3]!) >>> 0;
  }

  /** Returns a view of the next `n` bytes (no copy) and skips them. */
  bytes(n: number): Uint8Array {
    const p = this.pos;
    if (n > this.end - p) throw truncated(n, this.end - p);
    this.pos = p + n;
    return n === 0 ? EMPTY : this.buf.subarray(p, p + n);
  }

  /** Returns a view of everything left and moves to the end. */
  rest(): Uint8Array {
    return this.bytes(this.end - this.pos);
  }
}

function truncated(want: number, have: number): DecodeError {
  return new DecodeError(`Cannot read ${want} bytes: input is truncated (${have} left)`);
}

/** Whether two byte arrays hold the same bytes (`null` equals an empty array, as in Go). */
export function bytesEqual(a: Uint8Array | null, b: Uint8Array | null): boolean {
  const la = a === null ? 0 : a.length;
  const lb = b === null ? 0 : b.length;
  if (la !== lb) return false;
  for (let i = 0; i < la; i++) if (a![i] !== b![i]) return false;
  return true;
}

/** Concatenates byte arrays into a new one. */
export function concat(parts: readonly Uint8Array[]): Uint8Array {
  let n = 0;
  for (const p of parts) n += p.length;
  const out = new Uint8Array(n);
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, "0"));

/** Lowercase hex of `b`, for logs and test vectors. */
export function toHex(b: Uint8Array): string {
  let s = "";
  for (let i = 0; i < b.length; i++) s += HEX[b[i]!];
  return s;
}

/**
 * Parses lowercase or uppercase hex.
 *
 * @throws {SyntaxError} When the text is not an even number of hex digits.
 */
export function fromHex(hex: string): Uint8Array {
  if (hex.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(hex)) {
    throw new SyntaxError(`Cannot parse hex "${hex.slice(0, 16)}": expected pairs of hex digits`);
  }
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(hex.substr(i * 2, 2), 16);
  return out;
}
