// Copyright (c) memberlist-ts authors. SPDX-License-Identifier: MPL-2.0
//
// Tests of lib/broadcast.ts.
//
// Go tests covered (hashicorp/memberlist broadcast_test.go):
//   describe("MemberlistBroadcast"): TestMemberlistBroadcast_Invalidates,
//     TestMemberlistBroadcast_Message; plus name(), the one-shot notify, and
//     replacement inside a TransmitLimitedQueue.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { MemberlistBroadcast } from "../lib/broadcast.ts";
import { type NamedBroadcast, TransmitLimitedQueue } from "../lib/queue.ts";

const bytes = (s: string): Uint8Array => new TextEncoder().encode(s);

describe("MemberlistBroadcast", () => {
  it("invalidates() is true only for a broadcast about the same node", () => {
    const test = new MemberlistBroadcast("test", bytes(""));
    const foo = new MemberlistBroadcast("foo", bytes(""));
    assert.equal(test.invalidates(foo), false);
    assert.equal(foo.invalidates(test), false);
    assert.equal(test.invalidates(test), true);
    assert.equal(test.invalidates(new MemberlistBroadcast("test", bytes("x"))), true);
  });

  it("invalidates() ignores other named broadcasts with the same name, as Go does", () => {
    const own = new MemberlistBroadcast("test", bytes(""));
    const other: NamedBroadcast = { name: () => "test", message: () => bytes("") };
    assert.equal(own.invalidates(other), false);
  });

  it("message() returns the message bytes as given", () => {
    const msg = bytes("test");
    const b = new MemberlistBroadcast("test", msg);
    assert.deepEqual(b.message(), bytes("test"));
    assert.equal(b.message(), msg);
  });

  it("name() is the node name", () => {
    assert.equal(new MemberlistBroadcast("node-7", bytes("")).name(), "node-7");
  });

  it("finished() calls notify only the first time", () => {
    let calls = 0;
    const b = new MemberlistBroadcast("a", bytes(""), () => calls++);
    b.finished();
    b.finished();
    assert.equal(calls, 1);
  });

  it("finished() without notify does nothing", () => {
    const b = new MemberlistBroadcast("a", bytes(""), null);
    assert.equal(b.notify, null);
    b.finished();
    assert.equal(new MemberlistBroadcast("a", bytes("")).notify, null);
  });

  it("a newer message about a node replaces the queued one and notifies it", () => {
    const notified: string[] = [];
    const queue = new TransmitLimitedQueue({ numNodes: () => 10, retransmitMult: 4 });
    const msg = (node: string, text: string) =>
      new MemberlistBroadcast(node, bytes(text), () => notified.push(text));
    queue.queueBroadcast(msg("m1", "suspect m1 inc 1"));
    queue.queueBroadcast(msg("m2", "alive m2 inc 1"));
    queue.queueBroadcast(msg("m1", "alive m1 inc 2"));
    assert.equal(queue.numQueued(), 2);
    assert.deepEqual(notified, ["suspect m1 inc 1"]);
    assert.deepEqual(
      queue.getBroadcasts(0, 1000).map((m) => new TextDecoder().decode(m)).sort(),
      ["alive m1 inc 2", "alive m2 inc 1"],
    );
  });
});
