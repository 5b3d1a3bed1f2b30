// Copyright (c) memberlist-ts authors. SPDX-License-Identifier: MPL-2.0
/**
 * Packet framing (spec §2): compound messages, LZW compression, the CRC header,
 * encryption and the label header, in the order Go memberlist applies them
 * (Go: `makeCompoundMessage`, `compressPayload` in util.go, `rawSendMsgPacket`
 * and `ingestPacket` in net.go).
 *
 * On the wire, outermost first:
 *
 * ```text
 * [label header]            when a label is configured
 *   [encryption envelope]   when a key is installed and outgoing verification is on
 *     [CRC header]          when the recipient is known to speak protocol 5
 *       [compress message]  when compression is on and made the message smaller
 *         message           one message, or a compound of several
 * ```
 *
 * Receivers accept every combination, whatever their own settings (but the
 * label must match, and encryption is required when incoming verification is on).
 *
 * @module
 */

import { alloc, Reader, Writer } from "./_bytes.ts";
import { crc32 } from "./_crc32.ts";
import { lzwCompress, lzwDecompress } from "./_lzw.ts";
import { decodeCompress, encodeBody, MessageType } from "./codec.ts";
import { DecodeError, DecryptError } from "./errors.ts";
import type { Keyring } from "./keyring.ts";
import { addLabelHeaderToPacket, checkLabel, type LabelPolicy, labelOverhead, removeLabelHeaderFromPacket } from "./label.ts";
import { type EncryptionVersion, encryptOverhead } from "./security.ts";

/**
 * Most parts one compound message may hold. The count is one byte (255), but Go
 * memberlist up to at least 0.2.x computes the length table's size in 8 bits and
 * misreads compounds of 128 parts or more, so we never send more than 127.
 */
export const MAX_COMPOUND_PARTS: number = 127;
/** Bytes a compound adds: type byte and count (Go `compoundHeaderOverhead`). */
export const COMPOUND_HEADER_OVERHEAD: number = 2;
/** Bytes each compound part adds: its length (Go `compoundOverhead`). */
export const COMPOUND_OVERHEAD: number = 2;
/** Upper bound of decompressed output of one stream message (Go `maxDecompressedBytes`, 40 MiB). */
export const MAX_DECOMPRESSED_BYTES: number = 40 * 1024 * 1024;
/**
 * Upper bound of what one packet decompresses to: what one datagram can carry
 * (Go reads datagrams into a 64 KiB buffer). Go compresses a packet only when
 * that makes it shorter and its packets are built to fit `udpBufferSize`, so an
 * honest packet never inflates past this; Go's own receiver allows 40 MiB.
 */
export const MAX_PACKET_DECOMPRESSED_BYTES: number = 65536;
/** Bytes of the CRC header. */
export const CRC_HEADER_SIZE: number = 5;
/** Shortest packet worth an LZW attempt (see {@linkcode sealPacket}). */
const MIN_COMPRESS_LENGTH = 64;

/** The settings that shape packets and streams on the wire. */
export interface WireOptions extends LabelPolicy {
  /** Installed keys; encryption is on when it holds at least one. */
  keyring: Keyring | null;
  /** Encryption version to send: 1, or 0 when the protocol version is 1. */
  encryptionVersion: EncryptionVersion;
  /** Require incoming input to be encrypted (when encryption is on). */
  gossipVerifyIncoming: boolean;
  /** Encrypt outgoing input (when encryption is on). */
  gossipVerifyOutgoing: boolean;
  /** Compress packets (when smaller) and streams (always). */
  enableCompression: boolean;
}

/** Whether `opts` has encryption turned on (Go `EncryptionEnabled`). */
export function encryptionEnabled(opts: WireOptions): boolean {
  return opts.keyring !== null && opts.keyring.size > 0;
}

/**
 * Bytes that label and encryption add to a packet, for gossip budgets (spec
 * §10.3). Encryption counts only when it is on, and, for piggybacking on a
 * message (`forGossipTick` false), only when outgoing verification is on too.
 */
export function packetOverhead(opts: WireOptions, forGossipTick: boolean): number {
  let n = labelOverhead(opts.label);
  if (encryptionEnabled(opts) && (forGossipTick || opts.gossipVerifyOutgoing)) {
    n += encryptOverhead(opts.encryptionVersion);
  }
  return n;
}

// ---------------------------------------------------------------- compound

/**
 * Builds one compound message from complete messages (Go `makeCompoundMessage`).
 *
 * @param msgs Messages, type byte first, each 1..65535 bytes.
 * @returns `0x07`, the count, the big-endian lengths, then the messages.
 * @throws {RangeError} When there are more than 255 messages, or one is empty or
 * longer than 65535 bytes (either would corrupt the compound).
 */
export function makeCompoundMessage(msgs: readonly Uint8Array[]): Uint8Array {
  if (msgs.length > 255) throw new RangeError(`Cannot build compound message: ${msgs.length} parts is more than 255`);
  let size = COMPOUND_HEADER_OVERHEAD;
  for (const m of msgs) {
    if (m.length === 0 || m.length > 0xffff) {
      throw new RangeError(`Cannot build compound message: part length ${m.length} is outside [1, 65535]`);
    }
    size += COMPOUND_OVERHEAD + m.length;
  }
  const out = alloc(size);
  out[0] = MessageType.Compound;
  out[1] = msgs.length;
  let p = 2;
  for (const m of msgs) {
    out[p++] = m.length >>> 8;
    out[p++] = m.length;
  }
  for (const m of msgs) {
    out.set(m, p);
    p += m.length;
  }
  return out;
}

/**
 * Splits messages into as many compound messages as needed, at most
 * {@linkcode MAX_COMPOUND_PARTS} parts each (Go `makeCompoundMessages`).
 *
 * @param msgs Messages, type byte first.
 * @returns The compound messages.
 */
export function makeCompoundMessages(msgs: readonly Uint8Array[]): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let i = 0; i < msgs.length; i += MAX_COMPOUND_PARTS) {
    out.push(makeCompoundMessage(msgs.slice(i, i + MAX_COMPOUND_PARTS)));
  }
  return out;
}

/** The parts of a compound message. */
export interface CompoundParts {
  /** The complete parts, in order (views into the input). */
  parts: Uint8Array[];
  /** How many announced parts were cut off by the end of the input. */
  truncated: number;
}

/**
 * Splits the body of a compound message (after its type byte) into its parts
 * (Go `decodeCompoundMessage`). Parts that run past the end are counted as
 * truncated; bytes after the last part are ignored.
 *
 * @param body The compound's body.
 * @returns The complete parts and the number of truncated ones.
 * @throws {DecodeError} When the count byte or the length table is missing.
 */
export function decodeCompoundMessage(body: Uint8Array): CompoundParts {
  if (body.length < 1) throw new DecodeError("Cannot split compound message: missing part count");
  const n = body[0]!;
  let p = 1;
  if (body.length < p + 2 * n) throw new DecodeError("Cannot split compound message: length table is truncated");
  let data = p + 2 * n;
  const parts: Uint8Array[] = [];
  for (let i = 0; i < n; i++, p += 2) {
    const len = (body[p]! << 8) | body[p + 1]!;
    if (data + len > body.length) return { parts, truncated: n - i };
    parts.push(body.subarray(data, data + len));
    data += len;
  }
  return { parts, truncated: 0 };
}

// ---------------------------------------------------------------- compression

const compressWriter = new Writer(1024);

/**
 * Compresses a complete message with LZW and wraps it in a compress message
 * (Go `compressPayload`).
 *
 * @param msg A complete message, type byte first.
 * @returns `0x09` followed by msgpack `compress{Algo: 0, Buf}`.
 */
export function compressPayload(msg: Uint8Array): Uint8Array {
  const buf = lzwCompress(msg);
  compressWriter.reset();
  compressWriter.u8(MessageType.Compress);
  encodeBody(compressWriter, MessageType.Compress, { algo: 0, buf });
  return compressWriter.finish();
}

/**
 * Decodes the body of a compress message (after its type byte) and decompresses
 * it (Go `decompressPayload`).
 *
 * @param body The msgpack `compress` struct.
 * @param maxOutput Largest acceptable decompressed size.
 * @returns The inner message, type byte first.
 * @throws {DecodeError} When the struct is malformed, the algorithm is not LZW,
 * the LZW data is corrupt, or the output would exceed `maxOutput`.
 */
export function decompressPayload(body: Uint8Array, maxOutput: number = MAX_DECOMPRESSED_BYTES): Uint8Array {
  const c = decodeCompress(new Reader(body));
  if (c.algo !== 0) throw new DecodeError(`Cannot decompress message: unknown algorithm ${c.algo}`);
  return lzwDecompress(c.buf, maxOutput);
}

// ---------------------------------------------------------------- send and receive

/**
 * Prepends the CRC header: `0x0c`, then the IEEE CRC-32 of `msg`, big-endian.
 *
 * @param msg The payload (after compression).
 * @returns The protected payload.
 */
export function addCrcHeader(msg: Uint8Array): Uint8Array {
  const out = alloc(CRC_HEADER_SIZE + msg.length);
  const crc = crc32(msg);
  out[0] = MessageType.HasCrc;
  out[1] = crc >>> 24;
  out[2] = crc >>> 16;
  out[3] = crc >>> 8;
  out[4] = crc;
  out.set(msg, CRC_HEADER_SIZE);
  return out;
}

/**
 * Wraps a message for sending as one packet (Go `rawSendMsgPacket`): compress it
 * when that makes it shorter, add the CRC header when asked, encrypt, label.
 *
 * @param msg A complete message (possibly a compound), type byte first.
 * @param opts The node's wire settings.
 * @param crc Whether to add the CRC header (the recipient speaks protocol 5).
 * @returns The datagram to send.
 */
export function sealPacket(msg: Uint8Array, opts: WireOptions, crc: boolean): Uint8Array {
  let buf = msg;
  // The compress wrapper costs 12 bytes and LZW needs repetition to win: no memberlist message
  // under 64 bytes ever gets shorter (acks, suspects, small pings), so do not try.
  if (opts.enableCompression && msg.length >= MIN_COMPRESS_LENGTH) {
    try {
      const compressed = compressPayload(msg);
      if (compressed.length < msg.length) buf = compressed;
    } catch {
      // Go ignores compression errors and sends the original.
    }
  }
  if (crc) buf = addCrcHeader(buf);
  if (encryptionEnabled(opts) && opts.gossipVerifyOutgoing) {
    buf = opts.keyring!.encrypt(opts.encryptionVersion, buf, opts.label);
  }
  return addLabelHeaderToPacket(buf, opts.label);
}

/**
 * Unwraps a received datagram down to its message (Go `ingestPacket` and the
 * start of `handleCommand`): check the label, decrypt, verify and strip the CRC.
 *
 * With encryption on and `gossipVerifyIncoming` off, a packet that does not
 * decrypt is taken as plaintext (for rolling encryption out).
 *
 * @param datagram The bytes received.
 * @param opts The node's wire settings.
 * @returns The message (a view into the datagram or a new buffer).
 * @throws {DecodeError} When the datagram is empty, the label header is malformed
 * or the CRC does not match.
 * @throws {LabelMismatchError} When the label is not acceptable.
 * @throws {DecryptError} When decryption fails and is required.
 */
export function openPacket(datagram: Uint8Array, opts: WireOptions): Uint8Array {
  if (datagram.length === 0) throw new DecodeError("Cannot read packet: it is empty");
  const labelled = removeLabelHeaderFromPacket(datagram);
  const aad = checkLabel(labelled.label, opts);
  let buf = labelled.buf;
  if (encryptionEnabled(opts)) {
    try {
      buf = opts.keyring!.decrypt(buf, aad);
    } catch (err) {
      if (opts.gossipVerifyIncoming || !(err instanceof DecryptError)) throw err;
    }
  }
  if (buf.length >= CRC_HEADER_SIZE && buf[0] === MessageType.HasCrc) {
    const want = ((buf[1]! << 24) | (buf[2]! << 16) | (buf[3]! << 8) | buf[4]!) >>> 0;
    buf = buf.subarray(CRC_HEADER_SIZE);
    const got = crc32(buf);
    if (got !== want) {
      throw new DecodeError(`Cannot read packet: CRC mismatch (got ${hex32(got)}, want ${hex32(want)})`, { reason: "crc" });
    }
  }
  if (buf.length === 0) throw new DecodeError("Cannot read packet: missing message type byte");
  return buf;
}

function hex32(v: number): string {
  return v.toString(16).padStart(8, "0");
}

/** Input refused while unpacking a packet: the first error of one kind, and how many there were. */
export interface PacketDrop {
  /** The first error of this kind; its `reason` names the kind. */
  error: DecodeError;
  /** How many messages or parts were refused for this reason. */
  count: number;
}

/** The leaf messages of a packet and what could not be unpacked. */
export interface UnpackedMessages {
  /** Messages other than compound and compress, in order (views or new buffers). */
  messages: Uint8Array[];
  /** What was refused, one entry per reason (empty for a sound packet). */
  drops: PacketDrop[];
}

/**
 * Flattens a packet's message into its leaf messages, opening the compress and
 * compound messages that wrap them (Go `handleCompound` and `handleCompressed`).
 *
 * Only the shapes a Go sender builds are accepted: one compress message at the
 * top (Go compresses a whole packet, never a part of one), holding a compound
 * or a leaf, or a compound at the top; a compound's parts are leaves. Other
 * nesting is refused (reason `"nesting"`), so one datagram inflates at most
 * once, to at most `maxDecompressed` bytes, and yields at most 255 messages.
 * Bad parts are counted per reason rather than reported one by one; the good
 * parts still count.
 *
 * @param msg A message, type byte first.
 * @param maxDecompressed The largest acceptable decompressed size (default
 * {@linkcode MAX_PACKET_DECOMPRESSED_BYTES}).
 * @returns The leaves and what was refused on the way.
 */
export function unpackMessages(msg: Uint8Array, maxDecompressed: number = MAX_PACKET_DECOMPRESSED_BYTES): UnpackedMessages {
  const out: UnpackedMessages = { messages: [], drops: [] };
  if (msg.length > 0 && msg[0] === MessageType.Compress) {
    try {
      msg = decompressPayload(msg.subarray(1), maxDecompressed);
    } catch (err) {
      refuse(out, compressError(err), 1);
      return out;
    }
    if (msg.length === 0) {
      refuse(out, new DecodeError("Cannot read packet: decompressed message is empty", { reason: "compress" }), 1);
      return out;
    }
  }
  if (msg.length > 0 && msg[0] === MessageType.Compound) {
    let split: CompoundParts;
    try {
      split = decodeCompoundMessage(msg.subarray(1));
    } catch (err) {
      refuse(out, err as DecodeError, 1);
      return out;
    }
    let empty = 0;
    let nested = 0;
    for (const part of split.parts) {
      if (part.length === 0) empty++;
      else if (part[0] === MessageType.Compound || part[0] === MessageType.Compress) nested++;
      else out.messages.push(part);
    }
    if (empty > 0) refuse(out, new DecodeError("Cannot read compound message: empty parts"), empty);
    if (nested > 0) {
      refuse(out, new DecodeError("Cannot read compound message: a part is itself compound or compressed", { reason: "nesting" }), nested);
    }
    if (split.truncated > 0) {
      refuse(out, new DecodeError("Cannot read compound message: parts are truncated"), split.truncated);
    }
    return out;
  }
  if (msg.length === 0) refuse(out, new DecodeError("Cannot read message: missing message type byte"), 1);
  else if (msg[0] === MessageType.Compress) {
    refuse(out, new DecodeError("Cannot read packet: compressed message inside a compressed message", { reason: "nesting" }), 1);
  } else out.messages.push(msg);
  return out;
}

function compressError(err: unknown): DecodeError {
  const reason = err instanceof DecodeError ? err.message : String(err);
  return new DecodeError(`Cannot decompress packet: ${reason}`, { reason: "compress", cause: err });
}

function refuse(out: UnpackedMessages, error: DecodeError, count: number): void {
  for (const d of out.drops) {
    if (d.error.reason === error.reason) {
      d.count += count;
      return;
    }
  }
  out.drops.push({ error, count });
}
