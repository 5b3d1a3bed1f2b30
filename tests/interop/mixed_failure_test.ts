// Copyright (c) memberlist-ts authors. SPDX-License-Identifier: MPL-2.0

// Mixed Go/TS clusters, failure detection: a killed node is declared dead by nodes of the other language
// only; indirect probes relayed by the other language keep a node alive when the direct path is cut (and
// the relays are seen forwarding); the TCP fallback ping keeps a node without UDP alive, both ways; and a
// slow node suspected by the other language refutes and is never declared dead, both ways (Deno only).
// Go is memberlist 0.2.2 (tests/interop/go/peer), TS is our Memberlist on this runtime's default transport.

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { NodeState } from "../../mod.ts";
import { MessageType } from "../../lib/codec.ts";
import { memberlistState } from "../../lib/memberlist.ts";
import {
  type BodyOf,
  denoOnly,
  eventually,
  FAST,
  type FaultTransport,
  goAllHold,
  goRecords,
  goSkip,
  MixedCluster,
  STEADY,
  type Timing,
  tsRecord,
  tsState,
} from "./_mixed.ts";
import type { GoNodeEvent, GoPeerEvent } from "./_peer.ts";

/**
 * For the relay scenarios: a relayed probe crosses three processes in the window between the direct
 * ping's timeout and the end of the probe interval, so that window is wider than in STEADY (200 ms),
 * which a short stall of a loaded 2-core machine could close.
 */
const RELAYED: Timing = { ...STEADY, probeInterval: 1000, probeTimeout: 300 };

const isLeave = (observer: string, node: string) => (e: GoPeerEvent) =>
  e.event === "leave" && e.observer === observer && e.node === node;

/** Indirect pings `relay` received for `target`, and the acks it then sent back to the requester (by seqNo). */
function relayed(
  relay: FaultTransport,
  requester: string,
  target: string,
): { requests: BodyOf<typeof MessageType.IndirectPing>[]; acked: number[] } {
  const requests = relay.messages("in", MessageType.IndirectPing, requester).filter((r) => r.node === target);
  const seqs = new Set(requests.map((r) => r.seqNo));
  const acked = relay.messages("out", MessageType.AckResp, requester).map((a) => a.seqNo).filter((s) => seqs.has(s));
  return { requests, acked };
}

describe("mixed Go/TS cluster: failure detection", { skip: goSkip }, () => {
  it("a TS node killed without a leave is declared dead by the Go nodes", { timeout: 30_000 }, async () => {
    const c = new MixedCluster(FAST);
    try {
      const peer = await c.go({ names: ["go-0", "go-1", "go-2"] });
      await peer.join("all");
      const victim = await c.ts("ts-v");
      assert.equal(await victim.ml.join([peer.node("go-1").address]), 1);
      await c.converged(["go-0", "go-1", "go-2", "ts-v"]);

      const since = peer.eventCount;
      const killedAt = Date.now();
      await victim.ml.shutdown();
      // Only Go nodes are left to notice.
      for (const observer of ["go-0", "go-1", "go-2"]) {
        const e = await peer.waitForEvent<GoNodeEvent>(isLeave(observer, "ts-v"), {
          since,
          timeoutMs: 10_000,
          what: `${observer} to declare ts-v dead`,
        });
        assert.equal(e.state, "dead");
      }
      assert.ok(Date.now() - killedAt < 10_000);
      assert.ok((await c.suspicions()).go >= 1, "a Go node suspected ts-v first");
      for (const g of ["go-0", "go-1", "go-2"]) assert.equal((await goRecords(peer, g)).get("ts-v")?.state, "dead");
    } finally {
      await c.close();
    }
  });

  it("a Go node killed without a leave is declared dead by the TS nodes", { timeout: 30_000 }, async () => {
    const c = new MixedCluster(FAST);
    try {
      const ts = [await c.ts("ts-0"), await c.ts("ts-1"), await c.ts("ts-2")];
      await ts[1]!.ml.join([ts[0]!.address]);
      await ts[2]!.ml.join([ts[0]!.address]);
      const peer = await c.go({ names: ["go-v"] });
      assert.equal(await peer.join("go-v", [ts[2]!.address]), 1);
      await c.converged(["go-v", "ts-0", "ts-1", "ts-2"]);

      await peer.kill("go-v");
      // Only TS nodes are left to notice.
      await eventually(() => ts.every((n) => tsState(n, "go-v") === NodeState.Dead), {
        timeout: 10_000,
        what: "every TS node to declare go-v dead",
        explain: () => ts.map((n) => [n.name, tsState(n, "go-v")]),
      });
      for (const n of ts) {
        assert.ok(n.events.some((e) => e.type === "leave" && e.node.name === "go-v" && e.node.state === NodeState.Dead), n.name);
        assert.equal(n.ml.numMembers(), 3);
      }
      assert.ok(ts.some((n) => n.suspected.includes("go-v")), "a TS node suspected go-v first");
    } finally {
      await c.close();
    }
  });

  it("TS <-> TS with the direct UDP path cut and no TCP pings: Go relays carry the probes, nobody is suspected", {
    timeout: 40_000,
  }, async () => {
    const c = new MixedCluster(RELAYED);
    try {
      const peer = await c.go({ names: ["go-r0", "go-r1"] });
      await peer.join("all");
      const cfg = { config: { disableTcpPings: true }, fault: true };
      const p = await c.ts("ts-p", cfg);
      const t = await c.ts("ts-t", cfg);
      await p.ml.join([peer.node("go-r0").address]);
      await t.ml.join([peer.node("go-r1").address]);
      const everyone = ["go-r0", "go-r1", "ts-p", "ts-t"];
      await c.converged(everyone);

      // Cut UDP between ts-p and ts-t, both ways, and watch what crosses.
      p.fault!.dropPeers.add(t.address);
      t.fault!.dropPeers.add(p.address);
      p.fault!.record = true;
      t.fault!.record = true;
      await c.staysQuiet(everyone, 8000);

      // Direct pings were lost, and each node got its answers through a Go relay.
      const relays = peer.nodes.map((n) => n.address);
      for (const [prober, target] of [[p, t], [t, p]] as const) {
        const lost = prober.fault!.seen.filter((s) =>
          s.dir === "out" && s.peer === target.address && s.dropped && s.messages.some((m) => m.type === MessageType.Ping)
        );
        assert.ok(lost.length >= 1, `${prober.name}'s direct pings to ${target.name} were lost`);
        const asked = relays.flatMap((r) =>
          prober.fault!.messages("out", MessageType.IndirectPing, r).filter((m) => m.node === target.name)
        );
        assert.ok(asked.length >= 1, `${prober.name} asked a Go relay to probe ${target.name}`);
        const seqs = new Set(asked.map((m) => m.seqNo));
        const answered = relays.flatMap((r) => prober.fault!.messages("in", MessageType.AckResp, r)).filter((a) => seqs.has(a.seqNo));
        assert.ok(answered.length >= 1, `a Go relay forwarded ${target.name}'s ack to ${prober.name}`);
        // The relays asked with nack: true (Go 0.2.2 advertises protocol max 5).
        assert.ok(asked.every((m) => m.nack));
      }
      assert.equal(tsState(p, "ts-t"), NodeState.Alive);
      assert.equal(tsState(t, "ts-p"), NodeState.Alive);
    } finally {
      await c.close();
    }
  });

  it("Go <-> Go with the direct UDP path cut and no TCP pings: TS relays carry the probes, nobody is suspected", {
    timeout: 40_000,
  }, async () => {
    const c = new MixedCluster(RELAYED);
    try {
      const peer = await c.go({ names: ["go-p", "go-t"], flags: ["--disable-tcp-pings"] });
      const r0 = await c.ts("ts-r0", { fault: true });
      const r1 = await c.ts("ts-r1", { fault: true });
      await r1.ml.join([r0.address]);
      assert.equal(await peer.join("all", [r0.address]), 2);
      const everyone = ["go-p", "go-t", "ts-r0", "ts-r1"];
      await c.converged(everyone);

      const [gp, gt] = [peer.node("go-p"), peer.node("go-t")];
      await peer.dropUdp("go-p", true, { addrs: [gt.address] });
      await peer.dropUdp("go-t", true, { addrs: [gp.address] });
      r0.fault!.record = true;
      r1.fault!.record = true;
      await c.staysQuiet(everyone, 8000);

      // Each Go node asked the TS relays to probe the other, and a TS relay acked back with its seqNo.
      for (const [prober, target] of [[gp, gt], [gt, gp]] as const) {
        const rs = [relayed(r0.fault!, prober.address, target.name), relayed(r1.fault!, prober.address, target.name)];
        const requests = rs.reduce((s, r) => s + r.requests.length, 0);
        const acked = rs.reduce((s, r) => s + r.acked.length, 0);
        assert.ok(requests >= 1, `${prober.name} asked a TS relay to probe ${target.name}`);
        assert.ok(acked >= 1, `a TS relay forwarded ${target.name}'s ack to ${prober.name}`);
      }
      // The relays pinged the target themselves.
      const pinged = [r0, r1].flatMap((r) => r.fault!.messages("out", MessageType.Ping, gt.address));
      assert.ok(pinged.some((m) => m.node === "go-t"));
    } finally {
      await c.close();
    }
  });

  it("TCP fallback: a Go node that loses all UDP stays alive for the TS nodes, and keeps them alive", {
    timeout: 40_000,
  }, async () => {
    // No periodic push/pull: the only TCP connections are the fallback pings.
    const c = new MixedCluster({ ...STEADY, pushPullInterval: 600_000 });
    try {
      // No follow-up push/pulls after the joins either.
      const opts = { fault: true, config: { pushPullAfterJoin: 0 } };
      const ts = [await c.ts("ts-0", opts), await c.ts("ts-1", opts), await c.ts("ts-2", opts)];
      // Without periodic push/pulls, gossip alone may leave a node unknown to one other: every join
      // contacts every node already there.
      await ts[1]!.ml.join([ts[0]!.address]);
      await ts[2]!.ml.join([ts[0]!.address, ts[1]!.address]);
      const peer = await c.go({ names: ["go-u"] });
      assert.equal(await peer.join("go-u", ts.map((n) => n.address)), 3);
      const everyone = ["go-u", "ts-0", "ts-1", "ts-2"];
      await c.converged(everyone);

      const gu = peer.node("go-u").address;
      const dials0 = ts.map((n) => n.fault!.dials.get(gu) ?? 0);
      await peer.dropUdp("go-u", true);
      await c.staysQuiet(everyone, 6000);

      // The TS nodes reached go-u over TCP, and said so.
      const dials = ts.map((n, i) => (n.fault!.dials.get(gu) ?? 0) - dials0[i]!);
      assert.ok(dials.reduce((a, b) => a + b) >= 2, `TCP pings to go-u: ${dials}`);
      const tsWarned = ts.flatMap((n) => n.logger.problems()).filter((l) => l.includes("Was able to connect over TCP"));
      assert.ok(tsWarned.length >= 1);
      assert.ok(tsWarned.every((l) => l.includes("node=go-u")), tsWarned.join("\n"));
      // go-u could only probe the TS nodes over TCP too.
      const goWarned = c.goProblems.filter((l) => /Was able to connect to ts-\d but other probes failed/.test(l));
      assert.ok(goWarned.length >= 1, c.goProblems.join("\n"));
      for (const n of ts) assert.equal(tsRecord(n, "go-u")?.state, NodeState.Alive);
    } finally {
      await c.close();
    }
  });

  it("TCP fallback: a TS node that loses all UDP stays alive for the Go nodes, and keeps them alive", {
    timeout: 40_000,
  }, async () => {
    const c = new MixedCluster({ ...STEADY, pushPullInterval: 600_000 });
    try {
      const peer = await c.go({ names: ["go-0", "go-1", "go-2"] });
      // Without periodic push/pulls, gossip alone may leave a node unknown to one other: every join
      // contacts every node already there.
      await peer.join("go-1", [peer.node("go-0").address]);
      await peer.join("go-2", [peer.node("go-0").address, peer.node("go-1").address]);
      const u = await c.ts("ts-u", { fault: true, config: { pushPullAfterJoin: 0 } });
      assert.equal(await u.ml.join(peer.nodes.map((n) => n.address)), 3);
      const everyone = ["go-0", "go-1", "go-2", "ts-u"];
      await c.converged(everyone);

      const problems0 = c.goProblems.length;
      const tcp0 = (await peer.stats()).perNode.map((n) => n.tcpOut);
      u.fault!.dropAllUdp = true;
      await c.staysQuiet(everyone, 6000);

      // The Go nodes reached ts-u over TCP only, and said so.
      const goWarned = c.goProblems.slice(problems0);
      assert.ok(goWarned.some((l) => l.includes("Was able to connect to ts-u but other probes failed")), goWarned.join("\n"));
      assert.ok(goWarned.every((l) => /Was able to connect to \S+ but other probes failed/.test(l)), goWarned.join("\n"));
      const tcp = (await peer.stats()).perNode.map((n, i) => n.tcpOut - tcp0[i]!);
      assert.ok(tcp.some((b) => b > 0), `Go TCP bytes out: ${tcp}`);
      // ts-u probed the Go nodes over TCP.
      const tsWarned = u.logger.problems().filter((l) => l.includes("Was able to connect over TCP"));
      assert.ok(tsWarned.length >= 1, u.logger.problems().join("\n"));
      for (const g of ["go-0", "go-1", "go-2"]) assert.equal((await goRecords(peer, g)).get("ts-u")?.state, "alive");
    } finally {
      await c.close();
    }
  });

  it("Lifeguard nacks cross languages: a relay of each language nacks the other's probes of a dead node", {
    skip: denoOnly(),
    timeout: 30_000,
  }, async () => {
    // Three nodes: when ts-v dies, ts-p can only ask go-r to relay and go-r only ts-p (one indirect
    // check in the local profile). A relay nacks one probe timeout after it got the request, which the
    // prober sent one probe timeout into its probe: with Go's 2:1 interval to timeout ratio the nack lands
    // right on the prober's deadline (in Go as in TS), so the interval here is 4 timeouts. The suspicion
    // lasts 2.4 s, so both probe ts-v more than once.
    const c = new MixedCluster({ ...STEADY, probeInterval: 600, probeTimeout: 150 });
    try {
      const peer = await c.go({ names: ["go-r"] });
      const p = await c.ts("ts-p", { fault: true });
      const v = await c.ts("ts-v");
      assert.equal(await p.ml.join([peer.node(0).address]), 1);
      assert.equal(await v.ml.join([peer.node(0).address]), 1);
      await c.converged(["go-r", "ts-p", "ts-v"]);
      p.fault!.record = true;
      await v.ml.shutdown();
      await eventually(async () => {
        return tsState(p, "ts-v") === NodeState.Dead && (await goRecords(peer, 0)).get("ts-v")?.state === "dead";
      }, { timeout: 10_000, what: "ts-p and go-r to declare ts-v dead" });

      const gr = peer.node(0).address;
      // ts-p asked go-r, and go-r nacked with ts-p's sequence number.
      const askedGo = new Set(p.fault!.messages("out", MessageType.IndirectPing, gr).filter((m) => m.node === "ts-v").map((m) => m.seqNo));
      const nackedByGo = p.fault!.messages("in", MessageType.NackResp, gr).filter((n) => askedGo.has(n.seqNo));
      assert.ok(nackedByGo.length >= 1, `go-r nacked ts-p's requests (asked ${askedGo.size})`);
      // go-r asked ts-p, and ts-p nacked with go-r's sequence number.
      const askedTs = new Set(p.fault!.messages("in", MessageType.IndirectPing, gr).filter((m) => m.node === "ts-v").map((m) => m.seqNo));
      const nackedByTs = p.fault!.messages("out", MessageType.NackResp, gr).filter((n) => askedTs.has(n.seqNo));
      assert.ok(nackedByTs.length >= 1, `ts-p nacked go-r's requests (asked ${askedTs.size})`);
    } finally {
      await c.close();
    }
  });

  it("a TS node restarted under its old name and address after being declared dead rejoins the Go nodes", {
    skip: denoOnly(),
    timeout: 30_000,
  }, async () => {
    const c = new MixedCluster(FAST);
    try {
      const peer = await c.go({ names: ["go-0", "go-1"] });
      await peer.join("all");
      const first = await c.ts("ts-r");
      const port = first.ml.localNode().port;
      assert.equal(await first.ml.join([peer.node("go-0").address]), 1);
      await c.converged(["go-0", "go-1", "ts-r"]);
      await first.ml.shutdown();
      await eventually(() => goAllHold(peer, ["go-0", "go-1"], "ts-r", "dead"), {
        timeout: 10_000,
        what: "the Go nodes to declare ts-r dead",
      });
      const deadAt = (await goRecords(peer, "go-0")).get("ts-r")!.incarnation;

      // The new process starts at incarnation 1, which the Go nodes ignore; the push/pull of its join tells
      // it that it is dead, and it refutes with a higher incarnation.
      const since = peer.eventCount;
      const again = await c.ts("ts-r", { bindPort: port });
      assert.equal(await again.ml.join([peer.node("go-1").address]), 1);
      await c.converged(["go-0", "go-1", "ts-r"]);
      for (const g of ["go-0", "go-1"]) {
        const r = (await goRecords(peer, g)).get("ts-r")!;
        assert.equal(r.port, port);
        assert.ok(r.incarnation > deadAt, `${g} holds ts-r at ${r.incarnation}, dead at ${deadAt}`);
        await peer.waitForEvent((e) => e.event === "join" && e.observer === g && e.node === "ts-r", { since, timeoutMs: 1000 });
      }
      assert.ok(again.logger.lines.some((l) => /Refuting/.test(l.message)), "ts-r refuted its death");
    } finally {
      await c.close();
    }
  });

  it("a Go node restarted under its old name and address after being declared dead rejoins the TS nodes", {
    skip: denoOnly(),
    timeout: 30_000,
  }, async () => {
    const c = new MixedCluster(FAST);
    try {
      const ts = [await c.ts("ts-0"), await c.ts("ts-1")];
      await ts[1]!.ml.join([ts[0]!.address]);
      const first = await c.go({ names: ["go-r"] });
      const port = first.node(0).port;
      assert.equal(await first.join(0, [ts[0]!.address]), 1);
      await c.converged(["go-r", "ts-0", "ts-1"]);
      await first.close(); // the process ends: its node stops without a leave
      c.peers.splice(c.peers.indexOf(first), 1);
      await eventually(() => ts.every((n) => tsState(n, "go-r") === NodeState.Dead), {
        timeout: 10_000,
        what: "the TS nodes to declare go-r dead",
      });
      const deadAt = tsRecord(ts[0]!, "go-r")!.incarnation;
      const joins = ts.map((n) => n.events.filter((e) => e.type === "join" && e.node.name === "go-r").length);

      const again = await c.go({ names: ["go-r"], flags: ["--port", String(port)] });
      assert.equal(again.node(0).port, port);
      assert.equal(await again.join(0, [ts[1]!.address]), 1);
      await c.converged(["go-r", "ts-0", "ts-1"]);
      ts.forEach((n, i) => {
        assert.ok(tsRecord(n, "go-r")!.incarnation > deadAt, n.name);
        assert.equal(n.events.filter((e) => e.type === "join" && e.node.name === "go-r").length, joins[i]! + 1, n.name);
      });
      assert.ok((await goRecords(again, 0)).get("go-r")!.incarnation > deadAt, "go-r refuted its death");
    } finally {
      await c.close();
    }
  });

  it("TS nodes find a crashed Go node that comes back at its address without joining, and never a stranger there", {
    skip: denoOnly(),
    timeout: 30_000,
  }, async () => {
    // Reconnect (not in Go): the TS nodes ping the failed node by name, then join it with a push/pull.
    const c = new MixedCluster(FAST);
    try {
      const config = { gossipToTheDeadTime: 1000, reconnectInterval: 300 };
      const ts = [await c.ts("ts-0", { config }), await c.ts("ts-1", { config })];
      await ts[1]!.ml.join([ts[0]!.address]);
      const first = await c.go({ names: ["go-r"] });
      const port = first.node(0).port;
      assert.equal(await first.join(0, [ts[0]!.address]), 1);
      await c.converged(["go-r", "ts-0", "ts-1"]);
      await first.close(); // no leave
      c.peers.splice(c.peers.indexOf(first), 1);
      // Declared dead, then reaped: only the reconnect list remembers it.
      await eventually(() => ts.every((n) => memberlistState(n.ml).failed.has("go-r")), {
        timeout: 10_000,
        what: "the TS nodes to reap go-r",
      });

      // A Go node of another cluster at the same address answers no ping for go-r, so nobody merges.
      const stranger = await c.go({ names: ["go-x"], flags: ["--port", String(port)] });
      await eventually(() => c.goProblems.some((l) => l.includes("unexpected node")), {
        timeout: 5000,
        what: "go-x to refuse a ping for go-r",
      });
      assert.deepEqual(await c.views().then((v) => v["go-x"]), ["go-x"]);
      for (const n of ts) assert.equal(tsState(n, "go-x"), undefined, n.name);
      await stranger.close();
      c.peers.splice(c.peers.indexOf(stranger), 1);
      c.goProblems.length = 0;

      const again = await c.go({ names: ["go-r"], flags: ["--port", String(port)] });
      assert.equal(again.node(0).port, port);
      await c.converged(["go-r", "ts-0", "ts-1"]);
      assert.ok(ts.some((n) => n.logger.lines.some((l) => l.message === "Reconnecting to a failed node")));
    } finally {
      await c.close();
    }
  });

  it("after a graceful leave (0.2.2 keeps left records for good), a TS and a Go node restarted under the same name rejoin", {
    skip: denoOnly(),
    timeout: 30_000,
  }, async () => {
    const c = new MixedCluster(FAST);
    try {
      const peer = await c.go({ names: ["go-0", "go-1"] });
      await peer.join("all");
      const t0 = await c.ts("ts-0");
      await t0.ml.join([peer.node(0).address]);
      const leaver = await c.ts("ts-l");
      const port = leaver.ml.localNode().port;
      await leaver.ml.join([peer.node(1).address]);
      const goL = await c.go({ names: ["go-l"] });
      const goPort = goL.node(0).port;
      await goL.join(0, [t0.address]);
      await c.converged(["go-0", "go-1", "go-l", "ts-0", "ts-l"]);

      // Both leave and stop.
      await leaver.ml.leave(2000);
      await leaver.ml.shutdown();
      await goL.leave(0, 2000);
      await goL.close();
      c.peers.splice(c.peers.indexOf(goL), 1);
      await eventually(async () => {
        const r = await goRecords(peer, "go-0");
        return r.get("ts-l")?.state === "left" && r.get("go-l")?.state === "left" &&
          tsState(t0, "ts-l") === NodeState.Left && tsState(t0, "go-l") === NodeState.Left;
      }, { timeout: 5000, what: "ts-l and go-l to be seen left" });

      // New processes, same names and addresses: each learns it left (push/pull) and refutes.
      const tsAgain = await c.ts("ts-l", { bindPort: port });
      assert.equal(await tsAgain.ml.join([peer.node(0).address]), 1);
      const goAgain = await c.go({ names: ["go-l"], flags: ["--port", String(goPort)] });
      assert.equal(await goAgain.join(0, [t0.address]), 1);
      await c.converged(["go-0", "go-1", "go-l", "ts-0", "ts-l"]);
      assert.ok(tsAgain.logger.lines.some((l) => /Refuting a dead message/.test(l.message)));
      assert.ok(tsRecord(t0, "go-l")!.incarnation >= 2);
      assert.ok((await goRecords(peer, "go-1")).get("ts-l")!.incarnation >= 2);
    } finally {
      await c.close();
    }
  });

  /**
   * A refutation race the refuter must win: the suspicion timeout (6 × 200 ms, nobody to confirm in so
   * small a cluster) is four times the slow node's delay. And every node must hear the refutation: a
   * suspicion at the old incarnation that reaches the suspect later (piggybacked on a probe) is ignored by
   * it, in Go as in TS, so a node that missed the alive would declare it dead. With the local profile's
   * RetransmitMult of 2 an alive goes to two of the three others (and on from there), which misses one
   * about one time in ten; 4 sends it to all.
   */
  const REFUTE: Timing = { ...FAST, suspicionMult: 6, suspicionMaxTimeoutMult: 2, retransmitMult: 4 };
  const SLOW_MS = 300;

  it("a slow Go node suspected by the TS nodes refutes and is seen alive again, never dead", {
    skip: denoOnly(),
    timeout: 40_000,
  }, async () => {
    const c = new MixedCluster(REFUTE);
    try {
      const peer = await c.go({ names: ["go-s", "go-1"] });
      await peer.join("all");
      const ts = [await c.ts("ts-0"), await c.ts("ts-1")];
      for (const n of ts) assert.equal(await n.ml.join([peer.node("go-1").address]), 1);
      const everyone = ["go-1", "go-s", "ts-0", "ts-1"];
      await c.converged(everyone);
      const inc0 = tsRecord(ts[0]!, "go-s")!.incarnation;

      // Slow: datagrams and connections reach go-s 300 ms late, so probes (and TCP fallbacks) time out.
      await peer.slow("go-s", SLOW_MS, { streams: true });
      await eventually(() => ts.some((n) => n.suspected.includes("go-s")), {
        timeout: 10_000,
        what: "a TS node to suspect go-s",
      });
      await peer.slow("go-s", 0);

      // go-s refuted (a higher incarnation) and both TS nodes list it alive again.
      await eventually(
        () => ts.every((n) => tsRecord(n, "go-s")?.state === NodeState.Alive && tsRecord(n, "go-s")!.incarnation > inc0),
        { timeout: 10_000, what: "go-s to refute", explain: () => ts.map((n) => tsRecord(n, "go-s")) },
      );
      await c.converged(everyone);
      // Nobody was ever declared dead, on either side.
      for (const n of ts) assert.deepEqual(n.events.filter((e) => e.type === "leave").map((e) => e.node.name), [], n.name);
      assert.deepEqual(peer.history.filter((e) => e.event === "leave"), []);
      const self = (await goRecords(peer, "go-s")).get("go-s")!;
      assert.ok(self.incarnation > inc0, "go-s's own incarnation went up");
    } finally {
      await c.close();
    }
  });

  it("a slow TS node suspected by the Go nodes refutes and is seen alive again, never dead", {
    skip: denoOnly(),
    timeout: 40_000,
  }, async () => {
    const c = new MixedCluster(REFUTE);
    try {
      const peer = await c.go({ names: ["go-0", "go-1"] });
      await peer.join("all");
      const s = await c.ts("ts-s", { fault: true });
      const t1 = await c.ts("ts-1");
      assert.equal(await s.ml.join([peer.node("go-0").address]), 1);
      assert.equal(await t1.ml.join([peer.node("go-1").address]), 1);
      const everyone = ["go-0", "go-1", "ts-1", "ts-s"];
      await c.converged(everyone);
      const inc0 = memberlistState(s.ml).incarnation;
      const goSuspicions0 = (await c.suspicions()).go;

      s.fault!.delayPacketsMs = SLOW_MS;
      s.fault!.delayStreamsMs = SLOW_MS;
      // ts-s learns it is suspected (late) and refutes with a higher incarnation.
      await eventually(() => memberlistState(s.ml).incarnation > inc0, {
        timeout: 10_000,
        what: "ts-s to refute a suspicion",
      });
      s.fault!.delayPacketsMs = 0;
      s.fault!.delayStreamsMs = 0;
      assert.ok((await c.suspicions()).go > goSuspicions0, "the Go nodes suspected ts-s");
      assert.ok(s.logger.lines.some((l) => l.message.includes("Refuting a suspect message")));

      const refuted = memberlistState(s.ml).incarnation;
      await eventually(async () => {
        for (const g of ["go-0", "go-1"]) {
          const r = (await goRecords(peer, g)).get("ts-s");
          if (r?.state !== "alive" || r.incarnation < refuted) return false;
        }
        return true;
      }, { timeout: 10_000, what: "the Go nodes to see ts-s alive at its new incarnation" });
      await c.converged(everyone);
      assert.deepEqual(peer.history.filter((e) => e.event === "leave"), []);
      assert.deepEqual(t1.events.filter((e) => e.type === "leave"), []);
    } finally {
      await c.close();
    }
  });
});
