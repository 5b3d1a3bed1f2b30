// Reconnecting to failed nodes (lib/reconnect.ts, Config.reconnectInterval; not in Go):
// a partition that outlasts gossipToTheDeadTime heals by itself, a crashed node that
// comes back at its address is found again, and neither a node that left nor a
// stranger now holding a failed node's address is ever pulled in.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { memberlistState } from "../lib/memberlist.ts";
import { MAX_FAILED_NODES, rememberFailed } from "../lib/reconnect.ts";
import { TestCluster } from "./_helpers.ts";
import { addAt, memberNames } from "./_memberlist_helpers.ts";

const RECONNECT = { reconnectInterval: 2000 };

describe("reconnect", () => {
  for (const reconnectInterval of [2000, 0]) {
    it(`a partition longer than gossipToTheDeadTime ${reconnectInterval ? "heals once the network does" : "stays split with reconnectInterval 0 (as Go)"}`, async () => {
      const c = new TestCluster({ seed: 601 });
      const nodes = await c.start(6, { reconnectInterval });
      const left = nodes.slice(0, 3);
      const right = nodes.slice(3);
      await c.waitFor(() => nodes.every((n) => n.ml.numMembers() === 6), 10_000);

      c.net.partition(left.map((n) => n.transport.addr), right.map((n) => n.transport.addr));
      // Long enough for each side to declare the other dead and then reap it (local profile: 15 s).
      await c.advance(40_000);
      for (const n of nodes) {
        assert.equal(n.ml.numMembers(), 3, `${n.name} sees ${memberNames(n.ml)}`);
        const other = (left.includes(n) ? right : left)[0]!.name;
        assert.equal(memberlistState(n.ml).nodeMap.has(other), false, `${n.name} still has a record of ${other}`);
      }

      c.net.heal();
      if (reconnectInterval > 0) {
        const took = await c.waitFor(() => nodes.every((n) => n.ml.numMembers() === 6), 20_000);
        assert.ok(took <= 3 * reconnectInterval, `healing took ${took} ms`);
        assert.ok(nodes.some((n) => n.logger.find("info", "Reconnecting to a failed node") > 0));
      } else {
        await c.advance(60_000);
        for (const n of nodes) assert.equal(n.ml.numMembers(), 3);
      }
      await c.shutdown();
    });
  }

  it("finds a crashed node that comes back at its address, but not one that left", async () => {
    const c = new TestCluster({ seed: 602 });
    const a = await addAt(c, "a", "127.0.0.10:7946", RECONNECT);
    for (const [name, addr] of [["crashed", "127.0.0.11:7946"], ["leaver", "127.0.0.12:7946"]] as const) {
      const n = await addAt(c, name, addr, RECONNECT);
      await c.settle(n.ml.join(["127.0.0.10:7946"]));
    }
    await c.waitFor(() => a.ml.numMembers() === 3, 5000);

    const crashed = c.nodes[1]!;
    const leaver = c.nodes[2]!;
    c.net.kill(crashed.transport.addr);
    await c.settle(crashed.ml.shutdown());
    await c.settle(leaver.ml.leave(5000));
    await c.settle(leaver.ml.shutdown());
    await c.waitFor(() => a.ml.numMembers() === 1, 30_000);

    // Both come back at their addresses without joining anyone.
    const back = await addAt(c, "crashed", "127.0.0.11:7946", RECONNECT);
    const rejoined = await addAt(c, "leaver", "127.0.0.12:7946", RECONNECT);
    await c.waitFor(() => memberNames(a.ml).includes("crashed"), 10_000);
    assert.deepEqual(memberNames(back.ml).sort(), ["a", "crashed"]);
    await c.advance(20_000);
    assert.equal(memberNames(a.ml).includes("leaver"), false);
    assert.deepEqual(memberNames(rejoined.ml), ["leaver"]);
    await c.shutdown();
  });

  it("leaves alone a stranger that now holds a failed node's address", async () => {
    const c = new TestCluster({ seed: 603 });
    const a = await addAt(c, "a", "127.0.0.10:7946", RECONNECT);
    const b = await addAt(c, "b", "127.0.0.11:7946", RECONNECT);
    await c.settle(b.ml.join(["127.0.0.10:7946"]));
    c.net.kill(b.transport.addr);
    await c.settle(b.ml.shutdown());
    // Until after the reap (local profile: gossipToTheDeadTime 15 s), then from the remembered record.
    await c.advance(30_000);
    assert.equal(memberlistState(a.ml).nodeMap.has("b"), false);
    assert.equal(memberlistState(a.ml).failed.has("b"), true);

    // Another cluster's node gets b's address (an IP reused by another deployment).
    const stranger = await addAt(c, "stranger", "127.0.0.11:7946", RECONNECT);
    await c.advance(20_000);
    assert.deepEqual(memberNames(a.ml), ["a"]);
    assert.deepEqual(memberNames(stranger.ml), ["stranger"]);
    assert.ok(stranger.logger.find("warn", "Got ping for unexpected node") > 0, "a never tried");
    assert.equal(a.logger.find("info", "Reconnecting to a failed node"), 0);
    await c.shutdown();
  });

  it("forgets failed nodes after reconnectTimeout, and remembers at most MAX_FAILED_NODES", async () => {
    const c = new TestCluster({ seed: 604 });
    const a = await addAt(c, "a", "127.0.0.10:7946", { ...RECONNECT, reconnectTimeout: 10_000 });
    const m = memberlistState(a.ml);
    const now = c.clock.now();
    rememberFailed(m, "too-old", "127.0.0.99:1", now - 10_001);
    assert.equal(m.failed.has("too-old"), false);
    for (let i = 0; i < MAX_FAILED_NODES + 5; i++) rememberFailed(m, `n${i}`, `127.0.1.${i % 250}:${7000 + i}`, now);
    assert.equal(m.failed.size, MAX_FAILED_NODES);
    assert.equal(m.failed.has("n0"), false, "the oldest go first");
    assert.equal(m.failed.has(`n${MAX_FAILED_NODES + 4}`), true);
    // The reconnect ticks drop them once they are older than reconnectTimeout.
    await c.advance(15_000);
    assert.equal(m.failed.size, 0);
    await c.shutdown();
  });
});
