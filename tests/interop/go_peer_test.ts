// Copyright (c) memberlist-ts authors. SPDX-License-Identifier: MPL-2.0

// The Go peer (tests/interop/go/peer) and its driver work: real memberlist 0.2.2 nodes on loopback sockets
// join, converge, exchange user messages and detect a killed node, all driven through _peer.ts; and a TS
// Memberlist on the real socket transport joins them, with both sides seeing everyone alive.

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { defaultLocalConfig, Memberlist, NodeState } from "../../mod.ts";
import { silentLogger } from "../../lib/logging.ts";
import { memberlistState } from "../../lib/memberlist.ts";
import { createNetTransport } from "../../transports/node/mod.ts";
import { requireGoOrSkip } from "./_go.ts";
import { buildGoPeer, fromHex, GoPeer, type GoPeerEvent, toHex } from "./_peer.ts";

const skip = requireGoOrSkip();

// Built while the file loads, outside any per-test timeout; a failure is reported by the first test.
let built: { bin: string } | { error: unknown } = { bin: "" };
if (!skip) {
  try {
    built = { bin: buildGoPeer() };
  } catch (error) {
    built = { error };
  }
}

function binary(): string {
  if ("error" in built) throw built.error;
  return built.bin;
}

/** Go's local profile sped up for loopback: a killed node is declared dead in one to two seconds. */
const FAST_GO = [
  "--probe-interval-ms", "200",
  "--probe-timeout-ms", "100",
  "--suspicion-mult", "2",
  "--suspicion-max-timeout-mult", "2",
  "--gossip-interval-ms", "50",
  "--push-pull-interval-ms", "2000",
  "--tcp-timeout-ms", "500",
];

async function eventually(
  check: () => Promise<boolean> | boolean,
  options: { timeout?: number; what?: string } = {},
): Promise<void> {
  const timeout = options.timeout ?? 5000;
  const start = Date.now();
  while (!(await check())) {
    if (Date.now() - start > timeout) {
      throw new Error(`Timed out after ${timeout} ms waiting for ${options.what ?? "a condition"}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** The names a Go node lists as alive, sorted. */
async function aliveIn(peer: GoPeer, node: number | string): Promise<string[]> {
  const members = await peer.members(node);
  return members.filter((m) => m.state === "alive").map((m) => m.name).sort();
}

describe("GoPeer: memberlist 0.2.2 nodes driven over stdin/stdout", { skip }, () => {
  it("three Go nodes join, converge, exchange user messages, see a killed node die, and report stats", async () => {
    const peer = await GoPeer.start({ binary: binary(), nodes: 3, profile: "local", flags: FAST_GO });
    try {
      assert.deepEqual(peer.nodes.map((n) => n.name), ["go-0", "go-1", "go-2"]);
      for (const n of peer.nodes) assert.equal(n.address, `127.0.0.1:${n.port}`);

      assert.equal(await peer.join("all"), 2);
      const everyone = ["go-0", "go-1", "go-2"];
      await eventually(async () => {
        for (const n of everyone) if ((await aliveIn(peer, n)).join() !== everyone.join()) return false;
        return true;
      }, { what: "the three Go nodes to converge" });

      // go-0 -> go-1 over TCP, go-1 -> go-0 over UDP.
      const isMsg = (observer: string, text: string) => (e: GoPeerEvent) =>
        e.event === "msg" && e.observer === observer && e.data === toHex(text);
      await peer.send(0, "go-1", "ping", { reliable: true });
      await peer.waitForEvent(isMsg("go-1", "ping"), { timeoutMs: 5000, what: "ping at go-1" });
      await peer.send("go-1", "go-0", new TextEncoder().encode("pong"));
      const pong = await peer.waitForEvent(isMsg("go-0", "pong"), { timeoutMs: 5000, what: "pong at go-0" });
      assert.equal(new TextDecoder().decode(fromHex((pong as { data: string }).data)), "pong");

      // go-2 dies without a leave: the others report it dead.
      const since = peer.eventCount;
      const killedAt = Date.now();
      await peer.kill(2);
      for (const observer of ["go-0", "go-1"]) {
        const e = await peer.waitForEvent(
          (e) => e.event === "leave" && e.observer === observer && e.node === "go-2",
          { since, timeoutMs: 8000, what: `${observer} to report go-2 gone` },
        );
        assert.equal((e as { state: string }).state, "dead");
      }
      assert.ok(Date.now() - killedAt < 8000);
      assert.deepEqual(await aliveIn(peer, 0), ["go-0", "go-1"]);
      const all = await peer.members(0, { all: true });
      assert.equal(all.find((m) => m.name === "go-2")?.state, "dead");
      await assert.rejects(peer.members(2).then(() => peer.send(2, "go-0", "x")), /shut down/);

      const stats = await peer.stats();
      for (const v of [stats.cpuUserMs, stats.cpuSystemMs, stats.heapBytes, stats.maxRssBytes]) {
        assert.equal(typeof v, "number");
        assert.ok(v >= 0);
      }
      assert.ok(stats.heapBytes > 0);
      assert.deepEqual(stats.perNode.map((n) => n.name), everyone);
      // Every node took part in a join's push/pull; probes and gossip went over UDP.
      for (const n of stats.perNode) assert.ok(n.tcpIn > 0 && n.tcpOut > 0, n.name);
      assert.ok(stats.perNode.every((n) => n.udpIn >= 0 && n.udpOut >= 0));
      assert.ok(stats.perNode.reduce((sum, n) => sum + n.udpOut, 0) > 0);
      assert.ok(stats.perNode.reduce((sum, n) => sum + n.udpIn, 0) > 0);

      // A bad command gets a failed result; the peer carries on.
      const bad = await peer.command({ cmd: "no-such-command" });
      assert.equal(bad.ok, false);
      assert.match(bad.error ?? "", /unknown command/);
      // Probing the dead go-2 may have cost go-0 some health (missed nacks): any score from 0 up.
      const score = await peer.health(0);
      assert.ok(Number.isInteger(score) && score >= 0, String(score));
    } finally {
      await peer.close();
    }
    assert.ok(peer.exited);
  });

  it("a TS Memberlist on the socket transport joins two Go nodes; both sides list everyone alive", async () => {
    const peer = await GoPeer.start({ binary: binary(), nodes: 2, profile: "local", flags: FAST_GO });
    let ts: Memberlist | undefined;
    try {
      assert.equal(await peer.join("all"), 1);
      const got: string[] = [];
      ts = await Memberlist.create({
        ...defaultLocalConfig(),
        probeInterval: 200,
        probeTimeout: 100,
        gossipInterval: 50,
        suspicionMult: 2,
        suspicionMaxTimeoutMult: 2,
        pushPullInterval: 2000,
        tcpTimeout: 500,
        logger: silentLogger,
        name: "ts-0",
        transport: await createNetTransport({ bindAddrs: ["127.0.0.1"], bindPort: 0, logger: silentLogger }),
        delegate: { notifyMsg: (msg: Uint8Array) => void got.push(new TextDecoder().decode(msg)) },
      });
      assert.equal(await ts.join([peer.node(0).address]), 1);

      const everyone = ["go-0", "go-1", "ts-0"];
      const local = ts;
      await eventually(async () => {
        const tsSide = local.members().map((m) => m.name).sort();
        if (tsSide.join() !== everyone.join()) return false;
        for (const n of ["go-0", "go-1"]) if ((await aliveIn(peer, n)).join() !== everyone.join()) return false;
        return true;
      }, { timeout: 8000, what: "the Go nodes and ts-0 to list each other" });

      const table = memberlistState(ts).nodeMap;
      for (const name of everyone) assert.equal(table.get(name)?.state, NodeState.Alive, name);
      const tsRecord = (await peer.members(1)).find((m) => m.name === "ts-0")!;
      assert.equal(tsRecord.addr, "127.0.0.1");
      assert.equal(tsRecord.port, ts.localNode().port);

      // And they talk: Go -> TS over TCP and UDP.
      await peer.send(1, "ts-0", "hello over tcp", { reliable: true });
      await peer.send(1, "ts-0", "hello over udp");
      await eventually(() => got.length === 2, { what: "both messages at ts-0" });
      assert.deepEqual(got.sort(), ["hello over tcp", "hello over udp"]);
    } finally {
      await ts?.shutdown();
      await peer.close();
    }
  });
});
