// Copyright (c) memberlist-ts authors. SPDX-License-Identifier: MPL-2.0
//
// AES-GCM paths, TypeScript side: one seal plus one open of a 1,400-byte packet (Go
// wirebench's "aes-gcm-1400", Go `encryptPayload` + `decryptPayload`), through every
// way a runtime offers to do it. One JSON object per line:
//   {"lang":"ts","runtime":"node","path":"node:crypto","opsPerSec":…,"nsPerOp":…,"bytes":…,"identical":true}
//
// Paths:
//   library            encryptPayload/decryptPayload as memberlist uses them (the default backend)
//   node:crypto        createCipheriv/createDecipheriv per packet with the raw key (the default backend)
//   node:crypto-keyobject  the same with one KeyObject made once and reused for every packet
//   noble              @noble/ciphers gcm() per packet (pure TypeScript; the fallback)
//   webcrypto          crypto.subtle encrypt/decrypt, one packet at a time (await each)
//   webcrypto-batch8, webcrypto-batch64
//                      the packets of one tick sealed together (Promise.all), then opened together
//
// Before timing, each path seals a fixed message with a fixed nonce; "identical" says whether
// the bytes equal @noble/ciphers' (and so Go's: tests/security_test.ts checks noble against
// Go's vectors), and whether it opens them again. Run through `npm run bench -- --suite aes`.
import { gcm } from "@noble/ciphers/aes.js";
import { detectRuntime, getBuiltinModule } from "../lib/_runtime.ts";
import { decryptPayload, encryptPayload } from "../lib/security.ts";

const args = globalThis.process?.argv.slice(2) ?? [];
const secondsArg = args.indexOf("--seconds");
const seconds = secondsArg >= 0 ? Number(args[secondsArg + 1]) : 1;

const key = new Uint8Array(32).fill(0x42);
const plain = new Uint8Array(1400).fill(0xab);
const none = new Uint8Array();
const checkNonce = new Uint8Array(12).map((_, i) => 0x10 + i);
const sealedLength = 1 + 12 + plain.length + 16;

interface NodeCipher {
  update(data: Uint8Array): Uint8Array;
  final(): Uint8Array;
  getAuthTag(): Uint8Array;
  setAuthTag(tag: Uint8Array): unknown;
}
interface NodeCrypto {
  createCipheriv(algorithm: string, key: unknown, iv: Uint8Array): NodeCipher;
  createDecipheriv(algorithm: string, key: unknown, iv: Uint8Array): NodeCipher;
  createSecretKey(key: Uint8Array): unknown;
}
const nodeCrypto = getBuiltinModule<NodeCrypto>("node:crypto");
/** The part of WebCrypto used here. */
interface Subtle {
  importKey(format: "raw", key: Uint8Array, algorithm: string, extractable: boolean, usages: string[]): Promise<unknown>;
  encrypt(algorithm: { name: string; iv: Uint8Array }, key: unknown, data: Uint8Array): Promise<ArrayBuffer>;
  decrypt(algorithm: { name: string; iv: Uint8Array }, key: unknown, data: Uint8Array): Promise<ArrayBuffer>;
}
const subtle = (globalThis as unknown as { crypto?: { subtle?: Subtle } }).crypto?.subtle;

/** A path seals (version byte + nonce + ciphertext + tag, as Go lays it out) and opens. */
interface Path {
  name: string;
  /** Seals `count` packets and opens them again; resolves when all are done. */
  run(count: number): void | Promise<void>;
  seal(nonce: Uint8Array): Uint8Array | Promise<Uint8Array>;
  open(sealed: Uint8Array): Uint8Array | undefined | Promise<Uint8Array | undefined>;
}

const nonces = new Uint8Array(12 * 64);
crypto.getRandomValues(nonces);
const nonceAt = (i: number) => nonces.subarray((i % 64) * 12, (i % 64) * 12 + 12);

function envelope(nonce: Uint8Array, body: Uint8Array): Uint8Array {
  const out = new Uint8Array(13 + body.length);
  out[0] = 1;
  out.set(nonce, 1);
  out.set(body, 13);
  return out;
}

function syncPath(name: string, seal: (n: Uint8Array) => Uint8Array, open: (s: Uint8Array) => Uint8Array | undefined): Path {
  return {
    name,
    seal,
    open,
    run(count) {
      for (let i = 0; i < count; i++) {
        const p = open(seal(nonceAt(i)));
        if (p === undefined || p.length !== plain.length) throw new Error(`${name}: open failed`);
      }
    },
  };
}

const paths: Path[] = [
  syncPath(
    "library",
    (n) => encryptPayload(1, key, plain, none, n),
    (s) => {
      try {
        return decryptPayload([key], s, none);
      } catch {
        return undefined;
      }
    },
  ),
  syncPath(
    "noble",
    (n) => envelope(n, gcm(key, n, none).encrypt(plain)),
    (s) => {
      try {
        return gcm(key, s.subarray(1, 13), none).decrypt(s.subarray(13));
      } catch {
        return undefined;
      }
    },
  ),
];

if (nodeCrypto !== undefined) {
  const native = (name: string, k: unknown) =>
    syncPath(
      name,
      (n) => {
        const c = nodeCrypto.createCipheriv("aes-256-gcm", k, n);
        const head = c.update(plain);
        c.final();
        const out = new Uint8Array(sealedLength);
        out[0] = 1;
        out.set(n, 1);
        out.set(head, 13);
        out.set(c.getAuthTag(), 13 + plain.length);
        return out;
      },
      (s) => {
        try {
          const d = nodeCrypto.createDecipheriv("aes-256-gcm", k, s.subarray(1, 13));
          d.setAuthTag(s.subarray(s.length - 16));
          const p = d.update(s.subarray(13, s.length - 16));
          d.final();
          return p;
        } catch {
          return undefined;
        }
      },
    );
  paths.push(native("node:crypto", key), native("node:crypto-keyobject", nodeCrypto.createSecretKey(key)));
}

if (subtle !== undefined) {
  const webKey = await subtle.importKey("raw", key, "AES-GCM", false, ["encrypt", "decrypt"]);
  const seal = async (n: Uint8Array) => envelope(n, new Uint8Array(await subtle.encrypt({ name: "AES-GCM", iv: n }, webKey, plain)));
  const open = async (s: Uint8Array) => {
    try {
      return new Uint8Array(await subtle.decrypt({ name: "AES-GCM", iv: s.subarray(1, 13) }, webKey, s.subarray(13)));
    } catch {
      return undefined;
    }
  };
  const batched = (name: string, batch: number): Path => ({
    name,
    seal,
    open,
    async run(count) {
      for (let done = 0; done < count; done += batch) {
        const sealed = await Promise.all(Array.from({ length: batch }, (_, i) => seal(nonceAt(done + i))));
        const opened = await Promise.all(sealed.map(open));
        if (opened.some((p) => p?.length !== plain.length)) throw new Error(`${name}: open failed`);
      }
    },
  });
  paths.push(batched("webcrypto", 1), batched("webcrypto-batch8", 8), batched("webcrypto-batch64", 64));
}

const reference = envelope(checkNonce, gcm(key, checkNonce, none).encrypt(plain));

async function identical(path: Path): Promise<boolean> {
  const sealed = await path.seal(checkNonce);
  if (sealed.length !== reference.length || sealed.some((b, i) => b !== reference[i])) return false;
  const opened = await path.open(reference);
  if (opened === undefined || opened.length !== plain.length || opened.some((b, i) => b !== plain[i])) return false;
  const forged = reference.slice();
  forged[20]! ^= 1;
  return (await path.open(forged)) === undefined;
}

/** CPU time (user + system) of the process so far, in ms. */
function cpuMs(): number {
  const u = globalThis.process.cpuUsage();
  return (u.user + u.system) / 1000;
}

async function measure(path: Path, ms: number): Promise<{ iterations: number; elapsed: number; cpu: number }> {
  const unit = path.name.endsWith("batch64") ? 64 : path.name.endsWith("batch8") ? 8 : 1;
  const warmEnd = performance.now() + ms / 10;
  while (performance.now() < warmEnd) await path.run(unit * 4);
  let iterations = 0;
  const start = performance.now();
  const cpu0 = cpuMs();
  let now = start;
  let batch = unit;
  while (now - start < ms) {
    await path.run(batch);
    iterations += batch;
    now = performance.now();
    if (now - start < ms / 100) batch *= 2;
  }
  return { iterations, elapsed: now - start, cpu: cpuMs() - cpu0 };
}

const runtime = detectRuntime();
if (args.includes("--parts")) {
  if (nodeCrypto === undefined) throw new Error("node:crypto is not available on this runtime");
  const nc = nodeCrypto;
  const n = checkNonce;
  const perCall = (fn: () => unknown, count = 20_000): number => {
    for (let i = 0; i < count / 10; i++) fn();
    const c0 = cpuMs();
    for (let i = 0; i < count; i++) fn();
    return Math.round(((cpuMs() - c0) * 1000 * 100) / count) / 100;
  };
  const one = nc.createCipheriv("aes-256-gcm", key, n);
  const sealed = (() => {
    const c = nc.createCipheriv("aes-256-gcm", key, n);
    const body = c.update(plain);
    c.final();
    return { body, tag: c.getAuthTag() };
  })();
  const parts: [string, () => unknown][] = [
    ["createCipheriv", () => nc.createCipheriv("aes-256-gcm", key, n)],
    ["update-16", () => one.update(plain.subarray(0, 16))],
    ["update-1400", () => one.update(plain)],
    ["seal", () => {
      const c = nc.createCipheriv("aes-256-gcm", key, n);
      c.update(plain);
      c.final();
      return c.getAuthTag();
    }],
    ["open", () => {
      const d = nc.createDecipheriv("aes-256-gcm", key, n);
      d.setAuthTag(sealed.tag);
      d.update(sealed.body);
      return d.final();
    }],
  ];
  for (const [part, fn] of parts) console.log(JSON.stringify({ runtime, part, cpuMicros: perCall(fn) }));
  globalThis.process.exit(0);
}
for (const path of paths) {
  const same = await identical(path);
  const { iterations, elapsed, cpu } = await measure(path, seconds * 1000);
  const nsPerOp = (elapsed * 1e6) / iterations;
  console.log(JSON.stringify({
    lang: "ts",
    runtime,
    op: "aes-gcm-1400",
    path: path.name,
    opsPerSec: Math.round(1e9 / nsPerOp),
    nsPerOp: Math.round(nsPerOp),
    iterations,
    // Operations per second of CPU time: steadier than opsPerSec on a loaded machine.
    opsPerCpuSec: Math.round((iterations * 1000) / cpu),
    bytes: sealedLength,
    identical: same,
  }));
}
