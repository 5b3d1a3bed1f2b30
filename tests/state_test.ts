// The node state machine, the failure detector, gossip and push/pull (Go
// state_test.go, newest and 0.2.2), on the in-memory network and a virtual clock.
// Nodes are real Memberlists whose schedules are stopped (quietNode), so each
// test runs probes, gossip and push/pulls by hand, as Go's tests call
// m.probeNode() and m.gossip(); where Go pokes internals (a node's state, a
// direct aliveNode call) we use the protocol state from memberlistState().
//
// Go tests covered, by describe block:
//   "probe() and probeNode()": TestMemberList_Probe, TestMemberList_ProbeNode,
//     TestMemberList_ProbeNode_Suspect, TestMemberList_ProbeNode_Buddy,
//     TestMemberList_ProbeNode_FallbackTCP, TestMemberList_ProbeNode_FallbackTCP_Disabled,
//     TestMemberList_ProbeNode_FallbackTCP_OldProtocol (the three FallbackTCP tests are
//     commented out in the newest Go but live in 0.2.2; here UDP is cut with
//     net.blockUdp instead of re-binding sockets), TestMemberlist_FailedRemote (as
//     behaviour: a send error from the transport, thrown or reported later, goes
//     straight to indirect probes, as in Go since 0.3.0).
//   "Lifeguard health in probes": TestMemberList_ProbeNode_Awareness_Degraded,
//     TestMemberList_ProbeNode_Awareness_Improved, TestMemberList_ProbeNode_Awareness_MissedNack,
//     TestMemberList_ProbeNode_Awareness_OldProtocol, TestMemberList_ProbeNode_Suspect_Dogpile.
//   "ping()": TestMemberList_Ping.
//   "resetNodes() and the probe round": TestMemberList_ResetNodes.
//   "sequence numbers and ack handlers": TestMemberList_NextSeq,
//     TestMemberList_setProbeChannels, TestMemberList_setAckHandler,
//     TestMemberList_invokeAckHandler, TestMemberList_invokeAckHandler_Channel_Ack,
//     TestMemberList_invokeAckHandler_Channel_Nack.
//   "aliveNode()": TestMemberList_AliveNode_NewNode, TestMemberList_AliveNode_SuspectNode,
//     TestMemberList_AliveNode_Idempotent, TestMemberList_AliveNode_ChangeMeta,
//     TestMemberList_AliveNode_Refute, TestMemberList_AliveNode_Conflict,
//     TestMemberList_ProbeNode_Wrong_VSN, plus the spec §8.3 rules Go has no test for
//     (alive delegate, leaving, CIDRs, incarnation 0).
//   "suspectNode()": TestMemberList_SuspectNode_NoNode, TestMemberList_SuspectNode,
//     TestMemberList_SuspectNode_DoubleSuspect, TestMemberList_SuspectNode_OldSuspect,
//     TestMemberList_SuspectNode_Refute, plus confirmations (spec §9.6).
//   "deadNode()": TestMemberList_DeadNode_NoNode, TestMemberList_DeadNodeLeft,
//     TestMemberList_DeadNode, TestMemberList_DeadNode_Double, TestMemberList_DeadNode_OldDead,
//     TestMemberList_DeadNode_AliveReplay, TestMemberList_DeadNode_Refute.
//   "mergeState()": TestMemberList_MergeState.
//   "gossip()": TestMemberlist_Gossip, TestMemberlist_GossipToDead.
//   "pushPull()": TestMemberlist_PushPull.
//   "verifyProtocol()": TestVerifyProtocol.
// Not ported: nothing from state_test.go is left out. TestMemberlist_FailedRemote
// classifies Go *net.OpError values; we have no such type (the transport's throw
// from writeTo is the remote failure), so it is checked through a probe instead.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import type { Alive, PushNodeState } from "../lib/codec.ts";
import { NoPingResponseError } from "../lib/errors.ts";
import { NodeState } from "../lib/node.ts";
import {
  aliveNode,
  deadNode,
  getBroadcasts,
  gossip,
  MAX_INCARNATION,
  invokeAckHandler,
  invokeNackHandler,
  mergeState,
  nextSeqNo,
  NodeRecord,
  probe,
  probeNode,
  pushPull,
  pushPullNode,
  resetNodes,
  retryClaims,
  setAckHandler,
  suspectNode,
  verifyProtocol,
} from "../lib/state.ts";
import { NodeIdentity } from "../lib/_records.ts";
import type { Transport, TransportHandlers } from "../lib/transport.ts";
import { TestCluster } from "./_helpers.ts";
import {
  alive,
  DEFAULT_VSN,
  learn,
  type QuietNode,
  queued,
  queuedTypes,
  quietNode,
  rawPeer,
  RecordingEvents,
  RecordingMetrics,
  stateIn,
  T,
} from "./_protocol.ts";

const LOCALHOST = Uint8Array.from([127, 0, 0, 1]);
/** A port on 127.0.0.1 where nothing listens: a node that was never started. */
const NOWHERE = 19999;
const nobody = (name: string, port = NOWHERE) => ({ name, ip: LOCALHOST, port });

/** Go's probe test timings: a fast ack timeout inside a longer probe interval, three relays. */
const PROBE = { probeTimeout: 10, probeInterval: 200, indirectChecks: 3 } as const;

function record(m: QuietNode, name: string): NodeRecord {
  const r = m.m.nodeMap.get(name);
  assert.ok(r, `no record for ${name}`);
  return r;
}

/** Runs probeNode on a snapshot of `name`'s record, as probe() does; returns the virtual time it took. */
async function probeByName(c: TestCluster, node: QuietNode, name: string): Promise<number> {
  const start = c.clock.now();
  await c.settle(probeNode(node.m, record(node, name).clone()));
  return c.clock.now() - start;
}

describe("probe() and probeNode()", () => {
  it("probe() pings the next node in the list, which acks: it stays alive, RTT and ack payload reach the delegate", async () => {
    const c = new TestCluster({ net: { latency: 1 } });
    const rtts: number[] = [];
    const a = await quietNode(c, "a", {
      probeTimeout: 5,
      probeInterval: 10,
      ping: {
        notifyPingComplete: (node, rtt, payload) => {
          rtts.push(node.name === "b" && new TextDecoder().decode(payload) === "from b" ? rtt : -1);
        },
      },
    });
    const b = await quietNode(c, "b", { ping: { ackPayload: () => new TextEncoder().encode("from b") } });
    learn(a, b);
    await c.settle(probe(a.m));
    assert.equal(stateIn(a.m, "b"), NodeState.Alive);
    assert.equal(a.m.sequenceNum, 1);
    assert.deepEqual(rtts, [2]);
    assert.equal(a.m.ackHandlers.size, 0);
    await c.shutdown();
  });

  it("probeNode() of a node that acks directly asks no relay and suspects nobody", async () => {
    const c = new TestCluster({ net: { latency: 1 } });
    const a = await quietNode(c, "a", { probeTimeout: 5, probeInterval: 10, indirectChecks: 3 });
    const b = await quietNode(c, "b");
    const relay = await quietNode(c, "relay");
    learn(a, b);
    learn(a, relay);
    a.m.broadcasts.reset();
    await probeByName(c, a, "b");
    assert.equal(stateIn(a.m, "b"), NodeState.Alive);
    assert.equal(a.m.sequenceNum, 1);
    assert.equal(relay.m.sequenceNum, 0);
    assert.equal(a.m.broadcasts.numQueued(), 0);
    await c.shutdown();
  });

  it("probeNode() of a silent node asks every live relay, then marks it suspect", async () => {
    const c = new TestCluster({ net: { latency: 1 } });
    const metrics = new RecordingMetrics();
    const a = await quietNode(c, "a", { probeTimeout: 1, probeInterval: 10, indirectChecks: 3, metrics });
    const b = await quietNode(c, "b");
    const d = await quietNode(c, "c");
    learn(a, b);
    learn(a, d);
    learn(a, nobody("silent"));
    a.m.broadcasts.reset();
    const took = await probeByName(c, a, "silent");
    assert.equal(took, 10);
    assert.equal(stateIn(a.m, "silent"), NodeState.Suspect);
    // Both relays pinged the target with a sequence number of their own.
    await c.advance(5);
    assert.equal(b.m.sequenceNum, 1);
    assert.equal(d.m.sequenceNum, 1);
    const [s] = queued(a.m);
    assert.deepEqual(s, { type: T.Suspect, body: { incarnation: 1, node: "silent", from: "a" } });
    assert.equal(metrics.counter("memberlist.msg.suspect"), 1);
    await c.shutdown();
  });

  it("probeNode() of a suspect node sends [ping, suspect] alone in one compound, with a CRC for protocol 5", async () => {
    const c = new TestCluster({ net: { latency: 1 } });
    const a = await quietNode(c, "a", { probeTimeout: 5, probeInterval: 10, enableCompression: false });
    const raw = rawPeer(c, "r");
    learn(a, { name: "r", ip: raw.ip, port: raw.port });
    // A queued dead message about another node must not ride along (and the dead node relays nothing).
    learn(a, nobody("other", 19998));
    deadNode(a.m, { node: "other", incarnation: 1, from: "a" });
    record(a, "r").state = NodeState.Suspect;
    await probeByName(c, a, "r");
    assert.equal(raw.packets.length, 1);
    const p = raw.packets[0]!;
    assert.equal(p.buf[0], T.HasCrc);
    assert.equal(p.top[0], T.Compound);
    assert.deepEqual(p.messages, [
      {
        type: T.Ping,
        body: { seqNo: 1, node: "r", sourceAddr: a.ip, sourcePort: a.port, sourceNode: "a" },
      },
      { type: T.Suspect, body: { incarnation: 1, node: "r", from: "a" } },
    ]);
    assert.deepEqual(a.m.broadcasts.orderedView().map((q) => q.transmits), [0, 0]);
    await c.shutdown();
  });

  it("a suspect node that is probed refutes the suspicion it carries and acks; its gossip clears it", async () => {
    const c = new TestCluster({ net: { latency: 1 } });
    const a = await quietNode(c, "a", { probeTimeout: 5, probeInterval: 10 });
    const b = await quietNode(c, "b");
    learn(a, b);
    learn(b, a);
    b.m.broadcasts.reset();
    record(a, "b").state = NodeState.Suspect;
    await probeByName(c, a, "b");
    assert.equal(a.m.sequenceNum, 1);
    assert.equal(a.ml.getHealthScore(), 0);
    // b refuted: one alive broadcast queued, with a higher incarnation.
    const q = queued(b.m);
    assert.equal(q.length, 1);
    assert.equal(q[0]!.type, T.Alive);
    assert.equal((q[0]!.body as Alive).incarnation, 2);
    assert.equal(record(b, "b").incarnation, 2);
    assert.equal(b.ml.getHealthScore(), 1);
    // a still suspects b until b's refutation reaches it.
    assert.equal(stateIn(a.m, "b"), NodeState.Suspect);
    gossip(b.m);
    await c.advance(5);
    assert.equal(stateIn(a.m, "b"), NodeState.Alive);
    assert.equal(record(a, "b").incarnation, 2);
    await c.shutdown();
  });

  it("probeNode() falls back to TCP when UDP to the node is blocked, then suspects it once TCP fails too", async () => {
    const c = new TestCluster({ net: { latency: 1 } });
    const a = await quietNode(c, "a", PROBE);
    const b = await quietNode(c, "b");
    const d = await quietNode(c, "c");
    const target = await quietNode(c, "target");
    learn(a, b);
    learn(a, d);
    learn(a, target);
    c.net.blockUdp(target.transport.addr, true);
    const streams = c.net.stats.streams;
    const took = await probeByName(c, a, "target");
    assert.equal(stateIn(a.m, "target"), NodeState.Alive);
    assert.ok(took <= PROBE.probeInterval, `took ${took} ms`);
    assert.equal(c.net.stats.streams, streams + 1);
    assert.equal(a.logger.find("warn", "Was able to connect over TCP but UDP probes failed"), 1);
    assert.equal(a.ml.getHealthScore(), 0);
    await c.advance(50);
    assert.equal(b.m.sequenceNum, 1);
    assert.equal(d.m.sequenceNum, 1);

    // Now TCP is cut too (a black hole): the probe still ends on time and suspects.
    c.net.partition([a.transport.addr], [target.transport.addr]);
    const took2 = await probeByName(c, a, "target");
    assert.equal(took2, PROBE.probeInterval);
    assert.equal(stateIn(a.m, "target"), NodeState.Suspect);
    await c.advance(50);
    assert.equal(b.m.sequenceNum, 2);
    assert.equal(d.m.sequenceNum, 2);
    c.net.heal();
    await c.shutdown();
  });

  for (
    const [what, overrides] of [
      ["disableTcpPings", { disableTcpPings: true }],
      ["disableTcpPingsForNode", { disableTcpPingsForNode: (name: string) => name === "target" }],
    ] as const
  ) {
    it(`probeNode() makes no TCP ping when ${what} says so`, async () => {
      const c = new TestCluster({ net: { latency: 1 } });
      const a = await quietNode(c, "a", { ...PROBE, ...overrides });
      const b = await quietNode(c, "b");
      const target = await quietNode(c, "target");
      learn(a, b);
      learn(a, target);
      c.net.blockUdp(target.transport.addr, true);
      const streams = c.net.stats.streams;
      const took = await probeByName(c, a, "target");
      assert.equal(took, PROBE.probeInterval);
      assert.equal(stateIn(a.m, "target"), NodeState.Suspect);
      assert.equal(c.net.stats.streams, streams);
      await c.advance(50);
      assert.equal(b.m.sequenceNum, 1);
      await c.shutdown();
    });
  }

  it("probeNode() makes no TCP ping to a node speaking at most protocol 2", async () => {
    const c = new TestCluster({ net: { latency: 1 } });
    const a = await quietNode(c, "a", PROBE);
    const b = await quietNode(c, "b");
    const target = await quietNode(c, "target");
    learn(a, b);
    learn(a, target, { vsn: Uint8Array.from([1, 2, 2, 0, 0, 0]) });
    c.net.blockUdp(target.transport.addr, true);
    const streams = c.net.stats.streams;
    await probeByName(c, a, "target");
    assert.equal(stateIn(a.m, "target"), NodeState.Suspect);
    assert.equal(c.net.stats.streams, streams);
    await c.shutdown();
  });

  for (const late of [false, true]) {
    it(`a UDP send error ${
      late ? "the transport reports after writeTo() returned (as sockets do)" : "thrown by the transport's writeTo()"
    } skips the direct wait, goes to relays, and leaves health unchanged (Go >= 0.3.0)`, async () => {
      const c = new TestCluster({ net: { latency: 1 } });
      const inner = c.net.newTransport("a-inner");
      let failing = "";
      let handlers: TransportHandlers | null = null;
      const flaky: Transport = {
        finalAdvertiseAddr: (ip, port) => inner.finalAdvertiseAddr(ip, port),
        setHandlers: (h) => {
          handlers = h;
          inner.setHandlers(h);
        },
        writeTo: (b, to) => {
          if (to.addr !== failing) return inner.writeTo(b, to);
          if (!late) throw new Error("sendto: network is unreachable");
          c.clock.setTimeout(() => handlers?.sendError?.(to.addr, new Error("sendto: invalid argument")), 0);
          return c.clock.now();
        },
        dialTimeout: (to, ms) => inner.dialTimeout(to, ms),
        shutdown: () => inner.shutdown(),
      };
      const a = await quietNode(c, "a", { ...PROBE, transport: flaky });
      const relay = await quietNode(c, "relay");
      const target = await quietNode(c, "target");
      learn(a, relay);
      learn(a, target);
      failing = target.transport.addr;
      a.m.awareness.applyDelta(1);
      const start = c.clock.now();
      const probing = probeNode(a.m, record(a, "target").clone());
      // The relay gets the request at once (plus latency), not after probeTimeout.
      await c.advance(3);
      assert.equal(relay.m.sequenceNum, 1);
      await c.settle(probing);
      assert.ok(c.clock.now() - start < PROBE.probeTimeout, "the relayed ack ended the probe early");
      assert.equal(stateIn(a.m, "target"), NodeState.Alive);
      assert.equal(a.logger.find("error", "Failed to send UDP ping"), 1);
      assert.equal(a.ml.getHealthScore(), 1, "a probe whose ping failed does not count as healthy");
      if (late) {
        // A send error about another address, or after the wait, changes nothing.
        failing = "";
        handlers!.sendError!("127.0.0.1:1", new Error("x"));
        await c.settle(probeNode(a.m, record(a, "target").clone()));
        assert.equal(a.ml.getHealthScore(), 0);
      }
      await c.shutdown();
    });
  }

  it("probeNode() of a name whose address is held by another node gets no ack and suspects it", async () => {
    const c = new TestCluster({ net: { latency: 1 } });
    const a = await quietNode(c, "a", PROBE);
    const b = await quietNode(c, "b");
    // a believes "ghost" lives where b is.
    learn(a, { name: "ghost", ip: b.ip, port: b.port });
    await probeByName(c, a, "ghost");
    assert.equal(stateIn(a.m, "ghost"), NodeState.Suspect);
    assert.equal(b.logger.find("warn", "Got ping for unexpected node"), 1);
    assert.equal(b.logger.find("warn", "Got TCP ping for unexpected node"), 1);
    assert.equal(a.logger.find("error", "Failed fallback TCP ping"), 1);
    await c.shutdown();
  });
});

describe("Lifeguard health in probes", () => {
  it("with a degraded score the probe lasts probeInterval × (score + 1); all nacks back keep the score", async () => {
    const c = new TestCluster({ net: { latency: 1 } });
    const metrics = new RecordingMetrics();
    const a = await quietNode(c, "a", { ...PROBE, metrics });
    const b = await quietNode(c, "b", { probeTimeout: 10 });
    const d = await quietNode(c, "c", { probeTimeout: 10 });
    learn(a, b);
    learn(a, d);
    learn(a, nobody("silent"), { vsn: Uint8Array.from([1, 5, 1, 0, 0, 0]) });
    a.m.awareness.applyDelta(1);
    const start = c.clock.now();
    const probing = probeNode(a.m, record(a, "silent").clone());
    // The direct wait is probeTimeout, not scaled: relays are asked right after it.
    await c.clock.runUntil(start + PROBE.probeTimeout + 2);
    assert.equal(b.m.sequenceNum, 1);
    assert.equal(d.m.sequenceNum, 1);
    await c.settle(probing);
    assert.equal(c.clock.now() - start, 2 * PROBE.probeInterval);
    assert.equal(stateIn(a.m, "silent"), NodeState.Suspect);
    assert.equal(a.ml.getHealthScore(), 1);
    assert.equal(metrics.counter("memberlist.degraded.probe"), 1);
    await c.shutdown();
  });

  it("a successful probe lowers the score by one", async () => {
    const c = new TestCluster({ net: { latency: 1 } });
    const metrics = new RecordingMetrics();
    const a = await quietNode(c, "a", { ...PROBE, metrics });
    const b = await quietNode(c, "b");
    learn(a, b);
    a.m.awareness.applyDelta(1);
    assert.equal(metrics.gauges.get("memberlist.health.score"), 1);
    await probeByName(c, a, "b");
    assert.equal(stateIn(a.m, "b"), NodeState.Alive);
    assert.equal(a.ml.getHealthScore(), 0);
    assert.equal(metrics.gauges.get("memberlist.health.score"), 0);
    await c.shutdown();
  });

  it("each missing nack from a relay that should send one raises the score", async () => {
    const c = new TestCluster({ net: { latency: 1 } });
    const a = await quietNode(c, "a", PROBE);
    const b = await quietNode(c, "b", { probeTimeout: 10 });
    learn(a, b);
    // A relay that was never started, and a target that was never started.
    learn(a, nobody("gone-relay", 19998));
    learn(a, nobody("silent"));
    assert.equal(a.ml.getHealthScore(), 0);
    const took = await probeByName(c, a, "silent");
    assert.equal(took, PROBE.probeInterval);
    assert.equal(stateIn(a.m, "silent"), NodeState.Suspect);
    assert.equal(a.ml.getHealthScore(), 1);
    await c.shutdown();
  });

  it("with relays too old to nack, a failed probe raises the score by one", async () => {
    const c = new TestCluster({ net: { latency: 1 } });
    const a = await quietNode(c, "a", PROBE);
    const b = await quietNode(c, "b", { probeTimeout: 10 });
    const d = await quietNode(c, "c", { probeTimeout: 10 });
    // Protocol 2 at most: no nacks (4), no TCP fallback (3).
    const old = Uint8Array.from([1, 2, 2, 0, 0, 0]);
    learn(a, b, { vsn: old });
    learn(a, d, { vsn: old });
    learn(a, nobody("silent"), { vsn: old });
    const streams = c.net.stats.streams;
    const took = await probeByName(c, a, "silent");
    assert.equal(took, PROBE.probeInterval);
    assert.equal(stateIn(a.m, "silent"), NodeState.Suspect);
    assert.equal(b.m.sequenceNum, 1);
    assert.equal(d.m.sequenceNum, 1);
    assert.equal(c.net.stats.streams, streams, "no TCP ping to a node without versions");
    assert.equal(a.ml.getHealthScore(), 1);
    await c.shutdown();
  });

  // Go's table: peers in the cluster, confirmations from others, and when the suspect must die.
  const dogpile = [
    { name: "n=2, k=3 (max timeout disabled)", peers: 1, confirmations: 0, expected: 500 },
    { name: "n=3, k=3", peers: 2, confirmations: 0, expected: 500 },
    { name: "n=4, k=3", peers: 3, confirmations: 0, expected: 500 },
    { name: "n=5, k=3 (max timeout starts to take effect)", peers: 4, confirmations: 0, expected: 1000 },
    { name: "n=6, k=3", peers: 5, confirmations: 0, expected: 1000 },
    { name: "n=6, k=3 (confirmations start to lower timeout)", peers: 5, confirmations: 1, expected: 750 },
    { name: "n=6, k=3", peers: 5, confirmations: 2, expected: 603 },
    { name: "n=6, k=3 (timeout driven to nominal value)", peers: 5, confirmations: 3, expected: 500 },
    { name: "n=6, k=3", peers: 5, confirmations: 4, expected: 500 },
  ];
  for (const tc of dogpile) {
    it(`a suspect dies on time as confirmations arrive: ${tc.name}, ${tc.confirmations} confirmations`, async () => {
      const c = new TestCluster({ net: { latency: 1 } });
      const metrics = new RecordingMetrics();
      const m = await quietNode(c, "m", {
        probeTimeout: 1,
        probeInterval: 100,
        indirectChecks: 3,
        suspicionMult: 5,
        suspicionMaxTimeoutMult: 2,
        metrics,
      });
      for (let j = 0; j < tc.peers - 1; j++) learn(m, await quietNode(c, `peer-${j}`));
      learn(m, nobody("bad"));
      await probeByName(c, m, "bad");
      assert.equal(stateIn(m.m, "bad"), NodeState.Suspect);
      for (let j = 0; j < tc.confirmations; j++) {
        suspectNode(m.m, { node: "bad", incarnation: 1, from: `peer${j}` });
      }
      const since = record(m, "bad").stateChange;
      await c.clock.runUntil(since + tc.expected - 1);
      assert.equal(stateIn(m.m, "bad"), NodeState.Suspect);
      await c.clock.runUntil(since + tc.expected);
      assert.equal(stateIn(m.m, "bad"), NodeState.Dead);
      // k = 3 is expected only with 5 nodes or more; fewer confirmations count as a degraded timeout.
      const k = tc.peers + 1 - 2 < 3 ? 0 : 3;
      assert.equal(metrics.counter("memberlist.degraded.timeout"), k > 0 && tc.confirmations < k ? 1 : 0);
      await c.shutdown();
    });
  }
});

describe("ping()", () => {
  it("returns the round-trip time of one direct ping", async () => {
    const c = new TestCluster({ net: { latency: 3 } });
    const a = await quietNode(c, "a", { probeTimeout: 1000, probeInterval: 10_000 });
    const b = await quietNode(c, "b");
    assert.equal(await c.settle(a.ml.ping("b", b.transport.addr)), 6);
    await c.shutdown();
  });

  it("fails with NoPingResponseError after probeTimeout when the node does not answer to that name", async () => {
    const c = new TestCluster({ net: { latency: 3 } });
    const a = await quietNode(c, "a", { probeTimeout: 1000, probeInterval: 10_000 });
    const b = await quietNode(c, "b");
    learn(a, b);
    const start = c.clock.now();
    await assert.rejects(c.settle(a.ml.ping("bad", b.transport.addr)), (err: unknown) => {
      assert.ok(err instanceof NoPingResponseError);
      assert.equal(err.node, "bad");
      return true;
    });
    assert.equal(c.clock.now() - start, 1000);
    // A bare ping neither suspects anyone nor touches health.
    assert.equal(stateIn(a.m, "b"), NodeState.Alive);
    assert.equal(a.ml.getHealthScore(), 0);
    assert.equal(a.m.ackHandlers.size, 0);
    await c.shutdown();
  });
});

describe("resetNodes() and the probe round", () => {
  it("resetNodes() reaps dead and left records only after gossipToTheDeadTime", async () => {
    const c = new TestCluster();
    const m = await quietNode(c, "m", { gossipToTheDeadTime: 100 });
    for (const [i, name] of ["test1", "test2", "test3", "test4"].entries()) {
      aliveNode(m.m, alive(name, Uint8Array.from([127, 0, 0, i + 1]), 7946, 1), null, false);
    }
    deadNode(m.m, { node: "test2", incarnation: 1, from: "m" });
    deadNode(m.m, { node: "test4", incarnation: 1, from: "test4" });
    assert.equal(stateIn(m.m, "test4"), NodeState.Left);
    resetNodes(m.m);
    assert.equal(m.m.nodes.length, 5);
    assert.ok(m.m.nodeMap.has("test2"));
    await c.advance(101);
    resetNodes(m.m);
    assert.equal(m.m.nodes.length, 3);
    assert.deepEqual(m.m.nodes.map((n) => n.name).sort(), ["m", "test1", "test3"]);
    assert.equal(m.m.nodeMap.has("test2"), false);
    assert.equal(m.m.nodeMap.has("test4"), false);
    await c.shutdown();
  });

  it("probe() skips itself and dead or left nodes, and does nothing when nobody can be probed", async () => {
    const c = new TestCluster({ net: { latency: 1 } });
    const a = await quietNode(c, "a", { probeTimeout: 5, probeInterval: 10 });
    learn(a, nobody("dead", 19997));
    learn(a, nobody("left", 19998));
    deadNode(a.m, { node: "dead", incarnation: 1, from: "a" });
    deadNode(a.m, { node: "left", incarnation: 1, from: "left" });
    for (let i = 0; i < 5; i++) await c.settle(probe(a.m));
    assert.equal(a.m.sequenceNum, 0);
    const b = await quietNode(c, "b");
    learn(a, b);
    await c.settle(probe(a.m));
    assert.equal(a.m.sequenceNum, 1);
    assert.equal(b.logger.find("warn", "unexpected node"), 0);
    await c.shutdown();
  });
});

describe("sequence numbers and ack handlers", () => {
  it("nextSeqNo() counts up from 1", async () => {
    const c = new TestCluster();
    const m = await quietNode(c, "m");
    assert.equal(nextSeqNo(m.m), 1);
    assert.equal(nextSeqNo(m.m), 2);
    await c.shutdown();
  });

  it("setAckHandler() registers a handler that is reaped after its timeout", async () => {
    const c = new TestCluster();
    const m = await quietNode(c, "m");
    setAckHandler(m.m, 0, () => {}, 10);
    assert.ok(m.m.ackHandlers.has(0));
    await c.advance(9);
    assert.ok(m.m.ackHandlers.has(0));
    await c.advance(1);
    assert.equal(m.m.ackHandlers.has(0), false);
    await c.shutdown();
  });

  it("invokeAckHandler() ignores unknown sequence numbers and consumes a matching handler once", async () => {
    const c = new TestCluster();
    const m = await quietNode(c, "m");
    invokeAckHandler(m.m, 0, null, 0);
    const got: [Uint8Array | null, number][] = [];
    setAckHandler(m.m, 0, (payload, at) => got.push([payload, at]), 10);
    invokeAckHandler(m.m, 0, Uint8Array.of(0, 0, 0), 42);
    invokeAckHandler(m.m, 0, Uint8Array.of(1), 43);
    assert.deepEqual(got, [[Uint8Array.of(0, 0, 0), 42]]);
    assert.equal(m.m.ackHandlers.has(0), false);
    assert.equal(c.clock.pending, 0, "the reaping timer was cancelled");
    await c.shutdown();
  });

  it("a nack keeps the probe's handler: a later ack still completes the probe", async () => {
    const c = new TestCluster({ net: { latency: 1 } });
    const a = await quietNode(c, "a", PROBE);
    learn(a, nobody("silent"));
    invokeNackHandler(a.m, 1); // no handler yet: nothing happens
    const start = c.clock.now();
    let done = false;
    const probing = probeNode(a.m, record(a, "silent").clone()).then(() => (done = true));
    await c.advance(20);
    const seq = a.m.sequenceNum;
    invokeNackHandler(a.m, seq);
    assert.ok(a.m.ackHandlers.has(seq), "a nack must not reap the handler");
    invokeAckHandler(a.m, seq, null, c.clock.now());
    assert.equal(a.m.ackHandlers.has(seq), false);
    await c.settle(probing);
    assert.ok(done);
    assert.ok(c.clock.now() - start < PROBE.probeInterval);
    assert.equal(stateIn(a.m, "silent"), NodeState.Alive);
    await c.shutdown();
  });

  it("a probe's handler is reaped when the probe interval ends", async () => {
    const c = new TestCluster({ net: { latency: 1 } });
    const a = await quietNode(c, "a", PROBE);
    learn(a, nobody("silent"));
    const probing = probeNode(a.m, record(a, "silent").clone());
    await c.advance(PROBE.probeInterval - 1);
    assert.ok(a.m.ackHandlers.has(1));
    await c.settle(probing);
    assert.equal(a.m.ackHandlers.has(1), false);
    await c.shutdown();
  });
});

describe("aliveNode()", () => {
  it("adds a new node as alive, gossips it and announces a join", async () => {
    const c = new TestCluster();
    const events = new RecordingEvents();
    const metrics = new RecordingMetrics();
    const m = await quietNode(c, "m", { events, metrics });
    events.take();
    await c.advance(50);
    aliveNode(m.m, alive("test", LOCALHOST, 7946, 1), null, false);
    assert.equal(m.m.nodes.length, 2);
    const r = record(m, "test");
    assert.equal(r.incarnation, 1);
    assert.equal(r.state, NodeState.Alive);
    assert.equal(r.stateChange, 50);
    assert.deepEqual([r.pMin, r.pMax, r.pCur, r.dMin, r.dMax, r.dCur], [...DEFAULT_VSN]);
    assert.deepEqual(events.take(), ["join test"]);
    assert.deepEqual(queuedTypes(m.m), [T.Alive]);
    assert.equal(metrics.counter("memberlist.msg.alive"), 2); // our own start-up alive, then this one
    await c.shutdown();
  });

  it("an alive no newer than a suspect or dead record sends the accused its accusation, once per probe interval (repairAccusations; Go drops it)", async () => {
    const c = new TestCluster({ net: { latency: 1 } });
    const m = await quietNode(c, "m", { probeInterval: 1000, enableCompression: false });
    const raw = rawPeer(c, "r");
    learn(m, { name: "r", ip: raw.ip, port: raw.port }, { incarnation: 7 });
    deadNode(m.m, { node: "r", incarnation: 7, from: "m" });
    m.m.broadcasts.reset();
    const suspects = () => raw.messages().filter((msg) => msg.type === T.Suspect).map((msg) => msg.body);
    // r restarted: its alive comes at incarnation 1.
    aliveNode(m.m, alive("r", raw.ip, raw.port, 1), null, false);
    aliveNode(m.m, alive("r", raw.ip, raw.port, 1), null, false);
    await c.advance(5);
    assert.deepEqual(suspects(), [{ incarnation: 7, node: "r", from: "m" }]);
    assert.equal(stateIn(m.m, "r"), NodeState.Dead);
    await c.advance(1000);
    aliveNode(m.m, alive("r", raw.ip, raw.port, 7), null, false);
    await c.advance(5);
    assert.equal(suspects().length, 2, "again after a probe interval, and for an alive at the same incarnation");

    // Not for a node that left, and not with repairAccusations false.
    learn(m, { name: "gone", ip: LOCALHOST, port: 19990 }, { incarnation: 3 });
    deadNode(m.m, { node: "gone", incarnation: 3, from: "gone" });
    aliveNode(m.m, alive("gone", LOCALHOST, 19990, 1), null, false);
    assert.equal(m.m.accusedTold?.has("gone") ?? false, false);
    assert.equal(m.m.accusedTold?.has("r"), true);
    const quiet = await quietNode(c, "q", { repairAccusations: false });
    learn(quiet, { name: "r", ip: raw.ip, port: raw.port }, { incarnation: 7 });
    suspectNode(quiet.m, { node: "r", incarnation: 7, from: "q" });
    quiet.m.broadcasts.reset();
    const before = raw.packets.length;
    aliveNode(quiet.m, alive("r", raw.ip, raw.port, 1), null, false);
    await c.advance(5);
    assert.equal(raw.packets.length, before);
    await c.shutdown();
  });

  it("an accusation of this node at an incarnation it already refuted sends the accuser its current alive, once per probe interval (repairAccusations)", async () => {
    const c = new TestCluster({ net: { latency: 1 } });
    const m = await quietNode(c, "m", { probeInterval: 1000, enableCompression: false });
    const raw = rawPeer(c, "r");
    learn(m, { name: "r", ip: raw.ip, port: raw.port });
    // m refutes an accusation at 1 with 2; r, which missed that, accuses m at 1 again.
    suspectNode(m.m, { node: "m", incarnation: 1, from: "x" });
    assert.equal(m.m.incarnation, 2);
    m.m.broadcasts.reset();
    suspectNode(m.m, { node: "m", incarnation: 1, from: "r" });
    deadNode(m.m, { node: "m", incarnation: 1, from: "r" });
    await c.advance(5);
    const alives = () => raw.messages().filter((msg) => msg.type === T.Alive).map((msg) => (msg.body as Alive).incarnation);
    assert.deepEqual(alives(), [2]);
    assert.equal(m.m.incarnation, 2, "no new refutation");
    await c.advance(1000);
    deadNode(m.m, { node: "m", incarnation: 1, from: "r" });
    await c.advance(5);
    assert.deepEqual(alives(), [2, 2]);
    // Nobody to answer for an accuser it does not know.
    suspectNode(m.m, { node: "m", incarnation: 1, from: "stranger" });
    assert.equal(m.m.accusersTold?.has("stranger") ?? false, false);
    await c.shutdown();
  });

  it("an alive with incarnation 0 for an unknown node leaves only a dead placeholder", async () => {
    const c = new TestCluster();
    const events = new RecordingEvents();
    const m = await quietNode(c, "m", { events });
    events.take();
    aliveNode(m.m, alive("test", LOCALHOST, 7946, 0), null, false);
    assert.equal(stateIn(m.m, "test"), NodeState.Dead);
    assert.deepEqual(events.take(), []);
    assert.equal(m.m.broadcasts.numQueued(), 0);
    await c.shutdown();
  });

  it("brings a suspect back to alive only with a higher incarnation, without a join event", async () => {
    const c = new TestCluster();
    const events = new RecordingEvents();
    const m = await quietNode(c, "m", { events, probeInterval: 1000, suspicionMult: 4 });
    const a = alive("test", LOCALHOST, 7946, 1);
    aliveNode(m.m, a, null, false);
    await c.advance(10);
    suspectNode(m.m, { node: "test", incarnation: 1, from: "x" });
    assert.equal(stateIn(m.m, "test"), NodeState.Suspect);
    events.take();
    m.m.broadcasts.reset();
    aliveNode(m.m, a, null, false);
    assert.equal(stateIn(m.m, "test"), NodeState.Suspect, "same incarnation: no change");
    assert.equal(m.m.broadcasts.numQueued(), 0);
    await c.advance(10);
    aliveNode(m.m, { ...a, incarnation: 2 }, null, false);
    assert.equal(stateIn(m.m, "test"), NodeState.Alive);
    assert.equal(record(m, "test").stateChange, 20);
    assert.deepEqual(events.take(), []);
    assert.deepEqual(queuedTypes(m.m), [T.Alive]);
    // The suspicion timer is gone: the node survives its timeout.
    assert.equal(m.m.nodeTimers.has("test"), false);
    await c.advance(30_000);
    assert.equal(stateIn(m.m, "test"), NodeState.Alive);
    await c.shutdown();
  });

  it("is idempotent for a node already alive: a newer incarnation changes no state time and fires no event", async () => {
    const c = new TestCluster();
    const events = new RecordingEvents();
    const m = await quietNode(c, "m", { events });
    const a = alive("test", LOCALHOST, 7946, 1);
    aliveNode(m.m, a, null, false);
    const since = record(m, "test").stateChange;
    events.take();
    await c.advance(10);
    aliveNode(m.m, { ...a, incarnation: 2 }, null, false);
    assert.equal(stateIn(m.m, "test"), NodeState.Alive);
    assert.equal(record(m, "test").stateChange, since);
    assert.equal(record(m, "test").incarnation, 2);
    assert.deepEqual(events.take(), []);
    assert.equal(m.m.broadcasts.numQueued(), 1, "the newer alive replaced the older in the queue");
    await c.shutdown();
  });

  it("ignores an alive with a lower incarnation", async () => {
    const c = new TestCluster();
    const m = await quietNode(c, "m");
    aliveNode(m.m, alive("test", LOCALHOST, 7946, 5, { meta: Uint8Array.of(1) }), null, false);
    m.m.broadcasts.reset();
    aliveNode(m.m, alive("test", LOCALHOST, 7946, 4, { meta: Uint8Array.of(2) }), null, false);
    assert.equal(record(m, "test").incarnation, 5);
    assert.deepEqual(record(m, "test").meta, Uint8Array.of(1));
    assert.equal(m.m.broadcasts.numQueued(), 0);
    await c.shutdown();
  });

  it("updates metadata and versions and announces an update", async () => {
    const c = new TestCluster();
    const events = new RecordingEvents();
    const m = await quietNode(c, "m", { events });
    const text = new TextEncoder();
    aliveNode(m.m, alive("test", LOCALHOST, 7946, 1, { meta: text.encode("val1") }), null, false);
    events.take();
    const vsn = Uint8Array.from([1, 4, 3, 0, 0, 0]);
    aliveNode(m.m, alive("test", LOCALHOST, 7946, 2, { meta: text.encode("val2"), vsn }), null, false);
    const r = record(m, "test");
    assert.deepEqual(r.meta, text.encode("val2"));
    assert.deepEqual([r.pMin, r.pMax, r.pCur, r.dMin, r.dMax, r.dCur], [...vsn]);
    assert.deepEqual(events.events, ["update test"]);
    const node = events.nodes[0]!;
    assert.deepEqual(node.meta, text.encode("val2"));
    assert.deepEqual(node, m.ml.members().find((n) => n.name === "test"));
    await c.shutdown();
  });

  it("refutes an alive about itself that carries other metadata, without taking it", async () => {
    const c = new TestCluster();
    const m = await quietNode(c, "m");
    const self = record(m, "m");
    assert.equal(self.incarnation, 1);
    aliveNode(m.m, alive("m", m.ip, m.port, 2, { meta: new TextEncoder().encode("foo") }), null, false);
    assert.equal(self.state, NodeState.Alive);
    assert.equal(self.meta, null);
    assert.equal(self.incarnation, 3);
    assert.equal(m.ml.getHealthScore(), 1);
    const q = queued(m.m);
    assert.equal(q.length, 1);
    assert.equal(q[0]!.type, T.Alive);
    assert.deepEqual(q[0]!.body, alive("m", m.ip, m.port, 3));
    // The refutation is queued under our address text, not our name.
    assert.equal((m.m.broadcasts.orderedView()[0]!.broadcast as unknown as { name(): string }).name(), "127.0.0.1");
    await c.shutdown();
  });

  it("ignores its own alive echoed back, but refutes one with other versions", async () => {
    const c = new TestCluster();
    const m = await quietNode(c, "m");
    aliveNode(m.m, alive("m", m.ip, m.port, 1), null, false);
    assert.equal(m.m.broadcasts.numQueued(), 0);
    assert.equal(m.ml.getHealthScore(), 0);
    aliveNode(m.m, alive("m", m.ip, m.port, 1, { vsn: Uint8Array.from([1, 5, 3, 0, 0, 0]) }), null, false);
    assert.deepEqual(queuedTypes(m.m), [T.Alive]);
    assert.equal(record(m, "m").incarnation, 2);
    assert.equal(record(m, "m").pCur, 2);
    await c.shutdown();
  });

  it("a node that is leaving ignores alive messages about itself", async () => {
    const c = new TestCluster();
    const m = await quietNode(c, "m");
    m.m.leaving = true;
    aliveNode(m.m, alive("m", m.ip, m.port, 7, { meta: Uint8Array.of(9) }), null, false);
    assert.equal(record(m, "m").incarnation, 1);
    assert.equal(m.m.broadcasts.numQueued(), 0);
    assert.equal(m.ml.getHealthScore(), 0);
    await c.shutdown();
  });

  it("keeps the first address on a name conflict and tells the conflict delegate; reclaims a dead name later", async () => {
    const c = new TestCluster();
    const conflicts: string[] = [];
    const m = await quietNode(c, "m", {
      deadNodeReclaimTime: 10,
      conflict: { notifyConflict: (existing, other) => conflicts.push(`${existing.address} vs ${other.address}`) },
    });
    const first = alive("test", LOCALHOST, 8000, 1);
    aliveNode(m.m, first, null, false);
    m.m.broadcasts.reset();
    const other = alive("test", Uint8Array.of(127, 0, 0, 2), 9000, 2, { meta: new TextEncoder().encode("foo") });
    aliveNode(m.m, other, null, false);
    const r = record(m, "test");
    assert.equal(r.state, NodeState.Alive);
    assert.equal(r.meta, null);
    assert.deepEqual([r.ip, r.port], ["127.0.0.1", 8000]);
    assert.equal(m.m.broadcasts.numQueued(), 0);
    assert.deepEqual(conflicts, ["127.0.0.1:8000 vs 127.0.0.2:9000"]);
    assert.equal(m.logger.find("error", "Conflicting address"), 1);

    deadNode(m.m, { node: "test", incarnation: 2, from: "m" });
    assert.equal(r.state, NodeState.Dead);
    // Not reclaimable yet: still a conflict.
    aliveNode(m.m, { ...other, incarnation: 3 }, null, false);
    assert.equal(r.state, NodeState.Dead);
    assert.equal(conflicts.length, 2);
    await c.advance(11);
    aliveNode(m.m, { ...other, incarnation: 3 }, null, false);
    assert.equal(r.state, NodeState.Alive);
    assert.deepEqual(r.meta, new TextEncoder().encode("foo"));
    assert.deepEqual(r.addr, Uint8Array.of(127, 0, 0, 2));
    assert.deepEqual([r.ip, r.port], ["127.0.0.2", 9000]);
    await c.shutdown();
  });

  it("never reclaims a dead name when deadNodeReclaimTime is 0", async () => {
    const c = new TestCluster();
    const m = await quietNode(c, "m");
    aliveNode(m.m, alive("test", LOCALHOST, 8000, 1), null, false);
    deadNode(m.m, { node: "test", incarnation: 1, from: "m" });
    await c.advance(1_000_000);
    aliveNode(m.m, alive("test", LOCALHOST, 9000, 2), null, false);
    assert.equal(stateIn(m.m, "test"), NodeState.Dead);
    assert.equal(record(m, "test").port, 8000);
    await c.shutdown();
  });

  it("lets a left node come back at a new address at once, even with a lower incarnation", async () => {
    const c = new TestCluster();
    const events = new RecordingEvents();
    const m = await quietNode(c, "m", { events });
    aliveNode(m.m, alive("node1", LOCALHOST, 8000, 5), null, false);
    deadNode(m.m, { node: "node1", incarnation: 5, from: "node1" });
    assert.equal(stateIn(m.m, "node1"), NodeState.Left);
    events.take();
    aliveNode(m.m, alive("node1", Uint8Array.of(127, 0, 0, 2), 9000, 1), null, false);
    assert.equal(stateIn(m.m, "node1"), NodeState.Alive);
    assert.equal(record(m, "node1").port, 9000);
    assert.deepEqual(events.take(), ["join node1"]);
    await c.shutdown();
  });

  it("drops an alive whose protocol versions are impossible, missing or incompatible, and counts why", async () => {
    const c = new TestCluster();
    const metrics = new RecordingMetrics();
    const m = await quietNode(c, "m", { metrics });
    aliveNode(m.m, alive("zero", LOCALHOST, 1, 1, { vsn: new Uint8Array(6) }), null, false);
    aliveNode(m.m, alive("inverted", LOCALHOST, 2, 1, { vsn: Uint8Array.from([3, 2, 2, 0, 0, 0]) }), null, false);
    aliveNode(m.m, alive("nomax", LOCALHOST, 3, 1, { vsn: Uint8Array.from([1, 0, 1]) }), null, false);
    aliveNode(m.m, alive("short", LOCALHOST, 4, 1, { vsn: Uint8Array.from([1, 5]) }), null, false);
    aliveNode(m.m, alive("none", LOCALHOST, 5, 1, { vsn: new Uint8Array(0) }), null, false);
    // Ordered, but a Go peer would refuse a push/pull holding them: our pCur 2 is outside [3, 5],
    // their delegate version 1 outside our [0, 0], their pCur 6 beyond any Go's maximum.
    aliveNode(m.m, alive("newer", LOCALHOST, 6, 1, { vsn: Uint8Array.from([3, 5, 3, 0, 0, 0]) }), null, false);
    aliveNode(m.m, alive("delegate", LOCALHOST, 7, 1, { vsn: Uint8Array.from([1, 5, 2, 1, 1, 1]) }), null, false);
    aliveNode(m.m, alive("six", LOCALHOST, 8, 1, { vsn: Uint8Array.from([1, 6, 6, 0, 0, 0]) }), null, false);
    for (const name of ["zero", "inverted", "nomax", "short", "none", "newer", "delegate", "six"]) {
      assert.equal(m.m.nodeMap.has(name), false, name);
    }
    assert.equal(metrics.counter("memberlist.node.rejected", { reason: "vsn" }), 5);
    assert.equal(metrics.counter("memberlist.node.rejected", { reason: "incompatible" }), 3);
    // An update without versions is taken, keeping the record's versions (Go #368, after v0.6.0).
    aliveNode(m.m, alive("ok", LOCALHOST, 9, 1), null, false);
    aliveNode(m.m, alive("ok", LOCALHOST, 9, 2, { vsn: Uint8Array.from([1, 5]), meta: Uint8Array.of(1) }), null, false);
    assert.deepEqual(record(m, "ok").meta, Uint8Array.of(1));
    assert.equal(record(m, "ok").pMax, 5);
    await c.shutdown();
  });

  it("keeps records with empty or overlong names, odd addresses or oversized metadata out of the table", async () => {
    const c = new TestCluster();
    const metrics = new RecordingMetrics();
    const m = await quietNode(c, "m", { metrics, metaMaxSize: 16 });
    aliveNode(m.m, alive("", LOCALHOST, 1, 1), null, false);
    aliveNode(m.m, alive("x".repeat(513), LOCALHOST, 1, 1), null, false);
    aliveNode(m.m, alive("é".repeat(257), LOCALHOST, 1, 1), null, false);
    aliveNode(m.m, alive("three", Uint8Array.of(127, 0, 0), 1, 1), null, false);
    aliveNode(m.m, alive("nil", new Uint8Array(0), 1, 1), null, false);
    aliveNode(m.m, alive("fat", LOCALHOST, 1, 1, { meta: new Uint8Array(17) }), null, false);
    assert.deepEqual([...m.m.nodeMap.keys()], ["m"]);
    assert.equal(metrics.counter("memberlist.node.rejected", { reason: "name" }), 3);
    assert.equal(metrics.counter("memberlist.node.rejected", { reason: "addr" }), 2);
    assert.equal(metrics.counter("memberlist.node.rejected", { reason: "meta" }), 1);
    // At the bounds: 512 bytes of name, 16 of meta, an IPv6 address.
    aliveNode(m.m, alive("y".repeat(512), LOCALHOST, 1, 1, { meta: new Uint8Array(16) }), null, false);
    aliveNode(m.m, alive("v6", new Uint8Array(16).fill(1), 1, 1), null, false);
    assert.equal(m.m.nodeMap.size, 3);
    await c.shutdown();
  });

  it("refuses new names once the table holds maxNodes records, and takes them again after reaping", async () => {
    const c = new TestCluster();
    const metrics = new RecordingMetrics();
    const m = await quietNode(c, "m", { metrics, maxNodes: 3, gossipToTheDeadTime: 100 });
    for (let i = 1; i <= 4; i++) aliveNode(m.m, alive(`n${i}`, Uint8Array.of(127, 0, 0, i), 7946, 1), null, false);
    assert.deepEqual([...m.m.nodeMap.keys()].sort(), ["m", "n1", "n2"]);
    assert.equal(metrics.counter("memberlist.node.rejected", { reason: "table_full" }), 2);
    // Known names still update.
    aliveNode(m.m, alive("n1", Uint8Array.of(127, 0, 0, 1), 7946, 2, { meta: Uint8Array.of(7) }), null, false);
    assert.deepEqual(record(m, "n1").meta, Uint8Array.of(7));
    deadNode(m.m, { node: "n2", incarnation: 1, from: "m" });
    await c.advance(200);
    resetNodes(m.m);
    aliveNode(m.m, alive("n4", Uint8Array.of(127, 0, 0, 4), 7946, 1), null, false);
    assert.equal(stateIn(m.m, "n4"), NodeState.Alive);
    await c.shutdown();
  });

  it("lets the alive delegate veto a node, and drops alives without versions when it is set", async () => {
    const c = new TestCluster();
    const seen: string[] = [];
    const m = await quietNode(c, "m", {
      alive: {
        notifyAlive(peer) {
          seen.push(`${peer.name} ${peer.address} ${peer.pMax}`);
          if (peer.name.startsWith("evil")) throw new Error("not in our cluster");
        },
      },
    });
    assert.deepEqual(seen.splice(0), ["m 127.0.0.1:10000 5"], "asked about ourselves at start");
    aliveNode(m.m, alive("evil-1", LOCALHOST, 1, 1), null, false);
    aliveNode(m.m, alive("good", LOCALHOST, 2, 1), null, false);
    aliveNode(m.m, alive("unversioned", LOCALHOST, 3, 1, { vsn: new Uint8Array(0) }), null, false);
    assert.equal(m.m.nodeMap.has("evil-1"), false);
    assert.equal(stateIn(m.m, "good"), NodeState.Alive);
    assert.equal(m.m.nodeMap.has("unversioned"), false);
    assert.deepEqual(seen, ["evil-1 127.0.0.1:1 5", "good 127.0.0.1:2 5"]);
    await c.shutdown();
  });

  it("refuses to create or re-address a node outside cidrsAllowed", async () => {
    const c = new TestCluster();
    const metrics = new RecordingMetrics();
    const m = await quietNode(c, "m", { cidrsAllowed: ["127.0.0.0/8"], deadNodeReclaimTime: 1, metrics });
    aliveNode(m.m, alive("outside", Uint8Array.of(10, 0, 0, 1), 1, 1), null, false);
    assert.equal(m.m.nodeMap.has("outside"), false);
    aliveNode(m.m, alive("inside", Uint8Array.of(127, 0, 0, 9), 1, 1), null, false);
    deadNode(m.m, { node: "inside", incarnation: 1, from: "inside" });
    aliveNode(m.m, alive("inside", Uint8Array.of(10, 0, 0, 9), 1, 2), null, false);
    assert.equal(stateIn(m.m, "inside"), NodeState.Left);
    assert.equal(record(m, "inside").ip, "127.0.0.9");
    assert.equal(m.logger.find("warn", "Rejected node: address not allowed"), 1);
    assert.equal(metrics.counter("memberlist.node.rejected", { reason: "cidr" }), 2);
    await c.shutdown();
  });
});

describe("the incarnation ceiling (MAX_INCARNATION; Go has none, hashicorp/memberlist#358)", () => {
  const TOP = 0xffff_ffff;

  it("a suspect or dead message at 2^32 − 1 about this node is dropped: no refutation, no wrap to 0 (Go wraps)", async () => {
    const c = new TestCluster();
    const metrics = new RecordingMetrics();
    const m = await quietNode(c, "m", { metrics });
    suspectNode(m.m, { node: "m", incarnation: TOP, from: "x" });
    deadNode(m.m, { node: "m", incarnation: TOP, from: "x" });
    assert.equal(m.m.incarnation, 1);
    assert.equal(record(m, "m").incarnation, 1);
    assert.equal(stateIn(m.m, "m"), NodeState.Alive);
    assert.equal(m.m.broadcasts.numQueued(), 0, "no refutation");
    assert.equal(metrics.counter("memberlist.node.rejected", { reason: "incarnation" }), 2);
    await c.shutdown();
  });

  it("an accusation just below the ceiling is refuted onto it, and the next one at the ceiling is dropped", async () => {
    const c = new TestCluster();
    const m = await quietNode(c, "m");
    suspectNode(m.m, { node: "m", incarnation: MAX_INCARNATION - 1, from: "x" });
    assert.equal(m.m.incarnation, MAX_INCARNATION);
    assert.deepEqual(queued(m.m).map((q) => [q.type, (q.body as Alive).incarnation]), [[T.Alive, MAX_INCARNATION]]);
    suspectNode(m.m, { node: "m", incarnation: MAX_INCARNATION, from: "x" });
    assert.equal(m.m.incarnation, MAX_INCARNATION);
    assert.equal(stateIn(m.m, "m"), NodeState.Alive);
    // It can still leave: its own dead message at the ceiling goes out.
    m.m.leaving = true;
    deadNode(m.m, { node: "m", incarnation: MAX_INCARNATION, from: "m" });
    assert.equal(stateIn(m.m, "m"), NodeState.Left);
    await c.shutdown();
  });

  it("alive messages above it and accusations that would raise a record to it are dropped; at a record's own incarnation they apply", async () => {
    const c = new TestCluster();
    const m = await quietNode(c, "m");
    aliveNode(m.m, alive("high", LOCALHOST, 19990, MAX_INCARNATION + 1), null, false);
    assert.equal(stateIn(m.m, "high"), undefined);
    learn(m, nobody("x", 19991), { incarnation: 5 });
    suspectNode(m.m, { node: "x", incarnation: TOP, from: "y" });
    deadNode(m.m, { node: "x", incarnation: MAX_INCARNATION, from: "y" });
    assert.equal(stateIn(m.m, "x"), NodeState.Alive);
    assert.equal(record(m, "x").incarnation, 5);
    suspectNode(m.m, { node: "x", incarnation: MAX_INCARNATION - 1, from: "y" });
    assert.equal(stateIn(m.m, "x"), NodeState.Suspect);
    // A record at the ceiling (a refutation of the accusation above) can still be suspected by a prober.
    aliveNode(m.m, alive("x", LOCALHOST, 19991, MAX_INCARNATION), null, false);
    assert.equal(stateIn(m.m, "x"), NodeState.Alive);
    suspectNode(m.m, { node: "x", incarnation: MAX_INCARNATION, from: "m" });
    assert.equal(stateIn(m.m, "x"), NodeState.Suspect);
    await c.shutdown();
  });
});

describe("claims of a name at a new address (retryClaims; not in Go)", () => {
  const ELSEWHERE = Uint8Array.of(127, 0, 0, 9);

  it("a refused alive is kept and applied once the old record may be reclaimed; forgotten once the old owner refutes", async () => {
    const c = new TestCluster();
    const m = await quietNode(c, "m", { deadNodeReclaimTime: 1000 });
    learn(m, nobody("x", 19991), { incarnation: 4 });
    learn(m, nobody("y", 19992), { incarnation: 4 });
    aliveNode(m.m, alive("x", ELSEWHERE, 7946, 1), null, false);
    aliveNode(m.m, alive("y", ELSEWHERE, 7947, 1), null, false);
    assert.deepEqual([...m.m.claims!.keys()], ["x", "y"]);
    retryClaims(m.m);
    assert.equal(record(m, "x").ip, "127.0.0.1", "not while the old record is alive");

    // x dies; y's old owner refutes whatever was said of it (a newer incarnation).
    deadNode(m.m, { node: "x", incarnation: 4, from: "m" });
    await c.advance(10);
    aliveNode(m.m, alive("y", LOCALHOST, 19992, 5), null, false);
    await c.advance(500);
    retryClaims(m.m);
    assert.equal(record(m, "x").ip, "127.0.0.1", "not before deadNodeReclaimTime");
    assert.deepEqual([...m.m.claims!.keys()], ["x"], "y's claim is settled");
    await c.advance(500);
    retryClaims(m.m);
    assert.equal(record(m, "x").ip, "127.0.0.9");
    assert.equal(stateIn(m.m, "x"), NodeState.Alive);
    assert.equal(record(m, "y").ip, "127.0.0.1");
    assert.equal(m.m.claims!.size, 0);
    await c.shutdown();
  });

  it("a claim is applied when the old record is forgotten, and expires after gossipToTheDeadTime plus two minutes", async () => {
    const c = new TestCluster();
    const m = await quietNode(c, "m", { gossipToTheDeadTime: 1000 });
    learn(m, nobody("x", 19991), { incarnation: 4 });
    learn(m, nobody("z", 19993), { incarnation: 4 });
    aliveNode(m.m, alive("x", ELSEWHERE, 7946, 1), null, false);
    aliveNode(m.m, alive("z", ELSEWHERE, 7948, 1), null, false);
    deadNode(m.m, { node: "x", incarnation: 4, from: "m" });
    await c.advance(1001);
    resetNodes(m.m);
    assert.equal(stateIn(m.m, "x"), undefined);
    retryClaims(m.m);
    assert.equal(record(m, "x").ip, "127.0.0.9");
    // z never dies: its claim goes after 1 s + 120 s.
    await c.advance(121_000);
    retryClaims(m.m);
    assert.equal(m.m.claims!.size, 0);
    assert.equal(record(m, "z").ip, "127.0.0.1");
    await c.shutdown();
  });
});

describe("suspectNode()", () => {
  it("ignores a suspect about an unknown node", async () => {
    const c = new TestCluster();
    const m = await quietNode(c, "m");
    suspectNode(m.m, { node: "test", incarnation: 1, from: "x" });
    assert.equal(m.m.nodes.length, 1);
    assert.equal(m.m.broadcasts.numQueued(), 0);
    await c.shutdown();
  });

  it("marks an alive node suspect, gossips it, and declares it dead when the suspicion times out", async () => {
    const c = new TestCluster();
    const events = new RecordingEvents();
    const metrics = new RecordingMetrics();
    const m = await quietNode(c, "m", { probeInterval: 1, suspicionMult: 1, events, metrics });
    aliveNode(m.m, alive("test", LOCALHOST, 7946, 1), null, false);
    m.m.broadcasts.reset();
    events.take();
    await c.advance(100);
    suspectNode(m.m, { node: "test", incarnation: 1, from: "x" });
    assert.equal(stateIn(m.m, "test"), NodeState.Suspect);
    assert.equal(record(m, "test").stateChange, 100);
    assert.deepEqual(queuedTypes(m.m), [T.Suspect]);
    assert.deepEqual(events.take(), [], "no event for alive → suspect");
    // suspicionMult 1 × probeInterval 1 ms: dead 1 ms later.
    await c.advance(1);
    assert.equal(stateIn(m.m, "test"), NodeState.Dead);
    assert.equal(record(m, "test").stateChange, 101);
    assert.deepEqual(queued(m.m), [{ type: T.Dead, body: { incarnation: 1, node: "test", from: "m" } }]);
    assert.deepEqual(events.take(), ["leave test"]);
    assert.equal(metrics.counter("memberlist.msg.suspect"), 1);
    assert.equal(metrics.counter("memberlist.msg.dead"), 1);
    await c.shutdown();
  });

  it("ignores a second suspect from the same accuser", async () => {
    const c = new TestCluster();
    const m = await quietNode(c, "m");
    aliveNode(m.m, alive("test", LOCALHOST, 7946, 1), null, false);
    suspectNode(m.m, { node: "test", incarnation: 1, from: "x" });
    const since = record(m, "test").stateChange;
    m.m.broadcasts.reset();
    await c.advance(10);
    suspectNode(m.m, { node: "test", incarnation: 1, from: "x" });
    assert.equal(record(m, "test").stateChange, since);
    assert.equal(m.m.broadcasts.numQueued(), 0);
    await c.shutdown();
  });

  it("re-gossips each new independent confirmation up to k, and no more", async () => {
    const c = new TestCluster();
    // suspicionMult 4 → k = 2 once there are 4 nodes or more.
    const m = await quietNode(c, "m", { suspicionMult: 4 });
    for (const [i, name] of ["test", "x", "y", "z"].entries()) aliveNode(m.m, alive(name, LOCALHOST, 100 + i, 1), null, false);
    suspectNode(m.m, { node: "test", incarnation: 1, from: "x" });
    const regossiped = (from: string, incarnation = 1): number => {
      m.m.broadcasts.reset();
      suspectNode(m.m, { node: "test", incarnation, from });
      return m.m.broadcasts.numQueued();
    };
    assert.equal(regossiped("x"), 0, "the first accuser is already counted");
    assert.equal(regossiped("y", 0), 0, "an older incarnation is ignored");
    assert.equal(regossiped("y"), 1);
    assert.equal(regossiped("y"), 0);
    assert.equal(regossiped("z"), 1);
    assert.equal(regossiped("w"), 0, "beyond k confirmations nothing is re-gossiped");
    assert.equal(m.m.nodeTimers.get("test")?.confirmations, 2);
    await c.shutdown();
  });

  it("ignores a suspect with an older incarnation", async () => {
    const c = new TestCluster();
    const m = await quietNode(c, "m");
    aliveNode(m.m, alive("test", LOCALHOST, 7946, 10), null, false);
    m.m.broadcasts.reset();
    suspectNode(m.m, { node: "test", incarnation: 1, from: "x" });
    assert.equal(stateIn(m.m, "test"), NodeState.Alive);
    assert.equal(m.m.broadcasts.numQueued(), 0);
    await c.shutdown();
  });

  it("ignores a suspect about a dead node", async () => {
    const c = new TestCluster();
    const m = await quietNode(c, "m");
    aliveNode(m.m, alive("test", LOCALHOST, 7946, 1), null, false);
    deadNode(m.m, { node: "test", incarnation: 1, from: "m" });
    m.m.broadcasts.reset();
    suspectNode(m.m, { node: "test", incarnation: 2, from: "x" });
    assert.equal(stateIn(m.m, "test"), NodeState.Dead);
    assert.equal(m.m.broadcasts.numQueued(), 0);
    await c.shutdown();
  });

  it("refutes a suspect about itself with a higher incarnation and a worse health score", async () => {
    const c = new TestCluster();
    const m = await quietNode(c, "m");
    assert.equal(m.ml.getHealthScore(), 0);
    suspectNode(m.m, { node: "m", incarnation: 4, from: "x" });
    assert.equal(stateIn(m.m, "m"), NodeState.Alive);
    assert.equal(record(m, "m").incarnation, 5);
    assert.deepEqual(queuedTypes(m.m), [T.Alive]);
    assert.equal(m.ml.getHealthScore(), 1);
    await c.shutdown();
  });
});

describe("deadNode()", () => {
  it("ignores a dead message about an unknown node", async () => {
    const c = new TestCluster();
    const m = await quietNode(c, "m");
    deadNode(m.m, { node: "test", incarnation: 1, from: "x" });
    assert.equal(m.m.nodes.length, 1);
    assert.equal(m.m.broadcasts.numQueued(), 0);
    await c.shutdown();
  });

  it("marks a node dead, gossips it and announces a leave", async () => {
    const c = new TestCluster();
    const events = new RecordingEvents();
    const m = await quietNode(c, "m", { events });
    aliveNode(m.m, alive("test", LOCALHOST, 7946, 1), null, false);
    events.take();
    m.m.broadcasts.reset();
    await c.advance(60);
    deadNode(m.m, { node: "test", incarnation: 1, from: "x" });
    assert.equal(stateIn(m.m, "test"), NodeState.Dead);
    assert.equal(record(m, "test").stateChange, 60);
    assert.deepEqual(events.take(), ["leave test"]);
    assert.equal(events.nodes.length, 0);
    assert.deepEqual(queued(m.m), [{ type: T.Dead, body: { incarnation: 1, node: "test", from: "x" } }]);
    assert.equal(m.ml.members().some((n) => n.name === "test"), false);
    await c.shutdown();
  });

  it("marks a node that declares itself dead as left, and a new address may take the name", async () => {
    const c = new TestCluster();
    const events = new RecordingEvents();
    const m = await quietNode(c, "m", { events });
    assert.deepEqual(events.take(), ["join m"]);
    aliveNode(m.m, alive("node1", LOCALHOST, 8000, 1), null, false);
    assert.deepEqual(events.take(), ["join node1"]);
    deadNode(m.m, { node: "node1", incarnation: 1, from: "node1" });
    assert.deepEqual(events.take(), ["leave node1"]);
    assert.equal(stateIn(m.m, "node1"), NodeState.Left);
    assert.deepEqual(queuedTypes(m.m), [T.Dead]);
    aliveNode(m.m, alive("node1", Uint8Array.of(127, 0, 0, 2), 9000, 3, { meta: new TextEncoder().encode("foo") }), null, false);
    assert.deepEqual(events.take(), ["join node1"]);
    const r = record(m, "node1");
    assert.equal(r.state, NodeState.Alive);
    assert.deepEqual(r.meta, new TextEncoder().encode("foo"));
    assert.deepEqual(r.addr, Uint8Array.of(127, 0, 0, 2));
    assert.equal(r.port, 9000);
    await c.shutdown();
  });

  it("ignores a second dead message, even with a higher incarnation", async () => {
    const c = new TestCluster();
    const events = new RecordingEvents();
    const m = await quietNode(c, "m", { events });
    aliveNode(m.m, alive("test", LOCALHOST, 7946, 1), null, false);
    deadNode(m.m, { node: "test", incarnation: 1, from: "x" });
    m.m.broadcasts.reset();
    events.take();
    deadNode(m.m, { node: "test", incarnation: 2, from: "x" });
    assert.deepEqual(events.take(), []);
    assert.equal(m.m.broadcasts.numQueued(), 0);
    await c.shutdown();
  });

  it("ignores a dead message with an older incarnation", async () => {
    const c = new TestCluster();
    const m = await quietNode(c, "m");
    aliveNode(m.m, alive("test", LOCALHOST, 7946, 10), null, false);
    deadNode(m.m, { node: "test", incarnation: 1, from: "x" });
    assert.equal(stateIn(m.m, "test"), NodeState.Alive);
    await c.shutdown();
  });

  it("stays dead when the alive with the same incarnation is replayed", async () => {
    const c = new TestCluster();
    const m = await quietNode(c, "m");
    const a = alive("test", LOCALHOST, 7946, 10);
    aliveNode(m.m, a, null, false);
    deadNode(m.m, { node: "test", incarnation: 10, from: "x" });
    aliveNode(m.m, a, null, false);
    assert.equal(stateIn(m.m, "test"), NodeState.Dead);
    await c.shutdown();
  });

  it("clears a running suspicion timer", async () => {
    const c = new TestCluster();
    const m = await quietNode(c, "m");
    aliveNode(m.m, alive("test", LOCALHOST, 7946, 1), null, false);
    suspectNode(m.m, { node: "test", incarnation: 1, from: "x" });
    assert.ok(m.m.nodeTimers.has("test"));
    deadNode(m.m, { node: "test", incarnation: 1, from: "y" });
    assert.equal(m.m.nodeTimers.has("test"), false);
    assert.equal(stateIn(m.m, "test"), NodeState.Dead);
    await c.shutdown();
  });

  it("refutes a dead message about itself when not leaving", async () => {
    const c = new TestCluster();
    const m = await quietNode(c, "m");
    deadNode(m.m, { node: "m", incarnation: 1, from: "x" });
    assert.equal(stateIn(m.m, "m"), NodeState.Alive);
    assert.equal(record(m, "m").incarnation, 2);
    assert.deepEqual(queuedTypes(m.m), [T.Alive]);
    assert.equal(m.ml.getHealthScore(), 1);
    await c.shutdown();
  });

  it("when leaving, takes its own dead message: left, gossiped, and leave() is told once it is sent", async () => {
    const c = new TestCluster();
    const m = await quietNode(c, "m");
    let told = 0;
    m.m.leaving = true;
    m.m.leaveNotify = () => told++;
    deadNode(m.m, { node: "m", incarnation: 1, from: "m" });
    assert.equal(stateIn(m.m, "m"), NodeState.Left);
    assert.deepEqual(queued(m.m), [{ type: T.Dead, body: { incarnation: 1, node: "m", from: "m" } }]);
    assert.equal(told, 0);
    m.m.broadcasts.reset();
    assert.equal(told, 1);
    await c.shutdown();
  });
});

describe("mergeState()", () => {
  it("applies remote alive and suspect records, turns a remote dead into suspect, and adds new nodes", async () => {
    const c = new TestCluster();
    const events = new RecordingEvents();
    const m = await quietNode(c, "m", { events });
    for (let i = 1; i <= 3; i++) aliveNode(m.m, alive(`test${i}`, Uint8Array.of(127, 0, 0, i), 7946, 1), null, false);
    suspectNode(m.m, { node: "test1", incarnation: 1, from: "x" });
    events.take();
    const rec = (name: string, last: number, incarnation: number, state: number): PushNodeState => ({
      name,
      addr: Uint8Array.of(127, 0, 0, last),
      port: 7946,
      meta: null,
      incarnation,
      state,
      vsn: DEFAULT_VSN.slice(),
    });
    await mergeState(m.m, [
      rec("test1", 1, 2, NodeState.Alive),
      rec("test2", 2, 1, NodeState.Suspect),
      rec("test3", 3, 1, NodeState.Dead),
      rec("test4", 4, 2, NodeState.Alive),
    ]);
    assert.deepEqual([stateIn(m.m, "test1"), record(m, "test1").incarnation], [NodeState.Alive, 2]);
    assert.deepEqual([stateIn(m.m, "test2"), record(m, "test2").incarnation], [NodeState.Suspect, 1]);
    assert.equal(stateIn(m.m, "test3"), NodeState.Suspect);
    assert.deepEqual([stateIn(m.m, "test4"), record(m, "test4").incarnation], [NodeState.Alive, 2]);
    assert.deepEqual(events.take(), ["join test4"]);
    // The suspicions raised by the merge are ours.
    const suspects = queued(m.m).filter((q) => q.type === T.Suspect).map((q) => q.body);
    assert.deepEqual(suspects.map((s) => (s as { from: string }).from), ["m", "m"]);
    await c.shutdown();
  });

  it("turns a remote left record into a leave", async () => {
    const c = new TestCluster();
    const events = new RecordingEvents();
    const m = await quietNode(c, "m", { events });
    aliveNode(m.m, alive("test", LOCALHOST, 7946, 1), null, false);
    events.take();
    await mergeState(m.m, [{
      name: "test",
      addr: LOCALHOST,
      port: 7946,
      meta: null,
      incarnation: 1,
      state: NodeState.Left,
      vsn: DEFAULT_VSN.slice(),
    }]);
    assert.equal(stateIn(m.m, "test"), NodeState.Left);
    assert.deepEqual(events.take(), ["leave test"]);
    assert.deepEqual(queued(m.m).at(-1), { type: T.Dead, body: { incarnation: 1, node: "test", from: "test" } });
    await c.shutdown();
  });
});

describe("gossip()", () => {
  it("sends the queued broadcasts to live nodes, which learn from them", async () => {
    const c = new TestCluster({ net: { latency: 1 } });
    const events = new RecordingEvents();
    const a = await quietNode(c, "a", { gossipNodes: 3, retransmitMult: 4 });
    const b = await quietNode(c, "b", { events });
    events.take();
    learn(a, b);
    learn(a, nobody("x", 19998));
    learn(a, nobody("y", 19997));
    assert.equal(a.m.broadcasts.numQueued(), 3);
    gossip(a.m);
    await c.advance(5);
    // b learned x and y; its own alive echoed back changed nothing.
    assert.deepEqual(events.take().sort(), ["join x", "join y"]);
    assert.equal(b.m.broadcasts.numQueued(), 2);
    await c.shutdown();
  });

  it("sends a single message bare, not as a compound, and nothing when the queue is empty", async () => {
    const c = new TestCluster({ net: { latency: 1 } });
    const a = await quietNode(c, "a", { enableCompression: false });
    const raw = rawPeer(c, "r");
    gossip(a.m);
    learn(a, { name: "r", ip: raw.ip, port: raw.port });
    a.m.broadcasts.reset();
    gossip(a.m);
    await c.advance(5);
    assert.equal(raw.packets.length, 0);
    aliveNode(a.m, alive("x", LOCALHOST, 19998, 1), null, false);
    gossip(a.m);
    await c.advance(5);
    assert.equal(raw.packets.length, 1);
    assert.equal(raw.packets[0]!.top[0], T.Alive);
    assert.deepEqual(raw.packets[0]!.messages, [{ type: T.Alive, body: alive("x", LOCALHOST, 19998, 1) }]);
    await c.shutdown();
  });

  it("gossips to a dead node only within gossipToTheDeadTime, to suspects always, and never to left nodes", async () => {
    const c = new TestCluster({ net: { latency: 1 } });
    const a = await quietNode(c, "a", { gossipToTheDeadTime: 100 });
    const raw = rawPeer(c, "r");
    learn(a, { name: "r", ip: raw.ip, port: raw.port });
    await c.advance(1000);
    const r = record(a, "r");
    let incarnation = 0;
    const send = async (): Promise<number> => {
      const before = raw.packets.length;
      aliveNode(a.m, alive("x", LOCALHOST, 19998, ++incarnation), null, false);
      gossip(a.m);
      await c.advance(5);
      return raw.packets.length - before;
    };
    r.state = NodeState.Dead;
    r.stateChange = c.clock.now() - 200;
    assert.equal(await send(), 0);
    r.stateChange = c.clock.now() - 20;
    assert.equal(await send(), 1);
    r.state = NodeState.Suspect;
    assert.equal(await send(), 1);
    r.state = NodeState.Left;
    r.stateChange = c.clock.now();
    assert.equal(await send(), 0);
    await c.shutdown();
  });

  it("adds the delegate's user broadcasts, framed as user messages, within the space left", async () => {
    const c = new TestCluster({ net: { latency: 1 } });
    const asked: [number, number][] = [];
    const a = await quietNode(c, "a", {
      enableCompression: false,
      delegate: {
        getBroadcasts(overhead, limit) {
          asked.push([overhead, limit]);
          return [new TextEncoder().encode("hello"), new TextEncoder().encode("world")];
        },
      },
    });
    const raw = rawPeer(c, "r");
    learn(a, { name: "r", ip: raw.ip, port: raw.port });
    const aliveBytes = a.m.broadcasts.orderedView()[0]!.length;
    gossip(a.m);
    await c.advance(5);
    // Budget: udpBufferSize − compound header (2), minus each memberlist message and its 2-byte overhead.
    assert.deepEqual(asked, [[3, 1400 - 2 - (aliveBytes + 2)]]);
    const msgs = raw.packets.flatMap((p) => p.messages);
    assert.deepEqual(msgs.slice(1), [
      { type: T.User, body: new TextEncoder().encode("hello") },
      { type: T.User, body: new TextEncoder().encode("world") },
    ]);
    await c.shutdown();
  });

  it("keeps userBroadcastShare of each packet for user broadcasts when memberlist's own would fill it (Go: none)", async () => {
    // A join storm: far more alive messages queued than one packet holds, and a delegate that
    // always has user broadcasts (100 bytes each) to send.
    const run = async (userBroadcastShare: number, hasUser = true) => {
      const c = new TestCluster({ net: { latency: 1 } });
      const a = await quietNode(c, "a", {
        enableCompression: false,
        userBroadcastShare,
        delegate: {
          getBroadcasts(overhead, limit) {
            const out: Uint8Array[] = [];
            for (let used = 0; hasUser && used + overhead + 100 <= limit; used += overhead + 100) {
              out.push(new Uint8Array(100).fill(7));
            }
            return out;
          },
        },
      });
      for (let i = 0; i < 200; i++) learn(a, nobody(`joiner-${i}`, 20000 + i));
      // What gossip() packs into one packet: udpBufferSize less the compound header.
      const packet = getBroadcasts(a.m, 2, 1400 - 2);
      await c.shutdown();
      const bytes = packet.reduce((n, m) => n + 2 + m.length, 0);
      const user = packet.filter((m) => m[0] === T.User).length;
      return { user, alive: packet.length - user, bytes };
    };
    const go = await run(0);
    assert.equal(go.user, 0, "Go's order: user broadcasts get only the leftovers");
    const shared = await run(0.25);
    // A quarter of 1,398 bytes is 349: three 100-byte user messages (103 bytes with their overheads).
    assert.equal(shared.user, 3);
    assert.ok(shared.alive > 0 && shared.alive < go.alive, `alive ${shared.alive} vs ${go.alive}`);
    assert.ok(shared.bytes <= 1398 && go.bytes <= 1398);
    assert.ok(shared.bytes > 1398 - 60, `the packet is full: ${shared.bytes} bytes`);
    // A delegate with nothing to send leaves the whole packet to memberlist's own messages.
    assert.equal((await run(0.25, false)).alive, go.alive);
  });

  it("a recently dead first target does not hold back the delegate's broadcasts from the live ones", async () => {
    const c = new TestCluster({ net: { latency: 1 } });
    const a = await quietNode(c, "a", {
      enableCompression: false,
      gossipNodes: 2,
      gossipToTheDeadTime: 60_000,
      delegate: { getBroadcasts: () => [new TextEncoder().encode("user")] },
    });
    const raw = rawPeer(c, "r");
    learn(a, { name: "r", ip: raw.ip, port: raw.port });
    learn(a, nobody("d"));
    deadNode(a.m, { node: "d", incarnation: 1, from: "a" });
    a.m.broadcasts.reset();
    // The two targets come in random order: over 20 ticks the dead one is first about half the time.
    for (let i = 0; i < 20; i++) gossip(a.m);
    await c.advance(5);
    const user = raw.messages().filter((msg) => msg.type === T.User).length;
    assert.equal(user, 20, "the live node gets the user broadcast of every tick");
    await c.shutdown();
  });
});

describe("pushPull()", () => {
  it("exchanges state with a random live node and reports the node table in gauges", async () => {
    const c = new TestCluster({ net: { latency: 1 } });
    const metrics = new RecordingMetrics();
    const events = new RecordingEvents();
    const a = await quietNode(c, "a", { metrics });
    const b = await quietNode(c, "b", { events });
    events.take();
    learn(a, b);
    for (const [name, port] of [["s", 19998], ["d", 19997], ["l", 19996]] as const) {
      learn(a, nobody(name, port));
      learn(b, nobody(name, port));
    }
    events.take();
    suspectNode(a.m, { node: "s", incarnation: 1, from: "a" });
    deadNode(a.m, { node: "d", incarnation: 1, from: "a" });
    deadNode(a.m, { node: "l", incarnation: 1, from: "l" });
    await c.settle(pushPull(a.m));
    await c.advance(5);
    // b learned a; took a's suspect; turned a's dead into a suspect; saw l leave.
    assert.deepEqual(events.take().sort(), ["join a", "leave l"]);
    assert.equal(stateIn(b.m, "s"), NodeState.Suspect);
    assert.equal(stateIn(b.m, "d"), NodeState.Suspect);
    assert.equal(stateIn(b.m, "l"), NodeState.Left);
    for (const [state, count] of [["alive", 2], ["suspect", 1], ["dead", 1], ["left", 1]] as const) {
      assert.equal(metrics.gauges.get(`memberlist.node.instances;node_state=${state}`), count, state);
    }
    assert.ok((metrics.gauges.get("memberlist.size.local") ?? 0) > 0);
    assert.equal(metrics.timings.get("memberlist.pushPullNode")?.length, 1);
    await c.shutdown();
  });

  it("merges both ways and passes user state both ways with the join flag", async () => {
    const c = new TestCluster({ net: { latency: 1 } });
    const log: string[] = [];
    const user = (name: string) => ({
      localState: (join: boolean) => {
        log.push(`${name} localState join=${join}`);
        return new TextEncoder().encode(`state of ${name}`);
      },
      mergeRemoteState: (buf: Uint8Array, join: boolean) => {
        log.push(`${name} merge "${new TextDecoder().decode(buf)}" join=${join}`);
      },
    });
    const a = await quietNode(c, "a", { delegate: user("a") });
    const b = await quietNode(c, "b", { delegate: user("b") });
    learn(a, nobody("x", 19998));
    learn(b, nobody("y", 19997));
    await c.settle(pushPullNode(a.m, { addr: b.transport.addr, name: "b" }, true));
    await c.advance(5);
    for (const n of [a, b]) {
      assert.deepEqual(n.ml.members().map((m) => m.name).sort(), ["a", "b", "x", "y"]);
    }
    assert.deepEqual(log.sort(), [
      `a localState join=true`,
      `a merge "state of b" join=true`,
      `b localState join=true`,
      `b merge "state of a" join=true`,
    ]);
    log.length = 0;
    await c.settle(pushPullNode(b.m, { addr: a.transport.addr, name: "a" }, false));
    await c.advance(5);
    assert.ok(log.includes(`a merge "state of b" join=false`), log.join("\n"));
    assert.ok(log.includes(`b merge "state of a" join=false`), log.join("\n"));
    await c.shutdown();
  });

  it("asks the merge delegate on both sides of a join only, and a veto cancels that side's merge", async () => {
    const c = new TestCluster({ net: { latency: 1 } });
    const asked: string[] = [];
    let bRefuses = true;
    const a = await quietNode(c, "a", {
      merge: { notifyMerge: (peers) => void asked.push(`a: ${peers.map((p) => p.name).sort().join(",")}`) },
    });
    const b = await quietNode(c, "b", {
      merge: {
        notifyMerge(peers) {
          asked.push(`b: ${peers.map((p) => p.name).sort().join(",")}`);
          if (bRefuses) throw new Error("not our cluster");
        },
      },
    });
    await c.settle(a.ml.join([b.transport.addr]));
    await c.advance(5);
    assert.deepEqual(asked.sort(), ["a: b", "b: a"]);
    // b refused a's state, but had already sent its own: a knows b, b does not know a.
    assert.equal(stateIn(a.m, "b"), NodeState.Alive);
    assert.equal(stateIn(b.m, "a"), undefined);
    assert.equal(b.logger.find("error", "Dropped stream"), 1);

    asked.length = 0;
    bRefuses = false;
    await c.settle(pushPullNode(a.m, { addr: b.transport.addr, name: "b" }, false));
    await c.advance(5);
    assert.deepEqual(asked, [], "no merge delegate outside joins");
    assert.equal(stateIn(b.m, "a"), NodeState.Alive);
    await c.shutdown();
  });

  it("a merge delegate veto on the joining side fails the join and merges nothing", async () => {
    const c = new TestCluster({ net: { latency: 1 } });
    const a = await quietNode(c, "a", {
      merge: {
        notifyMerge() {
          throw new Error("refused");
        },
      },
    });
    const b = await quietNode(c, "b");
    await assert.rejects(c.settle(a.ml.join([b.transport.addr])), { name: "JoinError" });
    assert.equal(stateIn(a.m, "b"), undefined);
    await c.advance(5);
    assert.equal(stateIn(b.m, "a"), NodeState.Alive);
    await c.shutdown();
  });

  it("refuses to merge with a node whose delegate protocol is incompatible", async () => {
    const c = new TestCluster({ net: { latency: 1 } });
    const a = await quietNode(c, "a");
    const b = await quietNode(c, "b", { delegateProtocolMin: 1, delegateProtocolMax: 1, delegateProtocolVersion: 1 });
    await assert.rejects(c.settle(a.ml.join([b.transport.addr])), (err: AggregateError) => {
      assert.match(String((err.errors[0] as Error).message), /delegate protocol version \(1\) is incompatible/);
      return true;
    });
    await c.advance(5);
    assert.equal(stateIn(a.m, "b"), undefined);
    assert.equal(stateIn(b.m, "a"), undefined);
    await c.shutdown();
  });
});

describe("verifyProtocol()", () => {
  // Go's table: [min, max, current] of the local nodes (A) and remote nodes (B), and whether they get along.
  const cases: { a: [number, number, number][]; b: [number, number, number][]; ok: boolean; what: string }[] = [
    { what: "both running identical everything", a: [[0, 0, 0]], b: [[0, 0, 0]], ok: true },
    { what: "one can understand newer, but speaks the same", a: [[0, 0, 0]], b: [[0, 1, 0]], ok: true },
    { what: "one is speaking outside the range", a: [[0, 0, 0]], b: [[1, 1, 1]], ok: false },
    { what: "transitively outside the range", a: [[0, 1, 0], [0, 2, 1]], b: [[1, 3, 1]], ok: false },
    { what: "multi-node", a: [[0, 3, 2], [0, 2, 0]], b: [[0, 2, 1], [0, 5, 0]], ok: true },
  ];

  const asRecord = (i: number, v: number[]): NodeRecord =>
    new NodeRecord(NodeIdentity.of(`local ${i}`, LOCALHOST, 1, null, Uint8Array.from(v)), 0, NodeState.Alive, 0);
  const asRemote = (i: number, v: number[], state: number = NodeState.Alive): PushNodeState => ({
    name: `node ${i}`,
    addr: LOCALHOST,
    port: 1,
    meta: null,
    incarnation: 0,
    state,
    vsn: Uint8Array.from(v),
  });

  function compatible(m: QuietNode, local: number[][], remote: number[][]): boolean {
    m.m.nodes = local.map((v, i) => asRecord(i, v));
    try {
      verifyProtocol(m.m, remote.map((v, i) => asRemote(i, v)));
      return true;
    } catch (err) {
      assert.match(String(err), /is incompatible/);
      return false;
    }
  }

  for (const tc of cases) {
    it(`checks protocol and delegate ranges both ways: ${tc.what}`, async () => {
      const c = new TestCluster();
      const m = await quietNode(c, "m");
      const saved = m.m.nodes;
      const core = (x: [number, number, number]) => [x[0], x[1], x[2], 0, 0, 0];
      const app = (x: [number, number, number]) => [0, 0, 0, x[0], x[1], x[2]];
      for (const shape of [core, app]) {
        assert.equal(compatible(m, tc.a.map(shape), tc.b.map(shape)), tc.ok, `${shape === core ? "core" : "delegate"} A→B`);
        assert.equal(compatible(m, tc.b.map(shape), tc.a.map(shape)), tc.ok, `${shape === core ? "core" : "delegate"} B→A`);
      }
      m.m.nodes = saved;
      await c.shutdown();
    });
  }

  it("checks the current version of records that are not alive, and takes a short remote Vsn as version 0", async () => {
    const c = new TestCluster();
    const m = await quietNode(c, "m");
    // A dead remote record speaking version 9 is outside everyone's range.
    assert.throws(
      () => verifyProtocol(m.m, [asRemote(0, [1, 9, 9, 0, 0, 0], NodeState.Dead)]),
      /Node "node 0" protocol version \(9\) is incompatible: \[1, 5\]/,
    );
    // No Vsn at all: current version 0, below our minimum of 1.
    assert.throws(() => verifyProtocol(m.m, [asRemote(1, [])]), /protocol version \(0\) is incompatible/);
    verifyProtocol(m.m, [asRemote(2, [...DEFAULT_VSN])]);
    await c.shutdown();
  });
});
