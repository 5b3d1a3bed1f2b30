// Fuzzing of every decoder and of the packet and stream receive pipelines.
// Shared by tests/fuzz_test.ts (a fixed budget in `npm test`) and tools/fuzz.ts
// (`npm run fuzz -- --iterations N`). Inputs are random bytes and mutations of a
// corpus: the spec's vectors, the vectors made by real Go (go_vectors.ts) and
// what our own encoders write. The property is simple: every input is either
// accepted or refused with one of the library's input errors, within bounds.
import { concat, fromHex, Reader, Writer } from "../lib/_bytes.ts";
import { lzwCompress, lzwDecompress } from "../lib/_lzw.ts";
import {
  decodeMessage,
  decodePushNodeState,
  decodePushPullBody,
  decodeUserStreamBody,
  encodeMessage,
  encodePushPull,
  encodeUserStreamMessage,
} from "../lib/codec.ts";
import { DecodeError, DecryptError, LabelMismatchError } from "../lib/errors.ts";
import { Keyring } from "../lib/keyring.ts";
import { encodeLabel } from "../lib/label.ts";
import {
  compressPayload,
  decodeCompoundMessage,
  makeCompoundMessage,
  MAX_PACKET_DECOMPRESSED_BYTES,
  openPacket,
  sealPacket,
  unpackMessages,
  type WireOptions,
} from "../lib/packet.ts";
import { createSeededRandom, type RandomSource } from "../lib/random.ts";
import {
  type ByteSource,
  encodeStreamMessage,
  readPushPull,
  readStreamLabel,
  readStreamMessage,
  readUserMsg,
  StreamReader,
} from "../lib/stream.ts";
import { goVectors } from "./testdata/go_vectors.ts";
import { Dice, packet, stream, writeValue } from "./_fuzz_grammar.ts";
import { valueEnd } from "../lib/_msgpack.ts";
import { VirtualClock } from "../lib/clock.ts";
import { defaultLocalConfig } from "../lib/config.ts";
import { silentLogger } from "../lib/logging.ts";
import { Memberlist, memberlistState } from "../lib/memberlist.ts";
import { ingestPacket } from "../lib/net.ts";
import type { MemberlistState } from "../lib/state.ts";
import { MockNetwork } from "../transports/mock.ts";
import { wireOptions } from "./_wire.ts";

/** What one fuzz run did. */
export interface FuzzReport {
  iterations: number;
  accepted: number;
  refused: number;
  /** Inputs that threw something other than an input error (each is a bug). */
  failures: { target: string; input: string; error: string }[];
  ms: number;
}

const key16 = fromHex("000102030405060708090a0b0c0d0e0f");
const key32 = new Uint8Array(32).fill(0x42);
const keyring = Keyring.create([key16, key32]);

const PLAIN = wireOptions({});
const ENCRYPTED = wireOptions({ keyring });
const LAX = wireOptions({ keyring, gossipVerifyIncoming: false });
const LABELLED = wireOptions({ keyring, label: encodeLabel("prod") });

/** Builds the corpus: complete messages, packets and stream messages. */
export function buildCorpus(): { messages: Uint8Array[]; packets: Uint8Array[]; streams: Uint8Array[]; lzw: Uint8Array[] } {
  const ip = new Uint8Array([10, 0, 0, 1]);
  const vsn = new Uint8Array([1, 5, 2, 0, 0, 0]);
  const messages: Uint8Array[] = [
    encodeMessage(0, { seqNo: 7, node: "node-a", sourceAddr: ip, sourcePort: 7946, sourceNode: "node-b" }),
    encodeMessage(1, { seqNo: 9, target: ip, port: 7946, node: "c", nack: true, sourceAddr: ip, sourcePort: 1, sourceNode: "d" }),
    encodeMessage(2, { seqNo: 1, payload: new Uint8Array([1, 2, 3]) }),
    encodeMessage(3, { incarnation: 4, node: "x", from: "y" }),
    encodeMessage(4, { incarnation: 1, node: "n", addr: ip, port: 7946, meta: new Uint8Array(40).fill(3), vsn }),
    encodeMessage(5, { incarnation: 2, node: "z", from: "z" }),
    encodeMessage(11, { seqNo: 3 }),
    encodeMessage(13, { error: "boom" }),
    new Uint8Array([8, 104, 105]),
  ];
  const nodes = Array.from({ length: 5 }, (_, i) => ({
    name: `n${i}`, addr: ip, port: 7946 + i, meta: null, incarnation: i + 1, state: i % 4, vsn,
  }));
  const pushPull = encodePushPull({ join: true, nodes, userState: new Uint8Array([9, 9]) });
  const user = encodeUserStreamMessage(new Uint8Array([1, 2, 3, 4]));
  const compound = makeCompoundMessage(messages.slice(0, 6));
  const packets: Uint8Array[] = [
    ...messages,
    compound,
    compressPayload(compound),
    sealPacket(compound, ENCRYPTED, true),
    sealPacket(compound, LABELLED, false),
    sealPacket(messages[4]!, wireOptions({ keyring, encryptionVersion: 0 }), true),
  ];
  const streams: Uint8Array[] = [
    pushPull,
    user,
    messages[0]!,
    encodeStreamMessage(pushPull, PLAIN, new Uint8Array()),
    encodeStreamMessage(pushPull, ENCRYPTED, new Uint8Array()),
    encodeStreamMessage(user, wireOptions({ enableCompression: false }), new Uint8Array()),
  ];
  const lzw = [lzwCompress(pushPull), lzwCompress(new Uint8Array(3000).fill(65))];
  for (const v of goVectors) {
    if (v.kind === "message") (v.type >= 0 ? messages : streams).push(fromHex(v.hex));
    else if (v.kind === "packet") packets.push(fromHex(v.hex));
    else if (v.kind === "stream") streams.push(fromHex(v.hex));
    else if (v.kind === "lzw") lzw.push(fromHex(v.hex));
    else if (v.kind === "compound" || v.kind === "compress" || v.kind === "crc") packets.push(fromHex(v.hex));
  }
  return { messages, packets, streams, lzw };
}

/** Returns a mutated copy of `input` (bit flips, byte changes, cuts, splices, duplications). */
export function mutate(random: RandomSource, input: Uint8Array, corpus: readonly Uint8Array[]): Uint8Array {
  let out: Uint8Array = input.slice();
  const rounds = 1 + Math.floor(random() * 4);
  const int = (n: number) => Math.floor(random() * n);
  for (let r = 0; r < rounds; r++) {
    if (out.length === 0) {
      out = new Uint8Array([int(256)]);
      continue;
    }
    switch (int(9)) {
      case 0: // flip a bit
        out[int(out.length)]! ^= 1 << int(8);
        break;
      case 1: // set a byte to an interesting value
        out[int(out.length)] = [0, 1, 0x7f, 0x80, 0xc0, 0xcc, 0xcd, 0xce, 0xcf, 0xd9, 0xda, 0xdb, 0xdc, 0xdd, 0xde, 0xdf, 0xff][int(17)]!;
        break;
      case 2: // truncate
        out = out.subarray(0, int(out.length));
        break;
      case 3: { // insert random bytes
        const at = int(out.length + 1);
        const extra = new Uint8Array(1 + int(8)).map(() => int(256));
        out = concat([out.subarray(0, at), extra, out.subarray(at)]);
        break;
      }
      case 4: { // delete a range
        const at = int(out.length);
        out = concat([out.subarray(0, at), out.subarray(at + 1 + int(8))]);
        break;
      }
      case 5: { // splice with another corpus entry
        const other = corpus[int(corpus.length)]!;
        out = concat([out.subarray(0, int(out.length + 1)), other.subarray(int(other.length + 1))]);
        break;
      }
      case 6: { // duplicate a range
        const at = int(out.length);
        const len = 1 + int(Math.min(64, out.length - at));
        out = concat([out.subarray(0, at + len), out.subarray(at, at + len), out.subarray(at + len)]);
        break;
      }
      case 7: // overwrite a big-endian length-looking field with a large value
        if (out.length >= 4) {
          const at = int(out.length - 3);
          out[at] = 0xff;
          out[at + 1] = int(256);
        }
        break;
      default: // random byte
        out[int(out.length)] = int(256);
    }
  }
  return out;
}

function isInputError(err: unknown): boolean {
  return err instanceof DecodeError || err instanceof DecryptError || err instanceof LabelMismatchError;
}

/** A source that feeds `bytes` in random-sized chunks. */
function chunks(random: RandomSource, bytes: Uint8Array): ByteSource {
  let pos = 0;
  return {
    read() {
      if (pos >= bytes.length) return Promise.resolve(null);
      const n = 1 + Math.floor(random() * 64);
      const out = bytes.slice(pos, pos + n);
      pos += n;
      return Promise.resolve(out);
    },
  };
}

const SYNC_TARGETS: { name: string; pool: "messages" | "packets" | "streams" | "lzw"; run: (b: Uint8Array) => unknown }[] = [
  { name: "decodeMessage", pool: "messages", run: (b) => decodeMessage(b) },
  { name: "decodePushPullBody", pool: "streams", run: (b) => decodePushPullBody(new Reader(b, 1)) },
  { name: "decodePushNodeState", pool: "streams", run: (b) => decodePushNodeState(new Reader(b, 1)) },
  { name: "decodeUserStreamBody", pool: "streams", run: (b) => decodeUserStreamBody(new Reader(b, 1)) },
  { name: "decodeCompoundMessage", pool: "packets", run: (b) => decodeCompoundMessage(b.subarray(1)) },
  { name: "lzwDecompress", pool: "lzw", run: (b) => lzwDecompress(b, 1 << 20) },
  {
    name: "packet pipeline (plain)",
    pool: "packets",
    run: (b) => receivePacket(openPacket(b, PLAIN)),
  },
  {
    name: "packet pipeline (encrypted)",
    pool: "packets",
    run: (b) => receivePacket(openPacket(b, ENCRYPTED)),
  },
  {
    name: "packet pipeline (lax, labelled)",
    pool: "packets",
    run: (b) => receivePacket(openPacket(b, LAX)) ?? receivePacket(openPacket(b, LABELLED)),
  },
];

/** The rest of the packet receive path: split, then decode every leaf as the handlers do. */
function receivePacket(msg: Uint8Array): number {
  const { messages } = unpackMessages(msg);
  let ok = 0;
  for (const leaf of messages) {
    try {
      decodeMessage(leaf);
      ok++;
    } catch (err) {
      if (!isInputError(err)) throw err;
    }
  }
  return ok;
}

const STREAM_LIMIT = 1 << 22;

async function receiveStream(random: RandomSource, bytes: Uint8Array, opts: WireOptions): Promise<void> {
  const sr = new StreamReader(chunks(random, bytes), STREAM_LIMIT);
  try {
    const label = await readStreamLabel(sr, opts);
    const msg = await readStreamMessage(sr, opts, label);
    if (msg === null) return;
    if (msg.type === 6) {
      const pp = await readPushPull(msg.body, { maxNodes: 64 });
      invariant(pp.nodes.length <= 64, `push/pull of ${pp.nodes.length} records past maxNodes 64`);
    } else if (msg.type === 8) await readUserMsg(msg.body);
    else decodeMessage(concat([new Uint8Array([msg.type]), (await msg.body.readValue()).rest()]));
  } finally {
    // Whatever the bytes claimed, no more was taken from the stream than the limit allows.
    invariant(sr.consumed <= STREAM_LIMIT, `stream read ${sr.consumed} bytes past its limit`);
  }
}

/** A broken property: not an input error, so it is reported as a failure. */
class InvariantError extends Error {}

function invariant(ok: boolean, what: string): void {
  if (!ok) throw new InvariantError(what);
}

/**
 * The packet path under Go's shapes: one datagram yields at most 255 leaves,
 * none of them compound or compressed, from at most 64 KiB of inflated bytes.
 */
function receiveGrammarPacket(msg: Uint8Array): number {
  const { messages, drops } = unpackMessages(msg);
  invariant(messages.length <= 255, `${messages.length} leaves from one packet`);
  let bytes = 0;
  for (const leaf of messages) {
    invariant(leaf.length > 0 && leaf[0] !== 7 && leaf[0] !== 9, `leaf of type ${leaf[0]}`);
    bytes += leaf.length;
  }
  invariant(bytes <= Math.max(msg.length, MAX_PACKET_DECOMPRESSED_BYTES), `${bytes} bytes of leaves`);
  for (const d of drops) invariant(d.count > 0 && d.error instanceof DecodeError, "empty drop entry");
  return receivePacket(msg);
}

/** The end of one msgpack value found in one piece and found chunk by chunk agree. */
async function scanDifferential(random: RandomSource, bytes: Uint8Array): Promise<void> {
  let whole: number | string;
  try {
    whole = valueEnd(bytes, 0);
  } catch (err) {
    whole = (err as Error).name;
  }
  let chunked: number | string;
  try {
    const r = await new StreamReader(chunks(random, bytes)).readValue();
    chunked = r.end - r.pos;
  } catch (err) {
    chunked = (err as Error).name;
    // Ending inside a value is what "needs more bytes" looks like on a stream.
    if (whole === -1 && chunked === "DecodeError") chunked = -1;
  }
  invariant(whole === chunked, `valueEnd ${whole}, StreamReader ${chunked}`);
}

/**
 * A node on the in-memory network that takes fuzzed datagrams through its real
 * receive path (`ingestPacket`); after each, every record in its table must be
 * one a Go peer would accept in a push/pull, and the table within maxNodes.
 */
class FuzzNode {
  static readonly MAX_NODES = 64;
  #ml: Memberlist | null = null;
  #inputs = 0;

  async state(): Promise<MemberlistState> {
    if (this.#ml === null || this.#inputs++ >= 5000) {
      await this.#ml?.shutdown();
      const clock = new VirtualClock();
      const net = new MockNetwork({ clock });
      this.#ml = await Memberlist.create({
        ...defaultLocalConfig(),
        name: "fuzz",
        transport: net.newTransport("fuzz"),
        clock,
        logger: silentLogger,
        probeInterval: 0,
        gossipInterval: 0,
        pushPullInterval: 0,
        reconnectInterval: 0,
        maxNodes: FuzzNode.MAX_NODES,
      });
      this.#inputs = 0;
    }
    return memberlistState(this.#ml);
  }

  async close(): Promise<void> {
    await this.#ml?.shutdown();
  }
}

async function receiveAtNode(node: FuzzNode, datagram: Uint8Array): Promise<void> {
  const m = await node.state();
  ingestPacket(m, { buf: datagram, from: "127.0.0.1:9999", timestamp: 0 });
  // The handoff queue drains in a microtask.
  await Promise.resolve();
  invariant(m.nodes.length <= FuzzNode.MAX_NODES, `${m.nodes.length} records past maxNodes`);
  for (const r of m.nodes) {
    invariant(r.name !== "" && new TextEncoder().encode(r.name).length <= 512, `record named "${r.name.slice(0, 20)}"`);
    invariant(r.addr.length === 4 || r.addr.length === 16, `record address of ${r.addr.length} bytes`);
    invariant(r.pMin >= 1 && r.pMin <= r.pCur && r.pCur <= r.pMax && r.dMin <= r.dCur && r.dCur <= r.dMax, `record versions of ${r.name}`);
    invariant(r.pCur >= 1 && r.pCur <= 5 && r.dCur === 0, `record versions incompatible with the node's own`);
  }
}

/**
 * Runs `iterations` fuzz inputs with a seeded generator.
 *
 * @param iterations How many inputs.
 * @param seed The seed (same seed, same inputs).
 */
export async function runFuzz(iterations: number, seed = 1): Promise<FuzzReport> {
  const random = createSeededRandom(seed);
  const dice = new Dice(random);
  const corpus = buildCorpus();
  const all = [...corpus.messages, ...corpus.packets, ...corpus.streams, ...corpus.lzw];
  const report: FuzzReport = { iterations, accepted: 0, refused: 0, failures: [], ms: 0 };
  const node = new FuzzNode();
  const started = performance.now();
  // Mutation targets, then the structure-aware ones (inputs built from the wire grammar).
  const GRAMMAR = ["packet (grammar)", "stream (grammar)", "msgpack scan (grammar)", "node table (grammar)"];
  const targets = SYNC_TARGETS.length + 2 + GRAMMAR.length;
  for (let i = 0; i < iterations; i++) {
    const t = i % targets;
    const g = t - SYNC_TARGETS.length - 2;
    let input: Uint8Array;
    if (g >= 0) {
      input = g === 0 || g === 3 ? packet(dice) : g === 1 ? stream(dice) : valueBytes(dice);
      // A few of the grammar's inputs get a mutation on top, to break what it builds right.
      if (dice.chance(0.2)) input = mutate(random, input, all);
    } else {
      const poolName = t < SYNC_TARGETS.length ? SYNC_TARGETS[t]!.pool : "streams";
      const pool = corpus[poolName];
      // One input in eight is pure noise; the rest are mutations.
      input = random() < 0.125
        ? new Uint8Array(Math.floor(random() * 96)).map(() => Math.floor(random() * 256))
        : mutate(random, pool[Math.floor(random() * pool.length)]!, all);
    }
    const name = t < SYNC_TARGETS.length
      ? SYNC_TARGETS[t]!.name
      : g < 0
      ? t === SYNC_TARGETS.length ? "stream (plain)" : "stream (encrypted, lax)"
      : GRAMMAR[g]!;
    try {
      if (t < SYNC_TARGETS.length) SYNC_TARGETS[t]!.run(input);
      else if (g < 0) await receiveStream(random, input, t === SYNC_TARGETS.length ? PLAIN : LAX);
      else if (g === 0) receiveGrammarPacket(input);
      else if (g === 1) await receiveStream(random, input, PLAIN);
      else if (g === 2) await scanDifferential(random, input);
      else await receiveAtNode(node, input);
      report.accepted++;
    } catch (err) {
      if (isInputError(err)) report.refused++;
      else if (report.failures.length < 20) {
        report.failures.push({
          target: name,
          input: Array.from(input, (b) => b.toString(16).padStart(2, "0")).join(""),
          error: err instanceof Error ? `${err.name}: ${err.message}` : String(err),
        });
      }
    }
  }
  await node.close();
  report.ms = Math.round(performance.now() - started);
  return report;
}

/** One msgpack value of any shape, as bytes. */
function valueBytes(d: Dice): Uint8Array {
  const w = new Writer(64);
  writeValue(d, w, 3);
  return w.finish();
}
