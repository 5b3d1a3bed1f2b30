// Copyright (c) memberlist-ts authors. SPDX-License-Identifier: MPL-2.0

// The attacker harness (issue 9: hostile input costs the attacker, not the node). A TS node in a cluster
// with a Go 0.2.2 node and another TS node, on real loopback sockets, is sent every attack of
// tests/_attacks.ts from a socket of this process; after each one:
//
// - nobody suspected it: the Go node's record of it stayed alive at every look and kept its incarnation, the
//   TS peer never marked it suspect, and its own incarnation did not move (a refutation would);
// - replies stayed bounded: at most one UDP buffer (udpBufferSize) of bytes reached the attacker's and the
//   victim's UDP sockets per datagram (or connection) the attacker sent (TCP replies are only reported: a
//   TCP peer cannot spoof its address, and a push/pull is answered with the table, as Go does);
// - this process's RSS grew by less than a generous bound, and its event loop never stalled for 2 s;
// - its table holds only records a Go node accepts, and a new Go node joins through it.
//
// Clusters: plaintext with a Go peer; encrypted with a Go peer (attacks from outside, without the key, and
// a few from an insider holding it); label-only, TS only (Go 0.2.2 has no labels). CPU cost is a benchmark
// target (`npm run bench -- --suite hostile`); the one CPU bound here is the 40 MiB stream value, at 10x
// what a linear reader needs, because nothing else catches a quadratic reader.
//
// A test that fails starts the next one on a new cluster, so that one failure (a suspicion still gossiped,
// a crashed Go peer) does not fail the rest. `HOSTILE_ONLY=<regexp>` runs only the matching attacks.
// Runs on Deno only, to keep the Bun and Node runs short; fails (not skips) in CI when Go is missing.

import { after, before, beforeEach, describe, it } from "node:test";
import assert from "node:assert/strict";
import process from "node:process";
import { Keyring } from "../mod.ts";
import { memberlistState } from "../lib/memberlist.ts";
import { MAX_PACKET_DECOMPRESSED_BYTES } from "../lib/packet.ts";
import * as A from "./_attacks.ts";
import { endpoint, HOSTILE_TIMING, ProcessProbe, sendStream, sleep, trickle, UdpSink } from "./_hostile.ts";
import { denoOnly, eventually, goRecords, hex, MixedCluster, randomKey, type TsNode } from "./interop/_mixed.ts";
import type { GoPeer } from "./interop/_peer.ts";

/**
 * `HOSTILE_ONLY=<regexp>` runs only the attacks whose name matches (deno test's --filter sees only the
 * describe blocks here).
 */
const only = process.env["HOSTILE_ONLY"] ? new RegExp(process.env["HOSTILE_ONLY"]) : null;

/** `it`, skipped when `HOSTILE_ONLY` is set and does not match the name. */
function attackIt(name: string, options: { timeout: number }, fn: () => Promise<void>): void {
  it(name, { ...options, skip: only !== null && !only.test(name) ? "not selected by HOSTILE_ONLY" : false }, fn);
}

/** `HOSTILE_DEBUG=1` prints how long each phase of an attack took. */
function debug(text: string): void {
  if (process.env["HOSTILE_DEBUG"]) process.stderr.write(`[hostile] ${text}\n`);
}

const TARGET = "ts-target";
const JOINERS = 40;
/** How long to keep watching after an attack: several probe rounds of every node. */
const WATCH_MS = 2000;
/** Event-loop lag that fails a test: a multi-second stall, never a busy moment. */
const MAX_LAG_MS = 2000;

/** What an attack did, for the checks. */
interface Sent {
  /** Datagrams (or connections) the attacker sent: the replies budget is one UDP buffer each. */
  units: number;
  /** Bytes the node wrote back on the attack's connections (reported, not bounded: see `attack`). */
  streamReplies?: number;
}

/** Bounds of one attack's checks. */
interface Bounds {
  /** RSS growth of this process, MB (garbage of earlier tests included). @default {300} */
  rssMB?: number;
  /** CPU of this process (node and attacker), ms; unchecked when absent. */
  cpuMs?: number;
}

/** What kind of cluster to attack. */
interface ClusterOptions {
  /** Encrypt with this key (the Go peer too). */
  key?: Uint8Array;
  /** Label the TS nodes (then there is no Go peer: 0.2.2 has no labels). */
  label?: string;
  /** Whether to add the Go peer. @default {true} */
  go?: boolean;
}

/** The attacker's and the victim's sockets, shared by the clusters of a describe block. */
interface Sockets {
  attacker: UdpSink;
  victim: UdpSink;
}

/** A running cluster under attack. */
class Harness {
  readonly cluster: MixedCluster;
  readonly go: GoPeer | null;
  readonly label: string | undefined;
  readonly target: TsNode;
  readonly peer: TsNode;
  readonly attacker: UdpSink;
  readonly victim: UdpSink;
  readonly keyring: Keyring | null;
  #nextJoiner = 1;
  /** Set when an attack failed its checks: the cluster may be damaged. */
  failed = false;

  private constructor(h: Omit<Harness, "attack" | "close" | "joinThrough" | "targetEndpoint" | "failed">) {
    this.cluster = h.cluster;
    this.go = h.go;
    this.target = h.target;
    this.peer = h.peer;
    this.attacker = h.attacker;
    this.victim = h.victim;
    this.keyring = h.keyring;
    this.label = h.label;
  }

  static async start(options: ClusterOptions, sockets: Sockets): Promise<Harness> {
    const cluster = new MixedCluster(HOSTILE_TIMING);
    const keyring = options.key ? Keyring.create([options.key]) : null;
    const secret = options.key ? { keyring: Keyring.create([options.key]) } : {};
    try {
      let go: GoPeer | null = null;
      if (options.go !== false) {
        go = await cluster.go({
          names: ["go-0", ...Array.from({ length: JOINERS }, (_, i) => `go-j${i + 1}`)],
          events: ["join"],
          flags: options.key ? ["--key", hex(options.key)] : [],
        });
      }
      const label = options.label ? { label: options.label } : {};
      // A LAN tcpTimeout: stream limits, not the deadline, must stop a long stream.
      const target = await cluster.ts(TARGET, { config: { ...secret, ...label, tcpTimeout: 10_000 } });
      const peer = await cluster.ts("ts-peer", { config: { ...(options.key ? { keyring: Keyring.create([options.key]) } : {}), ...label } });
      await peer.ml.join([target.address]);
      const names = [TARGET, "ts-peer"];
      if (go) {
        await go.join(0, [target.address]);
        names.push("go-0");
      }
      // Only these: the Go joiners stay alone until their turn.
      const want = [...names].sort().join();
      await eventually(async () => {
        const views = await cluster.views();
        return names.every((n) => views[n]?.join() === want);
      }, { timeout: 15_000, what: `${want} to see each other` });
      return new Harness({ cluster, go, label: options.label, target, peer, ...sockets, keyring });
    } catch (err) {
      await cluster.close();
      throw err;
    }
  }

  get targetEndpoint(): A.Endpoint {
    return endpoint(this.target.address);
  }

  /**
   * Runs `attack` and checks everything this file promises about the target.
   */
  async attack(run: () => Promise<Sent>, bounds: Bounds = {}): Promise<void> {
    this.failed = true;
    const state = memberlistState(this.target.ml);
    const inc0 = state.incarnation;
    const goInc0 = this.go ? (await goRecords(this.go, "go-0")).get(TARGET)?.incarnation : undefined;
    const suspected0 = this.peer.suspected.filter((n) => n === TARGET).length;
    const replies0 = this.attacker.bytes + this.victim.bytes;
    const goStates: string[] = [];
    const probe = new ProcessProbe().start();
    const t0 = performance.now();
    let sent: Sent;
    try {
      sent = await run();
      debug(`sent in ${Math.round(performance.now() - t0)} ms`);
      const end = Date.now() + WATCH_MS;
      while (Date.now() < end) {
        if (this.go) {
          // A stalled process cannot read the answer in time: that shows as the lag, below.
          goStates.push(await goRecords(this.go, "go-0").then((r) => r.get(TARGET)?.state ?? "unknown", () => "unanswered"));
        }
        await sleep(100);
      }
    } finally {
      probe.stop();
    }
    const problems: string[] = [];
    if (probe.maxLagMs > MAX_LAG_MS) problems.push(`the event loop stalled for ${Math.round(probe.maxLagMs)} ms`);
    const notAlive = goStates.filter((s) => s !== "alive" && s !== "unanswered");
    if (notAlive.length > 0) problems.push(`go-0 saw the target ${[...new Set(notAlive)].join("/")} (${notAlive.length} looks)`);
    if (this.go && !this.go.exited) {
      const goInc = (await goRecords(this.go, "go-0")).get(TARGET)?.incarnation;
      if (goInc !== goInc0) problems.push(`go-0's incarnation of the target moved ${goInc0} -> ${goInc}`);
    }
    if (state.incarnation !== inc0) problems.push(`the target refuted a suspicion (incarnation ${inc0} -> ${state.incarnation})`);
    const suspected = this.peer.suspected.filter((n) => n === TARGET).length - suspected0;
    if (suspected > 0) problems.push(`ts-peer suspected the target ${suspected} times`);
    if (this.go?.exited) problems.push(`the Go peer crashed: ${this.go.stderr.split("\n").find((l) => l.startsWith("panic:")) ?? "no panic line"}`);
    // UDP replies only: a TCP peer cannot spoof its address, and a push/pull is answered with our table.
    const replies = this.attacker.bytes + this.victim.bytes - replies0;
    const budget = sent.units * state.config.udpBufferSize;
    if (replies > budget) {
      problems.push(`${replies} reply bytes for ${sent.units} datagrams/connections (at most ${budget})`);
    }
    const rssBound = bounds.rssMB ?? 300;
    if (probe.rssGrowthMB > rssBound) problems.push(`RSS grew ${Math.round(probe.rssGrowthMB)} MB (at most ${rssBound})`);
    if (bounds.cpuMs !== undefined && probe.cpuMs > bounds.cpuMs) {
      problems.push(`${Math.round(probe.cpuMs)} ms of CPU (at most ${bounds.cpuMs})`);
    }
    problems.push(...tableProblems(this.target));
    if (problems.length === 0) {
      try {
        const j0 = performance.now();
        await this.joinThrough();
        debug(`joined through in ${Math.round(performance.now() - j0)} ms`);
      } catch (err) {
        problems.push(`a new node could not join through the target: ${err instanceof Error ? err.message : err}`);
      }
    }
    const seen = `max lag ${Math.round(probe.maxLagMs)} ms, RSS +${Math.round(probe.rssGrowthMB)} MB, ` +
      `CPU ${Math.round(probe.cpuMs)} ms, ${replies} UDP reply bytes, ${sent.streamReplies ?? 0} stream reply bytes`;
    assert.deepEqual(problems, [], `${problems.join("; ")} (${seen})`);
    this.failed = false;
  }

  /** A new Go node (or, without Go, a new TS node) joins through the target, then leaves. */
  async joinThrough(): Promise<void> {
    if (!this.go) {
      const n = await this.cluster.ts(`ts-joiner-${this.#nextJoiner++}`, {
        config: {
          ...(this.keyring ? { keyring: Keyring.create(this.keyring.getKeys()) } : {}),
          ...(this.label ? { label: this.label } : {}),
        },
      });
      await n.ml.join([this.target.address]);
      await eventually(() => n.ml.members().some((m) => m.name === TARGET) &&
        this.target.ml.members().some((m) => m.name === n.name), { timeout: 5000, what: "the TS joiner and the target to see each other" });
      await n.ml.leave(1000);
      await n.ml.shutdown();
      return;
    }
    const go = this.go;
    const i = this.#nextJoiner++;
    assert.ok(i <= JOINERS, "out of Go joiners: raise JOINERS");
    const name = `go-j${i}`;
    const joined = await go.join(name, [this.target.address], 15_000);
    assert.ok(joined >= 1, `${name} joined ${joined} nodes`);
    await eventually(async () => (await goRecords(go, name)).get(TARGET)?.state === "alive" &&
      this.target.ml.members().some((m) => m.name === name), { timeout: 5000, what: `${name} and the target to see each other` });
    // Only the join is checked: a leave broadcast may wait behind forged members' gossip.
    await go.leave(name, 1000).catch(() => go.kill(name).catch(() => {}));
  }

  async close(): Promise<void> {
    await this.cluster.close();
  }
}

/** Records in the target's table that a Go node would refuse in a push/pull (or that no node could be). */
function tableProblems(node: TsNode): string[] {
  const out: string[] = [];
  for (const r of memberlistState(node.ml).nodes) {
    const what = `record "${r.name.length > 40 ? `${r.name.slice(0, 40)}… (${r.name.length} chars)` : r.name}"`;
    if (r.name === "") out.push(`${what} has no name`);
    const nameBytes = new TextEncoder().encode(r.name).length;
    if (nameBytes > 512) out.push(`${what} has a name of ${nameBytes} bytes`);
    if (r.addr.length !== 4 && r.addr.length !== 16) out.push(`${what} has a ${r.addr.length}-byte address`);
    if ((r.meta?.length ?? 0) > 512) out.push(`${what} has ${r.meta!.length} bytes of meta`);
    if (r.pMin === 0 || r.pMax === 0 || r.pMin > r.pMax || r.pCur < r.pMin || r.pCur > r.pMax) {
      out.push(`${what} has protocol versions [${r.pMin}, ${r.pMax}] cur ${r.pCur}`);
    }
    if (r.dMin > r.dMax || r.dCur < r.dMin || r.dCur > r.dMax) {
      out.push(`${what} has delegate versions [${r.dMin}, ${r.dMax}] cur ${r.dCur}`);
    }
  }
  return out;
}

/**
 * Every attack input, built before a cluster starts: the large ones take seconds of CPU to build, in this
 * process, which hosts the target too, and a stall then would be ours, not the attack's.
 */
interface Inputs {
  bomb: Uint8Array;
  nesting: Uint8Array[];
  compressInCompress: Uint8Array[];
  compoundOfBombs: Uint8Array;
  lzwLimit: Uint8Array[];
  reflected: Uint8Array;
  tiny: Uint8Array[];
  indirect: Uint8Array[];
  bad: A.BadAlive[];
  flood: Uint8Array[];
  value40: Uint8Array;
  values8: Uint8Array[];
  forged50kCompressed: Uint8Array;
  forged200k: Uint8Array;
  undecryptable: Uint8Array[];
}

let fixedInputs: Omit<Inputs, "reflected" | "indirect" | "flood"> | undefined;

function buildInputs(s: Sockets): Inputs {
  fixedInputs ??= {
    bomb: A.emptyPartsBomb(),
    nesting: [A.deepNesting("compound", A.MAX_DATAGRAM_NESTING), A.deepNesting("compress", 40), A.deepNesting("alternating", 64)],
    compressInCompress: [A.compressInCompress(3), A.compressInCompress(5, 4 << 20)],
    compoundOfBombs: A.compoundOfBombs(),
    lzwLimit: [A.lzwToSize(MAX_PACKET_DECOMPRESSED_BYTES), A.lzwToSize(MAX_PACKET_DECOMPRESSED_BYTES + 1)],
    tiny: [A.tinyPings(65_536), A.tinyPings(255, false)],
    bad: A.badAlives(),
    value40: A.largeStreamValue(40 << 20, "array"),
    values8: [A.largeStreamValue(8 << 20, "map", "record"), A.largeStreamValue(8 << 20, "nested", "record"),
      A.largeStreamValue(8 << 20, "str", "record")],
    forged50kCompressed: A.forgedPushPull(50_000, { compress: true }),
    forged200k: A.forgedPushPull(200_000),
    undecryptable: A.undecryptable().map((u) => u.datagram),
  };
  const v = s.victim.endpoint;
  return {
    ...fixedInputs,
    reflected: A.reflectedPings(v),
    indirect: [A.indirectPings(v, v), A.indirectPings(v, v, { count: 65_536, compress: true })],
    flood: A.randomFlood(1000, 42, s.attacker.endpoint),
  };
}

/**
 * Sets up a describe block: the sockets and the inputs, then the cluster, started before its first test
 * and closed after its last, and started anew before a test when the last one failed (its damage, a
 * suspicion still gossiped, a Go peer that crashed, must not fail the next one).
 *
 * @returns the running harness and the inputs, for the tests
 */
function underAttack(options: ClusterOptions): { h: () => Harness; i: () => Inputs } {
  let harness: Harness | undefined;
  let sockets: Sockets | undefined;
  let inputs: Inputs | undefined;
  before(async () => {
    sockets = { attacker: await UdpSink.open(), victim: await UdpSink.open() };
    inputs = buildInputs(sockets);
    harness = await Harness.start(options, sockets);
  }, { timeout: 90_000 });
  after(async () => {
    await harness?.close();
    sockets?.attacker.close();
    sockets?.victim.close();
  });
  beforeEach(async () => {
    if (!sockets || (harness && !harness.failed && !harness.go?.exited)) return;
    await harness?.close();
    harness = undefined;
    // A node that was just overrun may still be working through what it received: let it finish, and
    // try twice, so that the next attack is judged on a cluster of its own.
    await sleep(1000);
    harness = await Harness.start(options, sockets).catch(async () => {
      await sleep(3000);
      return Harness.start(options, sockets!);
    });
  }, { timeout: 90_000 });
  return {
    h: () => {
      assert.ok(harness, "the cluster did not start");
      return harness;
    },
    i: () => {
      assert.ok(inputs, "the inputs were not built");
      return inputs;
    },
  };
}

/** Sends datagrams from the attacker's socket to the target. */
function datagrams(h: () => Harness, d: readonly Uint8Array[]): () => Promise<Sent> {
  return async () => {
    await h().attacker.send(d, h().targetEndpoint);
    return { units: d.length };
  };
}

/** Sends streams, one connection each, 64 KiB at a time. */
function streams(h: () => Harness, list: readonly Uint8Array[], options: { chunk?: number; lingerMs?: number } = {}): () => Promise<Sent> {
  return async () => {
    let replies = 0;
    for (const bytes of list) {
      replies += (await sendStream(h().targetEndpoint, bytes, { chunk: options.chunk ?? A.STREAM_CHUNK, lingerMs: options.lingerMs ?? 500 }))
        .received;
    }
    return { units: list.length, streamReplies: replies };
  };
}

/** Opens 128 connections whose header claims 20 MiB, and trickles for 2 s. */
function trickling(h: () => Harness, kind: A.ClaimKind): () => Promise<Sent> {
  return async () => {
    const r = await trickle(h().targetEndpoint, A.claimingStreamHeader(kind), { connections: 128, durationMs: 2000 });
    return { units: r.opened, streamReplies: r.received };
  };
}

// ---------------------------------------------------------------- the attacks, shared by the clusters

/** The datagram attacks, framed by `frame` (as they are, or sealed by an insider). */
function datagramAttacks(h: () => Harness, i: () => Inputs, frame: (msg: Uint8Array) => Uint8Array): void {
  attackIt("the empty-parts bomb: 20,920 bytes inflating to 2,072,640 empty compound parts", { timeout: 120_000 }, async () => {
    await h().attack(datagrams(h, [frame(i().bomb)]));
  });

  attackIt("deep nesting: 16,373 compounds, 40 compress messages, 64 of both alternating", { timeout: 120_000 }, async () => {
    await h().attack(datagrams(h, i().nesting.map(frame)));
  });

  attackIt("compress inside compress: 3 layers around 1 MiB, 5 layers around 4 MiB", { timeout: 120_000 }, async () => {
    await h().attack(datagrams(h, i().compressInCompress.map(frame)));
  });

  attackIt("a compound of 255 compress bombs", { timeout: 120_000 }, async () => {
    await h().attack(datagrams(h, [frame(i().compoundOfBombs)]));
  });

  attackIt("LZW inflating to exactly the packet limit, and one byte over", { timeout: 120_000 }, async () => {
    await h().attack(datagrams(h, i().lzwLimit.map(frame)));
  });

  attackIt("reflection: 65,536 pings naming a victim as their source, in one compressed datagram", { timeout: 120_000 }, async () => {
    await h().attack(datagrams(h, [frame(i().reflected)]));
  });

  attackIt("reflection: 2-byte pings answered to the sender, 65,536 compressed and 255 plain", { timeout: 120_000 }, async () => {
    await h().attack(datagrams(h, i().tiny.map(frame)));
  });

  attackIt("reflection: indirect pings at a victim with nacks to a victim, 255 plain and 65,536 compressed", { timeout: 120_000 }, async () => {
    await h().attack(datagrams(h, i().indirect.map(frame)));
  });
}

describe("hostile input: plaintext cluster with a Go 0.2.2 peer", { skip: denoOnly() }, () => {
  const { h, i } = underAttack({});

  datagramAttacks(h, i, (msg) => msg);

  attackIt("invalid alive records: no name, no address, bad Vsn, 3-byte address, huge name and meta", { timeout: 120_000 }, async () => {
    const bad = i().bad;
    await h().attack(datagrams(h, bad.map((b) => b.msg)));
    const names = new Set(memberlistState(h().target.ml).nodes.map((r) => r.name));
    const entered = bad.filter((b) => b.name !== "invalid utf-8 name" && b.name !== "long vsn" && names.has(b.node));
    assert.deepEqual(entered.map((b) => b.name), [], "invalid records entered the table");
  });

  attackIt("a random-message flood: 1,000 datagrams of random pings, acks, alives, suspects, deads, compounds", { timeout: 120_000 }, async () => {
    await h().attack(datagrams(h, i().flood));
  });

  attackIt("a 40 MiB msgpack array in a push/pull header, 64 KiB at a time", { timeout: 180_000 }, async () => {
    await h().attack(streams(h, [i().value40], { lingerMs: 1000 }), { rssMB: 400, cpuMs: 10_000 });
  });

  attackIt("8 MiB values in a push/pull record, 64 KiB at a time: a map, nested arrays, a str", { timeout: 180_000 }, async () => {
    await h().attack(streams(h, i().values8), { rssMB: 400 });
  });

  for (const kind of ["user", "pushpull", "encrypted"] as const) {
    attackIt(`128 connections whose ${kind} header claims 20 MiB, then trickle`, { timeout: 120_000 }, async () => {
      await h().attack(trickling(h, kind), { rssMB: 400 });
    });
  }

  // These two leave forged records behind (a plaintext cluster cannot refuse a well-formed alive): last.
  attackIt("a push/pull with 50,000 forged alive records, compressed", { timeout: 180_000 }, async () => {
    await h().attack(streams(h, [i().forged50kCompressed], { chunk: 0, lingerMs: 3000 }), { rssMB: 400 });
  });

  attackIt("a push/pull with 200,000 forged alive records (14.6 MB): the table stays within maxNodes", { timeout: 180_000 }, async () => {
    await h().attack(streams(h, [i().forged200k], { chunk: 0, lingerMs: 3000 }), { rssMB: 600 });
    const state = memberlistState(h().target.ml);
    assert.ok(state.nodes.length <= state.config.maxNodes, `${state.nodes.length} records, maxNodes is ${state.config.maxNodes}`);
  });
});

describe("hostile input: encrypted cluster with a Go 0.2.2 peer", { skip: denoOnly() }, () => {
  const { h, i } = underAttack({ key: randomKey(32) });

  attackIt("without the key: garbage envelopes (up to 64 KiB), a bare version byte, plaintext bombs", { timeout: 120_000 }, async () => {
    await h().attack(datagrams(h, i().undecryptable));
  });

  attackIt("without the key: a random-message flood in plaintext", { timeout: 120_000 }, async () => {
    await h().attack(datagrams(h, i().flood));
  });

  attackIt("without the key: 128 connections whose encrypted header claims 20 MiB, then trickle", { timeout: 120_000 }, async () => {
    await h().attack(trickling(h, "encrypted"), { rssMB: 400 });
  });

  attackIt("without the key: a 40 MiB plaintext push/pull value and 200,000 forged records", { timeout: 180_000 }, async () => {
    await h().attack(streams(h, [i().value40, i().forged200k]), { rssMB: 400, cpuMs: 10_000 });
  });

  describe("an insider with the key", () => {
    datagramAttacks(h, i, (msg) => A.frameDatagram(msg, { keyring: h().keyring }));
  });
});

describe("hostile input: label-only cluster (TS only: Go 0.2.2 has no labels)", { skip: denoOnly() }, () => {
  const label = new TextEncoder().encode("prod");
  const { h, i } = underAttack({ label: "prod", go: false });

  attackIt("the bomb with the right, a wrong, no, an empty, a cut and a doubled label", { timeout: 120_000 }, async () => {
    await h().attack(datagrams(h, A.labelVariants(i().bomb, label).map((v) => v.datagram)));
  });

  attackIt("reflection with every label variant", { timeout: 120_000 }, async () => {
    await h().attack(datagrams(h, A.labelVariants(i().reflected, label).map((v) => v.datagram)));
  });

  attackIt("a stream with the label, then a 40 MiB push/pull value, 64 KiB at a time", { timeout: 180_000 }, async () => {
    await h().attack(streams(h, [A.frameStream(i().value40, { label })], { lingerMs: 1000 }), { rssMB: 400, cpuMs: 10_000 });
  });
});
