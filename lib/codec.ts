// Copyright (c) memberlist-ts authors. SPDX-License-Identifier: MPL-2.0
/**
 * The messages memberlist exchanges, one typed encoder and decoder per wire
 * struct (Go: the structs and `encode`/`decode` of net.go and util.go; spec §1,
 * §4, §5).
 *
 * Encoders write exactly what Go memberlist 0.2.x writes (go-msgpack 0.5): a map
 * per struct with the Go field names as keys in sorted order, strings and byte
 * slices as msgpack str, `Vsn` as a 6-byte str, `omitempty` on the `Source*`
 * fields of pings. Decoders read anything Go's decoder reads into the same
 * struct: keys in any order, unknown keys skipped, structs as arrays, any
 * integer width with Go's range checks, str or bin for bytes.
 *
 * Every length and count read here is checked against the input before anything
 * is allocated; a malformed message throws {@linkcode DecodeError}.
 *
 * @module
 */

import { alloc, copyOf, Reader, Writer } from "./_bytes.ts";
import {
  keyBytes,
  NIL_BYTES,
  readBool,
  readBytes,
  readBytesOrEmpty,
  readInt,
  readStr,
  readStructHeader,
  readUint,
  skipValue,
  writeBool,
  writeRaw,
  writeStr,
  writeUint,
} from "./_msgpack.ts";
import { DecodeError } from "./errors.ts";

/**
 * The first byte of every message (Go's `messageType`, net.go). Values are fixed
 * by the protocol; new ones are only ever appended.
 */
export const MessageType = {
  /** Direct probe (packet) or TCP fallback probe (stream). */
  Ping: 0,
  /** Ask a relay to probe a node on our behalf. */
  IndirectPing: 1,
  /** Answer to a ping. */
  AckResp: 2,
  /** A node is suspected of having failed. */
  Suspect: 3,
  /** A node is alive (joins, refutations, metadata updates). */
  Alive: 4,
  /** A node is dead, or left when `From == Node`. */
  Dead: 5,
  /** Full state exchange, streams only. */
  PushPull: 6,
  /** Several messages in one packet. */
  Compound: 7,
  /** User payload: raw bytes in a packet, length-prefixed on a stream. */
  User: 8,
  /** LZW-compressed message. */
  Compress: 9,
  /** Encrypted stream message (packets carry no type byte when encrypted). */
  Encrypt: 10,
  /** A relay could not reach the target of an indirect probe. */
  NackResp: 11,
  /** CRC-32 over the rest of the packet, outermost plaintext layer only. */
  HasCrc: 12,
  /** Error reply on a stream. */
  Err: 13,
  /**
   * Label header. Deliberately far from the other types and from the encryption
   * version bytes (0 and 1), so that a packet can be told apart by its first byte.
   */
  HasLabel: 244,
} as const;

/** A value of {@linkcode MessageType}. */
export type MessageType = (typeof MessageType)[keyof typeof MessageType];

/** Upper bound of an encrypted stream message and of push/pull user state (Go `maxPushStateBytes`). */
export const MAX_PUSH_STATE_BYTES: number = 20 * 1024 * 1024;
/** Upper bound of the node count announced by a push/pull header (Go `maxPushStateNodes`). */
export const MAX_PUSH_STATE_NODES: number = 1024 * 1024;
/** Upper bound of a stream user message (Go `maxUserMsgBytes`). */
export const MAX_USER_MSG_BYTES: number = 20 * 1024 * 1024;

const U8 = 0xff;
const U16 = 0xffff;
const U32 = 0xffffffff;
/** Go `int` on the wire; values past 2^53 cannot be represented and are out of every bound anyway. */
const INT_MIN = -Number.MAX_SAFE_INTEGER;
const INT_MAX = Number.MAX_SAFE_INTEGER;


// ---------------------------------------------------------------- wire structs

/** `ping` (type 0): a direct probe, also forwarded by relays and sent over TCP. */
export interface Ping {
  /** Sequence number to echo in the ack (uint32). */
  seqNo: number;
  /** Name of the intended target; a node ignores pings for another name. */
  node: string;
  /** Where the ack should go (4 or 16 bytes); omitted when null. */
  sourceAddr: Uint8Array | null;
  /** Port for the ack; omitted when 0. */
  sourcePort: number;
  /** Name of the node to ack; omitted when "". */
  sourceNode: string;
}

/** `indirectPingReq` (type 1): ask a relay to probe `target` for us. */
export interface IndirectPingReq {
  /** The requester's sequence number, echoed in the relayed ack or nack. */
  seqNo: number;
  /** Target IP (4 or 16 bytes). */
  target: Uint8Array;
  /** Target port (0: the relay uses its own bind port). */
  port: number;
  /** Target node name. */
  node: string;
  /** Whether the requester wants a nack when the target does not answer. */
  nack: boolean;
  /** Where to send the ack or nack; omitted when null. */
  sourceAddr: Uint8Array | null;
  /** Port for the ack or nack; omitted when 0. */
  sourcePort: number;
  /** Requester name; omitted when "". */
  sourceNode: string;
}

/** `ackResp` (type 2). */
export interface AckResp {
  /** Echoes the ping's sequence number. */
  seqNo: number;
  /** Ping delegate payload on direct UDP acks, null otherwise. */
  payload: Uint8Array | null;
}

/** `nackResp` (type 11). */
export interface NackResp {
  /** The requester's sequence number from the indirect ping request. */
  seqNo: number;
}

/** `errResp` (type 13, streams only). */
export interface ErrResp {
  /** Human-readable error text. */
  error: string;
}

/** `suspect` (type 3). */
export interface Suspect {
  /** Incarnation of the suspected node the accuser saw. */
  incarnation: number;
  /** Suspected node's name. */
  node: string;
  /** Name of the accuser. */
  from: string;
}

/** `alive` (type 4). */
export interface Alive {
  /** The node's incarnation (starts at 1). */
  incarnation: number;
  /** Node name. */
  node: string;
  /** Advertised IP, 4 or 16 bytes, kept exactly as received. */
  addr: Uint8Array;
  /** Advertised port (0: receivers use their own bind port). */
  port: number;
  /** Delegate metadata, null when the node has none. */
  meta: Uint8Array | null;
  /** `[pMin, pMax, pCur, dMin, dMax, dCur]`; always 6 bytes when sent. */
  vsn: Uint8Array;
}

/** `dead` (type 5). `from === node` means the node left. */
export interface Dead {
  /** Incarnation being declared dead. */
  incarnation: number;
  /** Node name. */
  node: string;
  /** Who declares it dead; the node itself when leaving. */
  from: string;
}

/** `pushPullHeader`: the first value of a push/pull stream message. */
export interface PushPullHeader {
  /** Number of node records that follow. */
  nodes: number;
  /** Number of raw user-state bytes after the node records. */
  userStateLen: number;
  /** Join (true) or periodic anti-entropy (false); echoed by the responder. */
  join: boolean;
}

/** `pushNodeState`: one node record in a push/pull exchange. */
export interface PushNodeState {
  /** Node name. */
  name: string;
  /** IP bytes exactly as stored. */
  addr: Uint8Array;
  /** Port. */
  port: number;
  /** Metadata, null when none. */
  meta: Uint8Array | null;
  /** Incarnation. */
  incarnation: number;
  /** 0 alive, 1 suspect, 2 dead, 3 left (other values are kept and ignored by the merge). */
  state: number;
  /** Six version bytes as stored for that node. */
  vsn: Uint8Array;
}

/** `userMsgHeader`: the first value of a user stream message. */
export interface UserMsgHeader {
  /** Number of raw bytes that follow. */
  userMsgLen: number;
}

/** `compress` (type 9 body). */
export interface Compress {
  /** Compression algorithm; 0 (LZW) is the only one. */
  algo: number;
  /** Compressed bytes of a complete message, type byte included. */
  buf: Uint8Array;
}

/** A complete push/pull message: header, node records, user state. */
export interface PushPull {
  /** Join (true) or periodic anti-entropy (false). */
  join: boolean;
  /** Every record of the sender's node table. */
  nodes: PushNodeState[];
  /** Opaque delegate state (empty when none). */
  userState: Uint8Array;
}

// ---------------------------------------------------------------- keys

// Ids of the field names that appear on the wire.
const K_NODE = 0, K_SEQNO = 1, K_SOURCE_ADDR = 2, K_SOURCE_NODE = 3, K_SOURCE_PORT = 4, K_NACK = 5,
  K_PORT = 6, K_TARGET = 7, K_PAYLOAD = 8, K_ERROR = 9, K_FROM = 10, K_INCARNATION = 11, K_ADDR = 12,
  K_META = 13, K_VSN = 14, K_JOIN = 15, K_NODES = 16, K_USER_STATE_LEN = 17, K_NAME = 18, K_STATE = 19,
  K_USER_MSG_LEN = 20, K_ALGO = 21, K_BUF = 22;

const KEY_NAMES = [
  "Node", "SeqNo", "SourceAddr", "SourceNode", "SourcePort", "Nack", "Port", "Target", "Payload", "Error",
  "From", "Incarnation", "Addr", "Meta", "Vsn", "Join", "Nodes", "UserStateLen", "Name", "State",
  "UserMsgLen", "Algo", "Buf",
];
const KEY: Uint8Array[] = KEY_NAMES.map(keyBytes);

// Keys grouped by length; a lookup compares the first four bytes as one integer,
// then the rest (keys are case-sensitive, as in Go).
const keysByLength: { first4: number; id: number }[][] = [];
for (let id = 0; id < KEY_NAMES.length; id++) {
  const k = KEY[id]!;
  const n = k.length - 1;
  (keysByLength[n] ??= []).push({ first4: first4(k, 1, n), id });
}

function first4(buf: Uint8Array, p: number, n: number): number {
  return ((buf[p]! << 24) | ((n > 1 ? buf[p + 1]! : 0) << 16) | ((n > 2 ? buf[p + 2]! : 0) << 8) | (n > 3 ? buf[p + 3]! : 0)) | 0;
}

/** Reads a map key and returns its id, or -1 for a key no memberlist struct has. */
function readKey(r: Reader): number {
  const b = r.u8();
  let n: number;
  if (b >= 0xa0 && b <= 0xbf) n = b & 0x1f;
  else if (b === 0xd9 || b === 0xc4) n = r.u8();
  else if (b === 0xda || b === 0xc5) n = r.u16();
  else if (b === 0xdb || b === 0xc6) n = r.u32();
  else {
    // A non-string key matches no field: skip it (its value is skipped by the caller).
    r.pos--;
    skipValue(r);
    return -1;
  }
  const p = r.pos;
  if (n > r.end - p) throw new DecodeError(`Cannot read ${n} bytes: input is truncated (${r.end - p} left)`);
  r.pos = p + n;
  const candidates = n < keysByLength.length ? keysByLength[n] : undefined;
  if (candidates === undefined || n === 0) return -1;
  const buf = r.buf;
  const head = first4(buf, p, n);
  for (const c of candidates) {
    if (c.first4 !== head) continue;
    const k = KEY[c.id]!;
    let i = 4;
    while (i < n && buf[p + i] === k[i + 1]) i++;
    if (i >= n) return c.id;
  }
  return -1;
}

/** Reads the struct header; returns [count, fieldOrder] where fieldOrder is set for array-encoded structs. */
function structEntries(r: Reader, what: string, order: readonly number[]): number {
  const h = readStructHeader(r, what);
  if (h >= 0) {
    arrayOrder = null;
    return h;
  }
  arrayOrder = order;
  return ~h;
}
// Set by structEntries: the Go declaration order when the struct came as an array.
let arrayOrder: readonly number[] | null = null;

function nextKey(r: Reader, order: readonly number[] | null, i: number): number {
  return order === null ? readKey(r) : (order[i] ?? -1);
}

// ---------------------------------------------------------------- encoders

/** The `Source*` fields of pings and indirect pings, which Go omits when empty. */
type SourceFields = Pick<Ping, "sourceAddr" | "sourceNode" | "sourcePort">;

/** How many `Source*` fields are not empty (and so are written). */
function sourceFieldCount(m: SourceFields): number {
  return (m.sourceAddr !== null && m.sourceAddr.length > 0 ? 1 : 0) + (m.sourceNode !== "" ? 1 : 0) +
    (m.sourcePort !== 0 ? 1 : 0);
}

/** Writes the non-empty `Source*` fields, in Go's key order (SourceAddr, SourceNode, SourcePort). */
function encodeSourceFields(w: Writer, m: SourceFields): void {
  if (m.sourceAddr !== null && m.sourceAddr.length > 0) {
    w.bytes(KEY[K_SOURCE_ADDR]!);
    writeRaw(w, m.sourceAddr);
  }
  if (m.sourceNode !== "") {
    w.bytes(KEY[K_SOURCE_NODE]!);
    writeStr(w, m.sourceNode);
  }
  if (m.sourcePort !== 0) {
    w.bytes(KEY[K_SOURCE_PORT]!);
    writeUint(w, m.sourcePort, U16, "SourcePort");
  }
}

function encodePing(w: Writer, m: Ping): void {
  w.u8(0x82 + sourceFieldCount(m));
  w.bytes(KEY[K_NODE]!);
  writeStr(w, m.node);
  w.bytes(KEY[K_SEQNO]!);
  writeUint(w, m.seqNo, U32, "SeqNo");
  encodeSourceFields(w, m);
}

function encodeIndirectPingReq(w: Writer, m: IndirectPingReq): void {
  w.u8(0x85 + sourceFieldCount(m));
  w.bytes(KEY[K_NACK]!);
  writeBool(w, m.nack);
  w.bytes(KEY[K_NODE]!);
  writeStr(w, m.node);
  w.bytes(KEY[K_PORT]!);
  writeUint(w, m.port, U16, "Port");
  w.bytes(KEY[K_SEQNO]!);
  writeUint(w, m.seqNo, U32, "SeqNo");
  encodeSourceFields(w, m);
  w.bytes(KEY[K_TARGET]!);
  writeRaw(w, m.target);
}

function encodeAckResp(w: Writer, m: AckResp): void {
  w.u8(0x82);
  w.bytes(KEY[K_PAYLOAD]!);
  writeRaw(w, m.payload);
  w.bytes(KEY[K_SEQNO]!);
  writeUint(w, m.seqNo, U32, "SeqNo");
}

function encodeNackResp(w: Writer, m: NackResp): void {
  w.u8(0x81);
  w.bytes(KEY[K_SEQNO]!);
  writeUint(w, m.seqNo, U32, "SeqNo");
}

function encodeErrResp(w: Writer, m: ErrResp): void {
  w.u8(0x81);
  w.bytes(KEY[K_ERROR]!);
  writeStr(w, m.error);
}

// suspect and dead share their shape.
function encodeSuspectOrDead(w: Writer, m: Suspect | Dead): void {
  w.u8(0x83);
  w.bytes(KEY[K_FROM]!);
  writeStr(w, m.from);
  w.bytes(KEY[K_INCARNATION]!);
  writeUint(w, m.incarnation, U32, "Incarnation");
  w.bytes(KEY[K_NODE]!);
  writeStr(w, m.node);
}

function encodeAlive(w: Writer, m: Alive): void {
  w.u8(0x86);
  w.bytes(KEY[K_ADDR]!);
  writeRaw(w, m.addr);
  w.bytes(KEY[K_INCARNATION]!);
  writeUint(w, m.incarnation, U32, "Incarnation");
  w.bytes(KEY[K_META]!);
  writeRaw(w, m.meta);
  w.bytes(KEY[K_NODE]!);
  writeStr(w, m.node);
  w.bytes(KEY[K_PORT]!);
  writeUint(w, m.port, U16, "Port");
  w.bytes(KEY[K_VSN]!);
  writeRaw(w, m.vsn);
}

/** Appends a push/pull header (no type byte). */
export function encodePushPullHeader(w: Writer, m: PushPullHeader): void {
  w.u8(0x83);
  w.bytes(KEY[K_JOIN]!);
  writeBool(w, m.join);
  w.bytes(KEY[K_NODES]!);
  writeUint(w, m.nodes, INT_MAX, "Nodes");
  w.bytes(KEY[K_USER_STATE_LEN]!);
  writeUint(w, m.userStateLen, INT_MAX, "UserStateLen");
}

/**
 * Appends one push/pull node record (no type byte).
 *
 * @param w Where to write.
 * @param m The record.
 */
export function encodePushNodeState(w: Writer, m: PushNodeState): void {
  w.u8(0x87);
  w.bytes(KEY[K_ADDR]!);
  writeRaw(w, m.addr);
  w.bytes(KEY[K_INCARNATION]!);
  writeUint(w, m.incarnation, U32, "Incarnation");
  w.bytes(KEY[K_META]!);
  writeRaw(w, m.meta);
  w.bytes(KEY[K_NAME]!);
  writeStr(w, m.name);
  w.bytes(KEY[K_PORT]!);
  writeUint(w, m.port, U16, "Port");
  w.bytes(KEY[K_STATE]!);
  writeUint(w, m.state, INT_MAX, "State");
  w.bytes(KEY[K_VSN]!);
  writeRaw(w, m.vsn);
}

/** Appends a user message header (no type byte). */
export function encodeUserMsgHeader(w: Writer, m: UserMsgHeader): void {
  w.u8(0x81);
  w.bytes(KEY[K_USER_MSG_LEN]!);
  writeUint(w, m.userMsgLen, INT_MAX, "UserMsgLen");
}

function encodeCompress(w: Writer, m: Compress): void {
  w.u8(0x82);
  w.bytes(KEY[K_ALGO]!);
  writeUint(w, m.algo, U8, "Algo");
  w.bytes(KEY[K_BUF]!);
  writeRaw(w, m.buf);
}

// ---------------------------------------------------------------- decoders

const PING_ORDER = [K_SEQNO, K_NODE, K_SOURCE_ADDR, K_SOURCE_PORT, K_SOURCE_NODE];
const INDIRECT_ORDER = [K_SEQNO, K_TARGET, K_PORT, K_NODE, K_NACK, K_SOURCE_ADDR, K_SOURCE_PORT, K_SOURCE_NODE];
const ACK_ORDER = [K_SEQNO, K_PAYLOAD];
const NACK_ORDER = [K_SEQNO];
const ERR_ORDER = [K_ERROR];
const SUSPECT_ORDER = [K_INCARNATION, K_NODE, K_FROM];
const ALIVE_ORDER = [K_INCARNATION, K_NODE, K_ADDR, K_PORT, K_META, K_VSN];
const HEADER_ORDER = [K_NODES, K_USER_STATE_LEN, K_JOIN];
const USER_HEADER_ORDER = [K_USER_MSG_LEN];
const NODE_STATE_ORDER = [K_NAME, K_ADDR, K_PORT, K_META, K_INCARNATION, K_STATE, K_VSN];
const COMPRESS_ORDER = [K_ALGO, K_BUF];

/** Decodes a `ping` body. */
export function decodePing(r: Reader): Ping {
  const m: Ping = { seqNo: 0, node: "", sourceAddr: null, sourcePort: 0, sourceNode: "" };
  const n = structEntries(r, "ping", PING_ORDER);
  const order = arrayOrder;
  for (let i = 0; i < n; i++) {
    switch (nextKey(r, order, i)) {
      case K_SEQNO: m.seqNo = readUint(r, U32, "SeqNo"); break;
      case K_NODE: m.node = readStr(r, "Node"); break;
      case K_SOURCE_ADDR: m.sourceAddr = readBytes(r, "SourceAddr"); break;
      case K_SOURCE_PORT: m.sourcePort = readUint(r, U16, "SourcePort"); break;
      case K_SOURCE_NODE: m.sourceNode = readStr(r, "SourceNode"); break;
      default: skipValue(r);
    }
  }
  return m;
}

/** Decodes an `indirectPingReq` body. */
export function decodeIndirectPingReq(r: Reader): IndirectPingReq {
  const m: IndirectPingReq = {
    seqNo: 0, target: NIL_BYTES, port: 0, node: "", nack: false, sourceAddr: null, sourcePort: 0, sourceNode: "",
  };
  const n = structEntries(r, "indirectPingReq", INDIRECT_ORDER);
  const order = arrayOrder;
  for (let i = 0; i < n; i++) {
    switch (nextKey(r, order, i)) {
      case K_SEQNO: m.seqNo = readUint(r, U32, "SeqNo"); break;
      case K_TARGET: m.target = readBytesOrEmpty(r, "Target"); break;
      case K_PORT: m.port = readUint(r, U16, "Port"); break;
      case K_NODE: m.node = readStr(r, "Node"); break;
      case K_NACK: m.nack = readBool(r, "Nack"); break;
      case K_SOURCE_ADDR: m.sourceAddr = readBytes(r, "SourceAddr"); break;
      case K_SOURCE_PORT: m.sourcePort = readUint(r, U16, "SourcePort"); break;
      case K_SOURCE_NODE: m.sourceNode = readStr(r, "SourceNode"); break;
      default: skipValue(r);
    }
  }
  return m;
}

/** Decodes an `ackResp` body. */
export function decodeAckResp(r: Reader): AckResp {
  const m: AckResp = { seqNo: 0, payload: null };
  const n = structEntries(r, "ackResp", ACK_ORDER);
  const order = arrayOrder;
  for (let i = 0; i < n; i++) {
    switch (nextKey(r, order, i)) {
      case K_SEQNO: m.seqNo = readUint(r, U32, "SeqNo"); break;
      case K_PAYLOAD: m.payload = readBytes(r, "Payload"); break;
      default: skipValue(r);
    }
  }
  return m;
}

/** Decodes a `nackResp` body. */
export function decodeNackResp(r: Reader): NackResp {
  const m: NackResp = { seqNo: 0 };
  const n = structEntries(r, "nackResp", NACK_ORDER);
  const order = arrayOrder;
  for (let i = 0; i < n; i++) {
    if (nextKey(r, order, i) === K_SEQNO) m.seqNo = readUint(r, U32, "SeqNo");
    else skipValue(r);
  }
  return m;
}

/** Decodes an `errResp` body. */
export function decodeErrResp(r: Reader): ErrResp {
  const m: ErrResp = { error: "" };
  const n = structEntries(r, "errResp", ERR_ORDER);
  const order = arrayOrder;
  for (let i = 0; i < n; i++) {
    if (nextKey(r, order, i) === K_ERROR) m.error = readStr(r, "Error");
    else skipValue(r);
  }
  return m;
}

function decodeSuspectOrDead(r: Reader, what: string): Suspect {
  const m: Suspect = { incarnation: 0, node: "", from: "" };
  const n = structEntries(r, what, SUSPECT_ORDER);
  const order = arrayOrder;
  for (let i = 0; i < n; i++) {
    switch (nextKey(r, order, i)) {
      case K_INCARNATION: m.incarnation = readUint(r, U32, "Incarnation"); break;
      case K_NODE: m.node = readStr(r, "Node"); break;
      case K_FROM: m.from = readStr(r, "From"); break;
      default: skipValue(r);
    }
  }
  return m;
}

/** Decodes a `suspect` body. */
export function decodeSuspect(r: Reader): Suspect {
  return decodeSuspectOrDead(r, "suspect");
}

/** Decodes a `dead` body. */
export function decodeDead(r: Reader): Dead {
  return decodeSuspectOrDead(r, "dead");
}

/** Decodes an `alive` body. */
export function decodeAlive(r: Reader): Alive {
  const m: Alive = { incarnation: 0, node: "", addr: NIL_BYTES, port: 0, meta: null, vsn: NIL_BYTES };
  const n = structEntries(r, "alive", ALIVE_ORDER);
  const order = arrayOrder;
  for (let i = 0; i < n; i++) {
    switch (nextKey(r, order, i)) {
      case K_INCARNATION: m.incarnation = readUint(r, U32, "Incarnation"); break;
      case K_NODE: m.node = readStr(r, "Node"); break;
      case K_ADDR: m.addr = readBytesOrEmpty(r, "Addr"); break;
      case K_PORT: m.port = readUint(r, U16, "Port"); break;
      case K_META: m.meta = readBytes(r, "Meta"); break;
      case K_VSN: m.vsn = readBytesOrEmpty(r, "Vsn"); break;
      default: skipValue(r);
    }
  }
  return m;
}

/** Decodes a `pushPullHeader` value. */
export function decodePushPullHeader(r: Reader): PushPullHeader {
  const m: PushPullHeader = { nodes: 0, userStateLen: 0, join: false };
  const n = structEntries(r, "pushPullHeader", HEADER_ORDER);
  const order = arrayOrder;
  for (let i = 0; i < n; i++) {
    switch (nextKey(r, order, i)) {
      case K_NODES: m.nodes = readInt(r, INT_MIN, INT_MAX, "Nodes"); break;
      case K_USER_STATE_LEN: m.userStateLen = readInt(r, INT_MIN, INT_MAX, "UserStateLen"); break;
      case K_JOIN: m.join = readBool(r, "Join"); break;
      default: skipValue(r);
    }
  }
  return m;
}

/** Decodes one `pushNodeState` value. */
export function decodePushNodeState(r: Reader): PushNodeState {
  const m: PushNodeState = { name: "", addr: NIL_BYTES, port: 0, meta: null, incarnation: 0, state: 0, vsn: NIL_BYTES };
  const n = structEntries(r, "pushNodeState", NODE_STATE_ORDER);
  const order = arrayOrder;
  for (let i = 0; i < n; i++) {
    switch (nextKey(r, order, i)) {
      case K_NAME: m.name = readStr(r, "Name"); break;
      case K_ADDR: m.addr = readBytesOrEmpty(r, "Addr"); break;
      case K_PORT: m.port = readUint(r, U16, "Port"); break;
      case K_META: m.meta = readBytes(r, "Meta"); break;
      case K_INCARNATION: m.incarnation = readUint(r, U32, "Incarnation"); break;
      case K_STATE: m.state = readInt(r, INT_MIN, INT_MAX, "State"); break;
      case K_VSN: m.vsn = readBytesOrEmpty(r, "Vsn"); break;
      default: skipValue(r);
    }
  }
  return m;
}

/** Decodes a `userMsgHeader` value. */
export function decodeUserMsgHeader(r: Reader): UserMsgHeader {
  const m: UserMsgHeader = { userMsgLen: 0 };
  const n = structEntries(r, "userMsgHeader", USER_HEADER_ORDER);
  const order = arrayOrder;
  for (let i = 0; i < n; i++) {
    if (nextKey(r, order, i) === K_USER_MSG_LEN) m.userMsgLen = readInt(r, INT_MIN, INT_MAX, "UserMsgLen");
    else skipValue(r);
  }
  return m;
}

/** Decodes a `compress` body. */
export function decodeCompress(r: Reader): Compress {
  const m: Compress = { algo: 0, buf: NIL_BYTES };
  const n = structEntries(r, "compress", COMPRESS_ORDER);
  const order = arrayOrder;
  for (let i = 0; i < n; i++) {
    switch (nextKey(r, order, i)) {
      case K_ALGO: m.algo = readUint(r, U8, "Algo"); break;
      case K_BUF: m.buf = readBytesOrEmpty(r, "Buf"); break;
      default: skipValue(r);
    }
  }
  return m;
}

// ---------------------------------------------------------------- messages

/** The body type of each message type that is a single msgpack struct. */
export interface MessageBodies {
  0: Ping;
  1: IndirectPingReq;
  2: AckResp;
  3: Suspect;
  4: Alive;
  5: Dead;
  9: Compress;
  11: NackResp;
  13: ErrResp;
}

/** A decoded single-struct message, or a packet user message (raw bytes). */
export type DecodedMessage =
  | { type: 0; body: Ping }
  | { type: 1; body: IndirectPingReq }
  | { type: 2; body: AckResp }
  | { type: 3; body: Suspect }
  | { type: 4; body: Alive }
  | { type: 5; body: Dead }
  | { type: 8; body: Uint8Array }
  | { type: 9; body: Compress }
  | { type: 11; body: NackResp }
  | { type: 13; body: ErrResp };

// One scratch writer for every encoder: messages are copied out with finish().
const scratch = new Writer(1024);

/**
 * Appends the body of a message (no type byte) to `w`.
 *
 * @param w Where to write.
 * @param type The message type.
 * @param body The struct.
 * @throws {RangeError} When a field is out of its Go range.
 */
export function encodeBody<T extends keyof MessageBodies>(w: Writer, type: T, body: MessageBodies[T]): void {
  switch (type) {
    case 0: return encodePing(w, body as Ping);
    case 1: return encodeIndirectPingReq(w, body as IndirectPingReq);
    case 2: return encodeAckResp(w, body as AckResp);
    case 3:
    case 5: return encodeSuspectOrDead(w, body as Suspect);
    case 4: return encodeAlive(w, body as Alive);
    case 9: return encodeCompress(w, body as Compress);
    case 11: return encodeNackResp(w, body as NackResp);
    case 13: return encodeErrResp(w, body as ErrResp);
    default: throw new RangeError(`Cannot encode message: type ${type} has no single-struct body`);
  }
}

/**
 * Encodes a message: its type byte followed by the msgpack body, byte-identical
 * with Go memberlist's `encode(msgType, struct)`.
 *
 * @param type The message type.
 * @param body The struct.
 * @returns A new buffer.
 * @throws {RangeError} When a field is out of its Go range.
 */
export function encodeMessage<T extends keyof MessageBodies>(type: T, body: MessageBodies[T]): Uint8Array {
  scratch.reset();
  scratch.u8(type);
  encodeBody(scratch, type, body);
  return scratch.finish();
}

/**
 * Encodes a packet user message: `0x08` followed by the raw bytes.
 *
 * @param data The user payload.
 * @returns A new buffer.
 */
export function encodeUserPacket(data: Uint8Array): Uint8Array {
  const out = alloc(data.length + 1);
  out[0] = MessageType.User;
  out.set(data, 1);
  return out;
}

/**
 * Decodes one message of a packet (or the first message of a stream, when it is
 * a single struct): type byte plus body. Trailing bytes after the struct are
 * ignored, as Go's decoder ignores them.
 *
 * @param buf The message, type byte first.
 * @returns The type and the decoded body (for user messages, the raw payload).
 * @throws {DecodeError} When the message is empty, malformed, or of a type that
 * is not a single struct (compound, push/pull, encrypt, CRC, label, unknown).
 */
export function decodeMessage(buf: Uint8Array): DecodedMessage {
  if (buf.length === 0) throw new DecodeError("Cannot decode message: missing message type byte");
  const type = buf[0]!;
  const r = new Reader(buf, 1);
  switch (type) {
    case 0: return { type, body: decodePing(r) };
    case 1: return { type, body: decodeIndirectPingReq(r) };
    case 2: return { type, body: decodeAckResp(r) };
    case 3: return { type, body: decodeSuspect(r) };
    case 4: return { type, body: decodeAlive(r) };
    case 5: return { type, body: decodeDead(r) };
    case 8: return { type, body: buf.subarray(1) };
    case 9: return { type, body: decodeCompress(r) };
    case 11: return { type, body: decodeNackResp(r) };
    case 13: return { type, body: decodeErrResp(r) };
    default: throw new DecodeError(`Cannot decode message: unsupported message type ${type}`);
  }
}

/**
 * Encodes a complete push/pull message (type byte, header, node records, user
 * state), as Go's `sendLocalState` writes it before compression and encryption.
 *
 * @param m The message.
 * @returns A new buffer.
 */
export function encodePushPull(m: PushPull): Uint8Array {
  const w = new Writer(64 + m.nodes.length * 96 + m.userState.length);
  w.u8(MessageType.PushPull);
  encodePushPullHeader(w, { nodes: m.nodes.length, userStateLen: m.userState.length, join: m.join });
  for (const node of m.nodes) encodePushNodeState(w, node);
  w.bytes(m.userState);
  // The writer is ours alone: hand out its buffer rather than a copy.
  return w.view();
}

/**
 * Checks a push/pull header against the receive limits (Go `maxPushStateNodes`,
 * `maxPushStateBytes`).
 *
 * @throws {DecodeError} When a count or length is negative or too large.
 */
export function checkPushPullHeader(h: PushPullHeader): void {
  if (h.nodes < 0 || h.nodes > MAX_PUSH_STATE_NODES) {
    throw new DecodeError(`Cannot read push/pull state: node count ${h.nodes} is outside [0, ${MAX_PUSH_STATE_NODES}]`, {
      reason: "too_large",
    });
  }
  if (h.userStateLen < 0 || h.userStateLen > MAX_PUSH_STATE_BYTES) {
    throw new DecodeError(
      `Cannot read push/pull state: user state length ${h.userStateLen} is outside [0, ${MAX_PUSH_STATE_BYTES}]`,
      { reason: "too_large" },
    );
  }
}

/**
 * Decodes the body of a push/pull message held in memory (after the type byte).
 * Bytes after the user state are ignored.
 *
 * @param r A reader positioned after the type byte.
 * @returns The message; the user state is a copy.
 * @throws {DecodeError} When the input is malformed, truncated or over a limit.
 */
export function decodePushPullBody(r: Reader): PushPull {
  const header = decodePushPullHeader(r);
  checkPushPullHeader(header);
  // Every record takes at least one byte: a larger count cannot be honest.
  if (header.nodes > r.remaining) {
    throw new DecodeError(`Cannot read push/pull state: ${header.nodes} nodes announced, ${r.remaining} bytes left`);
  }
  const nodes: PushNodeState[] = new Array(header.nodes);
  for (let i = 0; i < header.nodes; i++) nodes[i] = decodePushNodeState(r);
  const userState = copyOf(r.bytes(header.userStateLen));
  return { join: header.join, nodes, userState };
}

/**
 * Encodes a user message for a stream (`SendReliable`): type byte, header, bytes.
 *
 * @param data The user payload.
 * @returns A new buffer.
 */
export function encodeUserStreamMessage(data: Uint8Array): Uint8Array {
  const w = new Writer(data.length + 24);
  w.u8(MessageType.User);
  encodeUserMsgHeader(w, { userMsgLen: data.length });
  w.bytes(data);
  return w.finish();
}

/**
 * Decodes the body of a user stream message held in memory (after the type byte).
 *
 * @param r A reader positioned after the type byte.
 * @returns A copy of the user payload.
 * @throws {DecodeError} When the header is malformed, the length is negative or
 * over `MAX_USER_MSG_BYTES`, or the payload is truncated.
 */
export function decodeUserStreamBody(r: Reader): Uint8Array {
  const { userMsgLen } = decodeUserMsgHeader(r);
  checkUserMsgLen(userMsgLen);
  return copyOf(r.bytes(userMsgLen));
}

/**
 * Checks a stream user message length against the receive limit.
 *
 * @throws {DecodeError} When it is negative or over `MAX_USER_MSG_BYTES`.
 */
export function checkUserMsgLen(n: number): void {
  if (n < 0 || n > MAX_USER_MSG_BYTES) {
    throw new DecodeError(`Cannot read user message: length ${n} is outside [0, ${MAX_USER_MSG_BYTES}]`, {
      reason: "too_large",
    });
  }
}
