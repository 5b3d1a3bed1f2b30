// Structure-aware fuzz inputs: msgpack values, messages, packets and streams
// built from the wire grammar (spec §1-§5) with hostile choices at every step:
// real and unknown keys, values of the wrong type, lengths and counts that claim
// more than follows, compounds of empty, nested, truncated and compressed parts,
// records that should never enter a node table. Random bytes and mutations
// (tests/_fuzz.ts) find what breaks a parser; these reach the code behind it.
import { concat, Writer } from "../lib/_bytes.ts";
import { lzwCompress } from "../lib/_lzw.ts";
import { writeRaw, writeStr, writeUint } from "../lib/_msgpack.ts";
import { encodeMessage, MessageType } from "../lib/codec.ts";
import { addCrcHeader, compressPayload } from "../lib/packet.ts";
import type { RandomSource } from "../lib/random.ts";

const KEYS = [
  "Node", "SeqNo", "SourceAddr", "SourceNode", "SourcePort", "Nack", "Port", "Target", "Payload", "Error",
  "From", "Incarnation", "Addr", "Meta", "Vsn", "Join", "Nodes", "UserStateLen", "Name", "State",
  "UserMsgLen", "Algo", "Buf", "Bogus", "node", "",
];

/** A small helper around a random source. */
export class Dice {
  readonly random: RandomSource;
  constructor(random: RandomSource) {
    this.random = random;
  }
  /** An integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.random() * n);
  }
  /** True with probability p. */
  chance(p: number): boolean {
    return this.random() < p;
  }
  /** One of `items`. */
  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)]!;
  }
  /** Random bytes. */
  bytes(n: number): Uint8Array {
    return new Uint8Array(n).map(() => this.int(256));
  }
}

/** An integer of an interesting size, sometimes negative or past 32 bits. */
function number(d: Dice): number {
  switch (d.int(8)) {
    case 0: return 0;
    case 1: return d.int(128);
    case 2: return d.int(65536);
    case 3: return 0xffffffff;
    case 4: return 2 ** 32 + d.int(1000);
    case 5: return -1 - d.int(1000);
    case 6: return 20 * 1024 * 1024 + d.int(2);
    default: return d.int(2 ** 31);
  }
}

/** Writes one msgpack value of any type, nested up to `depth`; sometimes a header that claims more than follows. */
export function writeValue(d: Dice, w: Writer, depth: number): void {
  switch (d.int(depth > 0 ? 10 : 7)) {
    case 0: {
      const v = number(d);
      if (v < 0) {
        w.u8(0xd2);
        w.u32(v >>> 0);
      } else writeUint(w, v, Number.MAX_SAFE_INTEGER, "x");
      return;
    }
    case 1: return writeStr(w, d.pick(["", "a", "node-1", "x".repeat(40), "é".repeat(20), "x".repeat(600)]));
    case 2: return writeRaw(w, d.chance(0.2) ? null : d.bytes(d.pick([0, 3, 4, 6, 16, 17, 40, 600])));
    case 3: return w.u8(d.pick([0xc0, 0xc2, 0xc3, 0xc1, 0xca, 0xcb, 0xd4, 0xe0, 0x7f]));
    case 4: { // a length that claims far more than follows
      w.u8(d.pick([0xdb, 0xc6, 0xdd, 0xdf, 0xda, 0xdc, 0xde]));
      w.u32(number(d) >>> 0);
      return;
    }
    case 5: return w.bytes(d.bytes(d.int(4)));
    case 6: return writeUint(w, d.int(7), 255, "x");
    case 7:
    case 8: { // a map with real or unknown keys
      const n = d.int(9);
      w.u8(0x80 | n);
      for (let i = 0; i < n; i++) {
        writeStr(w, d.pick(KEYS));
        writeValue(d, w, depth - 1);
      }
      return;
    }
    default: { // an array
      const n = d.int(9);
      w.u8(0x90 | n);
      for (let i = 0; i < n; i++) writeValue(d, w, depth - 1);
    }
  }
}

/** A struct of real fields of `keys` with values that are right, wrong or out of range. */
function struct(d: Dice, w: Writer, keys: readonly string[]): void {
  const chosen = keys.filter(() => d.chance(0.85));
  if (d.chance(0.1)) chosen.push(d.pick(KEYS));
  w.u8(0x80 | Math.min(15, chosen.length));
  for (const key of chosen.slice(0, 15)) {
    writeStr(w, key);
    if (d.chance(0.7)) fieldValue(d, w, key);
    else writeValue(d, w, 2);
  }
}

/** A plausible value for a field, sometimes at or past its bounds. */
function fieldValue(d: Dice, w: Writer, key: string): void {
  switch (key) {
    case "Node":
    case "Name":
    case "From":
    case "SourceNode":
    case "Error":
      return writeStr(w, d.pick(["", "a", "b", "node-1", "x".repeat(513), "y".repeat(512), "\u0000"]));
    case "Addr":
    case "Target":
    case "SourceAddr":
      return writeRaw(w, d.chance(0.1) ? null : d.bytes(d.pick([4, 4, 16, 0, 3, 5, 17])));
    case "Vsn":
      return writeRaw(w, d.chance(0.5) ? Uint8Array.of(1, 5, 2, 0, 0, 0) : d.bytes(d.pick([0, 2, 3, 5, 6, 6, 7])));
    case "Meta":
    case "Payload":
    case "Buf":
      return writeRaw(w, d.chance(0.2) ? null : d.bytes(d.pick([0, 1, 16, 512, 513, 2000])));
    case "Nack":
    case "Join":
      return w.u8(d.pick([0xc2, 0xc3, 0, 1, 2]));
    default:
      return writeUint(w, d.chance(0.5) ? d.int(6) : Math.min(number(d), Number.MAX_SAFE_INTEGER) & 0x7fffffff, Number.MAX_SAFE_INTEGER, key);
  }
}

const FIELDS: Record<number, readonly string[]> = {
  [MessageType.Ping]: ["SeqNo", "Node", "SourceAddr", "SourcePort", "SourceNode"],
  [MessageType.IndirectPing]: ["SeqNo", "Target", "Port", "Node", "Nack", "SourceAddr", "SourcePort", "SourceNode"],
  [MessageType.AckResp]: ["SeqNo", "Payload"],
  [MessageType.Suspect]: ["Incarnation", "Node", "From"],
  [MessageType.Alive]: ["Incarnation", "Node", "Addr", "Port", "Meta", "Vsn"],
  [MessageType.Dead]: ["Incarnation", "Node", "From"],
  [MessageType.NackResp]: ["SeqNo"],
  [MessageType.Err]: ["Error"],
};

/** One leaf message: a struct of its type's fields, a user message, or an unknown type. */
export function leafMessage(d: Dice): Uint8Array {
  const w = new Writer(64);
  const types = [0, 1, 2, 3, 4, 4, 4, 5, 8, 11, 13, 200, 6];
  const type = d.pick(types);
  w.u8(type);
  if (type === MessageType.User) w.bytes(d.bytes(d.int(40)));
  else if (FIELDS[type] !== undefined) struct(d, w, FIELDS[type]!);
  else writeValue(d, w, 2);
  return w.finish();
}

/** A compound of `n` parts as bytes, parts empty, truncated, nested or compressed at random. */
export function compound(d: Dice, depth: number, top = true): Uint8Array {
  // Wide at the top (Go's limit is 255 parts), narrow when nested (Go never nests).
  const n = top ? d.pick([0, 1, 2, 3, 8, 127, 128, 255]) : d.pick([0, 1, 2, 3]);
  const parts: Uint8Array[] = [];
  for (let i = 0; i < n; i++) {
    const r = d.int(20);
    if (r === 0) parts.push(new Uint8Array(0));
    else if (r === 1 && depth > 0) parts.push(compound(d, depth - 1, false));
    else if (r === 2 && depth > 0) parts.push(compressPayload(compound(d, depth - 1, false)));
    else parts.push(leafMessage(d));
  }
  const head = [MessageType.Compound, n, ...parts.flatMap((p) => [p.length >> 8, p.length & 0xff])];
  const out = concat([Uint8Array.from(head), ...parts]);
  // Sometimes cut it short, so announced parts are missing.
  return d.chance(0.1) ? out.subarray(0, d.int(out.length + 1)) : out;
}

/** A packet's plaintext as a Go sender would frame it, or not: leaf or compound, maybe compressed, maybe with a CRC. */
export function packet(d: Dice): Uint8Array {
  let msg = d.chance(0.5) ? leafMessage(d) : compound(d, d.int(3));
  if (d.chance(0.3)) msg = compressPayload(msg);
  // An LZW bomb: a lot of one byte (a compound of empty parts, or user messages), just under, at or past the limit.
  if (d.chance(0.05)) msg = d.pick(bombs());
  if (d.chance(0.2)) msg = addCrcHeader(msg);
  return msg;
}

let bombCache: Uint8Array[] | null = null;

/** Compressed runs of one byte that inflate to 64 KiB - 1, 64 KiB, 64 KiB + 1 and 1 MiB (made once). */
function bombs(): Uint8Array[] {
  bombCache ??= [65535, 65536, 65537, 1 << 20].flatMap((size) =>
    [0, 7, 8].map((fill) => compressPayload(new Uint8Array(size).fill(fill)))
  );
  return bombCache;
}

/** A push/pull record, plausible or hostile. */
function pushRecord(d: Dice, w: Writer): void {
  struct(d, w, ["Name", "Addr", "Port", "Meta", "Incarnation", "State", "Vsn"]);
}

/** A plain stream message: push/pull (with record counts that lie), user message, ping, or junk. */
export function streamMessage(d: Dice): Uint8Array {
  const w = new Writer(256);
  switch (d.int(5)) {
    case 0:
    case 1: {
      const n = d.pick([0, 1, 3, 20, 200]);
      w.u8(MessageType.PushPull);
      const claimed = d.chance(0.7) ? n : number(d);
      w.u8(0x83);
      writeStr(w, "Join");
      w.u8(d.pick([0xc2, 0xc3]));
      writeStr(w, "Nodes");
      writeUint(w, Math.max(0, Math.min(claimed, Number.MAX_SAFE_INTEGER)), Number.MAX_SAFE_INTEGER, "Nodes");
      writeStr(w, "UserStateLen");
      const userLen = d.pick([0, 2, 100, 20 * 1024 * 1024 + 1]);
      writeUint(w, userLen, Number.MAX_SAFE_INTEGER, "UserStateLen");
      for (let i = 0; i < n; i++) pushRecord(d, w);
      w.bytes(d.bytes(Math.min(userLen, d.int(120))));
      break;
    }
    case 2:
      w.u8(MessageType.User);
      w.u8(0x81);
      writeStr(w, "UserMsgLen");
      writeUint(w, d.pick([0, 5, 1000, 20 * 1024 * 1024 + 1]), Number.MAX_SAFE_INTEGER, "UserMsgLen");
      w.bytes(d.bytes(d.int(40)));
      break;
    case 3:
      return encodeMessage(MessageType.Ping, { seqNo: d.int(100), node: d.pick(["", "m"]), sourceAddr: null, sourcePort: 0, sourceNode: "" });
    default:
      return leafMessage(d);
  }
  return w.finish();
}

/** A stream's bytes: maybe a label header, the message maybe compressed, maybe an encrypted header that claims a length. */
export function stream(d: Dice): Uint8Array {
  let msg = streamMessage(d);
  if (d.chance(0.3)) {
    const w = new Writer(msg.length + 16);
    w.u8(MessageType.Compress);
    w.u8(0x82);
    writeStr(w, "Algo");
    w.u8(d.chance(0.9) ? 0 : 1);
    writeStr(w, "Buf");
    writeRaw(w, d.chance(0.1) ? lzwCompress(new Uint8Array(0)) : lzwCompress(msg));
    msg = w.finish();
  }
  if (d.chance(0.1)) {
    const len = d.pick([0, msg.length, 20 * 1024 * 1024, 20 * 1024 * 1024 + 1, 0xffffffff]);
    msg = concat([Uint8Array.of(MessageType.Encrypt, len >>> 24, (len >>> 16) & 0xff, (len >>> 8) & 0xff, len & 0xff), d.bytes(d.int(64))]);
  }
  if (d.chance(0.1)) msg = concat([Uint8Array.of(MessageType.HasLabel, d.int(4)), d.bytes(d.int(4)), msg]);
  return msg;
}
