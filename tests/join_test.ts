// What a node does right after joining (lib/join.ts; not in Go memberlist): it announces itself
// straight to every member it learned of (announceAfterJoin), and its follow-up push/pulls
// (pushPullAfterJoin) go to members it has not exchanged state with yet.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import type { Config } from "../lib/config.ts";
import { memberlistState } from "../lib/memberlist.ts";
import { NodeState } from "../lib/node.ts";
import { TestCluster, type TestNode } from "./_helpers.ts";
import { addAt, recordingTransport, type TransportLog } from "./_memberlist_helpers.ts";

/** Members that never gossip, probe or push/pull, and do nothing extra after a join. */
const SILENT: Partial<Config> = {
  gossipInterval: 0,
  probeInterval: 0,
  pushPullInterval: 0,
  reconnectInterval: 0,
  announceAfterJoin: false,
  pushPullAfterJoin: 0,
};

/** A joiner that does nothing after the join but announce itself. */
const SILENT_JOINER: Partial<Config> = { ...SILENT, announceAfterJoin: true };

/** `n` silent members at 127.0.0.10…, each joined to all before it (so all know all). */
async function silentMembers(c: TestCluster, n: number): Promise<TestNode[]> {
  const members: TestNode[] = [];
  for (let i = 0; i < n; i++) {
    const m = await addAt(c, `m${i}`, `127.0.0.${10 + i}:7946`, SILENT);
    if (i > 0) await c.settle(m.ml.join(members.map((p) => `${p.name}/${p.ml.localNode().address}`)));
    members.push(m);
  }
  for (const m of members) assert.equal(m.ml.numMembers(), n);
  return members;
}

const lists = (observer: TestNode, name: string) => observer.ml.members().some((n) => n.name === name && n.state === NodeState.Alive);

describe("announceAfterJoin", () => {
  it("a joiner tells every member it learned of, within one probe interval, when nothing else would", async () => {
    const c = new TestCluster({ seed: 31, net: { latency: 1 } });
    const members = await silentMembers(c, 8);
    // The joiner neither gossips, probes nor pushes/pulls after the join: only the announcement can
    // reach m1…m7 (all of it at once: with no probe interval there is nothing to spread it over).
    const j = await addAt(c, "j", "127.0.0.50:7946", SILENT_JOINER);
    const started = c.clock.now();
    assert.equal(await c.settle(j.ml.join([`m0/${members[0]!.ml.localNode().address}`])), 1);
    const took = await c.waitFor(() => members.every((m) => lists(m, "j")), 2000, 10);
    assert.ok(c.clock.now() - started <= 1000, `every member listed j after ${took} ms`);
    await c.shutdown();
  });

  it("false behaves like Go: the members j did not exchange state with never hear of it", async () => {
    const c = new TestCluster({ seed: 32, net: { latency: 1 } });
    const members = await silentMembers(c, 4);
    const j = await addAt(c, "j", "127.0.0.50:7946", { ...SILENT_JOINER, announceAfterJoin: false });
    await c.settle(j.ml.join([`m0/${members[0]!.ml.localNode().address}`]));
    await c.advance(5000);
    assert.deepEqual(members.map((m) => lists(m, "j")), [true, false, false, false]);
    await c.shutdown();
  });

  it("is spread over one probe interval, and stops when the joiner leaves", async () => {
    const c = new TestCluster({ seed: 33, net: { latency: 1 } });
    const members = await silentMembers(c, 12);
    // Ten batches (probeInterval / gossipInterval) for the 11 members j did not join through: 2 each,
    // at 0, 100, 200… ms. j's gossip stays off (gossipNodes 0); its probes, on now, may tell one more.
    const j = await addAt(c, "j", "127.0.0.50:7946", { ...SILENT_JOINER, gossipInterval: 100, gossipNodes: 0, probeInterval: 1000 });
    await c.settle(j.ml.join([`m0/${members[0]!.ml.localNode().address}`]));
    await c.advance(150);
    const told = members.filter((m) => lists(m, "j")).length;
    assert.ok(told >= 5 && told <= 6, `${told} know j after two batches`);
    await c.settle(j.ml.leave(500).catch(() => {}));
    await c.advance(2000);
    // A member that never heard of j ignores its leave, so the records show who was told.
    const after = members.filter((m) => memberlistState(m.ml).nodeMap.has("j")).length;
    assert.equal(after, told, "nobody was told after the leave");
    await c.shutdown();
  });
});

describe("pushPullAfterJoin", () => {
  it("each follow-up goes to a member not exchanged with yet, never the join's own seed", async () => {
    const c = new TestCluster({ seed: 34, net: { latency: 1 } });
    const members = await silentMembers(c, 5);
    for (let k = 0; k < 3; k++) {
      const log: TransportLog = { writes: [], dials: [] };
      const j = await addAt(
        c,
        `j${k}`,
        `127.0.0.${50 + k}:7946`,
        { ...SILENT, pushPullAfterJoin: 3 },
        (t) => recordingTransport(t, () => c.clock.now(), log),
      );
      const seed = members[k]!;
      await c.settle(j.ml.join([`${seed.name}/${seed.ml.localNode().address}`]));
      // Follow-ups at 1, 3 and 7 s after the join.
      await c.advance(8000);
      const dialed = log.dials.map((d) => d.addr);
      assert.equal(dialed.length, 4, dialed.join(" "));
      assert.equal(dialed[0], seed.ml.localNode().address);
      assert.equal(new Set(dialed).size, 4, `four different members: ${dialed.join(" ")}`);
      await c.settle(j.ml.leave(1000).catch(() => {}));
      await c.settle(j.ml.shutdown());
    }
    await c.shutdown();
  });
});
