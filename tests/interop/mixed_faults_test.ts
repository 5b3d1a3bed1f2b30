// Copyright (c) memberlist-ts authors. SPDX-License-Identifier: MPL-2.0

// Mixed Go/TS clusters under the failure modes of issue 10, against memberlist 0.2.2: a TS node joining
// through a TS node is listed by every Go node within 5 s (announceAfterJoin), a Go node restarted at
// incarnation 1 after it died at a higher one is told of the accusation by the TS nodes and taken back
// (repairAccusations, hashicorp/memberlist#311), a TS or Go node back under its name at a new address is taken
// back by every node once its old record is dead for deadNodeReclaimTime (the TS nodes' kept claims, and
// their gossip to the Go nodes; hashicorp/memberlist#157), and a forged suspect message at 2^32 − 1 leaves
// TS nodes alone where Go wraps its refutation to 0 (hashicorp/memberlist#358). Non-core: Deno only.

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { NodeState } from "../../mod.ts";
import { encodeMessage, MessageType } from "../../lib/codec.ts";
import { memberlistState } from "../../lib/memberlist.ts";
import { rawSendMsgPacket } from "../../lib/net.ts";
import { denoOnly, eventually, FAST, goRecords, MixedCluster, sleep, type Timing, tsRecord, tsState } from "./_mixed.ts";

/** Go's DefaultLocalConfig timings, which both languages' local profiles use. */
const LOCAL: Timing = {
  probeInterval: 1000,
  probeTimeout: 200,
  gossipInterval: 100,
  suspicionMult: 3,
  suspicionMaxTimeoutMult: 6,
  pushPullInterval: 15_000,
  tcpTimeout: 1000,
};

describe("mixed Go/TS cluster: failure modes", () => {
  it("every Go node lists a TS node that joined through a TS node within 5 s, join after join (local profile)", {
    skip: denoOnly(),
    timeout: 90_000,
  }, async () => {
    const c = new MixedCluster(LOCAL);
    try {
      const peer = await c.go({ names: ["go-a", "go-b"] });
      await peer.join("all");
      const seed = await c.ts("ts-seed");
      assert.equal(await seed.ml.join([peer.node("go-a").address]), 1);
      await c.converged(["go-a", "go-b", "ts-seed"]);
      const took: number[] = [];
      for (let k = 0; k < 30; k++) {
        const name = `ts-j${k}`;
        const j = await c.ts(name);
        const started = Date.now();
        assert.equal(await j.ml.join([seed.address]), 1);
        await eventually(async () => {
          for (const g of ["go-a", "go-b"]) if ((await goRecords(peer, g)).get(name)?.state !== "alive") return false;
          return true;
        }, { timeout: 5000, interval: 25, what: `both Go nodes to list ${name}` });
        took.push(Date.now() - started);
        await j.ml.leave(2000);
        await j.ml.shutdown();
      }
      assert.ok(Math.max(...took) <= 5000, took.join(" "));
    } finally {
      await c.close();
    }
  });

  for (const repair of [true, false]) {
    it(`a Go node restarted at incarnation 1 after it died at 15 or more, rejoining through a Go node that forgot it, ${
      repair ? "is told of its accusation by the TS nodes and refutes it at once (repairAccusations)" : "stays dead for them (repairAccusations false, as Go)"
    }`, { skip: denoOnly(), timeout: 60_000 }, async () => {
      // No push/pulls anywhere (a push/pull between a node holding the dead record and one holding the new
      // alive would tell the restarted node too, at a push/pull period's pace), no reconnecting.
      const timing: Timing = { ...FAST, pushPullInterval: 0 };
      const c = new MixedCluster(timing);
      try {
        const config = { repairAccusations: repair, reconnectInterval: 0, pushPullInterval: 0 };
        const ts = [await c.ts("ts-a", { config }), await c.ts("ts-b", { config })];
        await ts[1]!.ml.join([ts[0]!.address]);
        // go-y forgets dead nodes after 1 s: it is the node with no record of go-x that go-x rejoins through.
        const y = await c.go({ names: ["go-y"], flags: ["--gossip-to-the-dead-ms", "1000"] });
        const first = await c.go({ names: ["go-x"] });
        const port = first.node(0).port;
        assert.equal(await y.join(0, [ts[0]!.address]), 1);
        assert.equal(await first.join(0, [ts[0]!.address]), 1);
        await c.converged(["go-x", "go-y", "ts-a", "ts-b"]);

        // A long life: 20 metadata updates put go-x at incarnation 21 (a TS node may miss the last ones:
        // Go gossips each twice here).
        for (let i = 0; i < 20; i++) await first.updateMeta(0, `v${i}`);
        await eventually(() => ts.every((n) => tsRecord(n, "go-x")!.incarnation >= 15), {
          timeout: 5000,
          what: "the TS nodes to hold go-x at 15 or more",
          explain: () => ts.map((n) => [n.name, tsState(n, "go-x"), tsRecord(n, "go-x")?.incarnation]),
        });
        await sleep(500);
        const low = Math.min(...ts.map((n) => tsRecord(n, "go-x")!.incarnation));
        await first.close(); // no leave
        c.peers.splice(c.peers.indexOf(first), 1);
        await eventually(() => ts.every((n) => tsState(n, "go-x") === NodeState.Dead), { timeout: 10_000, what: "go-x dead at the TS nodes" });
        await eventually(async () => !(await goRecords(y, 0)).has("go-x"), { timeout: 10_000, what: "go-y to forget go-x" });
        // Until the dead message has been gossiped out, gossip to the dead would carry it to the new go-x.
        await eventually(() => ts.every((n) => memberlistState(n.ml).broadcasts.numQueued() === 0), {
          timeout: 10_000,
          what: "the TS nodes' queues to drain",
        });

        const again = await c.go({ names: ["go-x"], flags: ["--port", String(port)] });
        assert.equal(await again.join(0, [y.node(0).address]), 1);
        if (repair) {
          // go-x refutes at once; the TS node that hears the refutation first takes it back. (Whether every
          // node hears it is up to gossip: with 2 retransmits in 4 nodes one may not, until a push/pull.)
          await eventually(async () => ((await goRecords(again, 0)).get("go-x")?.incarnation ?? 0) > low, {
            timeout: 3000,
            what: "go-x to refute its accusation",
          });
          await eventually(() => ts.some((n) => tsState(n, "go-x") === NodeState.Alive && tsRecord(n, "go-x")!.incarnation > low), {
            timeout: 3000,
            what: "a TS node to take go-x back",
          });
        } else {
          await sleep(5000);
          assert.ok(ts.every((n) => tsState(n, "go-x") === NodeState.Dead));
          assert.equal((await goRecords(again, 0)).get("go-x")?.incarnation, 1);
        }
      } finally {
        await c.close();
      }
    });
  }

  for (const mover of ["ts", "go"] as const) {
    it(`a ${mover === "ts" ? "TS" : "Go"} node back at a new address while its old record lives is refused (logged), then taken back once that record is dead for deadNodeReclaimTime: at once by the TS nodes that refused it, soon by all`, {
      skip: denoOnly(),
      timeout: 60_000,
    }, async () => {
      // No reconnecting, and push/pull every 5 s: the TS nodes that refused the new address keep a claim and
      // move the name within a probe tick of deadNodeReclaimTime; their gossip of it, or the next push/pull
      // (gossip retransmits each message only twice in 5 nodes), brings it to the others.
      const timing: Timing = { ...FAST, pushPullInterval: 5000 };
      const c = new MixedCluster(timing);
      try {
        const reclaim = 2000;
        const config = { deadNodeReclaimTime: reclaim, reconnectInterval: 0 };
        const goFlags = ["--dead-node-reclaim-ms", String(reclaim)];
        const peer = await c.go({ names: ["go-a", "go-b"], flags: goFlags });
        await peer.join("all");
        const ts = [await c.ts("ts-a", { config }), await c.ts("ts-b", { config })];
        for (const n of ts) assert.equal(await n.ml.join([peer.node("go-a").address]), 1);
        const name = `${mover}-x`;
        let stop: () => Promise<void>;
        if (mover === "ts") {
          const x = await c.ts(name, { config });
          assert.equal(await x.ml.join([peer.node("go-a").address]), 1);
          stop = () => x.ml.shutdown();
        } else {
          const x = await c.go({ names: [name], flags: goFlags });
          assert.equal(await x.join(0, [ts[0]!.address]), 1);
          stop = async () => {
            await x.close(); // no leave
            c.peers.splice(c.peers.indexOf(x), 1);
          };
        }
        await c.converged(["go-a", "go-b", "ts-a", "ts-b", name]);

        // Rescheduled: the process ends, and starts again at once at 127.0.0.2 under the same name.
        await stop();
        let moved: { address: string; alive: () => boolean };
        if (mover === "ts") {
          const x = await c.ts(name, { config, bindAddr: "127.0.0.2" });
          assert.equal(await x.ml.join([peer.node("go-a").address]), 1);
          moved = { address: x.address, alive: () => true };
        } else {
          const x = await c.go({ names: [name], flags: [...goFlags, "--bind", "127.0.0.2"] });
          assert.equal(await x.join(0, [ts[0]!.address]), 1);
          moved = { address: x.node(0).address, alive: () => !x.exited };
        }
        assert.match(moved.address, /^127\.0\.0\.2:/);
        // Refused while the old record lives: both languages log the conflict.
        await eventually(() => ts.some((n) => n.logger.lines.some((l) => l.message === "Conflicting address for node")), {
          timeout: 3000,
          what: "a TS node to log the conflict",
        });
        await eventually(() => c.goProblems.some((l) => l.includes("Conflicting address")), { timeout: 3000, what: "Go to log the conflict" });

        const atNew = (n: (typeof ts)[number]) => n.ml.members().find((m) => m.name === name)?.address === moved.address;
        await eventually(() => ts.every((n) => tsState(n, name) === NodeState.Dead || atNew(n)), {
          timeout: 10_000,
          what: `the TS nodes to declare the old ${name} dead`,
        });
        const atNewAddress = async () => {
          for (const n of ts) if (!atNew(n)) return false;
          for (const g of ["go-a", "go-b"]) {
            const r = (await goRecords(peer, g)).get(name);
            if (r?.state !== "alive" || `${r.addr}:${r.port}` !== moved.address) return false;
          }
          return moved.alive();
        };
        const refused = ts.filter((n) => n.logger.lines.some((l) => l.message === "Conflicting address for node"));
        await eventually(() => refused.every(atNew), {
          timeout: reclaim + 2000,
          what: `the TS nodes that refused ${moved.address} to take it`,
        });
        await eventually(atNewAddress, {
          timeout: 15_000,
          what: `every node to hold ${name} at ${moved.address}`,
          explain: async () => [
            ts.map((n) => [n.name, n.ml.members().find((m) => m.name === name)?.address]),
            ...(await Promise.all(["go-a", "go-b"].map(async (g) => {
              const r = (await goRecords(peer, g)).get(name);
              return [g, r?.state, r?.addr, r?.port];
            }))),
          ],
        });
      } finally {
        await c.close();
      }
    });
  }

  it("a forged suspect message at 2^32 − 1 is dropped by TS nodes, where a Go node wraps its refutation to 0", {
    skip: denoOnly(),
    timeout: 30_000,
  }, async () => {
    const c = new MixedCluster(FAST);
    try {
      const peer = await c.go({ names: ["go-0", "go-1"] });
      await peer.join("all");
      const ts = [await c.ts("ts-0"), await c.ts("ts-1")];
      for (const n of ts) assert.equal(await n.ml.join([peer.node("go-0").address]), 1);
      await c.converged(["go-0", "go-1", "ts-0", "ts-1"]);
      const before = tsRecord(ts[0]!, "ts-0")!.incarnation;

      // Sent from ts-1's socket to go-0, which takes both and gossips them on to everyone.
      const forger = memberlistState(ts[1]!.ml);
      for (const node of ["ts-0", "go-1"]) {
        const forged = encodeMessage(MessageType.Suspect, { incarnation: 0xffff_ffff, node, from: "forger" });
        rawSendMsgPacket(forger, { addr: peer.node("go-0").address, name: "go-0" }, null, forged);
      }
      // Go 0.2.2: go-1 refutes with 2^32 − 1 + 1, which wraps to 0.
      await eventually(async () => (await goRecords(peer, "go-1")).get("go-1")?.incarnation === 0, {
        timeout: 5000,
        what: "go-1 to wrap its incarnation to 0",
      });
      await eventually(async () => (await goRecords(peer, "go-0")).get("ts-0")?.state !== "alive", {
        timeout: 5000,
        what: "go-0 to take the forged accusation of ts-0",
      });
      await sleep(1000);
      // TS: ts-0 neither refutes nor wraps, and no TS node suspects it.
      assert.equal(tsRecord(ts[0]!, "ts-0")!.incarnation, before);
      for (const n of ts) {
        assert.equal(tsState(n, "ts-0"), NodeState.Alive, n.name);
        assert.ok(!n.suspected.includes("ts-0"), n.name);
      }
      assert.ok(ts[0]!.logger.lines.some((l) => /incarnation 4294967295 is beyond/.test(l.message)), "ts-0 logged the drop");
    } finally {
      await c.close();
    }
  });
});
