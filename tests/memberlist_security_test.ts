// Who may join whom, on the in-memory network with a virtual clock: the
// scenarios of Go's memberlist_test.go about encryption keys, cluster labels
// and address allow-lists.
//
// Go tests covered, by describe block:
// - "encryption": TestMemberlist_EncryptedGossipTransition, plus joins with
//   equal and different keys, several keys, and key rotation on a live cluster.
// - "labels": TestMemberlist_Join_with_Labels,
//   TestMemberlist_Join_with_Labels_and_Encryption, plus skipInboundLabelCheck.
// - "cidrsAllowed": TestMemberlist_JoinDifferentNetworksUniqueMask,
//   TestMemberlist_JoinDifferentNetworksMultiMasks.
//
// Not ported: nothing. Go's transition test checks that each restarted node's
// port is free again; the mock network releases an address on shutdown, which
// the restarts at the same address here rely on.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import type { Config } from "../lib/config.ts";
import { JoinError } from "../lib/errors.ts";
import { Keyring } from "../lib/keyring.ts";
import { memberlistState } from "../lib/memberlist.ts";
import { estNumNodes } from "../lib/state.ts";
import { TestCluster, type TestNode } from "./_helpers.ts";
import { addAt, memberNames, text, utf8 } from "./_memberlist_helpers.ts";

const K1 = new Uint8Array(16).fill(1);
const K2 = new Uint8Array(16).fill(2);
const K3 = new Uint8Array(32).fill(3);

/** Members and the cluster size estimate of `n` (Go's waitUntilSizeAndEstimate checks both). */
function size(n: TestNode): [number, number] {
  return [n.ml.numMembers(), estNumNodes(memberlistState(n.ml))];
}

/** `b` joins `a` by name; both then see each other. */
async function joinOK(c: TestCluster, src: TestNode, dst: TestNode, members = 2): Promise<void> {
  assert.equal(await c.settle(src.ml.join([`${dst.name}/${dst.ml.localNode().address}`])), 1);
  await c.waitFor(() => src.ml.numMembers() === members && dst.ml.numMembers() === members, 10_000);
  assert.deepEqual(size(src), [members, members]);
  assert.deepEqual(size(dst), [members, members]);
}

/** `src` can not join `dst`. */
async function joinFails(c: TestCluster, src: TestNode, dst: TestNode): Promise<void> {
  await assert.rejects(c.settle(src.ml.join([`${dst.name}/${dst.ml.localNode().address}`])), JoinError);
}

describe("encryption", () => {
  it("nodes with the same key join; a node with another key or none can not", async () => {
    const c = new TestCluster({ seed: 2001 });
    const a = await addAt(c, "a", "127.0.0.10:7946", { secretKey: K1 });
    const b = await addAt(c, "b", "127.0.0.11:7946", { secretKey: K1 });
    await joinOK(c, b, a);
    const other = await addAt(c, "other", "127.0.0.12:7946", { secretKey: K2 });
    const plain = await addAt(c, "plain", "127.0.0.13:7946");
    await joinFails(c, other, a);
    await joinFails(c, plain, a);
    await c.advance(5000);
    assert.deepEqual(memberNames(a.ml), ["a", "b"]);
    assert.deepEqual(memberNames(b.ml), ["a", "b"]);
    assert.ok(a.logger.lines.some((l) => /decrypt|encrypt/i.test(l.message)), "the seed logs what it dropped");
    await c.shutdown();
  });

  it("nodes holding each other's primary keys join and gossip; one missing a key can not join", async () => {
    const c = new TestCluster({ seed: 2002 });
    let meta = utf8("v1");
    const a = await addAt(c, "a", "127.0.0.10:7946", { keyring: Keyring.create([K1, K2]), delegate: { nodeMeta: () => meta } });
    const b = await addAt(c, "b", "127.0.0.11:7946", { keyring: Keyring.create([K2, K1]) });
    await joinOK(c, b, a);
    meta = utf8("v2");
    await c.settle(a.ml.updateNode(5000));
    await c.waitFor(() => text(b.ml.members().find((n) => n.name === "a")!.meta) === "v2", 5000);
    // c can encrypt for a (a holds K2) but can not read a's reply (encrypted with K1).
    const d = await addAt(c, "d", "127.0.0.12:7946", { secretKey: K2 });
    await joinFails(c, d, a);
    await c.shutdown();
  });

  it("rotating the key of a live cluster keeps it together", async () => {
    const c = new TestCluster({ seed: 2003 });
    const nodes = [
      await addAt(c, "a", "127.0.0.10:7946", { secretKey: K1 }),
      await addAt(c, "b", "127.0.0.11:7946", { secretKey: K1 }),
      await addAt(c, "c", "127.0.0.12:7946", { secretKey: K1 }),
    ];
    await c.settle(Promise.all(nodes.slice(1).map((n) => n.ml.join(["a/127.0.0.10:7946"]))));
    await c.waitFor(() => nodes.every((n) => n.ml.numMembers() === 3), 10_000);
    // Install, then switch, then retire, with traffic in between, as an operator would.
    for (const n of nodes) n.ml.keyring()!.addKey(K3);
    await c.advance(3000);
    for (const n of nodes) n.ml.keyring()!.useKey(K3);
    await c.advance(3000);
    for (const n of nodes) n.ml.keyring()!.removeKey(K1);
    await c.advance(20_000);
    assert.ok(nodes.every((n) => n.ml.numMembers() === 3));
    assert.ok(nodes.every((n) => n.logger.find("info", "Suspect") === 0));
    // Only the new key gets in now.
    const late = await addAt(c, "late", "127.0.0.13:7946", { secretKey: K1 });
    await joinFails(c, late, nodes[0]!);
    const newer = await addAt(c, "newer", "127.0.0.14:7946", { secretKey: K3 });
    await joinOK(c, newer, nodes[0]!, 4);
    await c.shutdown();
  });

  it("a node that does not verify incoming traffic takes a plaintext peer; one that does, does not", async () => {
    const c = new TestCluster({ seed: 2004 });
    const lax = await addAt(c, "lax", "127.0.0.10:7946", {
      secretKey: K1,
      gossipVerifyIncoming: false,
      gossipVerifyOutgoing: false,
    });
    const strict = await addAt(c, "strict", "127.0.0.11:7946", { secretKey: K1 });
    const plain = await addAt(c, "plain", "127.0.0.12:7946");
    await joinOK(c, plain, lax);
    const plain2 = await addAt(c, "plain2", "127.0.0.13:7946");
    await joinFails(c, plain2, strict);
    assert.deepEqual(memberNames(strict.ml), ["strict"]);
    await c.shutdown();
  });

  it("a cluster moves to encryption one restart at a time without falling apart", async () => {
    const c = new TestCluster({ seed: 2005 });
    // Go's test uses these 24 ASCII bytes as an AES-192 key.
    const key = utf8("Hi16ZXu2lNCRVwtr20khAg==");
    const addr = { m0: "127.0.0.10:7946", m1: "127.0.0.11:7946" };
    const create = (name: "m0" | "m1", settings: Partial<Config>) =>
      addAt(c, `${addr[name]}`, addr[name], { gossipInterval: 100, ...settings });
    const leaveAndShutdown = async (leaver: TestNode, bystander: TestNode) => {
      await c.settle(leaver.ml.leave(1000));
      await c.waitFor(() => bystander.ml.numMembers() === 1, 10_000);
      await c.settle(leaver.ml.shutdown());
      assert.equal(leaver.transport.closed, true);
      await c.advance(500);
      assert.equal(bystander.ml.numMembers(), 1);
    };
    const stage1 = { secretKey: key, gossipVerifyIncoming: false, gossipVerifyOutgoing: false };
    const stage2 = { secretKey: key, gossipVerifyIncoming: false };
    const stage3 = { secretKey: key };

    // Step 0: two nodes without encryption.
    let m0 = await create("m0", {});
    let m1 = await create("m1", {});
    await joinOK(c, m1, m0);

    // Step 1: both get the key, but neither encrypts nor insists on it.
    await leaveAndShutdown(m0, m1);
    m0 = await create("m0", stage1);
    await joinOK(c, m0, m1);
    await leaveAndShutdown(m1, m0);
    m1 = await create("m1", stage1);
    await joinOK(c, m1, m0);

    // Step 2: both encrypt what they send, and still take plaintext.
    await leaveAndShutdown(m0, m1);
    m0 = await create("m0", stage2);
    await joinOK(c, m0, m1);
    await leaveAndShutdown(m1, m0);
    m1 = await create("m1", stage2);
    await joinOK(c, m1, m0);

    // Step 3: both insist on encryption.
    await leaveAndShutdown(m0, m1);
    m0 = await create("m0", stage3);
    await joinOK(c, m0, m1);
    await leaveAndShutdown(m1, m0);
    m1 = await create("m1", stage3);
    await joinOK(c, m1, m0);

    // Locked down: a node without the key is refused.
    const plain = await addAt(c, "plain", "127.0.0.12:7946");
    await joinFails(c, plain, m0);
    await c.advance(5000);
    assert.deepEqual(size(m0), [2, 2]);
    assert.deepEqual(size(m1), [2, 2]);
    await c.shutdown();
    assert.equal(c.clock.pending, 0);
  });
});

describe("labels", () => {
  for (const secretKey of [null, K1]) {
    const how = secretKey === null ? "" : ", with encryption";
    it(`nodes with the same label join; a node with no label or another label can not${how}`, async () => {
      const c = new TestCluster({ seed: 2101 });
      const m1 = await addAt(c, "m1", "127.0.0.10:7946", { label: "blah", secretKey });
      const m2 = await addAt(c, "m2", "127.0.0.11:7946", { label: "blah", secretKey });
      await joinOK(c, m2, m1);

      const m3 = await addAt(c, "m3", "127.0.0.12:7946", { label: "", secretKey });
      await joinFails(c, m3, m1);
      await c.advance(2000);
      assert.deepEqual([size(m3), size(m2), size(m1)], [[1, 1], [2, 2], [2, 2]]);

      const m4 = await addAt(c, "m4", "127.0.0.13:7946", { label: "not-blah", secretKey });
      await joinFails(c, m4, m1);
      await c.advance(2000);
      assert.deepEqual([size(m4), size(m3), size(m2), size(m1)], [[1, 1], [1, 1], [2, 2], [2, 2]]);
      assert.ok(m1.logger.lines.some((l) => /label/i.test(l.message)), "the seed logs the label it refused");
      await c.shutdown();
    });
  }

  it("with skipInboundLabelCheck, unlabelled input is taken as labelled and labelled input refused", async () => {
    const c = new TestCluster({ seed: 2102 });
    // Behind a transport that strips labels itself, a node sees no label headers.
    const seed = await addAt(c, "seed", "127.0.0.10:7946", { label: "blah", skipInboundLabelCheck: true });
    const unlabelled = await addAt(c, "unlabelled", "127.0.0.11:7946");
    assert.equal(await c.settle(unlabelled.ml.join(["seed/127.0.0.10:7946"])), 1);
    assert.deepEqual(memberNames(unlabelled.ml), ["seed", "unlabelled"]);
    await c.waitFor(() => seed.ml.numMembers() === 2, 1000, 1);
    const labelled = await addAt(c, "labelled", "127.0.0.12:7946", { label: "blah" });
    await joinFails(c, labelled, seed);
    await c.shutdown();
  });
});

describe("cidrsAllowed", () => {
  it("nodes on different networks join when the allow-list covers both", async () => {
    const c = new TestCluster({ seed: 2201 });
    const cidrsAllowed = ["127.0.0.0/8"];
    const m1 = await addAt(c, "m1", "127.0.0.10:7946", { cidrsAllowed });
    const m2 = await addAt(c, "m2", "127.0.1.11:7946", { cidrsAllowed });
    await joinOK(c, m2, m1);
    await c.shutdown();
  });

  it("a node outside the allow-list sees the cluster but is never seen by it", async () => {
    const c = new TestCluster({ seed: 2202 });
    const twoNets = ["127.0.0.0/24", "127.0.1.0/24"];
    const m1 = await addAt(c, "m1", "127.0.0.10:7946", { cidrsAllowed: twoNets });
    const m2 = await addAt(c, "m2", "127.0.1.11:7946", { cidrsAllowed: twoNets });
    await joinOK(c, m2, m1);

    // A rogue on a third network that allows everything.
    const m3 = await addAt(c, "m3", "127.0.2.12:7946", { cidrsAllowed: ["127.0.0.0/8"] });
    assert.equal(await c.settle(m3.ml.join(["m1/127.0.0.10:7946"])), 1);
    assert.deepEqual(memberNames(m3.ml), ["m1", "m2", "m3"]);
    await c.advance(5000);
    assert.deepEqual([size(m1), size(m2)], [[2, 2], [2, 2]]);

    // A rogue whose own allow-list excludes it: it does not even list itself.
    const m4 = await addAt(c, "m4", "127.0.2.13:7946", { cidrsAllowed: twoNets });
    assert.equal(await c.settle(m4.ml.join(["m1/127.0.0.10:7946", "m2/127.0.1.11:7946"])), 2);
    assert.deepEqual(memberNames(m4.ml), ["m1", "m2"]);
    await c.advance(5000);
    assert.deepEqual([size(m1), size(m2)], [[2, 2], [2, 2]]);
    assert.deepEqual(memberNames(m1.ml), ["m1", "m2"]);
    await c.shutdown();
  });
});
