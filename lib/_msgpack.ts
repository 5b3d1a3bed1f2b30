// Copyright (c) memberlist-ts authors. SPDX-License-Identifier: MPL-2.0
/**
 * The msgpack subset memberlist puts on the wire, written the way go-msgpack 0.5
 * writes it and read as leniently as go-msgpack reads it into typed structs
 * (spec §4). Private: `codec.ts` builds every wire struct from these pieces.
 *
 * Writing: strings and byte slices use fixstr / str16 / str32 only (never str8,
 * never bin); unsigned integers use the smallest unsigned form; nil byte slices
 * are `0xc0`.
 *
 * Reading: any integer width (signed or unsigned) range-checked against the Go
 * field; strings and bytes from fixstr / str8 / str16 / str32 / bin8 / bin16 /
 * bin32 (and bytes from an array of small integers); `0xc0` as the zero value of
 * any field; unknown keys skipped with a bounded nesting depth. Every length is
 * checked against the bytes actually present before anything is allocated.
 *
 * @module
 */

import { alloc, copyOf, type Reader, type Writer } from "./_bytes.ts";
import { DecodeError } from "./errors.ts";

/** Deepest nesting {@linkcode skipValue} follows before giving up (memberlist's structs are flat). */
export const MAX_SKIP_DEPTH: number = 32;

/**
 * The Go nil slice for byte fields typed as non-null (`Addr`, `Target`, `Vsn`,
 * `Buf`): decoders return this very object for `0xc0`, and encoders write
 * `0xc0` for it, so a nil survives a round trip. It is empty, like any other
 * zero-length array, everywhere else.
 */
export const NIL_BYTES: Uint8Array = new Uint8Array(0);
const utf8Decoder = new TextDecoder();
const utf8Encoder = new TextEncoder();

// ---------------------------------------------------------------- writing

/** Number of bytes `s` takes in UTF-8 (lone surrogates count as U+FFFD, as TextEncoder writes them). */
export function utf8Length(s: string): number {
  const n = s.length;
  let bytes = n;
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) continue;
    if (c < 0x800) bytes += 1;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < n) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) {
        bytes += 2; // 4 bytes for a pair of two UTF-16 units
        i++;
      } else bytes += 2;
    } else bytes += 2;
  }
  return bytes;
}

function writeStrHeader(w: Writer, len: number): void {
  if (len < 32) w.u8(0xa0 | len);
  else if (len < 0x10000) {
    w.u8(0xda);
    w.u16(len);
  } else {
    w.u8(0xdb);
    w.u32(len);
  }
}

/** Writes a Go string: fixstr, str16 or str32 header, then its UTF-8 bytes. */
export function writeStr(w: Writer, s: string): void {
  const n = s.length;
  let ascii = true;
  for (let i = 0; i < n; i++) {
    if (s.charCodeAt(i) >= 0x80) {
      ascii = false;
      break;
    }
  }
  if (ascii) {
    writeStrHeader(w, n);
    w.ensure(n);
    const b = w.buf;
    let p = w.pos;
    for (let i = 0; i < n; i++) b[p++] = s.charCodeAt(i);
    w.pos = p;
    return;
  }
  const len = utf8Length(s);
  writeStrHeader(w, len);
  w.ensure(len);
  const { written } = utf8Encoder.encodeInto(s, w.buf.subarray(w.pos, w.pos + len));
  w.pos += written;
}

/** Writes a Go `[]byte`: `0xc0` for nil, else a raw string header and the bytes. */
export function writeRaw(w: Writer, b: Uint8Array | null): void {
  if (b === null || b === NIL_BYTES) {
    w.u8(0xc0);
    return;
  }
  writeStrHeader(w, b.length);
  w.bytes(b);
}

/**
 * Writes a non-negative integer in the smallest unsigned form (go-msgpack 0.5
 * writes Go's signed `int` fields this way too).
 *
 * @throws {RangeError} When `v` is not an integer in [0, max].
 */
export function writeUint(w: Writer, v: number, max: number, field: string): void {
  if (!(v >= 0 && v <= max && Math.floor(v) === v)) {
    throw new RangeError(`Cannot encode "${field}": expected an integer in [0, ${max}], got ${v}`);
  }
  if (v < 0x80) w.u8(v);
  else if (v < 0x100) {
    w.u8(0xcc);
    w.u8(v);
  } else if (v < 0x10000) {
    w.u8(0xcd);
    w.u16(v);
  } else if (v < 0x100000000) {
    w.u8(0xce);
    w.u32(v);
  } else {
    w.u8(0xcf);
    w.u32(Math.floor(v / 0x100000000));
    w.u32(v >>> 0);
  }
}

/** Writes a bool (`0xc3` / `0xc2`). */
export function writeBool(w: Writer, v: boolean): void {
  w.u8(v ? 0xc3 : 0xc2);
}

/** The bytes of a map key as go-msgpack writes it: fixstr header plus the name. */
export function keyBytes(name: string): Uint8Array {
  const out = new Uint8Array(name.length + 1);
  out[0] = 0xa0 | name.length;
  for (let i = 0; i < name.length; i++) out[i + 1] = name.charCodeAt(i);
  return out;
}

// ---------------------------------------------------------------- reading

function bad(what: string, b: number): DecodeError {
  return new DecodeError(`Cannot decode ${what}: unexpected msgpack byte 0x${b.toString(16).padStart(2, "0")}`);
}

/**
 * Reads the header of an encoded struct. Returns the entry count for a map, or
 * `~count` (a negative number) for an array (go-msgpack accepts structs written
 * as arrays, fields in declaration order). `nil` reads as an empty map.
 */
export function readStructHeader(r: Reader, what: string): number {
  const b = r.u8();
  let n: number;
  let array = false;
  if (b >= 0x80 && b <= 0x8f) n = b & 0x0f;
  else if (b >= 0x90 && b <= 0x9f) {
    n = b & 0x0f;
    array = true;
  } else if (b === 0xde) n = r.u16();
  else if (b === 0xdf) n = r.u32();
  else if (b === 0xdc) {
    n = r.u16();
    array = true;
  } else if (b === 0xdd) {
    n = r.u32();
    array = true;
  } else if (b === 0xc0) return 0;
  else throw bad(what, b);
  // Each map entry takes at least two bytes, each array element one.
  if (n > r.remaining) throw new DecodeError(`Cannot decode ${what}: ${n} entries announced, ${r.remaining} bytes left`);
  return array ? ~n : n;
}

/**
 * Reads a string or binary header and returns the payload length, or -1 for nil.
 * Returns -2 when the next value is neither (the caller decides what to do).
 */
function readRawLength(r: Reader): number {
  const b = r.buf[r.pos];
  if (b === undefined || r.pos >= r.end) throw new DecodeError("Cannot read 1 bytes: input is truncated (0 left)");
  let n: number;
  if (b >= 0xa0 && b <= 0xbf) {
    r.pos++;
    n = b & 0x1f;
  } else if (b === 0xd9 || b === 0xc4) {
    r.pos++;
    n = r.u8();
  } else if (b === 0xda || b === 0xc5) {
    r.pos++;
    n = r.u16();
  } else if (b === 0xdb || b === 0xc6) {
    r.pos++;
    n = r.u32();
  } else if (b === 0xc0) {
    r.pos++;
    return -1;
  } else return -2;
  if (n > r.remaining) throw new DecodeError(`Cannot read ${n} bytes: input is truncated (${r.remaining} left)`);
  return n;
}

/**
 * Decodes UTF-8 bytes `buf[start, start + len)` to a string (invalid sequences
 * become U+FFFD). Very short ASCII strings are built by hand; longer ones go
 * to TextDecoder, which is the fastest way on all three runtimes past ~8 bytes.
 */
export function decodeUtf8(buf: Uint8Array, start: number, len: number): string {
  if (len <= 8) {
    let s = "";
    const end = start + len;
    for (let i = start; i < end; i++) {
      const c = buf[i]!;
      if (c >= 0x80) return utf8Decoder.decode(buf.subarray(start, end));
      s += String.fromCharCode(c);
    }
    return s;
  }
  return utf8Decoder.decode(buf.subarray(start, start + len));
}

/** Reads a Go `string` field: any str or bin form; nil is "". */
export function readStr(r: Reader, field: string): string {
  const n = readRawLength(r);
  if (n === -1) return "";
  if (n === -2) throw bad(`field "${field}"`, r.buf[r.pos]!);
  const p = r.pos;
  r.pos = p + n;
  return decodeUtf8(r.buf, p, n);
}

/**
 * Reads a Go `[]byte` field into a fresh copy: any str or bin form, or an array of
 * integers 0..255; nil is `null`.
 */
export function readBytes(r: Reader, field: string): Uint8Array | null {
  const n = readRawLength(r);
  if (n === -1) return null;
  if (n >= 0) {
    const p = r.pos;
    r.pos = p + n;
    return copyOf(r.buf, p, p + n);
  }
  const b = r.u8();
  let count: number;
  if (b >= 0x90 && b <= 0x9f) count = b & 0x0f;
  else if (b === 0xdc) count = r.u16();
  else if (b === 0xdd) count = r.u32();
  else throw bad(`field "${field}"`, b);
  if (count > r.remaining) throw new DecodeError(`Cannot decode field "${field}": ${count} elements announced, ${r.remaining} bytes left`);
  const out = alloc(count);
  for (let i = 0; i < count; i++) out[i] = readUint(r, 0xff, field);
  return out;
}

/** Like {@linkcode readBytes} but nil reads as {@linkcode NIL_BYTES}. */
export function readBytesOrEmpty(r: Reader, field: string): Uint8Array {
  return readBytes(r, field) ?? NIL_BYTES;
}

/**
 * Reads an integer of any msgpack width, signed or unsigned, and checks it lies
 * in [min, max] (the Go field's range). nil reads as 0.
 */
export function readInt(r: Reader, min: number, max: number, field: string): number {
  const b = r.u8();
  let v: number;
  if (b < 0x80) return b <= max && b >= min ? b : outOfRange(field, b, min, max);
  if (b >= 0xe0) v = b - 0x100;
  else {
    switch (b) {
      case 0xcc:
        v = r.u8();
        break;
      case 0xcd:
        v = r.u16();
        break;
      case 0xce:
        v = r.u32();
        break;
      case 0xcf: {
        const hi = r.u32();
        const lo = r.u32();
        v = hi * 0x100000000 + lo;
        break;
      }
      case 0xd0:
        v = (r.u8() << 24) >> 24;
        break;
      case 0xd1:
        v = (r.u16() << 16) >> 16;
        break;
      case 0xd2:
        v = r.u32() | 0;
        break;
      case 0xd3: {
        const hi = r.u32() | 0;
        const lo = r.u32();
        v = hi * 0x100000000 + lo;
        break;
      }
      case 0xc0:
        v = 0;
        break;
      default:
        throw bad(`field "${field}"`, b);
    }
  }
  if (v < min || v > max) return outOfRange(field, v, min, max);
  return v;
}

/** Reads an unsigned integer field of at most `max`. */
export function readUint(r: Reader, max: number, field: string): number {
  return readInt(r, 0, max, field);
}

function outOfRange(field: string, v: number, min: number, max: number): never {
  throw new DecodeError(`Cannot decode field "${field}": ${v} is outside [${min}, ${max}]`);
}

/** Reads a bool: `0xc2`/`0xc3`, or the integers 0/1 (go-msgpack accepts both); nil is false. */
export function readBool(r: Reader, field: string): boolean {
  const b = r.u8();
  if (b === 0xc3 || b === 0x01) return true;
  if (b === 0xc2 || b === 0x00 || b === 0xc0) return false;
  throw bad(`field "${field}"`, b);
}

/**
 * Skips one msgpack value of any type, checking every announced length against
 * the bytes present and nesting at most {@linkcode MAX_SKIP_DEPTH} levels.
 */
export function skipValue(r: Reader, depth = 0): void {
  if (depth > MAX_SKIP_DEPTH) throw new DecodeError(`Cannot skip value: nested deeper than ${MAX_SKIP_DEPTH} levels`);
  const b = r.u8();
  if (b < 0x80 || b >= 0xe0) return; // fixint
  if (b <= 0x8f) return skipItems(r, (b & 0x0f) * 2, depth);
  if (b <= 0x9f) return skipItems(r, b & 0x0f, depth);
  if (b <= 0xbf) return void r.bytes(b & 0x1f);
  switch (b) {
    case 0xc0:
    case 0xc2:
    case 0xc3:
      return;
    case 0xc4:
    case 0xd9:
      return void r.bytes(r.u8());
    case 0xc5:
    case 0xda:
      return void r.bytes(r.u16());
    case 0xc6:
    case 0xdb:
      return void r.bytes(r.u32());
    case 0xc7:
      return void r.bytes(r.u8() + 1);
    case 0xc8:
      return void r.bytes(r.u16() + 1);
    case 0xc9:
      return void r.bytes(r.u32() + 1);
    case 0xca:
      return void r.bytes(4);
    case 0xcb:
      return void r.bytes(8);
    case 0xcc:
    case 0xd0:
      return void r.bytes(1);
    case 0xcd:
    case 0xd1:
      return void r.bytes(2);
    case 0xce:
    case 0xd2:
      return void r.bytes(4);
    case 0xcf:
    case 0xd3:
      return void r.bytes(8);
    case 0xd4:
      return void r.bytes(2);
    case 0xd5:
      return void r.bytes(3);
    case 0xd6:
      return void r.bytes(5);
    case 0xd7:
      return void r.bytes(9);
    case 0xd8:
      return void r.bytes(17);
    case 0xdc:
      return skipItems(r, r.u16(), depth);
    case 0xdd:
      return skipItems(r, r.u32(), depth);
    case 0xde:
      return skipItems(r, r.u16() * 2, depth);
    case 0xdf:
      return skipItems(r, r.u32() * 2, depth);
    default:
      throw bad("value", b); // 0xc1 is never used
  }
}

function skipItems(r: Reader, n: number, depth: number): void {
  if (n > r.remaining) throw new DecodeError(`Cannot skip value: ${n} items announced, ${r.remaining} bytes left`);
  for (let i = 0; i < n; i++) skipValue(r, depth + 1);
}

/**
 * Returns the offset just past the msgpack value that starts at `buf[pos]`, or -1
 * when `buf` ends before the value does (more bytes are needed). Used to cut
 * complete values out of a byte stream. Malformed input throws DecodeError.
 */
export function valueEnd(buf: Uint8Array, pos: number, end: number = buf.length): number {
  const scan: ValueScan = { pos, pending: 1 };
  return scanValue(buf, scan, end) ? scan.pos : -1;
}

/**
 * Where a scan for the end of a msgpack value stopped, so that it can go on
 * when more bytes arrive instead of starting over (which would make a value
 * that arrives in many chunks cost quadratic time).
 */
export interface ValueScan {
  /** Offset of the next byte to look at (past the buffer's end while skipping a long string). */
  pos: number;
  /** Values still to skip before the one being scanned ends. */
  pending: number;
}

/**
 * Advances `scan` over `buf[scan.pos, end)`. Each byte is looked at once over
 * all calls: strings and binaries are skipped by their length, and a length
 * prefix that is cut by `end` is read again whole on the next call.
 *
 * @param buf The bytes received so far.
 * @param scan The scan state; start with `{ pos, pending: 1 }` for a value at `pos`.
 * @param end Offset just past the last byte received.
 * @returns True when the value is complete: it then ends at `scan.pos`.
 * @throws {DecodeError} On a byte that starts no msgpack value, or a count too
 * large to be honest.
 */
export function scanValue(buf: Uint8Array, scan: ValueScan, end: number): boolean {
  // Iterative: `pending` counts the values still to skip at the current point.
  let pending = scan.pending;
  let p = scan.pos;
  while (pending > 0 && p < end) {
    const at = p;
    const b = buf[p++]!;
    pending--;
    if (b < 0x80 || b >= 0xe0) continue;
    let skip = 0;
    let items = 0;
    if (b <= 0x8f) items = (b & 0x0f) * 2;
    else if (b <= 0x9f) items = b & 0x0f;
    else if (b <= 0xbf) skip = b & 0x1f;
    else {
      const need = lengthBytes(b);
      if (need < 0) throw bad("value", b);
      if (p + need > end) {
        // The length is cut off: take this value up again once it is all here.
        p = at;
        pending++;
        break;
      }
      let len = 0;
      for (let i = 0; i < need; i++) len = len * 256 + buf[p + i]!;
      p += need;
      switch (b) {
        case 0xdc:
        case 0xdd:
          items = len;
          break;
        case 0xde:
        case 0xdf:
          items = len * 2;
          break;
        case 0xc7:
        case 0xc8:
        case 0xc9:
          skip = len + 1;
          break;
        case 0xc4:
        case 0xc5:
        case 0xc6:
        case 0xd9:
        case 0xda:
        case 0xdb:
          skip = len;
          break;
        default:
          skip = fixedSize(b);
      }
    }
    p += skip;
    pending += items;
    if (pending > 0x7fffffff) throw new DecodeError("Cannot decode value: too many items announced");
  }
  scan.pos = p;
  scan.pending = pending;
  return pending === 0 && p <= end;
}

/** For a prefix byte carrying a length: how many length bytes follow (0 for fixed-size values). */
function lengthBytes(b: number): number {
  switch (b) {
    case 0xc0:
    case 0xc2:
    case 0xc3:
    case 0xca:
    case 0xcb:
    case 0xcc:
    case 0xcd:
    case 0xce:
    case 0xcf:
    case 0xd0:
    case 0xd1:
    case 0xd2:
    case 0xd3:
    case 0xd4:
    case 0xd5:
    case 0xd6:
    case 0xd7:
    case 0xd8:
      return 0;
    case 0xc4:
    case 0xc7:
    case 0xd9:
      return 1;
    case 0xc5:
    case 0xc8:
    case 0xda:
    case 0xdc:
    case 0xde:
      return 2;
    case 0xc6:
    case 0xc9:
    case 0xdb:
    case 0xdd:
    case 0xdf:
      return 4;
    default:
      return -1;
  }
}

function fixedSize(b: number): number {
  switch (b) {
    case 0xca:
    case 0xce:
    case 0xd2:
      return 4;
    case 0xcb:
    case 0xcf:
    case 0xd3:
      return 8;
    case 0xcc:
    case 0xd0:
      return 1;
    case 0xcd:
    case 0xd1:
    case 0xd4:
      return 2;
    case 0xd5:
      return 3;
    case 0xd6:
      return 5;
    case 0xd7:
      return 9;
    case 0xd8:
      return 17;
    default:
      return 0;
  }
}
