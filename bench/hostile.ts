// Copyright (c) memberlist-ts authors. SPDX-License-Identifier: MPL-2.0
//
// The hostile benchmark (issue 9): what one attack costs the node that receives it, ours on each runtime
// and Go memberlist 0.2.2, measured in the same run. Run through `npm run bench -- --suite hostile --json`,
// or directly:
//
//   deno run -A bench/hostile.ts [--impls go,deno,bun,node] [--attacks <regexp>] [--cap-seconds 15]
//
// For every attack of tests/_attacks.ts and every implementation (Go first on even attacks, last on odd
// ones), in a fresh pair of processes:
//   1. the target: one node in its own process (ours: `<runtime> bench/hostile.ts --target`, the runtime's
//      own sockets and default logger; Go: tests/interop/go/peer with one node), on loopback, with a LAN
//      tcpTimeout (10 s) so that stream limits, not the deadline, end a long stream;
//   2. a watcher: one Go 0.2.2 node that joins the target and would notice a suspicion (it probes the
//      target every second and gives it 500 ms to answer, the LAN profile);
//   3. the target's idle CPU is measured for 0.5 s, its peak RSS reset (`echo 5 > /proc/<pid>/clear_refs`),
//      then the attack is sent from this process, and the target is watched until its CPU is back to idle
//      (at least 1 s, at most --cap-seconds).
// One JSON line per attack and implementation:
//   {"suite":"hostile","attack":…,"impl":"deno","attackBytes":…,"units":…,"cpuMs":…,"cpuMsPerUnit":…,
//    "rssGrowthMB":…,"replies":…,"replyBytes":…,"replyBytesPerUnit":…,"logBytes":…,"suspected":false,
//    "crashed":false,"capped":false,"targets":{…},"meets":{…}}
// cpuMs is the target's CPU time (all threads, /proc/<pid>/task/*/schedstat) from the first byte sent to
// quiet, minus its idle rate over the same time; rssGrowthMB is VmHWM after the attack minus VmRSS
// before; replies are the datagrams (or, for streams, bytes) that reached the attacker's and the victim's
// sockets; suspected is whether the watcher ever saw the target other than alive or saw its incarnation
// move (a refutation); crashed is whether the target process died (with Go's panic line, if any).
//
// Targets (issue 9), printed beside the figures: each datagram of up to 64 KiB costs at most 10 ms of CPU;
// at most one UDP buffer (1,400 bytes) of replies per datagram received; 128 trickling connections claiming
// 20 MiB each add at most 100 MB of RSS; a 40 MiB stream value sent 64 KiB at a time costs at most 2x the
// same bytes sent in one write; no attack makes the watcher suspect the target.

import { spawn } from "node:child_process";
import process from "node:process";
import { defaultLocalConfig, Keyring, Memberlist } from "../mod.ts";
import { detectRuntime } from "../lib/_runtime.ts";
import { MAX_PACKET_DECOMPRESSED_BYTES } from "../lib/packet.ts";
import * as A from "../tests/_attacks.ts";
import {
  endpoint,
  HOSTILE_TIMING,
  processCpuMs,
  processMemory,
  resetPeakRss,
  sendStream,
  sleep,
  trickle,
  UdpSink,
} from "../tests/_hostile.ts";
import { buildGoPeer, GoPeer } from "../tests/interop/_peer.ts";

const args = process.argv.slice(2);
const opt = (name: string, fallback: string): string => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1]! : fallback;
};

/** The timing of target and watcher (LAN probing); the target has a LAN tcpTimeout. */
const TIMING = HOSTILE_TIMING;
const TARGET_TCP_TIMEOUT = 10_000;
const UDP_BUFFER = 1400;
const KEY = new Uint8Array(32).fill(0x5a);

/**
 * The mixed-cluster helpers, loaded by the driver only (loading them checks for Go and builds the peer,
 * which a target process has no use for).
 */
let mixed: typeof import("../tests/interop/_mixed.ts") | undefined;

/** The Go peer's flags: the timing (with `tcpTimeout`), and the key when encrypted. */
function peerFlags(tcpTimeout: number, encrypted: boolean): string[] {
  return [
    ...mixed!.goFlags({ ...TIMING, tcpTimeout }),
    ...(encrypted ? ["--key", Array.from(KEY, (b) => b.toString(16).padStart(2, "0")).join("")] : []),
  ];
}

// ---------------------------------------------------------------- target mode

/** `--target`: one node of ours on this runtime; prints its address, runs until stdin ends. */
async function runTarget(): Promise<void> {
  const encrypted = args.includes("--encrypted");
  const ml = await Memberlist.create({
    ...defaultLocalConfig(),
    ...TIMING,
    tcpTimeout: TARGET_TCP_TIMEOUT,
    name: opt("name", "target"),
    bindAddr: "127.0.0.1",
    bindPort: 0,
    ...(encrypted ? { keyring: Keyring.create([KEY]) } : {}),
  });
  console.log(JSON.stringify({ event: "ready", address: ml.localNode().address, pid: process.pid, runtime: detectRuntime() }));
  process.stdin.resume();
  await new Promise<void>((resolve) => {
    process.stdin.once("end", () => resolve());
    process.stdin.once("close", () => resolve());
  });
  await ml.shutdown();
  process.exit(0);
}

// ---------------------------------------------------------------- attacks

/** The context an attack is built in. */
interface Ctx {
  target: A.Endpoint;
  attacker: UdpSink;
  victim: UdpSink;
}

/** What sending an attack did. */
interface Sent {
  bytes: number;
  /** Datagrams, or connections. */
  units: number;
}

interface AttackDef {
  name: string;
  /** datagram attacks are held to the per-datagram targets; trickle ones to the RSS target. */
  kind: "datagrams" | "stream" | "trickle";
  encrypted?: boolean;
  /** Built before the target's CPU is measured. */
  prepare(ctx: Ctx): () => Promise<Sent>;
}

function datagramAttack(name: string, make: (ctx: Ctx) => Uint8Array[], encrypted = false): AttackDef {
  return {
    name,
    kind: "datagrams",
    encrypted,
    prepare(ctx) {
      const d = make(ctx);
      return async () => {
        await ctx.attacker.send(d, ctx.target);
        return { bytes: d.reduce((n, x) => n + x.length, 0), units: d.length };
      };
    },
  };
}

function streamAttack(name: string, make: () => Uint8Array, chunk: number): AttackDef {
  return {
    name,
    kind: "stream",
    prepare(ctx) {
      const bytes = make();
      return async () => {
        const r = await sendStream(ctx.target, bytes, { chunk, lingerMs: 1000, timeoutMs: capMs });
        lastStreamReplyBytes = r.received;
        return { bytes: r.sent, units: 1 };
      };
    },
  };
}

function trickleAttack(name: string, kind: A.ClaimKind, encrypted = false): AttackDef {
  return {
    name,
    kind: "trickle",
    encrypted,
    prepare(ctx) {
      const header = A.claimingStreamHeader(kind);
      return async () => {
        const r = await trickle(ctx.target, header, { connections: 128, durationMs: 3000 });
        lastStreamReplyBytes = r.received;
        return { bytes: r.sent, units: r.opened };
      };
    },
  };
}

let lastStreamReplyBytes = 0;

const MiB = 1024 * 1024;
const ATTACKS: AttackDef[] = [
  datagramAttack("bomb: nested empty compound parts (20,920 B -> 4.18 MB)", () => [A.emptyPartsBomb()]),
  datagramAttack("nesting: 16,373 compounds / 40 compress / 64 alternating", () => [
    A.deepNesting("compound", A.MAX_DATAGRAM_NESTING),
    A.deepNesting("compress", 40),
    A.deepNesting("alternating", 64),
  ]),
  datagramAttack("compress in compress: 3 layers (1 MiB), 5 layers (4 MiB)", () => [
    A.compressInCompress(3),
    A.compressInCompress(5, 4 * MiB),
  ]),
  datagramAttack("compound of 255 compress bombs", () => [A.compoundOfBombs()]),
  datagramAttack("LZW to the packet limit and one byte over", () => [
    A.lzwToSize(MAX_PACKET_DECOMPRESSED_BYTES),
    A.lzwToSize(MAX_PACKET_DECOMPRESSED_BYTES + 1),
  ]),
  datagramAttack("reflection: 65,536 pings naming a victim", (c) => [A.reflectedPings(c.victim.endpoint)]),
  datagramAttack("reflection: 65,536 2-byte pings, to the sender", () => [A.tinyPings(65_536)]),
  datagramAttack("reflection: 255 indirect pings at a victim, nack", (c) => [A.indirectPings(c.victim.endpoint, c.victim.endpoint)]),
  datagramAttack(
    "reflection: 65,536 indirect pings, compressed",
    (c) => [A.indirectPings(c.victim.endpoint, c.victim.endpoint, { count: 65_536, compress: true })],
  ),
  datagramAttack("invalid alive records (14)", () => A.badAlives().map((b) => b.msg)),
  datagramAttack("random-message flood (2,000 datagrams)", (c) => A.randomFlood(2000, 42, c.attacker.endpoint)),
  ...[2, 4, 8, 40].map((n) =>
    streamAttack(`stream: ${n} MiB msgpack array in a push/pull header, 64 KiB writes`, () => A.largeStreamValue(n * MiB, "array"), A.STREAM_CHUNK)
  ),
  streamAttack("stream: 40 MiB msgpack array in a push/pull header, one write", () => A.largeStreamValue(40 * MiB, "array"), 0),
  trickleAttack("trickle: 128 connections, user message header claiming 20 MiB", "user"),
  trickleAttack("trickle: 128 connections, push/pull header claiming 20 MiB", "pushpull"),
  streamAttack("push/pull: 200,000 forged alive records (14.6 MB)", () => A.forgedPushPull(200_000), 0),
  streamAttack("push/pull: 200,000 forged alive records, compressed", () => A.forgedPushPull(200_000, { compress: true }), 0),
  streamAttack("push/pull: 50,000 forged alive records", () => A.forgedPushPull(50_000), 0),
  streamAttack("push/pull: 50,000 forged alive records, compressed", () => A.forgedPushPull(50_000, { compress: true }), 0),
  datagramAttack("encrypted: datagrams without the key (7)", () => A.undecryptable().map((u) => u.datagram), true),
  trickleAttack("encrypted: 128 connections, encrypted header claiming 20 MiB", "encrypted", true),
];

// ---------------------------------------------------------------- targets and watcher

interface Target {
  pid: number;
  address: string;
  /** Bytes the target wrote to stderr (its log). */
  logBytes(): number;
  exited(): { code: number | null; signal: string | null } | null;
  /** The Go panic line, if the target died of one. */
  panic(): string | null;
  close(): Promise<void>;
}

const root = new URL("..", import.meta.url);
const here = (p: string) => new URL(p, root).pathname;

function tsTarget(runtime: string, encrypted: boolean): Promise<Target> {
  const extra = ["--target", "--name", "target", ...(encrypted ? ["--encrypted"] : [])];
  const cmd: [string, string[]] = {
    deno: [here("node_modules/.bin/deno"), ["run", "-A", here("bench/hostile.ts"), ...extra]],
    bun: [here("node_modules/.bin/bun"), [here("bench/hostile.ts"), ...extra]],
    node: ["node", [here("build/bench/hostile.js"), ...extra]],
  }[runtime] as [string, string[]];
  const child = spawn(cmd[0], cmd[1], { stdio: ["pipe", "pipe", "pipe"] });
  let log = 0;
  let tail = "";
  child.stderr!.on("data", (d: Uint8Array) => {
    log += d.length;
    tail = (tail + new TextDecoder().decode(d)).slice(-4000);
  });
  let exit: { code: number | null; signal: string | null } | null = null;
  const closed = new Promise<void>((resolve) => child.once("close", (code, signal) => {
    exit = { code, signal };
    resolve();
  }));
  return new Promise((resolve, reject) => {
    let buf = "";
    const timer = setTimeout(() => reject(new Error(`${runtime} target not ready: ${tail}`)), 30_000);
    child.stdout!.on("data", (d: Uint8Array) => {
      buf += new TextDecoder().decode(d);
      const nl = buf.indexOf("\n");
      if (nl < 0) return;
      clearTimeout(timer);
      const ready = JSON.parse(buf.slice(0, nl)) as { address: string; pid: number };
      resolve({
        pid: ready.pid,
        address: ready.address,
        logBytes: () => log,
        exited: () => exit,
        panic: () => null,
        close: async () => {
          child.stdin!.end();
          const t = setTimeout(() => child.kill("SIGKILL"), 5000);
          await closed;
          clearTimeout(t);
        },
      });
    });
    child.once("error", reject);
    void closed.then(() => reject(new Error(`${runtime} target exited before it was ready: ${tail}`)));
  });
}

async function goTarget(binary: string, encrypted: boolean): Promise<Target> {
  let log = 0;
  let panic: string | null = null;
  const peer = await GoPeer.start({
    binary,
    names: ["target"],
    profile: "local",
    log: true,
    events: "none",
    history: false,
    flags: peerFlags(TARGET_TCP_TIMEOUT, encrypted),
    onStderr: (text) => {
      log += text.length;
      const i = text.indexOf("panic:");
      if (i >= 0 && panic === null) panic = text.slice(i, text.indexOf("\n", i) >= 0 ? text.indexOf("\n", i) : undefined);
    },
  });
  return {
    pid: peer.pid,
    address: peer.nodes[0]!.address,
    logBytes: () => log,
    exited: () => (peer.exited ? { code: null, signal: null } : null),
    panic: () => panic,
    close: () => peer.close(2000),
  };
}

// ---------------------------------------------------------------- one measurement

interface Result {
  suite: "hostile";
  attack: string;
  impl: string;
  attackBytes: number;
  units: number;
  cpuMs: number;
  cpuMsPerUnit: number;
  rssGrowthMB: number;
  replies: number | null;
  replyBytes: number;
  replyBytesPerUnit: number;
  logBytes: number;
  suspected: boolean;
  crashed: boolean;
  panic?: string;
  capped: boolean;
  wallMs: number;
  /** On the one-write 40 MiB line: the CPU of the same bytes in 64 KiB writes. */
  chunkedCpuMs?: number;
  targets: Record<string, number | boolean>;
  meets: Record<string, boolean>;
}

const capMs = Number(opt("cap-seconds", "15")) * 1000;

async function measure(def: AttackDef, impl: string, goBinary: string, sinks: { attacker: UdpSink; victim: UdpSink }): Promise<Result> {
  const encrypted = def.encrypted ?? false;
  const target = impl === "go" ? await goTarget(goBinary, encrypted) : await tsTarget(impl, encrypted);
  let watcher: GoPeer | null = null;
  try {
    watcher = await GoPeer.start({
      binary: goBinary,
      names: ["watcher"],
      profile: "local",
      events: "none",
      history: false,
      flags: peerFlags(TIMING.tcpTimeout, encrypted),
    });
    await watcher.join(0, [target.address]);
    const record = async () => (await watcher!.members(0, { all: true })).find((m) => m.name === "target");
    for (let i = 0; i < 50 && (await record())?.state !== "alive"; i++) await sleep(100);
    await sleep(500);
    const inc0 = (await record())?.incarnation;

    const send = def.prepare({ target: endpoint(target.address), ...sinks });
    // Idle CPU rate, ms per ms.
    const idle0 = processCpuMs(target.pid);
    const idleT0 = performance.now();
    await sleep(500);
    const idleRate = (processCpuMs(target.pid) - idle0) / (performance.now() - idleT0);

    const rss0 = processMemory(target.pid).rss;
    const canReset = resetPeakRss(target.pid);
    let peakRss = rss0;
    const a0 = sinks.attacker.mark();
    const v0 = sinks.victim.mark();
    lastStreamReplyBytes = 0;
    const cpu0 = processCpuMs(target.pid);
    const t0 = performance.now();
    let suspected = false;
    let watching = true;
    // Watch the watcher's view all along, the sending included.
    const watch = (async () => {
      while (watching) {
        try {
          const r = await record();
          if (r === undefined || r.state !== "alive" || r.incarnation !== inc0) suspected = true;
        } catch {
          // the watcher is busy: look again
        }
        peakRss = Math.max(peakRss, processMemory(target.pid).rss || 0);
        await sleep(100);
      }
    })();
    const sent = await send();
    const sentAt = performance.now();
    // Quiet: at least 1 s after the last byte, and the last 300 ms near the idle rate.
    let capped = false;
    let lastCpu = processCpuMs(target.pid);
    let lastT = performance.now();
    for (;;) {
      await sleep(300);
      const now = performance.now();
      const cpu = processCpuMs(target.pid);
      const rate = (cpu - lastCpu) / (now - lastT);
      lastCpu = cpu;
      lastT = now;
      if (target.exited()) break;
      if (now - t0 > capMs) {
        capped = true;
        break;
      }
      if (now - sentAt >= 1000 && rate <= Math.max(2 * idleRate, 0.05)) break;
    }
    const t1 = performance.now();
    const cpu1 = processCpuMs(target.pid);
    // A last look at the watcher after the node had time to be probed.
    await sleep(500);
    watching = false;
    await watch;
    const mem = processMemory(target.pid);
    const hwm = canReset ? mem.hwm : Math.max(peakRss, mem.rss || 0);
    const exited = target.exited();
    const crashed = exited !== null || !Number.isFinite(cpu1);
    const cpuMs = Number.isFinite(cpu1) ? Math.max(0, cpu1 - cpu0 - idleRate * (t1 - t0)) : NaN;
    // Datagrams back for datagram attacks; for streams only the bytes count.
    const replies = def.kind === "datagrams"
      ? sinks.attacker.datagrams - a0.datagrams + sinks.victim.datagrams - v0.datagrams
      : null;
    const replyBytes = def.kind === "datagrams"
      ? sinks.attacker.bytes - a0.bytes + sinks.victim.bytes - v0.bytes
      : lastStreamReplyBytes;
    const result: Result = {
      suite: "hostile",
      attack: def.name,
      impl,
      attackBytes: sent.bytes,
      units: sent.units,
      cpuMs: round(cpuMs),
      cpuMsPerUnit: round(cpuMs / Math.max(1, sent.units)),
      rssGrowthMB: round((Math.max(hwm, peakRss) - rss0) / 1e6),
      replies,
      replyBytes,
      replyBytesPerUnit: round(replyBytes / Math.max(1, sent.units)),
      logBytes: target.logBytes(),
      suspected,
      crashed,
      ...(target.panic() ? { panic: target.panic()! } : {}),
      capped,
      wallMs: Math.round(t1 - t0),
      targets: {},
      meets: {},
    };
    judge(def, result);
    return result;
  } finally {
    await watcher?.close(2000);
    await target.close();
  }
}

function round(x: number): number {
  return Number.isFinite(x) ? Math.round(x * 100) / 100 : x;
}

/** Fills in the targets that apply to an attack, and whether the figures meet them. */
function judge(def: AttackDef, r: Result): void {
  r.targets.suspected = false;
  r.meets.notSuspected = !r.suspected && !r.crashed;
  if (def.kind === "datagrams") {
    r.targets.cpuMsPerDatagram = 10;
    r.targets.replyBytesPerDatagram = UDP_BUFFER;
    r.meets.cpu = r.cpuMsPerUnit <= 10 && !r.capped;
    r.meets.replies = r.replyBytesPerUnit <= UDP_BUFFER;
  }
  if (def.kind === "trickle") {
    r.targets.rssGrowthMB = 100;
    r.meets.rss = r.rssGrowthMB <= 100;
  }
}

// ---------------------------------------------------------------- driver

async function main(): Promise<void> {
  const impls = opt("impls", "go,deno,bun,node").split(",");
  const filter = new RegExp(opt("attacks", "."));
  mixed = await import("../tests/interop/_mixed.ts");
  const goBinary = buildGoPeer();
  const attacker = await UdpSink.open();
  const victim = await UdpSink.open();
  const results: Result[] = [];
  process.stderr.write(`hostile: ${ATTACKS.filter((a) => filter.test(a.name)).length} attacks x ${impls.join(",")}\n`);
  try {
    const chosen = ATTACKS.filter((a) => filter.test(a.name));
    for (let i = 0; i < chosen.length; i++) {
      const def = chosen[i]!;
      // Go first on even attacks, last on odd ones.
      const order = i % 2 === 0 ? impls : [...impls.filter((x) => x !== "go"), ...impls.filter((x) => x === "go")];
      for (const impl of order) {
        process.stderr.write(`hostile: ${def.name}: ${impl}\n`);
        const r = await measure(def, impl, goBinary, { attacker, victim });
        results.push(r);
        // The 40 MiB stream in one write, against the same bytes in 64 KiB writes (measured just before).
        if (def.name.includes("40 MiB") && def.name.includes("one write")) {
          const chunked = results.find((x) => x.impl === impl && x.attack.includes("40 MiB") && x.attack.includes("64 KiB"));
          if (chunked) {
            r.chunkedCpuMs = chunked.cpuMs;
            r.targets.chunkedVsOneWrite = 2;
            r.meets.chunkedVsOneWrite = !chunked.capped && chunked.cpuMs <= 2 * Math.max(r.cpuMs, 1);
          }
        }
        console.log(JSON.stringify(r));
      }
    }
  } finally {
    attacker.close();
    victim.close();
  }
  process.exit(0);
}

if (args.includes("--target")) await runTarget();
else await main();
