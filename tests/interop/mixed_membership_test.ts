// Copyright (c) memberlist-ts authors. SPDX-License-Identifier: MPL-2.0

// Mixed Go/TS clusters, membership: a TS node joins a Go node and a Go node joins a TS node; 3 Go + 3 TS
// nodes converge and stay quiet for 30 s; graceful leaves are seen as left both ways; node metadata
// (initial and updated) crosses both ways. Go is memberlist 0.2.2 (tests/interop/go/peer), TS is our
// Memberlist on this runtime's default transport. Core scenarios run on Deno, Bun and Node; the metadata
// one on Deno only.

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { META_MAX_SIZE, type Node, NodeState } from "../../mod.ts";
import { denoOnly, eventually, FAST, goAllHold, goRecords, goSkip, hex, MixedCluster, STEADY, text, tsRecord, tsState, utf8 } from "./_mixed.ts";
import type { GoNodeEvent, GoPeerEvent } from "./_peer.ts";

const isNodeEvent = (kind: GoNodeEvent["event"], observer: string, node: string) => (e: GoPeerEvent) =>
  e.event === kind && e.observer === observer && e.node === node;

describe("mixed Go/TS cluster: membership", { skip: goSkip }, () => {
  it("a TS node joins a Go node: both list each other alive with the right address, port and versions", {
    timeout: 30_000,
  }, async () => {
    const c = new MixedCluster(FAST);
    try {
      const peer = await c.go({ names: ["go-a"] });
      const ts = await c.ts("ts-a");
      assert.equal(await ts.ml.join([peer.node(0).address]), 1);

      // Go reports the join with the address and port the TS node advertises.
      const e = await peer.waitForEvent<GoNodeEvent>(isNodeEvent("join", "go-a", "ts-a"), {
        timeoutMs: 5000,
        what: "go-a to see ts-a join",
      });
      assert.equal(e.addr, "127.0.0.1");
      assert.equal(e.port, ts.ml.localNode().port);
      await c.converged(["go-a", "ts-a"], 5000);

      const goNode = ts.ml.members().find((n) => n.name === "go-a");
      assert.ok(goNode);
      assert.equal(goNode.address, peer.node(0).address);
      assert.deepEqual(
        [goNode.pMin, goNode.pMax, goNode.pCur, goNode.dMin, goNode.dMax, goNode.dCur],
        [1, 5, 2, 0, 0, 0],
      );
      assert.ok(ts.events.some((ev) => ev.type === "join" && ev.node.name === "go-a"));
      const tsInGo = (await goRecords(peer, "go-a")).get("ts-a");
      assert.equal(tsInGo?.state, "alive");
      assert.deepEqual(tsInGo?.vsn, [1, 5, 2, 0, 0, 0]);
      assert.equal(tsInGo?.incarnation, tsRecord(ts, "ts-a")?.incarnation);
    } finally {
      await c.close();
    }
  });

  it("a Go node joins a TS node: both list each other alive with the right address, port and versions", {
    timeout: 30_000,
  }, async () => {
    const c = new MixedCluster(FAST);
    try {
      const ts = await c.ts("ts-b");
      const peer = await c.go({ names: ["go-b"] });
      assert.equal(await peer.join("go-b", [ts.address]), 1);

      await eventually(() => tsState(ts, "go-b") === NodeState.Alive, { timeout: 5000, what: "ts-b to list go-b" });
      const joined = ts.events.find((ev) => ev.type === "join" && ev.node.name === "go-b");
      assert.ok(joined, "ts-b fires a join event for go-b");
      assert.equal(joined.node.address, peer.node(0).address);
      assert.deepEqual([joined.node.pMin, joined.node.pMax, joined.node.pCur], [1, 5, 2]);
      await c.converged(["go-b", "ts-b"], 5000);

      const tsInGo = (await goRecords(peer, "go-b")).get("ts-b");
      assert.equal(tsInGo?.addr, "127.0.0.1");
      assert.equal(tsInGo?.port, ts.ml.localNode().port);
      assert.deepEqual(tsInGo?.vsn, [1, 5, 2, 0, 0, 0]);
      assert.ok(peer.history.some(isNodeEvent("join", "go-b", "ts-b")));
    } finally {
      await c.close();
    }
  });

  it("3 Go + 3 TS nodes joined in a chain converge and stay quiet for 30 s: no suspicion, no refutation, no warning", {
    timeout: 90_000,
  }, async () => {
    // Push/pull every 2 s, so that the quiet period also exercises ~15 full-state exchanges per node.
    const c = new MixedCluster({ ...STEADY, pushPullInterval: 2000 });
    try {
      const peer = await c.go({ names: ["go-0", "go-1", "go-2"] });
      const ts = [await c.ts("ts-0"), await c.ts("ts-1"), await c.ts("ts-2")];
      // Each join crosses the language boundary, so everything anyone knows came through the other side.
      assert.equal(await ts[0]!.ml.join([peer.node("go-0").address]), 1);
      assert.equal(await peer.join("go-1", [ts[0]!.address]), 1);
      assert.equal(await ts[1]!.ml.join([peer.node("go-1").address]), 1);
      assert.equal(await peer.join("go-2", [ts[1]!.address]), 1);
      assert.equal(await ts[2]!.ml.join([peer.node("go-2").address]), 1);
      const everyone = ["go-0", "go-1", "go-2", "ts-0", "ts-1", "ts-2"];
      await c.converged(everyone, 15_000);

      await c.staysQuiet(everyone, 30_000);

      // Nothing to complain about on either side.
      assert.deepEqual(c.goProblems, []);
      for (const n of ts) assert.deepEqual(n.logger.problems(), [], n.name);
      assert.deepEqual(await c.suspicions(), { ts: {}, go: 0 });
      for (const n of ts) assert.equal(n.ml.numMembers(), 6);
    } finally {
      await c.close();
    }
  });

  it("graceful leaves are seen as left, not dead, both ways", { timeout: 30_000 }, async () => {
    const c = new MixedCluster(FAST);
    try {
      const peer = await c.go({ names: ["go-0", "go-1"] });
      const [t0, t1] = [await c.ts("ts-0"), await c.ts("ts-1")];
      assert.equal(await t0.ml.join([peer.node("go-0").address]), 1);
      assert.equal(await peer.join("go-1", [t0.address]), 1);
      assert.equal(await t1.ml.join([peer.node("go-1").address]), 1);
      await c.converged(["go-0", "go-1", "ts-0", "ts-1"]);

      // TS leaves: both Go nodes report it left.
      let since = peer.eventCount;
      await t1.ml.leave(3000);
      await t1.ml.shutdown();
      for (const observer of ["go-0", "go-1"]) {
        const e = await peer.waitForEvent<GoNodeEvent>(isNodeEvent("leave", observer, "ts-1"), {
          since,
          timeoutMs: 5000,
          what: `${observer} to see ts-1 leave`,
        });
        assert.equal(e.state, "left", `${observer} sees ts-1 ${e.state}`);
      }
      await eventually(() => tsState(t0, "ts-1") === NodeState.Left, { timeout: 5000, what: "ts-0 to see ts-1 leave" });

      // Go leaves: the TS node reports it left (event and record), and so does the other Go node.
      since = peer.eventCount;
      await peer.leave("go-1", 3000);
      await eventually(() => tsState(t0, "go-1") === NodeState.Left, { timeout: 5000, what: "ts-0 to see go-1 leave" });
      assert.ok(t0.events.some((ev) => ev.type === "leave" && ev.node.name === "go-1" && ev.node.state === NodeState.Left));
      const e = await peer.waitForEvent<GoNodeEvent>(isNodeEvent("leave", "go-0", "go-1"), { since, timeoutMs: 5000 });
      assert.equal(e.state, "left");

      // Left stays left (never dead) while the remaining two keep probing each other.
      await c.converged(["go-0", "ts-0"], 5000);
      await new Promise((r) => setTimeout(r, 5 * FAST.probeInterval));
      assert.equal(tsState(t0, "go-1"), NodeState.Left);
      assert.equal(tsState(t0, "ts-1"), NodeState.Left);
      const recs = await goRecords(peer, "go-0");
      assert.equal(recs.get("ts-1")?.state, "left");
      assert.equal(recs.get("go-1")?.state, "left");
      assert.ok(!peer.history.some((ev) => ev.event === "leave" && (ev as GoNodeEvent).state === "dead"));
    } finally {
      await c.close();
    }
  });

  it("a TS node that left joins the Go nodes again without a restart, at a higher incarnation", {
    skip: denoOnly(),
    timeout: 30_000,
  }, async () => {
    const c = new MixedCluster(FAST);
    try {
      const peer = await c.go({ names: ["go-0", "go-1"] });
      await peer.join("all");
      const t = await c.ts("ts-b");
      assert.equal(await t.ml.join([peer.node("go-0").address]), 1);
      await c.converged(["go-0", "go-1", "ts-b"]);
      await t.ml.leave(3000);
      await eventually(() => goAllHold(peer, ["go-0", "go-1"], "ts-b", "left"), {
        timeout: 5000,
        what: "the Go nodes to hold ts-b as left",
      });
      const leftAt = (await goRecords(peer, "go-0")).get("ts-b")!.incarnation;

      const since = peer.eventCount;
      assert.equal(await t.ml.join([peer.node("go-1").address]), 1);
      await c.converged(["go-0", "go-1", "ts-b"]);
      for (const g of ["go-0", "go-1"]) {
        assert.ok((await goRecords(peer, g)).get("ts-b")!.incarnation > leftAt, g);
        await peer.waitForEvent(isNodeEvent("join", g, "ts-b"), { since, timeoutMs: 1000 });
      }
      // And it stays a member: the Go nodes probe it and never suspect it.
      await c.staysQuiet(["go-0", "go-1", "ts-b"], 2000);
    } finally {
      await c.close();
    }
  });

  it("over IPv6 loopback: joins both ways, convergence, user messages both ways, a killed node declared dead", {
    skip: denoOnly(),
    timeout: 30_000,
  }, async () => {
    const c = new MixedCluster(FAST);
    try {
      const peer = await c.go({ names: ["go-6a", "go-6b"], flags: ["--bind", "::1"] });
      assert.match(peer.node(0).address, /^\[::1\]:\d+$/);
      const got: string[] = [];
      const t0 = await c.ts("ts-6a", { bindAddr: "::1", config: { delegate: { notifyMsg: (m) => void got.push(text(m)) } } });
      const t1 = await c.ts("ts-6b", { bindAddr: "::1" });
      assert.match(t0.address, /^\[::1\]:\d+$/);
      assert.equal(await t0.ml.join([peer.node("go-6a").address]), 1);
      assert.equal(await peer.join("go-6b", [t0.address]), 1);
      assert.equal(await t1.ml.join([peer.node("go-6b").address]), 1);
      const everyone = ["go-6a", "go-6b", "ts-6a", "ts-6b"];
      await c.converged(everyone);
      assert.equal(t1.ml.members().find((m) => m.name === "go-6a")?.addr, "::1");
      assert.equal((await goRecords(peer, "go-6a")).get("ts-6b")?.addr, "::1");

      await peer.send("go-6a", "ts-6a", "over udp6");
      await peer.send("go-6b", "ts-6a", "over tcp6", { reliable: true });
      await eventually(() => got.length === 2, { what: "two messages at ts-6a" });
      assert.deepEqual(got.sort(), ["over tcp6", "over udp6"]);
      const to = t0.ml.members().find((m) => m.name === "go-6b")!;
      await t0.ml.sendReliable(to, utf8("back over tcp6"));
      await t0.ml.sendBestEffort(to, utf8("back over udp6"));
      await eventually(() => peer.history.filter((e) => e.event === "msg" && e.observer === "go-6b").length === 2);

      await t1.ml.shutdown();
      await eventually(
        async () => (await goAllHold(peer, ["go-6a", "go-6b"], "ts-6b", "dead")) && tsState(t0, "ts-6b") === NodeState.Dead,
        { timeout: 10_000, what: "ts-6b declared dead over IPv6" },
      );
      await peer.kill("go-6b");
      await eventually(() => tsState(t0, "go-6b") === NodeState.Dead, { timeout: 10_000, what: "go-6b declared dead" });
    } finally {
      await c.close();
    }
  });

  it("130 nodes: push/pull headers counting 128 or more records (a 2-byte msgpack int) both ways, names of 40+ bytes", {
    skip: denoOnly(),
    timeout: 150_000,
  }, async () => {
    // Slower timing: 128 Go nodes share one process on 2 cores. Go's gossip leaves a few nodes
    // missing a few newcomers until their next push/pull, every 4 × pushPullInterval at 130 nodes
    // (Go's pushPullScale): 20 s here, which the waits below cover twice over.
    const c = new MixedCluster({ ...STEADY, probeInterval: 1000, probeTimeout: 500, gossipInterval: 200, pushPullInterval: 5000 });
    try {
      const long = "-with-a-name-longer-than-thirty-one-bytes-";
      const big = await c.go({ nodes: 127, namePrefix: `go${long}`, events: "none", history: false });
      assert.equal(await big.join("all", undefined, 60_000), 126);
      const g0 = big.node(0);
      await eventually(async () => (await big.members(0)).length === 127, { timeout: 20_000, what: "go-0 to know all 127" });

      // ts-a joins: 127 records from Go. Then go-0 knows 128.
      const tsA = await c.ts(`ts${long}a`);
      assert.equal(await tsA.ml.join([g0.address]), 1);
      assert.equal(tsA.ml.numMembers(), 128);
      await eventually(async () => (await big.members(0)).length === 128, { timeout: 10_000, what: "go-0 to list ts-a" });
      // ts-b joins go-0: the header Go writes counts 128 records (`cc 80`: no longer a fixint).
      const tsB = await c.ts(`ts${long}b`);
      assert.equal(await tsB.ml.join([g0.address]), 1);
      assert.equal(tsB.ml.numMembers(), 129);
      // A Go node joins ts-b: the header we write counts 129, which 0.2.2 must read.
      const late = await c.go({ names: [`go${long}late`] });
      assert.equal(await late.join(0, [tsB.address]), 1);
      assert.equal((await late.members(0)).length, 130);
      const lateName = late.node(0).name;
      await eventually(() => [tsA, tsB].every((n) => n.ml.numMembers() === 130), {
        timeout: 45_000,
        what: "both TS nodes to list all 130",
      });
      for (const probe of [0, 64, 126]) {
        await eventually(async () => {
          const names = new Set((await big.members(probe)).filter((m) => m.state === "alive").map((m) => m.name));
          return names.size === 130 && names.has(tsA.name) && names.has(tsB.name) && names.has(lateName);
        }, { timeout: 45_000, what: `Go node ${probe} to list all 130 alive` });
      }
      assert.deepEqual(await c.suspicions(), { ts: {}, go: 0 });
    } finally {
      await c.close();
    }
  });

  it("a node claiming a taken name from another address is refused on both sides; the conflict delegate fires", {
    skip: denoOnly(),
    timeout: 30_000,
  }, async () => {
    const c = new MixedCluster(FAST);
    try {
      const peer = await c.go({ names: ["go-0", "go-1"] });
      await peer.join("all");
      const conflicts: string[] = [];
      const conflict = { notifyConflict: (a: Node, b: Node) => void conflicts.push(`${a.name} ${a.address} ${b.address}`) };
      const t0 = await c.ts("ts-0", { config: { conflict } });
      await t0.ml.join([peer.node(0).address]);
      const everyone = ["go-0", "go-1", "ts-0"];
      await c.converged(everyone);

      // A Go node named ts-0 pushes its state to ts-0: ts-0 keeps itself and reports the conflict.
      const fakeTs = await c.go({ names: ["ts-0"] });
      await fakeTs.join(0, [t0.address]);
      await eventually(() => conflicts.length >= 1, { timeout: 5000, what: "ts-0's conflict delegate" });
      assert.equal(conflicts[0], `ts-0 ${t0.address} ${fakeTs.node(0).address}`);
      // A TS node named go-1 joins go-0: go-0 keeps the real go-1 and logs the conflict, as Go does.
      const fakeGo = await c.ts("go-1");
      await fakeGo.ml.join([peer.node(0).address]);
      await eventually(() => c.goProblems.some((l) => l.includes("[go-0]") && l.includes("Conflicting address for go-1")), {
        timeout: 5000,
        what: "go-0 to log the conflict",
      });
      for (const g of ["go-0", "go-1"]) {
        const r = await goRecords(peer, g);
        assert.equal(r.get("ts-0")?.port, t0.ml.localNode().port, g);
        assert.equal(r.get("go-1")?.port, peer.node("go-1").port, g);
      }
      assert.equal(tsRecord(t0, "go-1")?.port, peer.node("go-1").port);
      assert.equal(tsRecord(t0, "ts-0")?.port, t0.ml.localNode().port);
      await fakeTs.close();
      c.peers.splice(c.peers.indexOf(fakeTs), 1);
      await fakeGo.ml.shutdown();
      assert.equal(tsState(t0, "go-1"), NodeState.Alive);
    } finally {
      await c.close();
    }
  });

  it("node metadata, initial and updated, crosses both ways with update events", {
    skip: denoOnly(),
    timeout: 30_000,
  }, async () => {
    const c = new MixedCluster(FAST);
    try {
      const peer = await c.go({ names: ["go-0", "go-1"], flags: ["--meta", hex(utf8("go meta v1"))] });
      let tsMeta = utf8("ts meta v1 \u00e9\u0000\u00ff");
      const delegate = { nodeMeta: () => tsMeta };
      const t0 = await c.ts("ts-0", { config: { delegate } });
      const t1 = await c.ts("ts-1");
      assert.equal(await t0.ml.join([peer.node("go-0").address]), 1);
      assert.equal(await peer.join("go-1", [t0.address]), 1);
      assert.equal(await t1.ml.join([peer.node("go-1").address]), 1);
      await c.converged(["go-0", "go-1", "ts-0", "ts-1"]);

      // Initial meta, both ways.
      for (const n of [t0, t1]) {
        assert.equal(hex(n.ml.members().find((m) => m.name === "go-0")!.meta), hex(utf8("go meta v1")), n.name);
      }
      for (const g of ["go-0", "go-1"]) {
        const recs = await goRecords(peer, g);
        assert.equal(recs.get("ts-0")?.meta, hex(tsMeta), g);
        assert.equal(recs.get("ts-1")?.meta, "", g);
      }

      // Go updates its meta: both TS nodes fire an update event with the new bytes.
      const v2 = utf8("go meta v2, a bit longer");
      await peer.updateMeta("go-0", v2, 3000);
      await eventually(
        () => [t0, t1].every((n) => n.events.some((e) => e.type === "update" && e.node.name === "go-0" && hex(e.node.meta) === hex(v2))),
        { timeout: 5000, what: "both TS nodes to see go-0's new meta" },
      );
      for (const n of [t0, t1]) assert.equal(hex(n.ml.members().find((m) => m.name === "go-0")!.meta), hex(v2));

      // TS updates its meta: both Go nodes fire an update event with the new bytes.
      const since = peer.eventCount;
      tsMeta = new Uint8Array(META_MAX_SIZE).map((_, i) => (i * 7) & 0xff); // as long as 0.2.2 allows
      await t0.ml.updateNode(3000);
      for (const g of ["go-0", "go-1"]) {
        const e = await peer.waitForEvent<GoNodeEvent>(
          (ev) => isNodeEvent("update", g, "ts-0")(ev) && (ev as GoNodeEvent).meta === hex(tsMeta),
          { since, timeoutMs: 5000, what: `${g} to see ts-0's new meta` },
        );
        assert.equal(e.state, "alive");
        assert.equal((await goRecords(peer, g)).get("ts-0")?.meta, hex(tsMeta));
      }
      // ts-1 hears of it too, from one side or the other (gossip, or at the latest a push/pull).
      await eventually(() => hex(t1.ml.members().find((m) => m.name === "ts-0")!.meta) === hex(tsMeta), {
        timeout: 5000,
        what: "ts-1 to see ts-0's new meta",
      });
      // An update is an alive with a higher incarnation, never a suspicion.
      assert.deepEqual(await c.suspicions(), { ts: {}, go: 0 });
    } finally {
      await c.close();
    }
  });
});
