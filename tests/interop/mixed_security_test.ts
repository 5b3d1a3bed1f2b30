// Copyright (c) memberlist-ts authors. SPDX-License-Identifier: MPL-2.0

// Mixed Go/TS clusters, the wire options: one shared key (core: Deno, Bun and Node); and on Deno only a
// keyring rotation across the cluster with no suspicion, compression on and off in every pairing, every
// protocol version memberlist 0.2.2 speaks (1 to 5) against the other side's, and nodes with a wrong or
// no key that cannot join and do not disturb the cluster. Labels are not tested against Go: 0.2.2 has none.

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { type Keyring, NodeState } from "../../mod.ts";
import { MessageType } from "../../lib/codec.ts";
import { memberlistState } from "../../lib/memberlist.ts";
import {
  denoOnly,
  eventually,
  goRecords,
  goSkip,
  hex,
  MixedCluster,
  randomKey,
  STEADY,
  text,
  type TsNode,
  utf8,
} from "./_mixed.ts";
import type { GoPeer } from "./_peer.ts";

/** Every TS node sends one reliable and one best-effort message to every Go node, and the reverse. */
async function crossTalk(c: MixedCluster, got: Map<string, string[]>, tag: string): Promise<void> {
  const goNames = c.peers.flatMap((p) => p.nodes.map((n) => n.name));
  const expectAtGo: [GoPeer, string, string][] = [];
  for (const t of c.liveTs()) {
    for (const p of c.peers) {
      for (const g of p.nodes) {
        const to = t.ml.members().find((m) => m.name === g.name);
        assert.ok(to, `${t.name} knows ${g.name}`);
        for (const how of ["tcp", "udp"]) {
          const msg = `${tag} ${how} ${t.name}->${g.name}`;
          if (how === "tcp") await t.ml.sendReliable(to, utf8(msg));
          else await t.ml.sendBestEffort(to, utf8(msg));
          expectAtGo.push([p, g.name, msg]);
          const back = `${tag} ${how} ${g.name}->${t.name}`;
          await p.send(g.name, t.name, back, { reliable: how === "tcp" });
        }
      }
    }
  }
  await eventually(() => {
    for (const [p, g, msg] of expectAtGo) {
      if (!p.history.some((e) => e.event === "msg" && e.observer === g && e.data === hex(utf8(msg)))) return false;
    }
    for (const t of c.liveTs()) {
      for (const g of goNames) {
        for (const how of ["tcp", "udp"]) {
          if (!got.get(t.name)?.includes(`${tag} ${how} ${g}->${t.name}`)) return false;
        }
      }
    }
    return true;
  }, { timeout: 10_000, what: `every "${tag}" message in both directions`, explain: () => Object.fromEntries(got) });
}

/** TS node options that record received user messages into `got`. */
function collecting(got: Map<string, string[]>, name: string) {
  got.set(name, []);
  return { notifyMsg: (m: Uint8Array) => void got.get(name)!.push(text(m)) };
}

describe("mixed Go/TS cluster: encryption, compression and protocol versions", { skip: goSkip }, () => {
  it("with one shared key: joins both ways, converge, talk, stay quiet; every datagram is encrypted", {
    timeout: 40_000,
  }, async () => {
    const key = randomKey(32);
    const c = new MixedCluster(STEADY);
    const got = new Map<string, string[]>();
    try {
      const peer = await c.go({ names: ["go-0", "go-1"], flags: ["--key", hex(key)] });
      const t0 = await c.ts("ts-0", { fault: true, config: { secretKey: key, delegate: collecting(got, "ts-0") } });
      const t1 = await c.ts("ts-1", { config: { secretKey: key, delegate: collecting(got, "ts-1") } });
      assert.equal(await t0.ml.join([peer.node("go-0").address]), 1); // TS -> Go
      assert.equal(await peer.join("go-1", [t0.address]), 1); // Go -> TS
      assert.equal(await t1.ml.join([peer.node("go-1").address]), 1);
      const everyone = ["go-0", "go-1", "ts-0", "ts-1"];
      await c.converged(everyone);
      t0.fault!.record = true;
      await crossTalk(c, got, "sealed");
      await c.staysQuiet(everyone, 3000);

      // What ts-0 got from the Go nodes was AES-GCM (encryption version 1) and opened with the key.
      const goAddrs = new Set(peer.nodes.map((n) => n.address));
      const fromGo = t0.fault!.seen.filter((s) => s.dir === "in" && goAddrs.has(s.peer));
      assert.ok(fromGo.length >= 5, `datagrams from Go: ${fromGo.length}`);
      assert.ok(fromGo.every((s) => s.encrypted && s.first === 1 && !s.undecodable));
      const toGo = t0.fault!.seen.filter((s) => s.dir === "out" && goAddrs.has(s.peer));
      assert.ok(toGo.length >= 5 && toGo.every((s) => s.encrypted && s.first === 1 && !s.undecodable));
      assert.deepEqual(c.goProblems, []);
    } finally {
      await c.close();
    }
  });

  it("keyring rotation across the cluster (install, use, remove) never makes anyone suspected", {
    skip: denoOnly(),
    timeout: 60_000,
  }, async () => {
    const k1 = randomKey(16);
    const k2 = randomKey(32);
    const c = new MixedCluster(STEADY);
    const got = new Map<string, string[]>();
    try {
      const peer = await c.go({ names: ["go-0", "go-1"], flags: ["--key", hex(k1)] });
      const ts = [
        await c.ts("ts-0", { fault: true, config: { secretKey: k1, delegate: collecting(got, "ts-0") } }),
        await c.ts("ts-1", { config: { secretKey: k1, delegate: collecting(got, "ts-1") } }),
      ];
      await ts[0]!.ml.join([peer.node("go-0").address]);
      await peer.join("go-1", [ts[0]!.address]);
      await ts[1]!.ml.join([peer.node("go-1").address]);
      const everyone = ["go-0", "go-1", "ts-0", "ts-1"];
      await c.converged(everyone);
      const before = await c.suspicions();
      const inc0 = await c.incarnations();
      const keyrings = ts.map((n) => n.ml.keyring() as Keyring);

      // 1. Install k2 everywhere (k1 stays primary).
      await peer.keyring("all", "install", k2);
      for (const kr of keyrings) kr.addKey(k2);
      await c.staysQuiet(everyone, 1500);
      // 2. Make k2 primary, node by node: for a while both keys are in use.
      await peer.keyring("go-0", "use", k2);
      keyrings[0]!.useKey(k2);
      await c.staysQuiet(everyone, 1500);
      await peer.keyring("go-1", "use", k2);
      keyrings[1]!.useKey(k2);
      await c.staysQuiet(everyone, 1500);
      // 3. Remove k1 everywhere.
      ts[0]!.fault!.record = true;
      await peer.keyring("all", "remove", k1);
      for (const kr of keyrings) kr.removeKey(k1);
      await c.staysQuiet(everyone, 3000);
      await crossTalk(c, got, "after rotation");

      for (const g of ["go-0", "go-1"]) {
        const { keys, primary } = await peer.keyring(g, "list");
        assert.deepEqual(keys, [hex(k2)], g);
        assert.equal(primary, hex(k2), g);
      }
      for (const kr of keyrings) assert.deepEqual(kr.getKeys().map(hex), [hex(k2)]);
      // Everything ts-0 receives now opens with k2 alone.
      const inbound = ts[0]!.fault!.seen.filter((s) => s.dir === "in");
      assert.ok(inbound.length >= 5 && inbound.every((s) => !s.undecodable));
      // No suspicion and no refutation anywhere during the whole rotation.
      assert.deepEqual(await c.suspicions(), before);
      assert.deepEqual(await c.incarnations(), inc0);

      // A node with only the old key is out; one with the new key is in.
      const old = await c.ts("ts-old", { config: { secretKey: k1 } });
      await assert.rejects(old.ml.join([peer.node("go-0").address]), { name: "JoinError" });
      const fresh = await c.ts("ts-new", { config: { secretKey: k2 } });
      assert.equal(await fresh.ml.join([peer.node("go-1").address]), 1);
      await old.ml.shutdown();
      await c.converged([...everyone, "ts-new"]);
    } finally {
      await c.close();
    }
  });

  it("rolling encryption out (verify incoming off): plaintext and encrypting nodes of both languages stay one cluster", {
    skip: denoOnly(),
    timeout: 40_000,
  }, async () => {
    // The documented way to turn encryption on in a running cluster: every node gets the key with
    // GossipVerifyIncoming off (it still reads plaintext), then GossipVerifyOutgoing on, node by node.
    // Here half the nodes of each language are at each step.
    const key = randomKey(32);
    const c = new MixedCluster(STEADY);
    const got = new Map<string, string[]>();
    try {
      const off = ["--key", hex(key), "--gossip-verify-incoming=false"];
      const goPlain = await c.go({ names: ["go-plain"], flags: [...off, "--gossip-verify-outgoing=false"] });
      const goSealed = await c.go({ names: ["go-sealed"], flags: off });
      const tsPlain = await c.ts("ts-plain", {
        fault: true,
        config: { secretKey: key, gossipVerifyIncoming: false, gossipVerifyOutgoing: false, delegate: collecting(got, "ts-plain") },
      });
      const tsSealed = await c.ts("ts-sealed", {
        fault: true,
        config: { secretKey: key, gossipVerifyIncoming: false, delegate: collecting(got, "ts-sealed") },
      });
      assert.equal(await tsPlain.ml.join([goSealed.node(0).address]), 1);
      assert.equal(await tsSealed.ml.join([goPlain.node(0).address]), 1);
      assert.equal(await goPlain.join(0, [tsPlain.address]), 1);
      assert.equal(await goSealed.join(0, [tsSealed.address]), 1);
      const everyone = ["go-plain", "go-sealed", "ts-plain", "ts-sealed"];
      await c.converged(everyone);
      for (const n of [tsPlain, tsSealed]) n.fault!.record = true;
      await crossTalk(c, got, "rollout");
      await c.staysQuiet(everyone, 3000);

      // Who sealed what, both ways across the languages.
      const sealed = (n: TsNode, dir: "in" | "out", other: GoPeer) => {
        const seen = n.fault!.seen.filter((x) => x.dir === dir && x.peer === other.node(0).address);
        assert.ok(seen.length >= 3, `${n.name} ${dir} ${other.nodes[0]!.name}: ${seen.length} datagrams`);
        return [...new Set(seen.map((x) => x.encrypted))];
      };
      assert.deepEqual(sealed(tsSealed, "in", goPlain), [false]);
      assert.deepEqual(sealed(tsPlain, "in", goSealed), [true]);
      assert.deepEqual(sealed(tsPlain, "out", goSealed), [false]);
      assert.deepEqual(sealed(tsSealed, "out", goPlain), [true]);
      // In the plaintext, the CRC header sits where 0.2.2 puts it, both ways: on best-effort user messages
      // (and gossip), which know their recipient's record, never on pings and acks, which look it up by
      // IP as if it were a name and find nothing (spec §2.4).
      for (const [dir, other] of [["in", goPlain], ["out", goSealed], ["out", goPlain]] as const) {
        const plain = tsPlain.fault!.seen.filter((x) => x.dir === dir && x.peer === other.node(0).address && !x.encrypted);
        const crc = (types: number[]) =>
          plain.filter((x) => x.messages.length === types.length && x.messages.every((m, i) => m.type === types[i]))
            .map((x) => x.first === MessageType.HasCrc);
        const what = `ts-plain ${dir} ${other.nodes[0]!.name}`;
        assert.ok(crc([MessageType.User]).length >= 1 && crc([MessageType.User]).every(Boolean), `${what}: user`);
        const probes = [...crc([MessageType.Ping]), ...crc([MessageType.AckResp])];
        assert.ok(probes.length >= 1 && probes.every((b) => !b), `${what}: pings and acks`);
      }
      assert.ok([tsPlain, tsSealed].every((n) => n.fault!.seen.every((x) => !x.undecodable)));
      assert.deepEqual(c.goProblems, []);
    } finally {
      await c.close();
    }
  });

  it("compression on and off, in every Go/TS pairing", { skip: denoOnly(), timeout: 40_000 }, async () => {
    const c = new MixedCluster({ ...STEADY, pushPullInterval: 1000 });
    const got = new Map<string, string[]>();
    try {
      const goOn = await c.go({ names: ["go-z"] });
      const goOff = await c.go({ names: ["go-plain"], flags: ["--enable-compression=false"] });
      const tsOn = await c.ts("ts-z", { fault: true, config: { enableCompression: true, delegate: collecting(got, "ts-z") } });
      const tsOff = await c.ts("ts-plain", {
        fault: true,
        config: { enableCompression: false, delegate: collecting(got, "ts-plain") },
      });
      for (const n of [tsOn, tsOff]) n.fault!.record = true;
      // Every TS-Go pair exchanges (compressed or plain) push/pull streams on join.
      assert.equal(await tsOn.ml.join([goOn.node(0).address, goOff.node(0).address]), 2);
      assert.equal(await tsOff.ml.join([goOn.node(0).address, goOff.node(0).address]), 2);
      const everyone = ["go-plain", "go-z", "ts-plain", "ts-z"];
      await c.converged(everyone);
      await crossTalk(c, got, "compressible ".repeat(40));
      await c.staysQuiet(everyone, 2000);

      // Packets: compressed only by the nodes that compress (when it makes them smaller), read by all.
      const goZ = goOn.node(0).address;
      const goPlain = goOff.node(0).address;
      for (const n of [tsOn, tsOff]) {
        const seen = n.fault!.seen;
        assert.ok(seen.some((s) => s.dir === "in" && s.peer === goZ && s.compressed), `${n.name} got compressed from go-z`);
        assert.ok(!seen.some((s) => s.dir === "in" && s.peer === goPlain && s.compressed), `${n.name}: none from go-plain`);
        assert.ok(seen.every((s) => !s.undecodable), n.name);
      }
      assert.ok(tsOn.fault!.seen.some((s) => s.dir === "out" && s.compressed && (s.peer === goZ || s.peer === goPlain)));
      assert.ok(!tsOff.fault!.seen.some((s) => s.dir === "out" && s.compressed));
      assert.deepEqual(c.goProblems, []);
    } finally {
      await c.close();
    }
  });

  it("protocol versions 2 to 5: TS speaking 3, 4, 5 with Go speaking 2 and the reverse, encrypted, in one cluster", {
    skip: denoOnly(),
    timeout: 40_000,
  }, async () => {
    const key = randomKey(24);
    const c = new MixedCluster({ ...STEADY, pushPullInterval: 2000 });
    const got = new Map<string, string[]>();
    try {
      const peers: GoPeer[] = [];
      const ts: TsNode[] = [];
      for (const v of [2, 3, 4, 5]) {
        peers.push(await c.go({ names: [`go-v${v}`], flags: ["--key", hex(key), "--protocol-version", String(v)] }));
        ts.push(await c.ts(`ts-v${v}`, { config: { secretKey: key, protocolVersion: v, delegate: collecting(got, `ts-v${v}`) } }));
      }
      // Every join is across versions and languages, in a ring: ts-v2 -> go-v3, go-v2 -> ts-v4, ...
      for (let i = 0; i < 4; i++) {
        assert.equal(await ts[i]!.ml.join([peers[(i + 1) % 4]!.node(0).address]), 1);
        assert.equal(await peers[i]!.join(0, [ts[(i + 2) % 4]!.address]), 1);
      }
      const everyone = [2, 3, 4, 5].flatMap((v) => [`go-v${v}`, `ts-v${v}`]);
      await c.converged(everyone);
      await crossTalk(c, got, "versions");
      await c.staysQuiet(everyone, 2000);

      // Each side records the version the other speaks (and the range 1..5).
      for (const t of ts) {
        for (const v of [2, 3, 4, 5]) {
          const g = t.ml.members().find((m) => m.name === `go-v${v}`)!;
          assert.deepEqual([g.pMin, g.pMax, g.pCur], [1, 5, v], `${t.name} sees go-v${v}`);
        }
      }
      for (const p of peers) {
        const recs = await goRecords(p, 0);
        for (const v of [2, 3, 4, 5]) assert.deepEqual(recs.get(`ts-v${v}`)?.vsn, [1, 5, v, 0, 0, 0], p.nodes[0]!.name);
      }
      assert.deepEqual(c.goProblems, []);
      for (const t of ts) assert.deepEqual(t.logger.problems(), [], t.name);
    } finally {
      await c.close();
    }
  });

  it("protocol version 1 (encryption v0, no ports: every node on one port) with Go and TS, beside version 2", {
    skip: denoOnly(),
    timeout: 40_000,
  }, async () => {
    const key = randomKey(16);
    const c = new MixedCluster(STEADY);
    const got = new Map<string, string[]>();
    try {
      // Version 1 carries no ports: a node takes every peer to be on its own port. So each node gets its
      // own loopback address and they all share the port the first one was given.
      const g1 = await c.go({
        names: ["go-p1"],
        flags: ["--bind", "127.0.0.2", "--key", hex(key), "--protocol-version", "1"],
      });
      const port = g1.node(0).port;
      const g2 = await c.go({
        names: ["go-p2"],
        flags: ["--bind", "127.0.0.3", "--port", String(port), "--key", hex(key), "--protocol-version", "2"],
      });
      const t1 = await c.ts("ts-p1", {
        fault: true,
        bindAddr: "127.0.0.4",
        bindPort: port,
        config: { secretKey: key, protocolVersion: 1, delegate: collecting(got, "ts-p1") },
      });
      const t2 = await c.ts("ts-p2", {
        fault: true,
        bindAddr: "127.0.0.5",
        bindPort: port,
        config: { secretKey: key, protocolVersion: 2, delegate: collecting(got, "ts-p2") },
      });
      assert.equal(t1.address, `127.0.0.4:${port}`);
      assert.equal(await t1.ml.join([g1.node(0).address]), 1); // v1 TS -> v1 Go
      assert.equal(await g2.join(0, [t1.address]), 1); // v2 Go -> v1 TS
      assert.equal(await t2.ml.join([g1.node(0).address]), 1); // v2 TS -> v1 Go
      const everyone = ["go-p1", "go-p2", "ts-p1", "ts-p2"];
      await c.converged(everyone);
      for (const n of [t1, t2]) n.fault!.record = true;
      await crossTalk(c, got, "v1");
      await c.staysQuiet(everyone, 2000);

      // Version 1 nodes seal with encryption version 0 (AES-GCM, PKCS#7 padding), version 2 with 1.
      const sealedBy = (n: TsNode, dir: "in" | "out", peerAddr: string) =>
        new Set(n.fault!.seen.filter((s) => s.dir === dir && s.peer === peerAddr).map((s) => s.first));
      assert.deepEqual([...sealedBy(t2, "in", g1.node(0).address)], [0]);
      assert.deepEqual([...sealedBy(t2, "in", g2.node(0).address)], [1]);
      assert.deepEqual([...sealedBy(t2, "in", t1.address)], [0]);
      assert.deepEqual([...sealedBy(t1, "out", g2.node(0).address)], [0]);
      assert.ok([t1, t2].every((n) => n.fault!.seen.every((s) => s.encrypted && !s.undecodable)));
      // Each side records the other's version.
      assert.equal(t2.ml.members().find((m) => m.name === "go-p1")?.pCur, 1);
      assert.deepEqual((await goRecords(g2, 0)).get("ts-p1")?.vsn, [1, 5, 1, 0, 0, 0]);
      assert.equal((await goRecords(g1, 0)).get("ts-p1")?.port, port);
      assert.deepEqual(c.goProblems, []);
      for (const t of [t1, t2]) assert.deepEqual(t.logger.problems(), [], t.name);
    } finally {
      await c.close();
    }
  });

  it("protocol versions outside 1..5 are refused at creation by both", { skip: denoOnly(), timeout: 30_000 }, async () => {
    const c = new MixedCluster(STEADY);
    try {
      for (const v of [0, 6]) {
        await assert.rejects(c.go({ names: [`go-${v}`], flags: ["--protocol-version", String(v)] }), /protocol version/i);
        await assert.rejects(c.ts(`ts-${v}`, { config: { protocolVersion: v } }), RangeError);
      }
    } finally {
      await c.close();
    }
  });

  it("delegate protocol versions: a TS node outside the Go nodes' range cannot join either way, one inside can", {
    skip: denoOnly(),
    timeout: 30_000,
  }, async () => {
    const c = new MixedCluster(STEADY);
    try {
      // The Go nodes speak delegate protocol 0 and understand only 0.
      const peer = await c.go({ names: ["go-0", "go-1"] });
      await peer.join("all");
      const v1 = { delegateProtocolMin: 1, delegateProtocolMax: 1, delegateProtocolVersion: 1 };
      const bad = await c.ts("ts-d1", { config: v1 });
      // TS -> Go: the Go node answers, then refuses the merge; the TS node refuses Go's state too.
      await assert.rejects(bad.ml.join([peer.node("go-0").address]), (err: Error) => {
        assert.equal(err.name, "JoinError");
        assert.match(String((err as AggregateError).errors[0]), /delegate protocol version \(0\) is incompatible/);
        return true;
      });
      // Go -> TS: refused both sides as well.
      const r = await peer.command({ cmd: "join", node: "go-1", addrs: [bad.address] });
      assert.equal(r.ok, false);
      assert.match(String(r.error), /incompatible/);
      assert.deepEqual(bad.ml.members().map((m) => m.name), ["ts-d1"]);
      for (const g of ["go-0", "go-1"]) assert.equal((await goRecords(peer, g)).has("ts-d1"), false, g);
      await bad.ml.shutdown();

      // A TS node that understands 0 and 1 and speaks 0 is welcome; Go records what it advertises.
      const good = await c.ts("ts-d01", { config: { delegateProtocolMin: 0, delegateProtocolMax: 1, delegateProtocolVersion: 0 } });
      assert.equal(await good.ml.join([peer.node("go-0").address]), 1);
      await c.converged(["go-0", "go-1", "ts-d01"]);
      assert.deepEqual((await goRecords(peer, "go-1")).get("ts-d01")?.vsn, [1, 5, 2, 0, 1, 0]);
    } finally {
      await c.close();
    }
  });

  it("a node with the wrong key or no key cannot join, and the cluster is not harmed", {
    skip: denoOnly(),
    timeout: 40_000,
  }, async () => {
    const key = randomKey(32);
    const wrong = randomKey(32);
    const c = new MixedCluster(STEADY);
    try {
      const peer = await c.go({ names: ["go-0", "go-1"], flags: ["--key", hex(key)] });
      const t0 = await c.ts("ts-0", { config: { secretKey: key } });
      const t1 = await c.ts("ts-1", { config: { secretKey: key } });
      await t0.ml.join([peer.node("go-0").address]);
      await peer.join("go-1", [t0.address]);
      await t1.ml.join([peer.node("go-1").address]);
      const everyone = ["go-0", "go-1", "ts-0", "ts-1"];
      await c.converged(everyone);
      const goProblems0 = c.goProblems.length;

      // A TS node with the wrong key, and one with none, try the Go nodes and the TS nodes.
      const badTs = await c.ts("ts-bad", { config: { secretKey: wrong } });
      const plainTs = await c.ts("ts-plain");
      for (const n of [badTs, plainTs]) {
        await assert.rejects(n.ml.join([peer.node("go-0").address]), { name: "JoinError" }, n.name);
        await assert.rejects(n.ml.join([t1.address]), { name: "JoinError" }, n.name);
        assert.deepEqual(n.ml.members().map((m) => m.name), [n.name]);
      }
      // A Go node with the wrong key tries a TS node and a Go node.
      const badGo = await c.go({ names: ["go-bad"], flags: ["--key", hex(wrong)] });
      for (const target of [t0.address, peer.node("go-1").address]) {
        const r = await badGo.command({ cmd: "join", node: 0, addrs: [target] });
        assert.equal(r.ok, false, `go-bad joined ${target}`);
        assert.equal(r["joined"], 0);
      }
      assert.deepEqual((await badGo.members(0)).map((m) => m.name), ["go-bad"]);
      await badTs.ml.shutdown();
      await plainTs.ml.shutdown();
      await badGo.close();
      c.peers.splice(c.peers.indexOf(badGo), 1);

      // The cluster carries on as if nothing happened.
      await c.staysQuiet(everyone, 3000);
      for (const n of [t0, t1]) assert.equal(n.ml.numMembers(), 4);
      // The only complaints are the dropped streams, one line per attempt: three at each language's nodes
      // (ts-bad, ts-plain -> go-0 and go-bad -> go-1; ts-bad, ts-plain -> ts-1 and go-bad -> ts-0).
      const tsLines = [t0, t1].flatMap((n) => n.logger.problems());
      assert.equal(tsLines.length, 3, tsLines.join("\n"));
      for (const l of tsLines) assert.match(l, /Dropped stream: Cannot (decrypt payload: no installed key matches|read stream: encryption is configured but remote state is not encrypted)/);
      const goLines = c.goProblems.slice(goProblems0).filter((l) => !l.startsWith("[go-bad]"));
      assert.equal(goLines.length, 3, goLines.join("\n"));
      for (const l of goLines) assert.match(l, /failed to receive: (No installed keys could decrypt|Encryption is configured but remote state is not encrypted)/);
      for (const n of [t0, t1]) assert.equal(memberlistState(n.ml).nodeMap.get("ts-bad"), undefined);
      assert.equal((await goRecords(peer, "go-0")).has("ts-bad"), false);
      assert.equal(t0.ml.members().every((m) => m.state === NodeState.Alive), true);
    } finally {
      await c.close();
    }
  });
});
