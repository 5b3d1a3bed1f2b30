// Whole-cluster scenarios on the in-memory network with a virtual clock: join,
// convergence, failure detection, leave, metadata updates, user messages.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { NodeState } from "../lib/node.ts";
import type { NodeEvent } from "../lib/memberlist.ts";
import { stateOf, TestCluster } from "./_helpers.ts";

describe("Memberlist cluster", () => {
  it("nodes joining one seed all learn about each other", async () => {
    const c = new TestCluster({ seed: 1 });
    const nodes = await c.start(5);
    await c.waitFor(() => nodes.every((n) => n.ml.numMembers() === 5), 40_000);
    for (const n of nodes) {
      assert.deepEqual(n.ml.members().map((m) => m.name).sort(), ["node-0", "node-1", "node-2", "node-3", "node-4"]);
    }
    await c.shutdown();
    assert.equal(c.clock.pending, 0);
  });

  it("32 nodes joining one seed at once all know each other within 5 s (pushPullAfterJoin)", async () => {
    // With Go's behaviour (pushPullAfterJoin 0) a few nodes miss a few newcomers
    // and wait for the periodic push/pull (15 s here); the follow-up exchanges fix that.
    async function converge(pushPullAfterJoin: number): Promise<number> {
      const c = new TestCluster({ seed: 11 });
      const nodes: Awaited<ReturnType<typeof c.add>>[] = [];
      for (let i = 0; i < 32; i++) nodes.push(await c.add(`n${i}`, { pushPullAfterJoin }));
      const seed = nodes[0]!.ml.localNode().address;
      const start = c.clock.now();
      await c.settle(Promise.all(nodes.slice(1).map((n) => n.ml.join([seed]))));
      await c.waitFor(() => nodes.every((n) => n.ml.numMembers() === 32), 60_000, 100);
      const took = c.clock.now() - start;
      await c.shutdown();
      return took;
    }
    const withFollowUps = await converge(2);
    const goLike = await converge(0);
    assert.ok(withFollowUps <= 5000, `converged in ${withFollowUps} ms`);
    assert.ok(goLike > withFollowUps, `Go-like converged in ${goLike} ms, with follow-ups ${withFollowUps} ms`);
  });

  it("a killed node is suspected, then declared dead by everyone", async () => {
    const c = new TestCluster({ seed: 2 });
    const nodes = await c.start(5);
    await c.waitFor(() => nodes.every((n) => n.ml.numMembers() === 5), 40_000);
    const victim = nodes[4]!;
    const leaves: string[] = [];
    for (const n of nodes.slice(0, 4)) n.ml.addEventListener("leave", (e: NodeEvent) => leaves.push(`${n.name}:${e.node.name}`));
    c.net.kill(victim.transport.addr);
    await c.settle(victim.ml.shutdown());
    const took = await c.waitFor(() => nodes.slice(0, 4).every((n) => n.ml.numMembers() === 4), 60_000);
    assert.ok(took > 1000, `detected after ${took} ms`);
    assert.equal(leaves.length, 4);
    // Everyone marked it dead, not left.
    for (const n of nodes.slice(0, 4)) assert.equal(stateOf(n.ml, victim.name), undefined);
    await c.shutdown();
  });

  it("a node that leaves is seen as left, without suspicion", async () => {
    const c = new TestCluster({ seed: 3 });
    const nodes = await c.start(4);
    await c.waitFor(() => nodes.every((n) => n.ml.numMembers() === 4), 10_000);
    const leaver = nodes[3]!;
    await c.settle(leaver.ml.leave(5000));
    await c.waitFor(() => nodes.slice(0, 3).every((n) => n.ml.numMembers() === 3), 10_000);
    for (const n of nodes.slice(0, 3)) assert.equal(n.logger.find("info", "Suspect"), 0);
    await c.shutdown();
  });

  it("updateNode() spreads new metadata to every member", async () => {
    const c = new TestCluster({ seed: 4 });
    let meta = new Uint8Array([1]);
    const nodes = [
      await c.add("a", { delegate: { nodeMeta: () => meta } }),
      await c.add("b"),
      await c.add("c"),
    ];
    await c.settle(Promise.all(nodes.slice(1).map((n) => n.ml.join([nodes[0]!.ml.localNode().address]))));
    await c.waitFor(() => nodes.every((n) => n.ml.numMembers() === 3), 10_000);
    const updates: string[] = [];
    nodes[2]!.ml.addEventListener("update", (e) => updates.push(e.node.name));
    meta = new Uint8Array([2, 3]);
    await c.settle(nodes[0]!.ml.updateNode(5000));
    await c.waitFor(() => nodes.every((n) => n.ml.members().find((m) => m.name === "a")?.meta.length === 2), 10_000);
    assert.deepEqual(updates, ["a"]);
    await c.shutdown();
  });

  it("delivers user messages best-effort and reliably", async () => {
    const c = new TestCluster({ seed: 5 });
    const got: string[] = [];
    const a = await c.add("a");
    const b = await c.add("b", { delegate: { notifyMsg: (m) => got.push(new TextDecoder().decode(m)) } });
    await c.settle(b.ml.join([a.ml.localNode().address]));
    const target = a.ml.members().find((m) => m.name === "b")!;
    await a.ml.sendBestEffort(target, new TextEncoder().encode("hello udp"));
    await c.settle(a.ml.sendReliable(target, new TextEncoder().encode("hello tcp")));
    await c.waitFor(() => got.length === 2, 1000, 1);
    assert.deepEqual(got.sort(), ["hello tcp", "hello udp"]);
    await c.shutdown();
  });

  it("join() reports failures per address and throws only when none worked", async () => {
    const c = new TestCluster({ seed: 6 });
    const a = await c.add("a");
    const b = await c.add("b", { tcpTimeout: 200 });
    assert.equal(await c.settle(b.ml.join([a.ml.localNode().address, "127.0.0.1:1"])), 1);
    await assert.rejects(c.settle(b.ml.join(["127.0.0.1:1"])), (err: Error) => err.name === "JoinError");
    await c.shutdown();
  });

  it("is deterministic: the same seed gives the same history", async () => {
    async function run(): Promise<string> {
      const c = new TestCluster({ seed: 9, net: { latency: 1, jitter: 3, loss: 0.05 } });
      const nodes = await c.start(6);
      const log: string[] = [];
      for (const n of nodes) {
        n.ml.addEventListener("join", (e) => log.push(`${c.clock.now()} ${n.name} join ${e.node.name}`));
        n.ml.addEventListener("leave", (e) => log.push(`${c.clock.now()} ${n.name} leave ${e.node.name}`));
      }
      await c.advance(5000);
      c.net.kill(nodes[5]!.transport.addr);
      await c.settle(nodes[5]!.ml.shutdown());
      await c.advance(30_000);
      await c.shutdown();
      return log.join("\n");
    }
    const first = await run();
    assert.ok(first.includes("leave node-5"), first);
    assert.equal(await run(), first);
  });

  it("leaves no timer behind after shutdown", async () => {
    const c = new TestCluster({ seed: 7 });
    const nodes = await c.start(3);
    await c.advance(3000);
    await c.shutdown();
    assert.equal(c.clock.pending, 0);
    assert.equal(nodes[0]!.ml.numMembers() > 0, true);
    void NodeState;
  });
});
