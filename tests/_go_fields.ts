// Conversions between our codec's structs and the `fields` objects of the Go
// vectors (tests/testdata/go_vectors.ts): byte fields as lowercase hex (null for
// a Go nil slice), everything else as is.
import { fromHex, Reader, toHex, Writer } from "../lib/_bytes.ts";
import { NIL_BYTES } from "../lib/_msgpack.ts";
import {
  decodeMessage,
  decodePushNodeState,
  decodePushPullHeader,
  decodeUserMsgHeader,
  encodeBody,
  encodePushNodeState,
  encodePushPullHeader,
  encodeUserMsgHeader,
  type MessageBodies,
  type PushNodeState,
} from "../lib/codec.ts";

/** A Go vector's fields object. */
export type Fields = { readonly [field: string]: string | number | boolean | null };

const BYTE_FIELDS = new Set(["addr", "sourceAddr", "target", "meta", "payload", "vsn", "buf", "data"]);
// Byte fields our structs type as Uint8Array (never null): a Go nil is NIL_BYTES.
const NON_NULL = new Set(["addr", "target", "vsn", "buf"]);

/** Our struct → Go fields. */
export function toFields(struct: object): Fields {
  const out: Record<string, string | number | boolean | null> = {};
  for (const [k, v] of Object.entries(struct)) {
    out[k] = v === NIL_BYTES ? null : v instanceof Uint8Array ? toHex(v) : (v as string | number | boolean | null);
  }
  return out;
}

/** Go fields → our struct (hex to bytes). */
export function fromFields(fields: Fields): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(fields)) {
    if (BYTE_FIELDS.has(k)) out[k] = v === null ? (NON_NULL.has(k) ? NIL_BYTES : null) : fromHex(v as string);
    else out[k] = v;
  }
  return out;
}

/**
 * Normalises fields for comparison with what Go's decoder produced, which does
 * not tell nil from empty: both become null.
 */
export function normalise(fields: Fields): Fields {
  const out: Record<string, string | number | boolean | null> = {};
  for (const [k, v] of Object.entries(fields)) out[k] = BYTE_FIELDS.has(k) && (v === "" || v === null) ? null : v;
  return out;
}

/** Encodes a message vector's struct the way the vector's type says (with its type byte, except type -1). */
export function encodeVectorMessage(type: number, fields: Fields): Uint8Array {
  const w = new Writer();
  const body = fromFields(fields);
  if (type === -1) {
    encodePushNodeState(w, body as unknown as PushNodeState);
    return w.finish();
  }
  w.u8(type);
  if (type === 6) encodePushPullHeader(w, body as { nodes: number; userStateLen: number; join: boolean });
  else if (type === 8) encodeUserMsgHeader(w, body as { userMsgLen: number });
  else encodeBody(w, type as keyof MessageBodies, body as never);
  return w.finish();
}

/** Decodes a message vector's hex the way its type says; returns Go-style fields. */
export function decodeVectorMessage(type: number, hex: string): Fields {
  const buf = fromHex(hex);
  if (type === -1) return toFields(decodePushNodeState(new Reader(buf)));
  if (type === 6) return toFields(decodePushPullHeader(new Reader(buf, 1)));
  if (type === 8) return toFields(decodeUserMsgHeader(new Reader(buf, 1)));
  return toFields(decodeMessage(buf).body as object);
}

/** A leaf message as the packet receive path sees it, in the vectors' shape. */
export function leafToGo(leaf: Uint8Array): { type: number; fields: Fields } {
  const m = decodeMessage(leaf);
  if (m.type === 8) return { type: 8, fields: { data: toHex(m.body) } };
  return { type: m.type, fields: toFields(m.body) };
}
