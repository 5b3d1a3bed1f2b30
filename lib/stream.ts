// Copyright (c) memberlist-ts authors. SPDX-License-Identifier: MPL-2.0
/**
 * Stream framing (spec §3; Go: `rawSendMsgStream`, `readStream`,
 * `decryptRemoteState` and `readRemoteState` in net.go).
 *
 * One stream carries one request and at most one reply. A dialer with a label
 * first writes the label header, once. Each message is then:
 *
 * ```text
 * [0x0a, uint32 length, envelope]   when a key is installed and outgoing verification is on;
 *                                   the additional data is those 5 bytes, then the label
 *   [0x09 compress{0, LZW(message)}] when compression is on (always, even if larger)
 *     message                        type byte, then msgpack values and raw bytes
 * ```
 *
 * Plain messages carry no length: the reader parses msgpack values from the
 * byte stream as they arrive ({@linkcode StreamReader}), since the dialer keeps
 * the connection open for the reply. Every read is bounded.
 *
 * @module
 */

import { Reader } from "./_bytes.ts";
import { scanValue, type ValueScan } from "./_msgpack.ts";
import { lzwDecompress } from "./_lzw.ts";
import {
  checkPushPullHeader,
  checkUserMsgLen,
  decodeCompress,
  decodePushNodeState,
  decodePushPullHeader,
  decodeUserMsgHeader,
  MAX_PUSH_STATE_BYTES,
  MAX_PUSH_STATE_NODES,
  MessageType,
  type PushNodeState,
  type PushPull,
} from "./codec.ts";
import { DecodeError } from "./errors.ts";
import { addLabelHeaderToPacket, checkLabel, type LabelPolicy } from "./label.ts";
import { compressPayload, encryptionEnabled, MAX_DECOMPRESSED_BYTES, type WireOptions } from "./packet.ts";
import { encryptedLength } from "./security.ts";

/** Most bytes one stream message may take on the wire before it is refused. */
export const MAX_STREAM_MESSAGE_BYTES: number = MAX_DECOMPRESSED_BYTES;
/**
 * Largest msgpack struct read from a stream other than a push/pull record and
 * the compress wrapper: a push/pull or user message header, a TCP ping, its
 * ack, an error reply. Go's are tens of bytes; a larger one is refused as soon
 * as its size shows, rather than buffered.
 */
export const MAX_STRUCT_BYTES: number = 64 * 1024;
/**
 * Largest push/pull record: metadata of at most 64,000 bytes (the largest
 * `metaMaxSize`) plus a name and the other fields, with room to spare.
 */
export const MAX_RECORD_BYTES: number = 72 * 1024;
/** Bytes of the header before an encrypted stream message's envelope. */
export const ENCRYPT_HEADER_SIZE: number = 5;

const EMPTY: Uint8Array = new Uint8Array(0);

/**
 * Where a {@linkcode StreamReader} gets its bytes: the next chunk, or null at the end.
 *
 * @example Usage
 * ```ts
 * import type { ByteSource } from "@gossip/memberlist";
 * import assert from "node:assert/strict";
 *
 * // A source that yields two chunks, then the end.
 * const chunks = [new Uint8Array([1]), new Uint8Array([2, 3])];
 * const source: ByteSource = { read: () => Promise.resolve(chunks.shift() ?? null) };
 * const all: number[] = [];
 * for (let c = await source.read(); c !== null; c = await source.read()) all.push(...c);
 * assert.deepEqual(all, [1, 2, 3]);
 * ```
 */
export interface ByteSource {
  /**
   * Resolves with the next chunk of bytes, or null when the peer closed its side.
   * The reader may keep the chunk: the source must not reuse its memory.
   */
  read(): Promise<Uint8Array | null>;
}

/**
 * Reads bytes and whole msgpack values from a stream, buffering only what the
 * value at hand needs, and refusing to consume more than a set number of bytes.
 *
 * Costs follow the bytes that arrived, never what they announce: a value is
 * scanned once however many chunks it spans, the buffer grows by doubling with
 * what came in, and {@linkcode StreamReader.readExact} allocates its result
 * only once every byte of it is there.
 */
export class StreamReader {
  #source: ByteSource | null;
  #buf: Uint8Array;
  #start = 0;
  #end: number;
  #consumed: number;
  #limit: number;
  // Whether #buf is our own allocation (chunks from the source are never written into).
  #owned = false;
  // How far the search for the end of the value at #start got, or null.
  #scan: ValueScan | null = null;

  /**
   * Creates a reader over a byte source, or over bytes already in memory.
   *
   * @param source The stream, or the complete input.
   * @param limit Most bytes to take from the source (default {@linkcode MAX_STREAM_MESSAGE_BYTES}).
   */
  constructor(source: ByteSource | Uint8Array, limit: number = MAX_STREAM_MESSAGE_BYTES) {
    if (source instanceof Uint8Array) {
      this.#source = null;
      this.#buf = source;
      this.#end = source.length;
      this.#consumed = source.length;
    } else {
      this.#source = source;
      this.#buf = EMPTY;
      this.#end = 0;
      this.#consumed = 0;
    }
    this.#limit = limit;
  }

  /** Bytes buffered and not yet read. */
  get buffered(): number {
    return this.#end - this.#start;
  }

  /** Total bytes taken from the source so far. */
  get consumed(): number {
    return this.#consumed;
  }

  /** The next chunk from the source, counted against the limit; null at the end. */
  async #next(): Promise<Uint8Array | null> {
    if (this.#source === null) return null;
    const chunk = await this.#source.read();
    if (chunk === null) {
      this.#source = null;
      return null;
    }
    this.#consumed += chunk.length;
    if (this.#consumed > this.#limit) {
      this.#source = null;
      throw new DecodeError(`Cannot read stream: message is larger than ${this.#limit} bytes`, { reason: "too_large" });
    }
    return chunk;
  }

  /** Reads one more chunk into the buffer. Resolves false at the end of the stream. */
  async #fill(): Promise<boolean> {
    const chunk = await this.#next();
    if (chunk === null) return false;
    if (chunk.length === 0) return true;
    const have = this.#end - this.#start;
    if (have === 0) {
      this.#shift(this.#start);
      this.#buf = chunk;
      this.#owned = false;
      this.#start = 0;
      this.#end = chunk.length;
      return true;
    }
    if (this.#owned && this.#end + chunk.length <= this.#buf.length) {
      this.#buf.set(chunk, this.#end);
      this.#end += chunk.length;
      return true;
    }
    let size = Math.max(256, this.#buf.length);
    while (size < have + chunk.length) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.#buf.subarray(this.#start, this.#end));
    next.set(chunk, have);
    this.#shift(this.#start);
    this.#buf = next;
    this.#owned = true;
    this.#start = 0;
    this.#end = have + chunk.length;
    return true;
  }

  // The buffered bytes move `by` places towards the start: so does the scan.
  #shift(by: number): void {
    if (this.#scan !== null) this.#scan.pos -= by;
  }

  #eof(want: number): DecodeError {
    return new DecodeError(`Cannot read stream: it ended ${want} bytes early`);
  }

  /**
   * Resolves with the next byte without consuming it, or null at the end.
   */
  async peekByte(): Promise<number | null> {
    while (this.#start >= this.#end) if (!(await this.#fill())) return null;
    return this.#buf[this.#start]!;
  }

  /**
   * Reads one byte.
   *
   * @throws {DecodeError} At the end of the stream.
   */
  async readByte(): Promise<number> {
    while (this.#start >= this.#end) if (!(await this.#fill())) throw this.#eof(1);
    this.#scan = null;
    return this.#buf[this.#start++]!;
  }

  /**
   * Reads exactly `n` bytes into a new buffer of its own (never a view into
   * memory shared with anything else), allocated once the bytes are all here.
   *
   * @throws {DecodeError} When the stream ends first or `n` exceeds the limit.
   */
  async readExact(n: number): Promise<Uint8Array> {
    if (n > this.#limit) {
      throw new DecodeError(`Cannot read stream: ${n} bytes requested, limit is ${this.#limit}`, { reason: "too_large" });
    }
    this.#scan = null;
    const have = this.#end - this.#start;
    if (have >= n) {
      const out = new Uint8Array(n);
      out.set(this.#buf.subarray(this.#start, this.#start + n));
      this.#start += n;
      return out;
    }
    // Gather the chunks as they come; the result is allocated at the end.
    const parts: Uint8Array[] = [this.#buf.subarray(this.#start, this.#end)];
    let got = have;
    this.#buf = EMPTY;
    this.#owned = false;
    this.#start = this.#end = 0;
    while (got < n) {
      const chunk = await this.#next();
      if (chunk === null) throw this.#eof(n - got);
      const take = Math.min(chunk.length, n - got);
      parts.push(chunk.subarray(0, take));
      got += take;
      if (take < chunk.length) {
        this.#buf = chunk;
        this.#start = take;
        this.#end = chunk.length;
      }
    }
    const out = new Uint8Array(n);
    let off = 0;
    for (const part of parts) {
      out.set(part, off);
      off += part.length;
    }
    return out;
  }

  /**
   * Reads one complete msgpack value if it is already buffered, without waiting.
   *
   * @param maxBytes The largest value acceptable here; a larger one is refused
   * as soon as its size shows, before its bytes are buffered.
   * @returns A reader over the value's bytes, or null when more bytes are needed.
   * @throws {DecodeError} When the buffered bytes are malformed or the value is too large.
   */
  readBufferedValue(maxBytes: number = Infinity): Reader | null {
    const scan = this.#scan ??= { pos: this.#start, pending: 1 };
    const done = scanValue(this.#buf, scan, this.#end);
    // The scan may already be past the buffer's end (skipping a long string): refuse before buffering it.
    if (scan.pos - this.#start > maxBytes) {
      this.#scan = null;
      throw new DecodeError(`Cannot read stream: a value of more than ${maxBytes} bytes where one of at most that is expected`, {
        reason: "too_large",
      });
    }
    if (!done) return null;
    this.#scan = null;
    const r = new Reader(this.#buf, this.#start, scan.pos);
    this.#start = scan.pos;
    return r;
  }

  /**
   * Decodes the next msgpack value with `decode` if its bytes are all buffered,
   * without waiting. When the whole input is in memory this decodes in place,
   * skipping the scan for the value's end.
   *
   * @param decode Decodes the value.
   * @param maxBytes The largest value acceptable here (see {@linkcode StreamReader.readBufferedValue}).
   * @returns The decoded value, or undefined when more bytes must be read first.
   * @throws {DecodeError} When the bytes are malformed, or the value too large.
   */
  decodeBuffered<T>(decode: (r: Reader) => T, maxBytes: number = Infinity): T | undefined {
    if (this.#source === null) {
      const r = new Reader(this.#buf, this.#start, this.#end);
      const value = decode(r);
      if (r.pos - this.#start > maxBytes) {
        throw new DecodeError(`Cannot read stream: a value of more than ${maxBytes} bytes where one of at most that is expected`, {
          reason: "too_large",
        });
      }
      this.#scan = null;
      this.#start = r.pos;
      return value;
    }
    const r = this.readBufferedValue(maxBytes);
    return r === null ? undefined : decode(r);
  }

  /**
   * Reads one complete msgpack value, waiting for as many chunks as it spans.
   *
   * @param maxBytes The largest value acceptable here (see {@linkcode StreamReader.readBufferedValue}).
   * @returns A reader over exactly that value's bytes.
   * @throws {DecodeError} When the value is malformed, the stream ends inside it,
   * or it would exceed `maxBytes` or the reader's limit.
   */
  async readValue(maxBytes: number = Infinity): Promise<Reader> {
    for (;;) {
      const r = this.readBufferedValue(maxBytes);
      if (r !== null) return r;
      if (!(await this.#fill())) throw new DecodeError("Cannot read stream: it ended inside a msgpack value");
    }
  }
}

/**
 * Writes the label header a dialer sends first on a stream (nothing without a label).
 *
 * @param label The label's bytes.
 * @returns The header bytes.
 */
export function streamLabelHeader(label: Uint8Array): Uint8Array {
  return addLabelHeaderToPacket(EMPTY, label);
}

/**
 * Reads the label header a dialer may have sent first, on the accepting side
 * (Go `RemoveLabelHeaderFromStream` plus the check in `handleConn`).
 *
 * @param sr The stream.
 * @param policy The node's label settings.
 * @returns The label to authenticate this stream's messages with.
 * @throws {DecodeError} When the header is malformed.
 * @throws {LabelMismatchError} When the label is not acceptable.
 */
export async function readStreamLabel(sr: StreamReader, policy: LabelPolicy): Promise<Uint8Array> {
  let received = EMPTY;
  if ((await sr.peekByte()) === MessageType.HasLabel) {
    await sr.readByte();
    const size = await sr.readByte();
    if (size === 0) throw new DecodeError("Cannot read label header: label is empty");
    received = await sr.readExact(size);
  }
  return checkLabel(received, policy);
}

/**
 * Wraps a message for a stream (Go `rawSendMsgStream`): compress it when
 * compression is on, then encrypt it with a length header.
 *
 * @param msg A complete message, type byte first.
 * @param opts The node's wire settings.
 * @param label The label of this stream (the configured one on the dialing side,
 * the received one on the accepting side).
 * @returns The bytes to write.
 */
export function encodeStreamMessage(msg: Uint8Array, opts: WireOptions, label: Uint8Array): Uint8Array {
  let buf: Uint8Array = opts.enableCompression ? compressPayload(msg) : msg;
  if (encryptionEnabled(opts) && opts.gossipVerifyOutgoing) {
    const len = encryptedLength(opts.encryptionVersion, buf.length);
    const aad = new Uint8Array(ENCRYPT_HEADER_SIZE + label.length);
    aad[0] = MessageType.Encrypt;
    aad[1] = len >>> 24;
    aad[2] = len >>> 16;
    aad[3] = len >>> 8;
    aad[4] = len;
    aad.set(label, ENCRYPT_HEADER_SIZE);
    const envelope = opts.keyring!.encrypt(opts.encryptionVersion, buf, aad);
    const out = new Uint8Array(ENCRYPT_HEADER_SIZE + envelope.length);
    out.set(aad.subarray(0, ENCRYPT_HEADER_SIZE));
    out.set(envelope, ENCRYPT_HEADER_SIZE);
    buf = out;
  }
  return buf;
}

/** A stream message with its envelopes removed. */
export interface StreamMessage {
  /** The message type (after decryption and decompression). */
  type: number;
  /** The rest of the message: the socket itself, or the decrypted/decompressed bytes. */
  body: StreamReader;
}

/**
 * Reads the next message from a stream and removes its encryption and
 * compression (Go `readStream`). The body is left for the caller to decode by
 * type, e.g. with {@linkcode readPushPull}.
 *
 * @param sr The stream.
 * @param opts The node's wire settings.
 * @param label This stream's label (see {@linkcode readStreamLabel}).
 * @param onEncryptedLength Told the announced length of an encrypted message
 * before it is checked and read (Go samples it as `memberlist.size.remote`).
 * @returns The message, or null when the stream ended before its first byte.
 * @throws {DecodeError} When the message is malformed, too large, encrypted
 * while encryption is off, or plain while encryption is required.
 * @throws {DecryptError} When no key opens it.
 */
export async function readStreamMessage(
  sr: StreamReader,
  opts: WireOptions,
  label: Uint8Array,
  onEncryptedLength?: (length: number) => void,
): Promise<StreamMessage | null> {
  if ((await sr.peekByte()) === null) return null;
  let type = await sr.readByte();
  let body = sr;
  if (type === MessageType.Encrypt) {
    if (!encryptionEnabled(opts)) {
      throw new DecodeError("Cannot read stream: remote state is encrypted and encryption is not configured");
    }
    const header = await sr.readExact(4);
    const len = ((header[0]! << 24) | (header[1]! << 16) | (header[2]! << 8) | header[3]!) >>> 0;
    onEncryptedLength?.(len);
    if (len > MAX_PUSH_STATE_BYTES) {
      throw new DecodeError(`Cannot read stream: encrypted message of ${len} bytes is over ${MAX_PUSH_STATE_BYTES}`, {
        reason: "too_large",
      });
    }
    const envelope = await sr.readExact(len);
    const aad = new Uint8Array(ENCRYPT_HEADER_SIZE + label.length);
    aad[0] = MessageType.Encrypt;
    aad.set(header, 1);
    aad.set(label, ENCRYPT_HEADER_SIZE);
    const plain = opts.keyring!.decrypt(envelope, aad);
    if (plain.length === 0) throw new DecodeError("Cannot read stream: decrypted message is empty");
    type = plain[0]!;
    body = new StreamReader(plain.subarray(1));
  } else if (encryptionEnabled(opts) && opts.gossipVerifyIncoming) {
    throw new DecodeError("Cannot read stream: encryption is configured but remote state is not encrypted");
  }
  if (type === MessageType.Compress) {
    const c = decodeCompress(await body.readValue());
    if (c.algo !== 0) {
      throw new DecodeError(`Cannot decompress stream message: unknown algorithm ${c.algo}`, { reason: "compress" });
    }
    let inner: Uint8Array;
    try {
      inner = lzwDecompress(c.buf, MAX_DECOMPRESSED_BYTES);
    } catch (err) {
      const why = err instanceof Error ? err.message : String(err);
      throw new DecodeError(`Cannot decompress stream message: ${why}`, { reason: "compress", cause: err });
    }
    // Go refuses this too since #369 (after v0.6.0); 0.2.2 panics on it.
    if (inner.length === 0) throw new DecodeError("Cannot read stream: decompressed message is empty", { reason: "compress" });
    type = inner[0]!;
    body = new StreamReader(inner.subarray(1));
  }
  return { type, body };
}

/** Bounds and pacing of {@linkcode readPushPull}. */
export interface ReadPushPullOptions {
  /**
   * Most node records to accept: a header announcing more is refused before
   * any record is read (default Go's 1,048,576).
   */
  maxNodes?: number;
  /**
   * Awaited after every {@linkcode PUSH_PULL_SLICE} records, so that decoding a
   * large state lets the rest of the node (probes, acks) run in between.
   */
  pause?: () => Promise<void>;
}

/** How many push/pull records are decoded or merged between two pauses. */
export const PUSH_PULL_SLICE = 1024;

/**
 * Reads the body of a push/pull message (after its type byte) from a stream
 * (Go `readRemoteState`).
 *
 * @param body The message body.
 * @param opts Bounds and pacing.
 * @returns The remote state.
 * @throws {DecodeError} When it is malformed, truncated or over a limit.
 */
export async function readPushPull(body: StreamReader, opts: ReadPushPullOptions = {}): Promise<PushPull> {
  const header = body.decodeBuffered(decodePushPullHeader, MAX_STRUCT_BYTES) ??
    decodePushPullHeader(await body.readValue(MAX_STRUCT_BYTES));
  checkPushPullHeader(header);
  const maxNodes = opts.maxNodes ?? MAX_PUSH_STATE_NODES;
  if (header.nodes > maxNodes) {
    throw new DecodeError(`Cannot read push/pull state: ${header.nodes} records announced, more than the ${maxNodes} allowed`, {
      reason: "too_many_nodes",
    });
  }
  const nodes: PushNodeState[] = [];
  for (let i = 0; i < header.nodes; i++) {
    if (opts.pause !== undefined && i > 0 && i % PUSH_PULL_SLICE === 0) await opts.pause();
    // Most records are already buffered: decode them without a trip through the event loop.
    nodes.push(
      body.decodeBuffered(decodePushNodeState, MAX_RECORD_BYTES) ??
        decodePushNodeState(await body.readValue(MAX_RECORD_BYTES)),
    );
  }
  const userState = header.userStateLen > 0 ? await body.readExact(header.userStateLen) : new Uint8Array(0);
  return { join: header.join, nodes, userState };
}

/**
 * Reads the body of a stream user message (after its type byte): the header,
 * then exactly the announced number of bytes (Go `readUserMsg`).
 *
 * @param body The message body.
 * @returns The user payload.
 * @throws {DecodeError} When the header is malformed, the length is out of
 * bounds, or the stream ends early.
 */
export async function readUserMsg(body: StreamReader): Promise<Uint8Array> {
  const { userMsgLen } = decodeUserMsgHeader(await body.readValue(MAX_STRUCT_BYTES));
  checkUserMsgLen(userMsgLen);
  return userMsgLen > 0 ? await body.readExact(userMsgLen) : new Uint8Array(0);
}
