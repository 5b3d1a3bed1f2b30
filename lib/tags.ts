// Copyright (c) memberlist-ts authors. SPDX-License-Identifier: MPL-2.0
/**
 * Node metadata as key/value tags, in serf's format (serf `encodeTags`): the
 * byte 255, then a msgpack map of strings to strings. A node whose
 * `nodeMeta()` returns {@linkcode encodeTags} output shows its tags in
 * `serf members`, and the tags of serf agents read back with
 * {@linkcode decodeTags}. The agent and the HTTP API use this format.
 *
 * @module
 */

/** serf's tag magic byte: metadata starting with it is a msgpack map of tags. */
const TAG_MAGIC = 255;

/**
 * Encodes tags as serf does. Keys are written in sorted order, so equal tags
 * give equal bytes.
 *
 * @param tags The tags.
 * @returns The metadata bytes.
 *
 * @example Usage
 * ```ts
 * import { decodeTags, encodeTags } from "@gossip/memberlist";
 * import assert from "node:assert/strict";
 *
 * const meta = encodeTags({ role: "web", dc: "eu-1" });
 * assert.equal(meta[0], 255);
 * assert.deepEqual(decodeTags(meta), { dc: "eu-1", role: "web" });
 * ```
 */
export function encodeTags(tags: Readonly<Record<string, string>>): Uint8Array {
  const keys = Object.keys(tags).sort();
  const out: number[] = [TAG_MAGIC];
  const n = keys.length;
  if (n < 16) out.push(0x80 | n);
  else if (n < 0x10000) out.push(0xde, n >> 8, n & 0xff);
  else throw new RangeError(`Cannot encode tags: ${n} tags is more than 65535`);
  const enc = new TextEncoder();
  for (const key of keys) {
    const value = tags[key];
    if (typeof value !== "string") throw new TypeError(`Cannot encode tag "${key}": expected a string value`);
    writeStr(out, enc.encode(key));
    writeStr(out, enc.encode(value));
  }
  return new Uint8Array(out);
}

/** go-msgpack 0.5 writes strings as "raw": fixraw, raw16, raw32 (no str8). */
function writeStr(out: number[], b: Uint8Array): void {
  const n = b.length;
  if (n < 32) out.push(0xa0 | n);
  else if (n < 0x10000) out.push(0xda, n >> 8, n & 0xff);
  else out.push(0xdb, (n >>> 24) & 0xff, (n >> 16) & 0xff, (n >> 8) & 0xff, n & 0xff);
  for (const x of b) out.push(x);
}

/**
 * Decodes serf-format tags, or returns null when the metadata is not in that
 * format (it does not start with byte 255, or is not a map of strings).
 *
 * @param meta Node metadata (`node.meta`).
 * @returns The tags, or null.
 *
 * @example Usage
 * ```ts
 * import { decodeTags } from "@gossip/memberlist";
 * import assert from "node:assert/strict";
 *
 * assert.deepEqual(decodeTags(new Uint8Array([255, 0x81, 0xa1, 0x61, 0xa1, 0x62])), { a: "b" });
 * assert.equal(decodeTags(new TextEncoder().encode("role=web")), null);
 * ```
 */
export function decodeTags(meta: Uint8Array): Record<string, string> | null {
  if (meta.length < 2 || meta[0] !== TAG_MAGIC) return null;
  let pos = 1;
  const byte = (): number => {
    if (pos >= meta.length) throw new RangeError("truncated");
    return meta[pos++]!;
  };
  const uint = (bytes: number): number => {
    let v = 0;
    for (let i = 0; i < bytes; i++) v = v * 256 + byte();
    return v;
  };
  const dec = new TextDecoder("utf-8", { fatal: true });
  const str = (): string => {
    const t = byte();
    let n: number;
    if ((t & 0xe0) === 0xa0) n = t & 0x1f;
    else if (t === 0xd9 || t === 0xc4) n = uint(1);
    else if (t === 0xda || t === 0xc5) n = uint(2);
    else if (t === 0xdb || t === 0xc6) n = uint(4);
    else throw new TypeError("not a string");
    if (n > meta.length - pos) throw new RangeError("truncated");
    const s = dec.decode(meta.subarray(pos, pos + n));
    pos += n;
    return s;
  };
  try {
    const t = byte();
    let count: number;
    if ((t & 0xf0) === 0x80) count = t & 0x0f;
    else if (t === 0xde) count = uint(2);
    else if (t === 0xdf) count = uint(4);
    else return null;
    // Each entry takes at least 2 bytes: a count beyond what arrived is malformed.
    if (count * 2 > meta.length - pos) return null;
    const tags: Record<string, string> = {};
    for (let i = 0; i < count; i++) {
      const key = str();
      Object.defineProperty(tags, key, { value: str(), enumerable: true, writable: true, configurable: true });
    }
    return pos === meta.length ? tags : null;
  } catch {
    return null;
  }
}
