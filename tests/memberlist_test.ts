// Memberlist's public API on the in-memory network with a virtual clock: the
// scenarios of Go's memberlist_test.go and transport_test.go that are about
// creating, joining, leaving and failing. Delegates, events and messages are in
// memberlist_delegates_test.ts; encryption, labels and address filters in
// memberlist_security_test.ts.
//
// Go tests covered, by describe block:
// - "Memberlist.create() and shutdown()": TestDefaultLANConfig_protocolVersion,
//   TestCreate_protocolVersion, TestCreate_secretKey, TestCreate_secretKeyEmpty,
//   TestCreate_keyringOnly, TestCreate_keyringAndSecretKey, TestCreate,
//   TestCreate_checkBroadcastQueueMetrics, TestMemberList_CreateShutdown,
//   TestMemberlistProtocolVersion, and TestCreate_invalidLoggerSettings adapted
//   (we have no LogOutput: a logger that is not a Logger is refused instead).
// - "join()": TestMemberlist_Join, TestTransport_Join, TestMemberlist_Join_DeadNode,
//   TestMemberlist_Join_IPv6, TestMemberList_ResolveAddr, and
//   TestMemberList_ResolveAddr_TCP_First adapted (Go asks the DNS server of
//   DNSConfigPath over TCP; we resolve host names through `config.resolve`).
// - "members(), numMembers() and localNode()": TestMemberList_Members.
// - "leave()": TestMemberlist_Leave, plus leave-and-rejoin, with a new instance and with the same one
//   (user-asks #3).
// - "failure detection, dead nodes and reclaimed names": TestMemberlist_JoinShutdown,
//   and the commented-out TestMemberlist_Restart_delegateMeta_Update, which Go
//   can not run on real sockets and the mock network can.
// - "updateNode()": the timeout half of TestMemberlist_delegateMeta_Update (the
//   metadata half is in memberlist_delegates_test.ts).
// - "protocol versions": TestMemberlist_Join_protocolVersions,
//   TestMemberlist_Join_Protocol_Compatibility.
// - "advertise address and health": TestAdvertiseAddr.
//
// Not ported:
// - TestTransport_TcpListenBackoff: it tests the back-off of NetTransport's TCP
//   accept loop, which the mock network does not have; it belongs with the
//   real-socket transport suite (tests/transports/).
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import {
  defaultLANConfig,
  defaultLocalConfig,
  PROTOCOL_VERSION_2_COMPATIBLE,
  PROTOCOL_VERSION_MAX,
  PROTOCOL_VERSION_MIN,
} from "../lib/config.ts";
import { JoinError, NoPingResponseError, TransportClosedError } from "../lib/errors.ts";
import { Keyring } from "../lib/keyring.ts";
import { memberlistState, type NodeEvent } from "../lib/memberlist.ts";
import { NodeState } from "../lib/node.ts";
import { estNumNodes } from "../lib/state.ts";
import { stateOf, TestCluster, type TestNode } from "./_helpers.ts";
import {
  addAt,
  memberNames,
  RecordingMetrics,
  recordingTransport,
  silentPeer,
  text,
  type TransportLog,
  utf8,
} from "./_memberlist_helpers.ts";

const KEY16 = new Uint8Array(16).fill(7);

/** Whether every node sees exactly `names` as members. */
function allSee(nodes: readonly TestNode[], names: readonly string[]): boolean {
  const want = [...names].sort().join(",");
  return nodes.every((n) => memberNames(n.ml).join(",") === want);
}

/** The state `observer` holds for `name`, dead and left records included. */
function recordState(observer: TestNode, name: string): number | undefined {
  return memberlistState(observer.ml).nodeMap.get(name)?.state;
}

describe("Memberlist.create() and shutdown()", () => {
  it("defaultLANConfig() speaks the version every peer understands", () => {
    assert.equal(defaultLANConfig().protocolVersion, PROTOCOL_VERSION_2_COMPATIBLE);
  });

  it("accepts every protocol version from the minimum to the maximum", async () => {
    const c = new TestCluster({ seed: 101 });
    for (let v = PROTOCOL_VERSION_MIN; v <= PROTOCOL_VERSION_MAX; v++) {
      const n = await addAt(c, `v${v}`, `127.0.0.${10 + v}:7946`, { protocolVersion: v });
      assert.equal(n.ml.protocolVersion(), v);
      assert.equal(n.ml.localNode().pCur, v);
    }
    await c.shutdown();
    assert.equal(c.clock.pending, 0);
  });

  it("refuses a protocol version out of range with a RangeError", async () => {
    const c = new TestCluster({ seed: 102 });
    for (const v of [PROTOCOL_VERSION_MIN - 1, PROTOCOL_VERSION_MAX + 1]) {
      await assert.rejects(addAt(c, "n", "127.0.0.10:7946", { protocolVersion: v }), RangeError);
    }
    // The address was released each time.
    await addAt(c, "n", "127.0.0.10:7946");
    await c.shutdown();
  });

  it("refuses a secret key that is not 16, 24 or 32 bytes with a RangeError", async () => {
    const c = new TestCluster({ seed: 103 });
    for (const key of [utf8("abc"), new Uint8Array(38), new Uint8Array(15)]) {
      await assert.rejects(addAt(c, "n", "127.0.0.10:7946", { secretKey: key }), RangeError);
    }
    for (const size of [16, 24, 32]) {
      const n = await addAt(c, `k${size}`, `127.0.0.${size}:7946`, { secretKey: new Uint8Array(size).fill(1) });
      assert.equal(n.ml.keyring()!.getPrimaryKey()!.length, size);
    }
    await c.shutdown();
  });

  it("treats an empty secret key as encryption off", async () => {
    const c = new TestCluster({ seed: 104 });
    const n = await addAt(c, "n", "127.0.0.10:7946", { secretKey: new Uint8Array(0) });
    assert.equal(n.ml.keyring(), null);
    await c.shutdown();
  });

  it("encrypts with a keyring given alone", async () => {
    const c = new TestCluster({ seed: 105 });
    const keyring = Keyring.create([], KEY16);
    const n = await addAt(c, "n", "127.0.0.10:7946", { keyring });
    assert.equal(n.ml.keyring(), keyring);
    assert.equal(n.ml.keyring()!.size, 1);
    await c.shutdown();
  });

  it("makes the secret key the primary key of a given keyring", async () => {
    const c = new TestCluster({ seed: 106 });
    const keyring = Keyring.create([], new Uint8Array(16));
    const secret = new Uint8Array(16).fill(1);
    const n = await addAt(c, "n", "127.0.0.10:7946", { keyring, secretKey: secret });
    assert.deepEqual(n.ml.keyring()!.getKeys(), [secret, new Uint8Array(16)]);
    assert.deepEqual(n.ml.keyring()!.getPrimaryKey(), secret);
    await c.shutdown();
  });

  it("refuses a label longer than 255 bytes with a RangeError", async () => {
    const c = new TestCluster({ seed: 107 });
    await assert.rejects(addAt(c, "n", "127.0.0.10:7946", { label: "x".repeat(256) }), RangeError);
    // Multi-byte characters count as their UTF-8 length.
    await assert.rejects(addAt(c, "n", "127.0.0.10:7946", { label: "é".repeat(128) }), RangeError);
    const n = await addAt(c, "n", "127.0.0.10:7946", { label: "x".repeat(255) });
    assert.equal(n.ml.numMembers(), 1);
    await c.shutdown();
  });

  it("refuses a logger that is not a Logger with a TypeError", async () => {
    const c = new TestCluster({ seed: 108 });
    const notALogger = { print() {} } as unknown as never;
    await assert.rejects(addAt(c, "n", "127.0.0.10:7946", { logger: notALogger }), TypeError);
    await c.shutdown();
  });

  it("advertises its protocol range, its current version and its delegate versions", async () => {
    const c = new TestCluster({ seed: 109 });
    const n = await addAt(c, "n", "127.0.0.10:7946", {
      protocolVersion: PROTOCOL_VERSION_MIN,
      delegateProtocolVersion: 13,
      delegateProtocolMin: 12,
      delegateProtocolMax: 24,
    });
    await c.advance(250);
    const members = n.ml.members();
    assert.equal(members.length, 1);
    const self = members[0]!;
    assert.deepEqual(
      [self.pMin, self.pMax, self.pCur, self.dMin, self.dMax, self.dCur],
      [PROTOCOL_VERSION_MIN, PROTOCOL_VERSION_MAX, PROTOCOL_VERSION_MIN, 12, 24, 13],
    );
    assert.deepEqual(n.ml.localNode(), self);
    await c.shutdown();
  });

  it("samples the broadcast queue length every queueCheckInterval", async () => {
    const c = new TestCluster({ seed: 110 });
    const metrics = new RecordingMetrics();
    await addAt(c, "n", "127.0.0.10:7946", { metrics, queueCheckInterval: 1000 });
    await c.advance(3000);
    const samples = metrics.samples.filter((s) => s.key === "memberlist.queue.broadcasts");
    assert.equal(samples.length, 3);
    await c.shutdown();
  });

  it("shutdown() stops every timer, and a second shutdown() does nothing", async () => {
    const c = new TestCluster({ seed: 111 });
    const nodes = await c.start(3);
    await c.advance(5000);
    assert.ok(c.clock.pending > 0);
    for (const n of nodes) {
      await c.settle(n.ml.shutdown());
      await c.settle(n.ml.shutdown());
      assert.equal(n.transport.closed, true);
    }
    await c.advance(1);
    assert.equal(c.clock.pending, 0);
  });

  it("shutdown() in the middle of a failing probe returns at once", async () => {
    const c = new TestCluster({ seed: 114 });
    const [a, b] = await c.start(2);
    const m = memberlistState(a!.ml);
    c.net.kill(b!.transport.addr);
    // Past the direct ping's probeTimeout, the probe waits for indirect acks until the interval ends.
    await c.waitFor(() => m.probing && m.ackHandlers.size > 0, 5000, 1);
    await c.advance(300);
    assert.ok(m.probing);
    await c.settle(a!.ml.shutdown(), 20);
    await c.shutdown();
    assert.equal(c.clock.pending, 0);
  });

  it("a shut-down node refuses every network operation with TransportClosedError", async () => {
    const c = new TestCluster({ seed: 112 });
    const [a, b] = await c.start(2);
    const peer = a!.ml.members().find((n) => n.name === b!.name)!;
    await c.settle(a!.ml.shutdown());
    const msg = utf8("x");
    await assert.rejects(a!.ml.join([b!.ml.localNode().address]), TransportClosedError);
    await assert.rejects(a!.ml.sendBestEffort(peer, msg), TransportClosedError);
    await assert.rejects(a!.ml.sendReliable(peer, msg), TransportClosedError);
    await assert.rejects(a!.ml.sendToAddress({ addr: peer.address, name: peer.name }, msg), TransportClosedError);
    await assert.rejects(a!.ml.updateNode(1000), TransportClosedError);
    await assert.rejects(a!.ml.leave(1000), TransportClosedError);
    await assert.rejects(a!.ml.ping(peer.name, peer.address), TransportClosedError);
    await c.shutdown();
    assert.equal(c.clock.pending, 0);
  });

  it("Symbol.asyncDispose shuts the node down", async () => {
    const c = new TestCluster({ seed: 113 });
    const n = await addAt(c, "n", "127.0.0.10:7946");
    await c.settle(n.ml[Symbol.asyncDispose]());
    assert.equal(n.transport.closed, true);
    await assert.rejects(n.ml.join(["127.0.0.11:7946"]), TransportClosedError);
    await c.advance(1);
    assert.equal(c.clock.pending, 0);
  });
});

describe("join()", () => {
  it("joins a node given as name/host:port; both then see two members", async () => {
    const c = new TestCluster({ seed: 201 });
    const a = await addAt(c, "a", "127.0.0.10:7946", { requireNodeNames: true });
    const b = await addAt(c, "b", "127.0.0.11:7946", { requireNodeNames: true });
    assert.equal(await c.settle(b.ml.join(["a/127.0.0.10:7946"])), 1);
    // The joiner has merged the seed's state when join() resolves.
    assert.deepEqual(memberNames(b.ml), ["a", "b"]);
    assert.equal(estNumNodes(memberlistState(b.ml)), 2);
    await c.waitFor(() => a.ml.numMembers() === 2, 1000, 1);
    assert.equal(estNumNodes(memberlistState(a.ml)), 2);
    await c.shutdown();
  });

  it("requires a node name in each address when requireNodeNames is set", async () => {
    const c = new TestCluster({ seed: 202 });
    await addAt(c, "a", "127.0.0.10:7946");
    const b = await addAt(c, "b", "127.0.0.11:7946", { requireNodeNames: true });
    await assert.rejects(c.settle(b.ml.join(["127.0.0.10:7946"])), (err: unknown) => {
      assert.ok(err instanceof JoinError);
      assert.match(String((err.errors[0] as Error).message), /names are required/);
      return true;
    });
    assert.equal(await c.settle(b.ml.join(["a/127.0.0.10:7946"])), 1);
    await c.shutdown();
  });

  it("uses the local bind port for an address without a port", async () => {
    const c = new TestCluster({ seed: 203 });
    await addAt(c, "a", "127.0.0.10:7946");
    const b = await addAt(c, "b", "127.0.0.11:7946");
    assert.equal(await c.settle(b.ml.join(["127.0.0.10"])), 1);
    // With bindPort 0, the bound (advertised) port is the default.
    await addAt(c, "c", "127.0.0.12:8000", { bindPort: 0 });
    const d = await addAt(c, "d", "127.0.0.13:8000", { bindPort: 0 });
    assert.equal(await c.settle(d.ml.join(["c/127.0.0.12"])), 1);
    assert.deepEqual(memberNames(d.ml), ["c", "d"]);
    await c.shutdown();
  });

  it("joins several seeds at once and counts each exchange that worked", async () => {
    const c = new TestCluster({ seed: 204 });
    const seeds = [
      await addAt(c, "a", "127.0.0.10:7946"),
      await addAt(c, "b", "127.0.0.11:7946"),
      await addAt(c, "c", "127.0.0.12:7946"),
    ];
    const j = await addAt(c, "j", "127.0.0.13:7946");
    assert.equal(await c.settle(j.ml.join(seeds.map((s) => `${s.name}/${s.ml.localNode().address}`))), 3);
    assert.deepEqual(memberNames(j.ml), ["a", "b", "c", "j"]);
    await c.waitFor(() => allSee([...seeds, j], ["a", "b", "c", "j"]), 10_000);
    await c.shutdown();
  });

  it("a dead seed among live ones does not hold the live ones back", async () => {
    const c = new TestCluster({ seed: 205 });
    await addAt(c, "a", "127.0.0.10:7946");
    await addAt(c, "b", "127.0.0.11:7946");
    const j = await addAt(c, "j", "127.0.0.12:7946", { tcpTimeout: 2000 });
    // One seed is behind a black hole (dials time out), one refuses at once.
    c.net.partition([j.transport.addr], ["127.0.0.99:7946"]);
    const started = c.clock.now();
    const joining = j.ml.join(["ghost/127.0.0.99:7946", "a/127.0.0.10:7946", "gone/127.0.0.98:7946", "b/127.0.0.11:7946"]);
    await c.waitFor(() => j.ml.numMembers() === 3, 100, 1);
    assert.equal(await c.settle(joining), 2);
    const took = c.clock.now() - started;
    assert.ok(took >= 2000 && took <= 2010, `join took ${took} ms`);
    await c.shutdown();
  });

  it("resolves host names side by side, and contacts a literal seed without waiting for DNS", async () => {
    const c = new TestCluster({ seed: 209 });
    await addAt(c, "a", "127.0.0.10:7946");
    await addAt(c, "b", "127.0.0.11:7946");
    const asked: string[] = [];
    // Each lookup takes 3 s of virtual time.
    const j = await addAt(c, "j", "127.0.0.12:7946", {
      resolve: (host) => {
        asked.push(host);
        return new Promise((resolve) => c.clock.setTimeout(() => resolve([host === "b.example" ? "127.0.0.11" : "127.0.0.99"]), 3000));
      },
    });
    const started = c.clock.now();
    const joining = j.ml.join(["slow.example", "b.example", "a/127.0.0.10:7946"]);
    // The literal seed is joined long before the first lookup returns, and both lookups are under way.
    await c.waitFor(() => j.ml.numMembers() === 2, 100, 1);
    assert.deepEqual(asked, ["slow.example", "b.example"]);
    assert.equal(await c.settle(joining), 2);
    const took = c.clock.now() - started;
    assert.ok(took >= 3000 && took < 3100, `join took ${took} ms, not 2 × 3 s`);
    await c.shutdown();
  });

  it("passes its abort signal to the resolver, and stops waiting for a lookup that ignores it", async () => {
    const c = new TestCluster({ seed: 210 });
    const signals: (AbortSignal | undefined)[] = [];
    const j = await addAt(c, "j", "127.0.0.12:7946", {
      resolve: (_host, options) => {
        signals.push(options?.signal);
        return new Promise(() => {});
      },
    });
    const controller = new AbortController();
    const joining = j.ml.join(["hang.example", "hang2.example:7000"], { signal: controller.signal });
    await c.advance(100);
    controller.abort(new Error("enough"));
    await assert.rejects(c.settle(joining, 10), /enough/);
    assert.equal(signals.length, 2);
    assert.ok(signals.every((s) => s === controller.signal));
    await c.shutdown();
  });

  it("gives up on a peer that accepts the stream but never answers, after tcpTimeout", async () => {
    const c = new TestCluster({ seed: 206 });
    const j = await addAt(c, "j", "127.0.0.10:7946", { tcpTimeout: 50 });
    const silent = silentPeer(c, "127.0.0.11:7946");
    const started = c.clock.now();
    await assert.rejects(c.settle(j.ml.join(["fake/127.0.0.11:7946"])), JoinError);
    const took = c.clock.now() - started;
    assert.ok(took >= 50 && took < 100, `join took ${took} ms`);
    assert.equal(silent.accepted.length, 1);
    await silent.transport.shutdown();
    await c.shutdown();
    assert.equal(c.clock.pending, 0);
  });

  it("throws JoinError, with the error of each address, when none could be joined", async () => {
    const c = new TestCluster({ seed: 207 });
    const j = await addAt(c, "j", "127.0.0.10:7946", {
      resolve: (host) => Promise.reject(new Error(`no such host "${host}"`)),
    });
    await assert.rejects(c.settle(j.ml.join(["x/127.0.0.98:7946", "y/127.0.0.99:7946", "nowhere.example"])), (err: unknown) => {
      assert.ok(err instanceof JoinError);
      assert.ok(err instanceof AggregateError);
      assert.equal(err.name, "JoinError");
      assert.equal(err.errors.length, 3);
      const messages = err.errors.map((e) => (e as Error).message).sort();
      assert.match(messages[0]!, /127\.0\.0\.98:7946/);
      assert.match(messages[1]!, /127\.0\.0\.99:7946/);
      assert.match(messages[2]!, /no such host "nowhere\.example"/);
      return true;
    });
    // An empty list is a mistake of the caller, not a failed join.
    await assert.rejects(c.settle(j.ml.join([])), { name: "RangeError", message: "Cannot join: no addresses given" });
    assert.equal(j.ml.numMembers(), 1);
    await c.shutdown();
  });

  it("reads every address form: IPv4, bracketed IPv6, host names, default port, name/ prefix", async () => {
    const c = new TestCluster({ seed: 208 });
    const log: TransportLog = { writes: [], dials: [] };
    const resolved: string[] = [];
    const r = await addAt(c, "r", "127.0.0.10:7946", {
      resolve: (host) => {
        resolved.push(host);
        return Promise.resolve(["127.0.0.1"]);
      },
    }, (t) => recordingTransport(t, () => c.clock.now(), log));
    const cases: [string, string][] = [
      ["localhost", "127.0.0.1:7946"],
      ["localhost:80", "127.0.0.1:80"],
      ["[::1]:80", "[::1]:80"],
      ["[::1]", "[::1]:7946"],
      ["127.0.0.1:80", "127.0.0.1:80"],
      ["127.0.0.1", "127.0.0.1:7946"],
      ["[2001:db8:a0b:12f0::1]:80", "[2001:db8:a0b:12f0::1]:80"],
      ["[2001:db8:a0b:12f0::1]", "[2001:db8:a0b:12f0::1]:7946"],
    ];
    for (const [input, addr] of cases) {
      for (const name of ["", "foo.bar"]) {
        log.dials.length = 0;
        resolved.length = 0;
        const entry = name === "" ? input : `${name}/${input}`;
        // Nobody listens at these addresses: the dial is what is checked.
        await assert.rejects(c.settle(r.ml.join([entry])), JoinError);
        assert.deepEqual(log.dials, [{ addr, name }], entry);
        assert.deepEqual(resolved, input.startsWith("localhost") ? ["localhost"] : [], entry);
      }
    }
    for (const entry of [":80", "foo.bar/:80", "localhost:80000", "foo.bar/localhost:80000", "/127.0.0.1:80", "[::1"]) {
      log.dials.length = 0;
      resolved.length = 0;
      await assert.rejects(c.settle(r.ml.join([entry])), (err: unknown) => {
        assert.ok(err instanceof JoinError);
        assert.ok(err.errors[0] instanceof SyntaxError, `${entry}: ${err.errors[0]}`);
        return true;
      }, entry);
      assert.deepEqual(log.dials, [], entry);
      assert.deepEqual(resolved, [], entry);
    }
    await c.shutdown();
  });

  it("resolves host names through config.resolve and contacts every address found", async () => {
    const c = new TestCluster({ seed: 209 });
    const log: TransportLog = { writes: [], dials: [] };
    const seed = await addAt(c, "seed", "127.0.0.1:7946");
    const r = await addAt(c, "r", "127.0.0.10:7946", {
      resolve: (host) =>
        host === "join.service.consul" || host === "join.service.consul."
          ? Promise.resolve(["127.0.0.1", "2001:db8:a0b:12f0::1"])
          : Promise.resolve([]),
    }, (t) => recordingTransport(t, () => c.clock.now(), log));
    for (const host of ["join.service.consul.", "join.service.consul"]) {
      log.dials.length = 0;
      assert.equal(await c.settle(r.ml.join([host])), 1);
      assert.deepEqual(log.dials, [
        { addr: "127.0.0.1:7946", name: "" },
        { addr: "[2001:db8:a0b:12f0::1]:7946", name: "" },
      ]);
    }
    assert.deepEqual(memberNames(r.ml), ["r", "seed"]);
    // A name that resolves to nothing is a failure of its own.
    await assert.rejects(c.settle(r.ml.join(["empty.example"])), (err: unknown) => {
      assert.ok(err instanceof JoinError);
      assert.match((err.errors[0] as Error).message, /empty\.example/);
      return true;
    });
    void seed;
    await c.shutdown();
  });

  it("joins over IPv6", async () => {
    const c = new TestCluster({ seed: 210 });
    const a = await addAt(c, "A", "[::1]:7001", { bindPort: 0 });
    const b = await addAt(c, "B", "[::1]:7002", { bindPort: 0 });
    assert.equal(await c.settle(b.ml.join(["A/[::1]:7001"])), 1);
    assert.equal(b.ml.numMembers(), 2);
    await c.waitFor(() => a.ml.numMembers() === 2, 1000, 1);
    const seen = a.ml.members().find((n) => n.name === "B")!;
    assert.equal(seen.addr, "::1");
    assert.equal(seen.address, "[::1]:7002");
    await c.shutdown();
  });

  it("stops when its signal aborts, rejecting with the signal's reason", async () => {
    const c = new TestCluster({ seed: 211 });
    const j = await addAt(c, "j", "127.0.0.10:7946", { tcpTimeout: 10_000 });
    const silent = silentPeer(c, "127.0.0.11:7946");
    const controller = new AbortController();
    const started = c.clock.now();
    const joining = j.ml.join(["s/127.0.0.11:7946"], { signal: controller.signal });
    await c.advance(100);
    const reason = new Error("stop joining");
    controller.abort(reason);
    await assert.rejects(c.settle(joining), (err: unknown) => err === reason);
    assert.ok(c.clock.now() - started < 200);
    assert.equal(silent.accepted.length, 1);
    // An already aborted signal rejects before any dial.
    await assert.rejects(c.settle(j.ml.join(["s/127.0.0.11:7946"], { signal: AbortSignal.abort(reason) })), (err: unknown) => err === reason);
    assert.equal(silent.accepted.length, 1);
    assert.equal(j.ml.numMembers(), 1);
    await silent.transport.shutdown();
    await c.shutdown();
    assert.equal(c.clock.pending, 0);
  });
});

describe("members(), numMembers() and localNode()", () => {
  it("count alive and suspect nodes, not dead or left ones", async () => {
    const c = new TestCluster({ seed: 301 });
    const nodes = await c.start(4);
    await c.waitFor(() => nodes.every((n) => n.ml.numMembers() === 4), 10_000);
    const m = memberlistState(nodes[0]!.ml);
    m.nodeMap.get("node-1")!.state = NodeState.Dead;
    m.nodeMap.get("node-2")!.state = NodeState.Suspect;
    m.nodeMap.get("node-3")!.state = NodeState.Left;
    assert.deepEqual(
      nodes[0]!.ml.members().map((n) => [n.name, n.state]).sort(),
      [["node-0", NodeState.Alive], ["node-2", NodeState.Suspect]],
    );
    assert.equal(nodes[0]!.ml.numMembers(), 2);
    await c.shutdown();
  });

  it("return snapshots that later changes never modify", async () => {
    const c = new TestCluster({ seed: 302 });
    let meta = utf8("v1");
    const a = await addAt(c, "a", "127.0.0.10:7946", { delegate: { nodeMeta: () => meta } });
    const b = await addAt(c, "b", "127.0.0.11:7946");
    await c.settle(b.ml.join(["a/127.0.0.10:7946"]));
    await c.waitFor(() => a.ml.numMembers() === 2, 1000, 1);

    const seenByB = b.ml.members().find((n) => n.name === "a")!;
    const local = a.ml.localNode();
    const membersOfA = a.ml.members();
    assert.ok(Object.isFrozen(seenByB));
    assert.throws(() => {
      (seenByB as { name: string }).name = "z";
    }, TypeError);
    // Writing into a snapshot's metadata changes only that copy.
    const scratch = b.ml.members().find((n) => n.name === "a")!;
    scratch.meta[0] = 0x7a;
    assert.equal(text(b.ml.members().find((n) => n.name === "a")!.meta), "v1");

    meta = utf8("v2");
    await c.settle(a.ml.updateNode(5000));
    await c.waitFor(() => text(b.ml.members().find((n) => n.name === "a")!.meta) === "v2", 5000);
    await c.settle(b.ml.leave(5000));
    await c.waitFor(() => a.ml.numMembers() === 1, 5000);

    assert.equal(text(seenByB.meta), "v1");
    assert.equal(text(local.meta), "v1");
    assert.equal(membersOfA.length, 2);
    assert.equal(membersOfA.find((n) => n.name === "b")!.state, NodeState.Alive);
    assert.equal(text(a.ml.localNode().meta), "v2");
    await c.shutdown();
  });
});

/** a, b and d at 127.0.0.10–12, converged; then a leaves (and keeps running). */
async function threeThenLeave(c: TestCluster): Promise<[TestNode, TestNode, TestNode]> {
  const a = await addAt(c, "a", "127.0.0.10:7946");
  const b = await addAt(c, "b", "127.0.0.11:7946");
  const d = await addAt(c, "d", "127.0.0.12:7946");
  await c.settle(Promise.all([b.ml.join(["a/127.0.0.10:7946"]), d.ml.join(["a/127.0.0.10:7946"])]));
  await c.waitFor(() => allSee([a, b, d], ["a", "b", "d"]), 10_000);
  await c.settle(a.ml.leave(2000));
  return [a, b, d];
}

describe("leave()", () => {
  it("a node that leaves is seen as left, by the others and by itself", async () => {
    const c = new TestCluster({ seed: 401 });
    const a = await addAt(c, "a", "127.0.0.10:7946");
    const b = await addAt(c, "b", "127.0.0.11:7946");
    await c.settle(b.ml.join(["a/127.0.0.10:7946"]));
    const leaves: NodeEvent[] = [];
    b.ml.addEventListener("leave", (e) => leaves.push(e));

    await c.settle(a.ml.leave(1000));
    assert.deepEqual(memberNames(a.ml), ["b"]);
    assert.equal(recordState(a, "a"), NodeState.Left);
    await c.waitFor(() => b.ml.numMembers() === 1, 1000, 1);
    assert.equal(recordState(b, "a"), NodeState.Left);
    assert.deepEqual(leaves.map((e) => [e.node.name, e.node.state]), [["a", NodeState.Left]]);
    assert.equal(b.logger.find("info", "Suspect"), 0);

    // It keeps answering probes until it shuts down.
    assert.ok(await c.settle(b.ml.ping("a", "127.0.0.10:7946")) >= 0);
    // A second leave() has nothing more to do.
    await c.settle(a.ml.leave(1000));
    await c.shutdown();
  });

  it("resolves at once when there is no one to tell", async () => {
    const c = new TestCluster({ seed: 402 });
    const a = await addAt(c, "a", "127.0.0.10:7946");
    const started = c.clock.now();
    await c.settle(a.ml.leave(1000));
    assert.ok(c.clock.now() - started <= 1);
    assert.equal(a.ml.numMembers(), 0);
    await c.shutdown();
  });

  it("rejects when the leave can not be gossiped before the timeout", async () => {
    const c = new TestCluster({ seed: 403 });
    // Nothing carries a's broadcasts: it neither gossips nor probes, and nobody probes it.
    const quiet = { gossipInterval: 0, probeInterval: 0 };
    const a = await addAt(c, "a", "127.0.0.10:7946", quiet);
    // No follow-up push/pulls after the join either (they would carry the leave).
    const b = await addAt(c, "b", "127.0.0.11:7946", { probeInterval: 0, pushPullAfterJoin: 0 });
    await c.settle(b.ml.join(["a/127.0.0.10:7946"]));
    const started = c.clock.now();
    await assert.rejects(c.settle(a.ml.leave(500)), /timed out/);
    assert.equal(c.clock.now() - started, 500);
    // The leave happened locally all the same.
    assert.equal(recordState(a, "a"), NodeState.Left);
    assert.equal(stateOf(b.ml, "a"), NodeState.Alive);
    await c.shutdown();
    assert.equal(c.clock.pending, 0);
  });

  it("a node that left can come back under the same name at the same address", async () => {
    const c = new TestCluster({ seed: 404 });
    const [a, b, d] = await threeThenLeave(c);
    await c.settle(a.ml.shutdown());
    await c.waitFor(() => allSee([b, d], ["b", "d"]), 5000);
    const joins: string[] = [];
    b.ml.addEventListener("join", (e) => joins.push(e.node.name));

    // A new process, same name and address: its first alive (incarnation 1)
    // is no news to the others, who answer with its left record; it refutes
    // that with a higher incarnation, and they take it back.
    const again = await addAt(c, "a", "127.0.0.10:7946");
    assert.equal(await c.settle(again.ml.join(["b/127.0.0.11:7946"])), 1);
    await c.waitFor(() => allSee([again, b, d], ["a", "b", "d"]), 10_000);
    assert.deepEqual(joins, ["a"]);
    assert.ok(memberlistState(again.ml).incarnation > 1);
    await c.shutdown();
  });

  it("a node that left can join again without a restart (Go needs a new instance)", async () => {
    const c = new TestCluster({ seed: 406 });
    const [a, b, d] = await threeThenLeave(c);
    await c.waitFor(() => allSee([b, d], ["b", "d"]), 5000);
    const leftAt = memberlistState(b.ml).nodeMap.get("a")!.incarnation;

    assert.equal(await c.settle(a.ml.join(["b/127.0.0.11:7946"])), 1);
    await c.waitFor(() => allSee([a, b, d], ["a", "b", "d"]), 10_000);
    assert.equal(recordState(a, "a"), NodeState.Alive);
    assert.ok(memberlistState(b.ml).nodeMap.get("a")!.incarnation > leftAt);
    // A full member again: probed and never suspected, and able to leave once more.
    await c.advance(10_000);
    for (const n of [b, d]) assert.equal(n.logger.find("info", "Suspect"), 0, n.name);
    await c.settle(a.ml.leave(2000));
    await c.waitFor(() => allSee([b, d], ["b", "d"]), 5000);
    await c.shutdown();
  });

  it("a node that left keeps its own record past gossipToTheDeadTime: localNode() and updateNode() still answer", async () => {
    const c = new TestCluster({ seed: 407 });
    const [a, b, d] = await threeThenLeave(c);
    await c.waitFor(() => allSee([b, d], ["b", "d"]), 5000);
    // The local profile reaps dead and left records 15 s after they change; a's probe rounds keep running.
    await c.advance(defaultLocalConfig().gossipToTheDeadTime + 5000);
    assert.equal(memberlistState(b.ml).nodeMap.has("a"), false, "the others have reaped a");
    const self = a.ml.localNode();
    assert.equal(self.name, "a");
    assert.equal(self.state, NodeState.Left);
    // An update has no one to go to while the node is out of the cluster: a clear refusal, not a hang.
    await assert.rejects(c.settle(a.ml.updateNode(0), 10), /Cannot update node: it has left the cluster/);
    // And it can still come back.
    assert.equal(await c.settle(a.ml.join(["b/127.0.0.11:7946"])), 1);
    await c.waitFor(() => allSee([a, b, d], ["a", "b", "d"]), 10_000);
    await c.settle(a.ml.updateNode(2000));
    await c.shutdown();
  });

  it("a node that left can come back under the same name at a new address", async () => {
    const c = new TestCluster({ seed: 405 });
    const a = await addAt(c, "a", "127.0.0.10:7946");
    const b = await addAt(c, "b", "127.0.0.11:7946");
    await c.settle(b.ml.join(["a/127.0.0.10:7946"]));
    await c.settle(a.ml.leave(2000));
    await c.settle(a.ml.shutdown());
    await c.waitFor(() => b.ml.numMembers() === 1, 5000);

    const moved = await addAt(c, "a", "127.0.0.30:7946");
    assert.equal(await c.settle(moved.ml.join(["b/127.0.0.11:7946"])), 1);
    await c.waitFor(() => allSee([moved, b], ["a", "b"]), 5000);
    assert.equal(b.ml.members().find((n) => n.name === "a")!.address, "127.0.0.30:7946");
    assert.equal(b.logger.find("error", "Conflicting address"), 0);
    await c.shutdown();
  });
});

describe("failure detection, dead nodes and reclaimed names", () => {
  it("a node that shuts down without leaving is declared dead", async () => {
    const c = new TestCluster({ seed: 501 });
    const a = await addAt(c, "a", "127.0.0.10:7946");
    const b = await addAt(c, "b", "127.0.0.11:7946");
    assert.equal(await c.settle(b.ml.join(["a/127.0.0.10:7946"])), 1);
    assert.equal(b.ml.numMembers(), 2);
    const leaves: NodeEvent[] = [];
    b.ml.addEventListener("leave", (e) => leaves.push(e));
    await c.settle(a.ml.shutdown());
    await c.waitFor(() => b.ml.numMembers() === 1, 30_000);
    assert.deepEqual(leaves.map((e) => [e.node.name, e.node.state]), [["a", NodeState.Dead]]);
    await c.shutdown();
  });

  /** a, b and x at 127.0.0.10–12, converged. */
  async function withX(c: TestCluster, overrides: Parameters<typeof addAt>[3] = {}) {
    const a = await addAt(c, "a", "127.0.0.10:7946", overrides);
    const b = await addAt(c, "b", "127.0.0.11:7946", overrides);
    const x = await addAt(c, "x", "127.0.0.12:7946", overrides);
    await c.settle(Promise.all([b.ml.join(["a/127.0.0.10:7946"]), x.ml.join(["a/127.0.0.10:7946"])]));
    await c.waitFor(() => allSee([a, b, x], ["a", "b", "x"]), 10_000);
    return { a, b, x };
  }

  /** a, b and x, then x dies; returns when a and b hold x as dead. */
  async function withDeadX(c: TestCluster, overrides: Parameters<typeof addAt>[3] = {}) {
    const { a, b, x } = await withX(c, overrides);
    c.net.kill(x.transport.addr);
    await c.settle(x.ml.shutdown());
    await c.waitFor(() => recordState(a, "x") === NodeState.Dead && recordState(b, "x") === NodeState.Dead, 60_000);
    return { a, b, x };
  }

  it("a dead node's name moves to a new address only after deadNodeReclaimTime", async () => {
    const c = new TestCluster({ seed: 502 });
    const conflicts: string[] = [];
    const overrides = {
      deadNodeReclaimTime: 5000,
      gossipToTheDeadTime: 120_000,
      conflict: { notifyConflict: (existing: { address: string }, other: { address: string }) => void conflicts.push(`${existing.address} ${other.address}`) },
    };
    const { a, b } = await withDeadX(c, overrides);
    const diedAt = memberlistState(a.ml).nodeMap.get("x")!.stateChange;

    // Too early: the name still belongs to the dead node's address.
    const x2 = await addAt(c, "x", "127.0.0.31:7946", overrides);
    assert.equal(await c.settle(x2.ml.join(["a/127.0.0.10:7946"])), 1);
    await c.advance(500);
    assert.equal(recordState(a, "x"), NodeState.Dead);
    assert.ok(conflicts.includes("127.0.0.12:7946 127.0.0.31:7946"), conflicts.join("; "));

    // Later, the same join takes over the name.
    await c.clock.runUntil(diedAt + 5001);
    const joins: string[] = [];
    a.ml.addEventListener("join", (e) => joins.push(e.node.address));
    assert.equal(await c.settle(x2.ml.join(["a/127.0.0.10:7946"])), 1);
    await c.waitFor(() => allSee([a, b, x2], ["a", "b", "x"]), 10_000);
    assert.deepEqual(joins, ["127.0.0.31:7946"]);
    assert.equal(b.ml.members().find((n) => n.name === "x")!.address, "127.0.0.31:7946");
    await c.shutdown();
  });

  it("a node back at a new address while its old record lives is taken back once that record is dead for deadNodeReclaimTime, without joining again", async () => {
    const c = new TestCluster({ seed: 508 });
    const conflicts: string[] = [];
    // No periodic push/pull within the run: only the kept claim can move the name.
    const overrides = {
      deadNodeReclaimTime: 3000,
      gossipToTheDeadTime: 120_000,
      pushPullInterval: 120_000,
      reconnectInterval: 0,
      conflict: { notifyConflict: (existing: { address: string }, other: { address: string }) => void conflicts.push(`${existing.address} ${other.address}`) },
    };
    const { a, b, x } = await withX(c, overrides);
    // Rescheduled: gone from its address, back at once at another.
    c.net.kill(x.transport.addr);
    await c.settle(x.ml.shutdown());
    const moved = await addAt(c, "x", "127.0.0.31:7946", overrides);
    assert.equal(await c.settle(moved.ml.join(["a/127.0.0.10:7946"])), 1);
    await c.advance(200);
    // While the old record lives, the new address is refused: logged, and the conflict delegate is told.
    assert.notEqual(recordState(a, "x"), NodeState.Dead);
    assert.equal(memberlistState(a.ml).nodeMap.get("x")!.ip, "127.0.0.12");
    assert.ok(conflicts.includes("127.0.0.12:7946 127.0.0.31:7946"), conflicts.join("; "));
    assert.ok(a.logger.find("error", "Conflicting address") > 0);

    await c.waitFor(() => recordState(a, "x") === NodeState.Dead && recordState(b, "x") === NodeState.Dead, 60_000);
    const deadAt = Math.max(...[a, b].map((n) => memberlistState(n.ml).nodeMap.get("x")!.stateChange));
    const took = await c.waitFor(() => [a, b].every((n) => n.ml.members().find((m) => m.name === "x")?.address === "127.0.0.31:7946"), 10_000);
    assert.ok(c.clock.now() - deadAt <= 3000 + 1500, `taken back ${c.clock.now() - deadAt} ms after the old record died (waited ${took})`);
    await c.shutdown();
  });

  it("with deadNodeReclaimTime 0 a dead node's name never moves to another address", async () => {
    const c = new TestCluster({ seed: 503 });
    const conflicts: string[] = [];
    const overrides = {
      gossipToTheDeadTime: 120_000,
      conflict: { notifyConflict: (existing: { address: string }) => void conflicts.push(existing.address) },
    };
    const { a } = await withDeadX(c, overrides);
    await c.advance(30_000);
    const x2 = await addAt(c, "x", "127.0.0.31:7946", overrides);
    assert.equal(await c.settle(x2.ml.join(["a/127.0.0.10:7946"])), 1);
    await c.advance(2000);
    assert.equal(recordState(a, "x"), NodeState.Dead);
    assert.equal(memberlistState(a.ml).nodeMap.get("x")!.ip, "127.0.0.12");
    assert.ok(conflicts.length > 0);
    assert.ok(a.logger.find("error", "Conflicting address") > 0);
    await c.shutdown();
  });

  it("gossip still goes to a dead node until gossipToTheDeadTime, then no more", async () => {
    const c = new TestCluster({ seed: 504 });
    const log: TransportLog = { writes: [], dials: [] };
    const config = { gossipToTheDeadTime: 5000 };
    // a does not probe, so it never reaps x: only the gossip filter keeps packets from x.
    const a = await addAt(c, "a", "127.0.0.10:7946", { ...config, probeInterval: 0 }, (t) =>
      recordingTransport(t, () => c.clock.now(), log));
    const b = await addAt(c, "b", "127.0.0.11:7946", config);
    const x = await addAt(c, "x", "127.0.0.12:7946", config);
    await c.settle(Promise.all([b.ml.join(["a/127.0.0.10:7946"]), x.ml.join(["a/127.0.0.10:7946"])]));
    await c.waitFor(() => allSee([a, b, x], ["a", "b", "x"]), 10_000);
    c.net.kill(x.transport.addr);
    await c.settle(x.ml.shutdown());
    await c.waitFor(() => recordState(a, "x") === NodeState.Dead, 60_000);
    const diedAt = memberlistState(a.ml).nodeMap.get("x")!.stateChange;
    const toX = (from: number) => log.writes.filter((w) => w.at >= from && w.to.addr === "127.0.0.12:7946").length;
    const toB = (from: number) => log.writes.filter((w) => w.at >= from && w.to.addr === "127.0.0.11:7946").length;
    await c.waitFor(() => toX(diedAt) > 0, 2000, 10);

    await c.clock.runUntil(diedAt + 5001);
    const cutoff = c.clock.now();
    // Fresh news for a to gossip: b's new incarnation.
    await c.settle(b.ml.updateNode(0));
    await c.advance(2000);
    assert.ok(toB(cutoff) > 0);
    assert.equal(toX(cutoff), 0);
    assert.equal(recordState(a, "x"), NodeState.Dead);
    await c.shutdown();
  });

  it("dead nodes are forgotten after gossipToTheDeadTime and come back as new nodes", async () => {
    const c = new TestCluster({ seed: 505 });
    const { a, b } = await withDeadX(c, { gossipToTheDeadTime: 5000 });
    const diedAt = memberlistState(a.ml).nodeMap.get("x")!.stateChange;
    await c.waitFor(() => !memberlistState(a.ml).nodeMap.has("x") && !memberlistState(b.ml).nodeMap.has("x"), 30_000);
    assert.ok(c.clock.now() - diedAt > 5000);
    assert.equal(estNumNodes(memberlistState(a.ml)), 2);
    assert.equal(memberlistState(a.ml).nodes.length, 2);

    const joins: string[] = [];
    b.ml.addEventListener("join", (e) => joins.push(e.node.name));
    const back = await addAt(c, "x", "127.0.0.12:7946", { gossipToTheDeadTime: 5000 });
    assert.equal(await c.settle(back.ml.join(["a/127.0.0.10:7946"])), 1);
    await c.waitFor(() => allSee([a, b, back], ["a", "b", "x"]), 10_000);
    assert.deepEqual(joins, ["x"]);
    await c.shutdown();
  });

  for (const repair of [true, false]) {
    it(`a node restarted at incarnation 1 after it died at a higher one, joining through a node with no record of it, ${
      repair ? "is told of the accusation and taken back at once (repairAccusations)" : "stays dead for the others (repairAccusations false, as Go)"
    }`, async () => {
      const c = new TestCluster({ seed: 507 });
      // Only repairAccusations differs between the two runs; the other rules Go lacks that would tell x
      // (follow-up push/pulls after its join, reconnecting) are off in both.
      const config = { repairAccusations: repair, gossipToTheDeadTime: 60_000, reconnectInterval: 0, pushPullAfterJoin: 0 };
      const { a, b, x } = await withX(c, config);
      // A long life: 20 metadata updates put x at incarnation 21.
      for (let i = 0; i < 20; i++) await c.settle(x.ml.updateNode(0));
      await c.waitFor(() => memberlistState(a.ml).nodeMap.get("x")!.incarnation === 21, 5000);
      c.net.kill(x.transport.addr);
      await c.settle(x.ml.shutdown());
      await c.waitFor(() => recordState(a, "x") === NodeState.Dead && recordState(b, "x") === NodeState.Dead, 60_000);
      // Long enough for the dead message to have been gossiped out (while queued, gossip to the dead carries it to x).
      await c.waitFor(() => [a, b].every((n) => memberlistState(n.ml).broadcasts.numQueued() === 0), 30_000);
      // s comes up after x died: the dead record it gets in its join is about a node it never knew, so it keeps none.
      const s = await addAt(c, "s", "127.0.0.13:7946", config);
      await c.settle(s.ml.join(["a/127.0.0.10:7946"]));
      assert.equal(memberlistState(s.ml).nodeMap.has("x"), false);

      // x restarts (incarnation 1) and joins through s alone.
      const again = await addAt(c, "x", "127.0.0.12:7946", config);
      await c.settle(again.ml.join(["s/127.0.0.13:7946"]));
      const back = () => [a, b, s].every((n) => recordState(n, "x") === NodeState.Alive);
      if (repair) {
        const took = await c.waitFor(back, 5000, 10);
        assert.ok(took < 2000, `x alive everywhere after ${took} ms`);
        assert.ok(memberlistState(again.ml).incarnation > 21, "x refuted the accusation");
      } else {
        await c.advance(10_000);
        assert.equal(recordState(a, "x"), NodeState.Dead);
        assert.equal(recordState(b, "x"), NodeState.Dead);
        assert.equal(memberlistState(again.ml).incarnation, 1);
      }
      await c.shutdown();
    });
  }

  it("a node restarted at once with new metadata gets it through", async () => {
    const c = new TestCluster({ seed: 506 });
    const metaOf = (n: TestNode, name: string) => text(n.ml.members().find((m) => m.name === name)?.meta ?? new Uint8Array());
    const a = await addAt(c, "a", "127.0.0.10:7946", { delegate: { nodeMeta: () => utf8("web") } });
    const b = await addAt(c, "b", "127.0.0.11:7946", { delegate: { nodeMeta: () => utf8("lb") } });
    await c.settle(a.ml.join(["b/127.0.0.11:7946"]));
    await c.waitFor(() => metaOf(b, "a") === "web", 1000, 1);

    // Gone and back before anyone noticed, at incarnation 1 again.
    await c.settle(a.ml.shutdown());
    const again = await addAt(c, "a", "127.0.0.10:7946", { delegate: { nodeMeta: () => utf8("api") } });
    await c.settle(again.ml.join(["b/127.0.0.11:7946"]));
    await c.waitFor(() => metaOf(b, "a") === "api" && metaOf(again, "a") === "api", 10_000);
    assert.equal(metaOf(again, "b"), "lb");
    assert.equal(b.ml.numMembers(), 2);
    assert.equal(again.ml.numMembers(), 2);
    await c.shutdown();
  });
});

describe("updateNode()", () => {
  it("resolves at once when there is no one to tell", async () => {
    const c = new TestCluster({ seed: 601 });
    let meta = utf8("a");
    const a = await addAt(c, "a", "127.0.0.10:7946", { delegate: { nodeMeta: () => meta } });
    meta = utf8("b");
    const started = c.clock.now();
    await c.settle(a.ml.updateNode(1000));
    assert.ok(c.clock.now() - started <= 1);
    assert.equal(text(a.ml.localNode().meta), "b");
    await c.shutdown();
  });

  it("waits until the update has been gossiped", async () => {
    const c = new TestCluster({ seed: 602 });
    let meta = utf8("a");
    const a = await addAt(c, "a", "127.0.0.10:7946", { delegate: { nodeMeta: () => meta } });
    const b = await addAt(c, "b", "127.0.0.11:7946");
    await c.settle(b.ml.join(["a/127.0.0.10:7946"]));
    meta = utf8("b");
    await c.settle(a.ml.updateNode(5000));
    // Sent as many times as the retransmit limit asks; b has it right after.
    await c.advance(5);
    assert.equal(text(b.ml.members().find((n) => n.name === "a")!.meta), "b");
    await c.shutdown();
  });

  it("rejects after the timeout when the update can not be gossiped, keeping it locally", async () => {
    const c = new TestCluster({ seed: 603 });
    let meta = utf8("old");
    const a = await addAt(c, "a", "127.0.0.10:7946", {
      gossipInterval: 0,
      probeInterval: 0,
      delegate: { nodeMeta: () => meta },
    });
    const b = await addAt(c, "b", "127.0.0.11:7946", { probeInterval: 0 });
    await c.settle(b.ml.join(["a/127.0.0.10:7946"]));
    meta = utf8("new");
    const started = c.clock.now();
    await assert.rejects(c.settle(a.ml.updateNode(300)), /timed out/);
    assert.equal(c.clock.now() - started, 300);
    assert.equal(text(a.ml.localNode().meta), "new");
    assert.equal(text(b.ml.members().find((n) => n.name === "a")!.meta), "old");
    await c.shutdown();
    assert.equal(c.clock.pending, 0);
  });

  it("refuses metadata longer than metaMaxSize with a RangeError", async () => {
    const c = new TestCluster({ seed: 604 });
    let meta = new Uint8Array(512);
    const a = await addAt(c, "a", "127.0.0.10:7946", { delegate: { nodeMeta: () => meta } });
    meta = new Uint8Array(513);
    await assert.rejects(a.ml.updateNode(1000), RangeError);
    assert.equal(a.ml.localNode().meta.length, 512);
    await assert.rejects(addAt(c, "b", "127.0.0.11:7946", { delegate: { nodeMeta: () => new Uint8Array(513) } }), RangeError);
    await c.shutdown();
  });
});

describe("metaMaxSize and udpBufferSize", () => {
  it("create() refuses a metaMaxSize whose alive message cannot fit in a gossip packet, naming the range that fits", async () => {
    const c = new TestCluster({ seed: 611 });
    const delegate = { nodeMeta: (limit: number) => new Uint8Array(limit) };
    let max = -1;
    await assert.rejects(addAt(c, "a", "127.0.0.10:7946", { metaMaxSize: 64_000, delegate }), (err: unknown) => {
      assert.ok(err instanceof RangeError);
      const m = /^Invalid config "metaMaxSize": expected an integer in \[0, (\d+)\] .* got 64000: lower it, or raise udpBufferSize \(1400\) to at least (\d+)$/
        .exec(err.message);
      assert.ok(m, err.message);
      max = Number(m[1]);
      assert.equal(Number(m[2]), 1400 + 64_000 - max);
      return true;
    });
    assert.ok(max > 1200 && max < 1400, `${max} bytes fit`);
    // Without a nodeMeta delegate there is no metadata to fit.
    await c.settle(addAt(c, "quiet", "127.0.0.12:7946", { metaMaxSize: 64_000 }));
    // A label and a keyring take their share.
    await assert.rejects(
      addAt(c, "l", "127.0.0.13:7946", { metaMaxSize: max, delegate, label: "x".repeat(200) }),
      /Invalid config "metaMaxSize"/,
    );
    // A name too long for any alive message is refused by name.
    await assert.rejects(addAt(c, "n".repeat(1400), "127.0.0.14:7946"), /Invalid config "name"/);

    // The largest that fits works end to end: updateNode() with that much metadata is gossiped.
    const a = await addAt(c, "a", "127.0.0.10:7946", { metaMaxSize: max, delegate });
    // (A node refuses metadata over its own metaMaxSize.)
    const b = await addAt(c, "b", "127.0.0.11:7946", { metaMaxSize: max });
    await c.settle(b.ml.join(["a/127.0.0.10:7946"]));
    await c.settle(a.ml.updateNode(0), 5000);
    await c.waitFor(() => b.ml.members().find((n) => n.name === "a")?.meta.length === max, 1000);
    // The gossip ticker goes idle again once the queue has drained.
    await c.waitFor(() => memberlistState(a.ml).broadcasts.numQueued() === 0, 5000);
    assert.notEqual(memberlistState(a.ml).wakeGossip, null);
    await c.shutdown();
    assert.equal(c.clock.pending, 0);
  });
});

describe("protocol versions", () => {
  for (const [v1, v2] of [[2, 1], [2, 3], [3, 2], [3, 1], [1, 5], [5, 2]] as const) {
    it(`a node speaking version ${v2} joins one speaking version ${v1}`, async () => {
      const c = new TestCluster({ seed: 700 + v1 * 10 + v2 });
      const a = await addAt(c, "a", "127.0.0.10:7946", { protocolVersion: v1 });
      const b = await addAt(c, "b", "127.0.0.11:7946", { protocolVersion: v2 });
      assert.equal(await c.settle(b.ml.join(["a/127.0.0.10:7946"])), 1);
      await c.waitFor(() => allSee([a, b], ["a", "b"]), 10_000);
      assert.equal(a.ml.members().find((n) => n.name === "b")!.pCur, v2);
      assert.equal(b.ml.members().find((n) => n.name === "a")!.pCur, v1);
      // And they keep each other alive.
      await c.advance(10_000);
      assert.ok(allSee([a, b], ["a", "b"]));
      await c.shutdown();
    });
  }

  it("a node joins several nodes of different versions one after the other", async () => {
    const c = new TestCluster({ seed: 710 });
    const a = await addAt(c, "a", "127.0.0.10:7946");
    await addAt(c, "b", "127.0.0.11:7946");
    await addAt(c, "m", "127.0.0.12:7946", { protocolVersion: PROTOCOL_VERSION_MAX });
    assert.equal(await c.settle(a.ml.join(["b/127.0.0.11:7946"])), 1);
    await c.advance(250);
    assert.equal(await c.settle(a.ml.join(["m/127.0.0.12:7946"])), 1);
    assert.deepEqual(memberNames(a.ml), ["a", "b", "m"]);
    await c.shutdown();
  });

  it("a node whose delegate version is outside the cluster's range can not join", async () => {
    const c = new TestCluster({ seed: 711 });
    const a = await addAt(c, "a", "127.0.0.10:7946", {
      delegateProtocolMin: 2,
      delegateProtocolMax: 3,
      delegateProtocolVersion: 2,
    });
    const old = await addAt(c, "old", "127.0.0.11:7946");
    await assert.rejects(c.settle(old.ml.join(["a/127.0.0.10:7946"])), (err: unknown) => {
      assert.ok(err instanceof JoinError);
      assert.match((err.errors[0] as Error).message, /delegate protocol version \(\d\) is incompatible/);
      return true;
    });
    await c.advance(2000);
    assert.deepEqual(memberNames(a.ml), ["a"]);
    assert.deepEqual(memberNames(old.ml), ["old"]);
    // The seed refused the merge on its side too.
    assert.ok(a.logger.lines.some((l) => l.level === "error" && /incompatible/.test(String((l.fields?.error as Error | undefined)?.message ?? l.message))));

    // Overlapping ranges are fine.
    const newer = await addAt(c, "newer", "127.0.0.12:7946", {
      delegateProtocolMin: 1,
      delegateProtocolMax: 4,
      delegateProtocolVersion: 3,
    });
    assert.equal(await c.settle(newer.ml.join(["a/127.0.0.10:7946"])), 1);
    await c.waitFor(() => allSee([a, newer], ["a", "newer"]), 5000);
    await c.shutdown();
  });
});

describe("advertise address and health", () => {
  it("advertises the configured address and port", async () => {
    const c = new TestCluster({ seed: 801 });
    const a = await addAt(c, "a", "127.0.0.10:7946", { advertiseAddr: "127.0.0.50", advertisePort: 8000 });
    await c.advance(250);
    const members = a.ml.members();
    assert.equal(members.length, 1);
    assert.equal(members[0]!.addr, "127.0.0.50");
    assert.equal(members[0]!.port, 8000);
    assert.equal(a.ml.localNode().address, "127.0.0.50:8000");
    // Others learn the advertised address, not the bound one.
    const b = await addAt(c, "b", "127.0.0.11:7946");
    assert.equal(await c.settle(b.ml.join(["a/127.0.0.10:7946"])), 1);
    assert.equal(b.ml.members().find((n) => n.name === "a")!.address, "127.0.0.50:8000");
    await c.shutdown();
  });

  it("getHealthScore() rises while this node hears no acks and falls back once it does", async () => {
    const c = new TestCluster({ seed: 802 });
    const config = { disableTcpPings: true };
    const a = await addAt(c, "a", "127.0.0.10:7946", config);
    const b = await addAt(c, "b", "127.0.0.11:7946", config);
    const d = await addAt(c, "d", "127.0.0.12:7946", config);
    await c.settle(Promise.all([b.ml.join(["a/127.0.0.10:7946"]), d.ml.join(["a/127.0.0.10:7946"])]));
    await c.waitFor(() => allSee([a, b, d], ["a", "b", "d"]), 10_000);
    assert.equal(a.ml.getHealthScore(), 0);

    c.net.blockUdp(a.transport.addr, true);
    await c.waitFor(() => a.ml.getHealthScore() > 0, 5000, 10);
    assert.equal(b.ml.getHealthScore(), 0);
    c.net.blockUdp(a.transport.addr, false);
    await c.waitFor(() => a.ml.getHealthScore() === 0, 60_000);
    await c.waitFor(() => allSee([a, b, d], ["a", "b", "d"]), 60_000);
    await c.shutdown();
  });

  it("ping() measures the round trip to a node, and gets no answer under another name", async () => {
    const c = new TestCluster({ seed: 803, net: { latency: 3 } });
    const a = await addAt(c, "a", "127.0.0.10:7946");
    await addAt(c, "b", "127.0.0.11:7946");
    assert.equal(await c.settle(a.ml.ping("b", "127.0.0.11:7946")), 6);
    await assert.rejects(c.settle(a.ml.ping("not-b", "127.0.0.11:7946")), (err: unknown) => {
      assert.ok(err instanceof NoPingResponseError);
      assert.equal(err.node, "not-b");
      return true;
    });
    await c.shutdown();
    assert.equal(c.clock.pending, 0);
  });
});
