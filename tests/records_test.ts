// Copyright (c) memberlist-ts authors. SPDX-License-Identifier: MPL-2.0
//
// Tests of lib/_records.ts: node identities shared across views, and the per-view
// table by name slot. No Go counterpart (Go keeps one nodeState per view and a map).
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { NodeIdentity, NodeRecord, NodeTable } from "../lib/_records.ts";
import { NodeState } from "../lib/node.ts";
import { TestCluster } from "./_helpers.ts";
import { memberlistState } from "../lib/memberlist.ts";

const VSN = Uint8Array.of(1, 5, 2, 0, 0, 0);
const ip = (...b: number[]) => Uint8Array.from(b);

describe("NodeIdentity", () => {
  it("of() shares one identity for the same fields and copies what it keeps", () => {
    const addr = ip(10, 0, 0, 1);
    const meta = new TextEncoder().encode("role=web");
    const a = NodeIdentity.of("records-a", addr, 7946, meta, VSN);
    const b = NodeIdentity.of("records-a", ip(10, 0, 0, 1), 7946, meta.slice(), VSN.slice());
    assert.equal(a, b);
    assert.notEqual(a.addr, addr);
    addr[3] = 9;
    meta[0] = 0;
    assert.deepEqual(a.addr, ip(10, 0, 0, 1));
    assert.equal(new TextDecoder().decode(a.meta!), "role=web");
    assert.equal(a.ip, "10.0.0.1");
    assert.equal(a.address, "10.0.0.1:7946");
    assert.ok(Object.isFrozen(a));
  });

  it("of() makes a new identity for a changed address, port, metadata or version, on the same slot", () => {
    const a = NodeIdentity.of("records-b", ip(10, 0, 0, 1), 7946, null, VSN);
    const changed = [
      NodeIdentity.of("records-b", ip(10, 0, 0, 2), 7946, null, VSN),
      NodeIdentity.of("records-b", ip(10, 0, 0, 2), 7947, null, VSN),
      NodeIdentity.of("records-b", ip(10, 0, 0, 2), 7947, new Uint8Array(0), VSN),
      NodeIdentity.of("records-b", ip(10, 0, 0, 2), 7947, new Uint8Array(0), Uint8Array.of(1, 5, 3, 0, 0, 0)),
    ];
    let prev = a;
    for (const c of changed) {
      assert.notEqual(c, prev);
      assert.equal(c.slot, a.slot);
      prev = c;
    }
    // Empty metadata is not the same as none (the wire keeps the difference).
    assert.equal(changed[1]!.meta, null);
    assert.deepEqual(changed[2]!.meta, new Uint8Array(0));
    assert.equal(changed[3]!.vsn[2], 3);
  });

  it("of() keeps the base identity's versions when the message has fewer than six bytes", () => {
    const a = NodeIdentity.of("records-c", ip(10, 0, 0, 1), 1, null, Uint8Array.of(1, 5, 4, 2, 5, 3));
    const b = NodeIdentity.of("records-c", ip(10, 0, 0, 1), 1, null, Uint8Array.of(1, 2), a);
    assert.equal(b, a);
    const c = NodeIdentity.of("records-d", ip(10, 0, 0, 1), 1, null, Uint8Array.of(1, 2));
    assert.deepEqual(c.vsn, new Uint8Array(6));
  });

  it("different names get different slots", () => {
    const a = NodeIdentity.of("records-e", ip(10, 0, 0, 1), 1, null, VSN);
    const b = NodeIdentity.of("records-f", ip(10, 0, 0, 1), 1, null, VSN);
    assert.notEqual(a.slot, b.slot);
  });
});

describe("NodeRecord", () => {
  it("reads the identity's fields and clones without sharing state", () => {
    const id = NodeIdentity.of("records-g", ip(127, 0, 0, 1), 8000, null, Uint8Array.of(1, 5, 2, 3, 4, 5));
    const r = new NodeRecord(id, 7, NodeState.Suspect, 123);
    assert.deepEqual(
      [r.name, r.ip, r.port, r.meta, r.pMin, r.pMax, r.pCur, r.dMin, r.dMax, r.dCur],
      ["records-g", "127.0.0.1", 8000, null, 1, 5, 2, 3, 4, 5],
    );
    const c = r.clone();
    c.state = NodeState.Dead;
    c.incarnation = 8;
    assert.equal(r.state, NodeState.Suspect);
    assert.equal(r.incarnation, 7);
    assert.equal(c.id, r.id);
  });
});

describe("NodeTable", () => {
  it("get/has/set/delete/size behave as a Map by name", () => {
    const t = new NodeTable();
    const a = new NodeRecord(NodeIdentity.of("records-h", ip(10, 0, 0, 1), 1, null, VSN), 1, NodeState.Alive, 0);
    const b = new NodeRecord(NodeIdentity.of("records-i", ip(10, 0, 0, 2), 1, null, VSN), 1, NodeState.Alive, 0);
    assert.equal(t.get("records-h"), undefined);
    assert.equal(t.get("records-never-seen"), undefined);
    t.set("records-h", a).set("records-i", b);
    assert.equal(t.size, 2);
    assert.equal(t.get("records-h"), a);
    assert.ok(t.has("records-i"));
    const a2 = a.clone();
    t.set("records-h", a2);
    assert.equal(t.size, 2);
    assert.equal(t.get("records-h"), a2);
    assert.deepEqual([...t.keys()].sort(), ["records-h", "records-i"]);
    assert.equal(t.delete("records-h"), true);
    assert.equal(t.delete("records-h"), false);
    assert.equal(t.size, 1);
    assert.equal(t.has("records-h"), false);
    assert.deepEqual([...t.values()], [b]);
    assert.throws(() => t.set("other", b), RangeError);
  });

  it("views of one cluster share identities, each with its own state", async () => {
    const c = new TestCluster();
    try {
      await c.start(3, {}, "records-node-");
      await c.waitFor(() => c.nodes.every((n) => n.ml.numMembers() === 3), 10_000);
      const [x, y, z] = c.nodes.map((n) => memberlistState(n.ml));
      const name = z!.config.name;
      const inX = x!.nodeMap.get(name)!;
      const inY = y!.nodeMap.get(name)!;
      assert.notEqual(inX, inY);
      assert.equal(inX.id, inY.id);
      inX.state = NodeState.Suspect;
      assert.equal(inY.state, NodeState.Alive);
      inX.state = NodeState.Alive;
    } finally {
      await c.shutdown();
    }
  });
});
