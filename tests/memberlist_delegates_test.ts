// Memberlist's delegates, events and user messages on the in-memory network
// with a virtual clock: the scenarios of Go's memberlist_test.go and
// transport_test.go about what the application sees and sends.
//
// Go tests covered, by describe block:
// - "node metadata": TestMemberlist_delegateMeta, TestMemberlist_delegateMeta_Update.
// - "membership events": none in Go's memberlist_test.go (Go checks events
//   through other tests); ours cover the EventDelegate and the event listeners.
// - "ConflictDelegate": TestMemberlist_conflictDelegate.
// - "MergeDelegate": TestMemberlist_Join_Cancel.
// - "AliveDelegate": TestMemberlist_Join_Cancel_Passive.
// - "PingDelegate": TestMemberlist_PingDelegate.
// - "user messages": TestMemberlist_SendTo, TestTransport_Send, and the
//   broadcast half of TestMemberlist_UserData.
// - "push/pull user state": the state half of TestMemberlist_UserData.
//
// Not ported: nothing. TestTransport_Send's deprecated SendTo, SendToUDP and
// SendToTCP have no counterpart in our API; sendToAddress, sendBestEffort and
// sendReliable take their places.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { MAX_USER_MSG_BYTES } from "../lib/codec.ts";
import { JoinError } from "../lib/errors.ts";
import type { NodeEvent } from "../lib/memberlist.ts";
import { type Node, NodeState } from "../lib/node.ts";
import { TestCluster, type TestNode } from "./_helpers.ts";
import { addAt, memberNames, text, utf8 } from "./_memberlist_helpers.ts";

/** Metadata of each member as `observer` sees it, by name. */
function roles(observer: TestNode): Record<string, string> {
  const out: Record<string, string> = {};
  for (const n of observer.ml.members()) out[n.name] = text(n.meta);
  return out;
}

/** A delegate like Go's MockDelegate: settable metadata, state and broadcasts; keeps what it receives. */
class MockDelegate {
  meta: Uint8Array = new Uint8Array(0);
  state: Uint8Array = new Uint8Array(0);
  broadcasts: Uint8Array[] = [];
  messages: string[] = [];
  remote: { state: string; join: boolean }[] = [];
  localStateCalls: boolean[] = [];
  nodeMeta(): Uint8Array {
    return this.meta;
  }
  notifyMsg(msg: Uint8Array): void {
    this.messages.push(text(msg));
  }
  getBroadcasts(): Uint8Array[] {
    const out = this.broadcasts;
    this.broadcasts = [];
    return out;
  }
  localState(join: boolean): Uint8Array {
    this.localStateCalls.push(join);
    return this.state;
  }
  mergeRemoteState(buf: Uint8Array, join: boolean): void {
    this.remote.push({ state: text(buf), join });
  }
}

describe("node metadata (Delegate.nodeMeta)", () => {
  it("each node sees the other's metadata after a join", async () => {
    const c = new TestCluster({ seed: 1001 });
    const a = await addAt(c, "a", "127.0.0.10:7946", { delegate: { nodeMeta: () => utf8("web") } });
    const b = await addAt(c, "b", "127.0.0.11:7946", { delegate: { nodeMeta: () => utf8("lb") } });
    await c.settle(a.ml.join(["b/127.0.0.11:7946"]));
    await c.advance(250);
    assert.deepEqual(roles(a), { a: "web", b: "lb" });
    assert.deepEqual(roles(b), { a: "web", b: "lb" });
    await c.shutdown();
  });

  it("updateNode() spreads new metadata from both nodes", async () => {
    const c = new TestCluster({ seed: 1002 });
    const d1 = new MockDelegate();
    const d2 = new MockDelegate();
    d1.meta = utf8("web");
    d2.meta = utf8("lb");
    const a = await addAt(c, "a", "127.0.0.10:7946", { delegate: d1 });
    const b = await addAt(c, "b", "127.0.0.11:7946", { delegate: d2 });
    await c.settle(a.ml.join(["b/127.0.0.11:7946"]));
    await c.advance(250);
    d1.meta = utf8("api");
    d2.meta = utf8("db");
    await c.settle(Promise.all([a.ml.updateNode(0), b.ml.updateNode(0)]));
    await c.advance(250);
    assert.deepEqual(roles(a), { a: "api", b: "db" });
    assert.deepEqual(roles(b), { a: "api", b: "db" });
    await c.shutdown();
  });
});

describe("membership events", () => {
  it("the event delegate hears its own join first, then others' joins, updates and leaves", async () => {
    const c = new TestCluster({ seed: 1101 });
    const heard: string[] = [];
    const events = {
      notifyJoin: (n: Node) => void heard.push(`join ${n.name}`),
      notifyUpdate: (n: Node) => void heard.push(`update ${n.name} ${text(n.meta)}`),
      notifyLeave: (n: Node) => void heard.push(`leave ${n.name} ${n.state}`),
    };
    const a = await addAt(c, "a", "127.0.0.10:7946", { events });
    assert.deepEqual(heard, ["join a"]);
    let meta = utf8("1");
    const b = await addAt(c, "b", "127.0.0.11:7946", { delegate: { nodeMeta: () => meta } });
    const x = await addAt(c, "x", "127.0.0.12:7946");
    await c.settle(Promise.all([b.ml.join(["a/127.0.0.10:7946"]), x.ml.join(["a/127.0.0.10:7946"])]));
    await c.waitFor(() => a.ml.numMembers() === 3, 1000, 1);
    meta = utf8("2");
    await c.settle(b.ml.updateNode(5000));
    await c.waitFor(() => heard.length === 4, 1000, 1);
    await c.settle(b.ml.leave(5000));
    await c.waitFor(() => heard.length === 5, 1000, 1);
    c.net.kill(x.transport.addr);
    await c.settle(x.ml.shutdown());
    await c.waitFor(() => heard.length === 6, 60_000);
    assert.equal(heard[0], "join a");
    assert.deepEqual(heard.slice(1, 3).sort(), ["join b", "join x"]);
    assert.deepEqual(heard.slice(3), [
      "update b 2",
      `leave b ${NodeState.Left}`,
      `leave x ${NodeState.Dead}`,
    ]);
    await c.shutdown();
  });

  it("listeners get the same events as the delegate", async () => {
    const c = new TestCluster({ seed: 1102 });
    const fromDelegate: string[] = [];
    const fromListeners: string[] = [];
    const a = await addAt(c, "a", "127.0.0.10:7946", {
      events: {
        notifyJoin: (n) => void fromDelegate.push(`join ${n.name}`),
        notifyUpdate: (n) => void fromDelegate.push(`update ${n.name}`),
        notifyLeave: (n) => void fromDelegate.push(`leave ${n.name}`),
      },
    });
    fromDelegate.length = 0;
    for (const type of ["join", "update", "leave"] as const) {
      a.ml.addEventListener(type, (e: NodeEvent) => {
        assert.equal(e.type, type);
        fromListeners.push(`${type} ${e.node.name}`);
      });
    }
    let meta = utf8("1");
    const b = await addAt(c, "b", "127.0.0.11:7946", { delegate: { nodeMeta: () => meta } });
    await c.settle(b.ml.join(["a/127.0.0.10:7946"]));
    meta = utf8("2");
    await c.settle(b.ml.updateNode(5000));
    await c.settle(b.ml.leave(5000));
    await c.waitFor(() => fromListeners.length === 3, 1000, 1);
    assert.deepEqual(fromListeners, ["join b", "update b", "leave b"]);
    assert.deepEqual(fromDelegate, fromListeners);
    await c.shutdown();
  });

  it("once, an abort signal and removeEventListener() each stop a listener", async () => {
    const c = new TestCluster({ seed: 1103 });
    const a = await addAt(c, "a", "127.0.0.10:7946");
    const calls = { once: 0, signal: 0, removed: 0, twice: 0, kept: 0 };
    const controller = new AbortController();
    const removed = () => void calls.removed++;
    const twice = () => void calls.twice++;
    a.ml.addEventListener("join", () => void calls.once++, { once: true });
    a.ml.addEventListener("join", () => void calls.signal++, { signal: controller.signal });
    a.ml.addEventListener("join", removed);
    a.ml.addEventListener("join", twice);
    a.ml.addEventListener("join", twice);
    a.ml.addEventListener("join", () => void calls.kept++);
    a.ml.addEventListener("join", () => assert.fail("added with an aborted signal"), { signal: AbortSignal.abort() });

    const b = await addAt(c, "b", "127.0.0.11:7946");
    await c.settle(b.ml.join(["a/127.0.0.10:7946"]));
    await c.waitFor(() => calls.kept === 1, 1000, 1);
    assert.deepEqual(calls, { once: 1, signal: 1, removed: 1, twice: 1, kept: 1 });

    controller.abort();
    a.ml.removeEventListener("join", removed);
    const d = await addAt(c, "d", "127.0.0.12:7946");
    await c.settle(d.ml.join(["a/127.0.0.10:7946"]));
    await c.waitFor(() => calls.kept === 2, 1000, 1);
    assert.deepEqual(calls, { once: 1, signal: 1, removed: 1, twice: 2, kept: 2 });
    await c.shutdown();
  });

  it("a listener or event delegate that throws is logged, and nothing else is disturbed", async () => {
    const c = new TestCluster({ seed: 1104 });
    const a = await addAt(c, "a", "127.0.0.10:7946", {
      events: {
        notifyJoin: (n) => {
          if (n.name !== "a") throw new Error("delegate broke");
        },
      },
    });
    const seen: string[] = [];
    a.ml.addEventListener("join", () => {
      throw new Error("listener broke");
    });
    a.ml.addEventListener("join", (e) => void seen.push(e.node.name));
    const b = await addAt(c, "b", "127.0.0.11:7946");
    const d = await addAt(c, "d", "127.0.0.12:7946");
    assert.equal(await c.settle(b.ml.join(["a/127.0.0.10:7946"])), 1);
    assert.equal(await c.settle(d.ml.join(["a/127.0.0.10:7946"])), 1);
    await c.waitFor(() => [a, b, d].every((n) => n.ml.numMembers() === 3), 10_000);
    assert.deepEqual(seen.sort(), ["b", "d"]);
    assert.equal(a.logger.find("error", 'Event listener for "join" threw'), 2);
    assert.equal(a.logger.find("error", "EventDelegate.notifyJoin threw"), 2);
    // The node goes on probing and answering as usual.
    await c.advance(10_000);
    assert.ok([a, b, d].every((n) => n.ml.numMembers() === 3));
    await c.shutdown();
  });
});

describe("ConflictDelegate", () => {
  it("hears of a second node claiming a known name at another address", async () => {
    const c = new TestCluster({ seed: 1201 });
    const conflicts: [Node, Node][] = [];
    const a = await addAt(c, "same", "127.0.0.10:7946", {
      conflict: { notifyConflict: (existing, other) => void conflicts.push([existing, other]) },
    });
    await addAt(c, "same", "127.0.0.11:7946");
    assert.equal(await c.settle(a.ml.join(["same/127.0.0.11:7946"])), 1);
    await c.advance(250);
    assert.ok(conflicts.length > 0);
    const [existing, other] = conflicts[0]!;
    assert.equal(existing.name, "same");
    assert.equal(other.name, "same");
    assert.equal(existing.address, "127.0.0.10:7946");
    assert.equal(other.address, "127.0.0.11:7946");
    // The first claim stands.
    assert.deepEqual(a.ml.members().map((n) => n.address), ["127.0.0.10:7946"]);
    await c.shutdown();
  });
});

describe("MergeDelegate", () => {
  it("a veto on both sides cancels the join", async () => {
    const c = new TestCluster({ seed: 1301 });
    const seen: Node[][] = [];
    const merge = {
      notifyMerge: (peers: Node[]) => {
        seen.push(peers);
        throw new Error("Custom merge canceled");
      },
    };
    const a = await addAt(c, "a", "127.0.0.10:7946", { merge });
    const b = await addAt(c, "b", "127.0.0.11:7946", { merge });
    await assert.rejects(c.settle(b.ml.join(["a/127.0.0.10:7946"])), (err: unknown) => {
      assert.ok(err instanceof JoinError);
      assert.match((err.errors[0] as Error).message, /Custom merge canceled/);
      return true;
    });
    await c.advance(250);
    assert.equal(a.ml.numMembers(), 1);
    assert.equal(b.ml.numMembers(), 1);
    // Both were asked, each with the other's view.
    assert.equal(seen.length, 2);
    const names = seen.map((peers) => peers.map((p) => `${p.name} ${p.state} ${p.pMax}`).join()).sort();
    assert.deepEqual(names, ["a 0 5", "b 0 5"]);
    await c.shutdown();
  });

  it("is asked only for joins, not for the periodic push/pull", async () => {
    const c = new TestCluster({ seed: 1302 });
    let asked = 0;
    const merge = { notifyMerge: () => void asked++ };
    const a = await addAt(c, "a", "127.0.0.10:7946", { merge, pushPullInterval: 1000 });
    const b = await addAt(c, "b", "127.0.0.11:7946", { merge, pushPullInterval: 1000 });
    assert.equal(await c.settle(b.ml.join(["a/127.0.0.10:7946"])), 1);
    await c.advance(250);
    assert.equal(asked, 2);
    const pushPulls = c.net.stats.streams;
    await c.advance(10_000);
    assert.ok(c.net.stats.streams > pushPulls + 5);
    assert.equal(asked, 2);
    assert.equal(a.ml.numMembers(), 2);
    await c.shutdown();
  });

  it("a veto by the seed alone refuses its merge, but the joiner still learns the seed, and the seed the joiner", async () => {
    const c = new TestCluster({ seed: 1303 });
    const a = await addAt(c, "a", "127.0.0.10:7946", {
      merge: {
        notifyMerge: () => {
          throw new Error("not you");
        },
      },
    });
    const b = await addAt(c, "b", "127.0.0.11:7946");
    // The seed sends its state before it merges, as in Go.
    assert.equal(await c.settle(b.ml.join(["a/127.0.0.10:7946"])), 1);
    assert.deepEqual(memberNames(b.ml), ["a", "b"]);
    assert.deepEqual(memberNames(a.ml), ["a"]);
    assert.ok(a.logger.lines.some((l) => l.level === "error" && /not you/.test(String((l.fields?.error as Error | undefined)?.message))));
    // The merge delegate guards merges only: b's own alive, gossiped, gets in.
    await c.waitFor(() => a.ml.numMembers() === 2, 5000, 10);
    await c.shutdown();
  });
});

describe("AliveDelegate", () => {
  it("can keep every other node out while the join itself succeeds", async () => {
    const c = new TestCluster({ seed: 1401 });
    const counts = { a: 0, b: 0 };
    const only = (self: "a" | "b") => ({
      notifyAlive: (peer: Node) => {
        counts[self]++;
        if (peer.name !== self) throw new Error("Custom alive canceled");
      },
    });
    const a = await addAt(c, "a", "127.0.0.10:7946", { alive: only("a") });
    const b = await addAt(c, "b", "127.0.0.11:7946", { alive: only("b") });
    assert.equal(await c.settle(b.ml.join(["a/127.0.0.10:7946"])), 1);
    await c.advance(2000);
    assert.deepEqual(memberNames(a.ml), ["a"]);
    assert.deepEqual(memberNames(b.ml), ["b"]);
    assert.ok(counts.a > 1 && counts.b > 1, JSON.stringify(counts));
    await c.shutdown();
  });

  it("a veto of one node keeps out just that node, whichever way its alive comes", async () => {
    const c = new TestCluster({ seed: 1402 });
    const seen = new Set<string>();
    const a = await addAt(c, "a", "127.0.0.10:7946", {
      alive: {
        notifyAlive: (peer) => {
          seen.add(peer.name);
          if (peer.name === "x") throw new Error("no x");
        },
      },
    });
    const b = await addAt(c, "b", "127.0.0.11:7946");
    const x = await addAt(c, "x", "127.0.0.12:7946");
    await c.settle(b.ml.join(["a/127.0.0.10:7946"]));
    // x joins through b: a hears of it by gossip, and later by push/pull.
    await c.settle(x.ml.join(["b/127.0.0.11:7946"]));
    await c.advance(20_000);
    assert.deepEqual(memberNames(a.ml), ["a", "b"]);
    assert.deepEqual(memberNames(b.ml), ["a", "b", "x"]);
    assert.deepEqual([...seen].sort(), ["a", "b", "x"]);
    await c.shutdown();
  });
});

describe("PingDelegate", () => {
  it("reports the round-trip time and the ack payload of direct probes", async () => {
    const c = new TestCluster({ seed: 1501, net: { latency: 2 } });
    const complete: { other: Node; rtt: number; payload: string }[] = [];
    const ping = {
      ackPayload: () => utf8("whatever"),
      notifyPingComplete: (other: Node, rtt: number, payload: Uint8Array) =>
        void complete.push({ other, rtt, payload: text(payload) }),
    };
    const a = await addAt(c, "a", "127.0.0.10:7946", { probeInterval: 100, ping });
    const b = await addAt(c, "b", "127.0.0.11:7946", { probeInterval: 100 });
    assert.equal(await c.settle(b.ml.join(["a/127.0.0.10:7946"])), 1);
    await c.waitFor(() => a.ml.numMembers() === 2, 1000, 1);
    const before = complete.length;
    await c.advance(200);
    assert.ok(complete.length > before);
    const last = complete.at(-1)!;
    assert.deepEqual(last.other, a.ml.members().find((n) => n.name === "b"));
    assert.equal(last.rtt, 4);
    // b has no ping delegate, so its acks carry nothing.
    assert.equal(last.payload, "");
    await c.shutdown();
  });

  it("hands the ack payload of the probed node to the prober", async () => {
    const c = new TestCluster({ seed: 1502, net: { latency: 2 } });
    const complete: { other: Node; rtt: number; payload: string }[] = [];
    const ping = {
      ackPayload: () => utf8("whatever"),
      notifyPingComplete: (other: Node, rtt: number, payload: Uint8Array) =>
        void complete.push({ other, rtt, payload: text(payload) }),
    };
    const a = await addAt(c, "a", "127.0.0.10:7946", { probeInterval: 100, ping });
    const b = await addAt(c, "b", "127.0.0.11:7946", { probeInterval: 100, ping });
    assert.equal(await c.settle(b.ml.join(["a/127.0.0.10:7946"])), 1);
    await c.waitFor(() => a.ml.numMembers() === 2, 1000, 1);
    await c.advance(200);
    const localA = a.ml.localNode();
    await c.shutdown();
    const aboutA = complete.filter((e) => e.other.name === "a");
    assert.ok(aboutA.length > 0);
    assert.deepEqual(aboutA.at(-1)!.other, localA);
    assert.ok(aboutA.every((e) => e.rtt === 4 && e.payload === "whatever"));
  });

  it("an ackPayload that throws is logged, and the ack goes out bare", async () => {
    const c = new TestCluster({ seed: 1503, net: { latency: 1 } });
    const payloads: string[] = [];
    const a = await addAt(c, "a", "127.0.0.10:7946", {
      probeInterval: 100,
      ping: {
        ackPayload: () => {
          throw new Error("no payload today");
        },
      },
    });
    const b = await addAt(c, "b", "127.0.0.11:7946", {
      probeInterval: 100,
      ping: { notifyPingComplete: (_other, _rtt, payload) => void payloads.push(text(payload)) },
    });
    await c.settle(b.ml.join(["a/127.0.0.10:7946"]));
    await c.advance(500);
    assert.ok(payloads.length > 0);
    assert.ok(payloads.every((p) => p === ""));
    assert.ok(a.logger.find("error", "PingDelegate.ackPayload threw") > 0);
    assert.deepEqual(memberNames(b.ml), ["a", "b"]);
    await c.shutdown();
  });
});

describe("user messages", () => {
  it("sendToAddress(), sendBestEffort() and sendReliable() all reach notifyMsg", async () => {
    const c = new TestCluster({ seed: 1601 });
    const d1 = new MockDelegate();
    const a = await addAt(c, "node1", "127.0.0.10:7946", { delegate: d1 });
    const b = await addAt(c, "node2", "127.0.0.11:7946");
    assert.equal(await c.settle(b.ml.join(["node1/127.0.0.10:7946"])), 1);
    const n1 = b.ml.members().find((n) => n.name === "node1")!;
    await c.settle(b.ml.sendToAddress({ addr: "127.0.0.10:7946", name: "node1" }, utf8("SendToAddress")));
    await c.settle(b.ml.sendBestEffort(n1, utf8("SendBestEffort")));
    await c.settle(b.ml.sendReliable(n1, utf8("SendReliable")));
    await c.advance(100);
    assert.deepEqual([...d1.messages].sort(), ["SendBestEffort", "SendReliable", "SendToAddress"]);
    void a;
    await c.shutdown();
  });

  it("messages go both ways", async () => {
    const c = new TestCluster({ seed: 1602 });
    const d1 = new MockDelegate();
    const d2 = new MockDelegate();
    const a = await addAt(c, "a", "127.0.0.10:7946", { delegate: d1 });
    const b = await addAt(c, "b", "127.0.0.11:7946", { delegate: d2 });
    assert.equal(await c.settle(b.ml.join(["a/127.0.0.10:7946"])), 1);
    await c.settle(a.ml.sendToAddress({ addr: "127.0.0.11:7946", name: "b" }, utf8("ping")));
    await c.settle(b.ml.sendToAddress({ addr: "127.0.0.10:7946", name: "a" }, utf8("pong")));
    await c.waitFor(() => d1.messages.length === 1 && d2.messages.length === 1, 1000, 1);
    assert.deepEqual(d1.messages, ["pong"]);
    assert.deepEqual(d2.messages, ["ping"]);
    await c.shutdown();
  });

  it("sendBestEffort() refuses, with a RangeError, a message that does not fit in one packet", async () => {
    for (const [label, secretKey, max] of [
      ["", null, 1400 - 1],
      // A 2-byte label header and "blah"; a version byte, a 12-byte nonce and a 16-byte tag.
      ["blah", new Uint8Array(16).fill(3), 1400 - 1 - 6 - 29],
    ] as const) {
      const c = new TestCluster({ seed: 1603 });
      const d = new MockDelegate();
      const a = await addAt(c, "a", "127.0.0.10:7946", { label, secretKey });
      const b = await addAt(c, "b", "127.0.0.11:7946", { label, secretKey, delegate: d });
      await c.settle(b.ml.join(["a/127.0.0.10:7946"]));
      const to = a.ml.members().find((n) => n.name === "b")!;
      // Incompressible, so that compression can not make it fit.
      const big = new Uint8Array(max + 1).map((_, i) => (i * 2654435761) >>> 24);
      await assert.rejects(a.ml.sendBestEffort(to, big), RangeError);
      await c.settle(a.ml.sendBestEffort(to, big.subarray(0, max)));
      await c.waitFor(() => d.messages.length === 1, 1000, 1);
      assert.equal(d.messages[0]!.length > 0, true);
      await c.shutdown();
    }
  });

  it("sendReliable() carries a large message whole, and refuses one over 20 MiB", async () => {
    const c = new TestCluster({ seed: 1604 });
    const got: Uint8Array[] = [];
    const a = await addAt(c, "a", "127.0.0.10:7946");
    await addAt(c, "b", "127.0.0.11:7946", { delegate: { notifyMsg: (m) => void got.push(m) } });
    await c.settle(a.ml.join(["b/127.0.0.11:7946"]));
    const to = a.ml.members().find((n) => n.name === "b")!;
    const big = new Uint8Array(4 * 1024 * 1024).map((_, i) => (i * 2654435761) >>> 24);
    await c.settle(a.ml.sendReliable(to, big));
    await c.waitFor(() => got.length === 1, 1000, 1);
    assert.equal(got[0]!.length, big.length);
    assert.ok(got[0]!.every((v, i) => v === big[i]));
    await assert.rejects(a.ml.sendReliable(to, new Uint8Array(MAX_USER_MSG_BYTES + 1)), RangeError);
    await c.shutdown();
  });

  it("user broadcasts from getBroadcasts() reach the other node", async () => {
    const c = new TestCluster({ seed: 1605 });
    const d1 = new MockDelegate();
    const d2 = new MockDelegate();
    const sent = Array.from({ length: 256 }, (_, i) => String(i));
    d2.broadcasts = sent.map(utf8);
    await addAt(c, "a", "127.0.0.10:7946", { delegate: d1 });
    const b = await addAt(c, "b", "127.0.0.11:7946", { delegate: d2 });
    assert.equal(await c.settle(b.ml.join(["a/127.0.0.10:7946"])), 1);
    await c.waitFor(() => d1.messages.length === 256, 5000);
    assert.deepEqual([...d1.messages].sort(), [...sent].sort());
    await c.shutdown();
  });

  it("a notifyMsg that throws is logged, and later messages still arrive", async () => {
    const c = new TestCluster({ seed: 1606 });
    const got: string[] = [];
    const b = await addAt(c, "b", "127.0.0.11:7946", {
      delegate: {
        notifyMsg: (m) => {
          if (text(m) === "bad") throw new Error("cannot take it");
          got.push(text(m));
        },
      },
    });
    const a = await addAt(c, "a", "127.0.0.10:7946");
    await c.settle(a.ml.join(["b/127.0.0.11:7946"]));
    const to = a.ml.members().find((n) => n.name === "b")!;
    await c.settle(a.ml.sendBestEffort(to, utf8("bad")));
    await c.settle(a.ml.sendReliable(to, utf8("bad")));
    await c.settle(a.ml.sendBestEffort(to, utf8("good")));
    await c.settle(a.ml.sendReliable(to, utf8("good too")));
    await c.waitFor(() => got.length === 2, 1000, 1);
    assert.deepEqual(got.sort(), ["good", "good too"]);
    assert.equal(b.logger.find("error", "Delegate.notifyMsg threw"), 2);
    await c.shutdown();
  });
});

describe("push/pull user state (Delegate.localState and mergeRemoteState)", () => {
  it("both sides exchange their state when one joins the other, with join = true", async () => {
    const c = new TestCluster({ seed: 1701 });
    const d1 = new MockDelegate();
    const d2 = new MockDelegate();
    d1.state = utf8("something");
    d2.state = utf8("my state");
    await addAt(c, "a", "127.0.0.10:7946", { delegate: d1 });
    const b = await addAt(c, "b", "127.0.0.11:7946", { delegate: d2 });
    assert.equal(await c.settle(b.ml.join(["a/127.0.0.10:7946"])), 1);
    await c.waitFor(() => d1.remote.length === 1, 1000, 1);
    assert.deepEqual(d1.remote, [{ state: "my state", join: true }]);
    assert.deepEqual(d2.remote, [{ state: "something", join: true }]);
    assert.deepEqual(d1.localStateCalls, [true]);
    assert.deepEqual(d2.localStateCalls, [true]);
    await c.shutdown();
  });

  it("the periodic push/pull exchanges it again, with join = false", async () => {
    const c = new TestCluster({ seed: 1702 });
    const d1 = new MockDelegate();
    const d2 = new MockDelegate();
    d1.state = utf8("one");
    d2.state = utf8("two");
    await addAt(c, "a", "127.0.0.10:7946", { delegate: d1, pushPullInterval: 100 });
    const b = await addAt(c, "b", "127.0.0.11:7946", { delegate: d2, pushPullInterval: 100 });
    await c.settle(b.ml.join(["a/127.0.0.10:7946"]));
    d1.state = utf8("one, later");
    await c.advance(1000);
    const later1 = d1.remote.slice(1);
    const later2 = d2.remote.slice(1);
    assert.ok(later1.length >= 5 && later2.length >= 5, `${later1.length} ${later2.length}`);
    assert.ok(later1.every((r) => r.state === "two" && !r.join));
    assert.ok(later2.every((r) => r.state === "one, later" && !r.join));
    assert.ok(d1.localStateCalls.slice(1).every((join) => !join));
    await c.shutdown();
  });

  it("an empty state is not handed to mergeRemoteState()", async () => {
    const c = new TestCluster({ seed: 1703 });
    const d1 = new MockDelegate();
    const d2 = new MockDelegate();
    d2.state = utf8("only b has state");
    await addAt(c, "a", "127.0.0.10:7946", { delegate: d1 });
    const b = await addAt(c, "b", "127.0.0.11:7946", { delegate: d2 });
    await c.settle(b.ml.join(["a/127.0.0.10:7946"]));
    await c.advance(100);
    assert.deepEqual(d1.remote, [{ state: "only b has state", join: true }]);
    assert.deepEqual(d2.remote, []);
    assert.deepEqual(d1.localStateCalls, [true]);
    await c.shutdown();
  });
});
