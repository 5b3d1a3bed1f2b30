// Fuzzing of every decoder and of the packet and stream receive pipelines.
// Shared by tests/fuzz_test.ts (a fixed budget in `npm test`) and tools/fuzz.ts
// (`npm run fuzz -- --iterations N`). Inputs are random bytes and mutations of a
// corpus: the spec's vectors, the vectors made by real Go (go_vectors.ts) and
// what our own encoders write. The property is simple: every input is either
// accepted or refused with one of the library's input errors, within bounds.
import { concat, fromHex, Reader } from "../lib/_bytes.ts";
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

async function receiveStream(random: RandomSource, bytes: Uint8Array, opts: WireOptions): Promise<void> {
  const sr = new StreamReader(chunks(random, bytes), 1 << 22);
  const label = await readStreamLabel(sr, opts);
  const msg = await readStreamMessage(sr, opts, label);
  if (msg === null) return;
  if (msg.type === 6) await readPushPull(msg.body);
  else if (msg.type === 8) await readUserMsg(msg.body);
  else decodeMessage(concat([new Uint8Array([msg.type]), (await msg.body.readValue()).rest()]));
}

/**
 * Runs `iterations` fuzz inputs with a seeded generator.
 *
 * @param iterations How many inputs.
 * @param seed The seed (same seed, same inputs).
 */
export async function runFuzz(iterations: number, seed = 1): Promise<FuzzReport> {
  const random = createSeededRandom(seed);
  const corpus = buildCorpus();
  const all = [...corpus.messages, ...corpus.packets, ...corpus.streams, ...corpus.lzw];
  const report: FuzzReport = { iterations, accepted: 0, refused: 0, failures: [], ms: 0 };
  const started = performance.now();
  const targets = SYNC_TARGETS.length + 2;
  for (let i = 0; i < iterations; i++) {
    const t = i % targets;
    const poolName = t < SYNC_TARGETS.length ? SYNC_TARGETS[t]!.pool : "streams";
    const pool = corpus[poolName];
    // One input in eight is pure noise; the rest are mutations.
    const input = random() < 0.125
      ? new Uint8Array(Math.floor(random() * 96)).map(() => Math.floor(random() * 256))
      : mutate(random, pool[Math.floor(random() * pool.length)]!, all);
    const name = t < SYNC_TARGETS.length ? SYNC_TARGETS[t]!.name : t === SYNC_TARGETS.length ? "stream (plain)" : "stream (encrypted, lax)";
    try {
      if (t < SYNC_TARGETS.length) SYNC_TARGETS[t]!.run(input);
      else await receiveStream(random, input, t === SYNC_TARGETS.length ? PLAIN : LAX);
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
  report.ms = Math.round(performance.now() - started);
  return report;
}
