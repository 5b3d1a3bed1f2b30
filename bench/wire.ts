// Copyright (c) memberlist-ts authors. SPDX-License-Identifier: MPL-2.0
// The codec benchmark, TypeScript side: the same operations on the same data as
// bench/go/wirebench (memberlist 0.2.2's own code). One JSON object per line:
//   {"lang":"ts","runtime":"deno","op":"alive","opsPerSec":…,"nsPerOp":…,"iterations":…,"bytes":…}
// Run it through `npm run bench` (bench/run.mjs), which runs it on every runtime beside Go.
import { Reader } from "../lib/_bytes.ts";
import { detectRuntime } from "../lib/_runtime.ts";
import { type Alive, decodeAlive, decodePing, encodeMessage, encodePushPull, type Ping, type PushNodeState } from "../lib/codec.ts";
import { compressPayload } from "../lib/packet.ts";
import { decryptPayload, encryptPayload } from "../lib/security.ts";
import { type ByteSource, readPushPull, readStreamMessage, StreamReader } from "../lib/stream.ts";
import { wireOptions } from "../tests/_wire.ts";

const args = globalThis.process?.argv.slice(2) ?? [];
const secondsArg = args.indexOf("--seconds");
const seconds = secondsArg >= 0 ? Number(args[secondsArg + 1]) : 1;
const only = args.includes("--op") ? args[args.indexOf("--op") + 1] : undefined;

const te = new TextEncoder();
const alive: Alive = {
  incarnation: 1,
  node: "node-123.example",
  addr: new Uint8Array([127, 0, 0, 1]),
  port: 7946,
  meta: te.encode("role=web;zone=a1"),
  vsn: new Uint8Array([1, 5, 2, 0, 0, 0]),
};
const ping: Ping = {
  seqNo: 123456,
  node: "node-123.example",
  sourceAddr: new Uint8Array([10, 0, 0, 7]),
  sourcePort: 7946,
  sourceNode: "node-7.example",
};
const zones = ["eu-west-1a", "eu-west-1b", "us-east-2c"];
const nodes: PushNodeState[] = Array.from({ length: 1000 }, (_, i) => ({
  name: `node-${String(i).padStart(4, "0")}.dc1.example.com`,
  addr: new Uint8Array([10, (i >> 16) & 0xff, (i >> 8) & 0xff, i & 0xff]),
  port: 7946,
  meta: te.encode(`role=web;zone=${zones[i % 3]};v=1.${i % 10}`),
  incarnation: 1 + (i % 17),
  state: i % 100 === 9 ? 2 : i % 50 === 7 ? 1 : 0,
  vsn: new Uint8Array([1, 5, 2, 2, 5, 4]),
}));
const plainWire = wireOptions({ enableCompression: false });
const key = new Uint8Array(32).fill(0x42);
const plain = new Uint8Array(1400).fill(0xab);
const none = new Uint8Array();

/** The most a socket read hands over at once (Node, Deno and Bun deliver TCP data in chunks up to 64 KiB). */
const CHUNK = 65536;

/**
 * Hands `buf` over the way a TCP socket does: in chunks of new memory, one read at a
 * time, so the reader buffers and scans as it does for a real stream.
 */
class ChunkedSource implements ByteSource {
  #buf: Uint8Array;
  #at = 0;
  constructor(buf: Uint8Array) {
    this.#buf = buf;
  }
  read(): Promise<Uint8Array | null> {
    if (this.#at >= this.#buf.length) return Promise.resolve(null);
    const chunk = this.#buf.slice(this.#at, this.#at + CHUNK);
    this.#at += chunk.length;
    return Promise.resolve(chunk);
  }
}

/** Reads a complete push/pull stream message as a node reads one from a socket: chunk by chunk. */
async function readState(buf: Uint8Array): Promise<void> {
  const msg = await readStreamMessage(new StreamReader(new ChunkedSource(buf)), plainWire, none);
  if (msg?.type !== 6) throw new Error(`read message type ${msg?.type}`);
  const state = await readPushPull(msg.body);
  if (state.nodes.length !== nodes.length) throw new Error(`read ${state.nodes.length} nodes`);
}

interface Op {
  name: string;
  bytes: number;
  run: () => void | Promise<void>;
}

const pp = encodePushPull({ join: false, nodes, userState: none });
const ops: Op[] = [
  {
    name: "alive",
    bytes: encodeMessage(4, alive).length,
    run: () => void decodeAlive(new Reader(encodeMessage(4, alive), 1)),
  },
  {
    name: "ping",
    bytes: encodeMessage(0, ping).length,
    run: () => void decodePing(new Reader(encodeMessage(0, ping), 1)),
  },
  {
    name: "pushpull-1000",
    bytes: pp.length,
    run: () => readState(encodePushPull({ join: false, nodes, userState: none })),
  },
  {
    name: "pushpull-1000-lzw",
    bytes: compressPayload(pp).length,
    run: () => readState(compressPayload(encodePushPull({ join: false, nodes, userState: none }))),
  },
  {
    name: "aes-gcm-1400",
    bytes: encryptPayload(1, key, plain, none).length,
    run: () => {
      const p = decryptPayload([key], encryptPayload(1, key, plain, none), none);
      if (p.length !== plain.length) throw new Error(`decrypted ${p.length} bytes`);
    },
  },
];

/** CPU time (user + system) of the process so far, in ms. */
function cpuMs(): number {
  const u = globalThis.process.cpuUsage();
  return (u.user + u.system) / 1000;
}

async function measure(op: Op, ms: number): Promise<{ iterations: number; elapsed: number; cpu: number }> {
  const warmEnd = performance.now() + ms / 10;
  while (performance.now() < warmEnd) {
    const r = op.run();
    if (r !== undefined) await r;
  }
  let iterations = 0;
  const start = performance.now();
  const cpu0 = cpuMs();
  let now = start;
  // Check the clock every batch; size batches so a check costs nothing.
  let batch = 1;
  while (now - start < ms) {
    for (let i = 0; i < batch; i++) {
      // Sync operations run without an await per iteration.
      const r = op.run();
      if (r !== undefined) await r;
    }
    iterations += batch;
    now = performance.now();
    if (now - start < ms / 100) batch *= 2;
  }
  return { iterations, elapsed: now - start, cpu: cpuMs() - cpu0 };
}

const runtime = detectRuntime();
for (const op of ops) {
  if (only !== undefined && op.name !== only) continue;
  const { iterations, elapsed, cpu } = await measure(op, seconds * 1000);
  const nsPerOp = (elapsed * 1e6) / iterations;
  console.log(JSON.stringify({
    lang: "ts",
    runtime,
    op: op.name,
    opsPerSec: Math.round(1e9 / nsPerOp),
    nsPerOp: Math.round(nsPerOp),
    iterations,
    // Operations per second of CPU time: steadier than opsPerSec on a loaded machine.
    opsPerCpuSec: Math.round((iterations * 1000) / cpu),
    bytes: op.bytes,
  }));
}
