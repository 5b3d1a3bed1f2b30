// Copyright (c) memberlist-ts authors. SPDX-License-Identifier: MPL-2.0
//
// Tests of lib/queue.ts.
//
// Go tests covered (hashicorp/memberlist queue_test.go, newest):
//   describe("TransmitLimitedQueue"):
//     TestLimitedBroadcastLess (diff-transmits, same-transmits--diff-len,
//       same-transmits--same-len--diff-id), TestTransmitLimited_ordering,
//     TestTransmitLimited_Queue, TestTransmitLimited_GetBroadcasts,
//     TestTransmitLimited_GetBroadcasts_Limit (including the id generator
//       checks), TestTransmitLimited_Prune;
//     plus Reset, named/unique/plain invalidation, the retransmit limit formula
//     (util.go retransmitLimit), finished() counts, maxQueued (not in Go) and
//     two Go id-reuse bugs that this port fixes.
//   describe("TransmitLimitedQueue against a reference model"): no Go
//     counterpart; random operations checked against a sorted-array model, and
//     getBroadcasts() limits and uniqueness, with and without a share.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { MemberlistBroadcast } from "../lib/broadcast.ts";
import {
  type Broadcast,
  type NamedBroadcast,
  queueBroadcastAt,
  TransmitLimitedQueue,
  type UniqueBroadcast,
} from "../lib/queue.ts";

const encoder = new TextEncoder();
const bytes = (s: string): Uint8Array => encoder.encode(s);
const text = (b: Uint8Array): string => new TextDecoder().decode(b);

/** A memberlist broadcast about `node`; `msg` defaults to the node name. */
function mb(node: string, msg: string = node, notify: (() => void) | null = null): MemberlistBroadcast {
  return new MemberlistBroadcast(node, bytes(msg), notify);
}

/** Node names in queue order (or reversed). */
function names(queue: TransmitLimitedQueue, reverse = false): string[] {
  return queue.orderedView(reverse).map((q) => (q.broadcast as MemberlistBroadcast).node);
}

/** A plain broadcast that counts its finished() calls. */
class Counted implements Broadcast {
  msg: Uint8Array;
  finishedCount = 0;
  constructor(msg: string | Uint8Array) {
    this.msg = typeof msg === "string" ? bytes(msg) : msg;
  }
  message(): Uint8Array {
    return this.msg;
  }
  finished(): void {
    this.finishedCount++;
  }
}

describe("TransmitLimitedQueue", () => {
  it("constructor() keeps numNodes and retransmitMult as settable fields", () => {
    const queue = new TransmitLimitedQueue({ numNodes: () => 7, retransmitMult: 3 });
    assert.equal(queue.numNodes(), 7);
    assert.equal(queue.retransmitMult, 3);
    assert.equal(queue.maxQueued, Infinity);
    queue.numNodes = () => 70;
    queue.retransmitMult = 1;
    assert.equal(queue.numNodes(), 70);
    assert.equal(
      new TransmitLimitedQueue({ numNodes: () => 1, retransmitMult: 0, maxQueued: 5 }).maxQueued,
      5,
    );
  });

  it("constructor() rejects bad options", () => {
    const numNodes = () => 1;
    assert.throws(
      () => new TransmitLimitedQueue({ numNodes: 3 as unknown as () => number, retransmitMult: 1 }),
      {
        name: "TypeError",
        message: 'Cannot create broadcast queue: "numNodes" must be a function, got 3',
      },
    );
    assert.throws(() => new TransmitLimitedQueue({ numNodes, retransmitMult: 1.5 }), {
      name: "RangeError",
      message: 'Cannot create broadcast queue: "retransmitMult" must be a non-negative integer, got 1.5',
    });
    assert.throws(() => new TransmitLimitedQueue({ numNodes, retransmitMult: "4" as unknown as number }), {
      name: "TypeError",
      message: 'Cannot create broadcast queue: "retransmitMult" must be a number, got string',
    });
    assert.throws(() => new TransmitLimitedQueue({ numNodes, retransmitMult: 1, maxQueued: -1 }), RangeError);
    assert.throws(
      () => new TransmitLimitedQueue({ numNodes, retransmitMult: 1, maxQueued: NaN }),
      RangeError,
    );
    assert.equal(
      new TransmitLimitedQueue({ numNodes, retransmitMult: 1, maxQueued: Infinity }).maxQueued,
      Infinity,
    );
  });

  it("orders by transmits ascending, then length descending, then newest first", () => {
    // Each pair: [first, second] in queue order (Go TestLimitedBroadcastLess).
    const queue = new TransmitLimitedQueue({ numNodes: () => 10, retransmitMult: 1 });
    const a = new Counted(new Uint8Array(10));
    const b = new Counted(new Uint8Array(10));
    queueBroadcastAt(queue, { broadcast: b, transmits: 1 });
    queueBroadcastAt(queue, { broadcast: a, transmits: 0 });
    assert.deepEqual(queue.orderedView().map((q) => q.broadcast), [a, b], "diff-transmits");

    queue.reset();
    const long = new Counted(new Uint8Array(12));
    const short = new Counted(new Uint8Array(10));
    queue.queueBroadcast(short);
    queue.queueBroadcast(long);
    assert.deepEqual(queue.orderedView().map((q) => q.broadcast), [long, short], "same-transmits--diff-len");
    queue.reset();
    queue.queueBroadcast(long);
    queue.queueBroadcast(short);
    assert.deepEqual(queue.orderedView().map((q) => q.broadcast), [long, short], "same-transmits--diff-len");

    queue.reset();
    const older = new Counted(new Uint8Array(12));
    const newer = new Counted(new Uint8Array(12));
    queue.queueBroadcast(older);
    queue.queueBroadcast(newer);
    const view = queue.orderedView();
    assert.deepEqual(view.map((q) => q.broadcast), [newer, older], "same-transmits--same-len--diff-id");
    assert.deepEqual(view.map((q) => q.id), [2, 1]);
    assert.deepEqual(queue.orderedView(true).map((q) => q.broadcast), [older, newer]);
  });

  it("orderedView(true) lists the most transmitted first", () => {
    // Go TestTransmitLimited_ordering.
    const queue = new TransmitLimitedQueue({ numNodes: () => 10, retransmitMult: 1 });
    for (
      const [node, transmits] of [["node0", 0], ["node1", 10], ["node2", 3], ["node3", 4], [
        "node4",
        7,
      ]] as const
    ) {
      queueBroadcastAt(queue, { broadcast: mb(node), transmits });
    }
    assert.deepEqual(queue.orderedView(true).map((q) => q.transmits), [10, 7, 4, 3, 0]);
    assert.deepEqual(names(queue, true), ["node1", "node4", "node3", "node2", "node0"]);
    assert.deepEqual(queue.orderedView(false).map((q) => q.transmits), [0, 3, 4, 7, 10]);
  });

  it("queueBroadcast() replaces a queued broadcast with the same name", () => {
    // Go TestTransmitLimited_Queue.
    const queue = new TransmitLimitedQueue({ numNodes: () => 1, retransmitMult: 1 });
    queue.queueBroadcast(mb("test", ""));
    queue.queueBroadcast(mb("foo", ""));
    queue.queueBroadcast(mb("bar", ""));
    assert.equal(queue.numQueued(), 3);
    assert.deepEqual(names(queue, true), ["test", "foo", "bar"]);

    queue.queueBroadcast(mb("test", ""));
    assert.equal(queue.numQueued(), 3);
    assert.deepEqual(names(queue, true), ["foo", "bar", "test"]);
  });

  it("queueBroadcast() calls finished() once on the replaced named broadcast only", () => {
    const queue = new TransmitLimitedQueue({ numNodes: () => 10, retransmitMult: 4 });
    const calls: string[] = [];
    queue.queueBroadcast(mb("a", "a1", () => calls.push("a1")));
    queue.queueBroadcast(mb("b", "b1", () => calls.push("b1")));
    queue.queueBroadcast(mb("a", "a2", () => calls.push("a2")));
    assert.deepEqual(calls, ["a1"]);
    queue.queueBroadcast(mb("a", "a3", () => calls.push("a3")));
    assert.deepEqual(calls, ["a1", "a2"]);
    assert.deepEqual(queue.getBroadcasts(0, 100).map(text).sort(), ["a3", "b1"]);
  });

  it("queueBroadcast() with a named broadcast never asks invalidates()", () => {
    const queue = new TransmitLimitedQueue({ numNodes: () => 10, retransmitMult: 4 });
    const plain = new Counted("plain");
    queue.queueBroadcast(plain);
    let asked = 0;
    const named: NamedBroadcast = {
      name: () => "n",
      message: () => bytes("named"),
      invalidates: () => (asked++, true),
    };
    queue.queueBroadcast(named);
    assert.equal(asked, 0);
    assert.equal(plain.finishedCount, 0);
    assert.equal(queue.numQueued(), 2);
  });

  it("queueBroadcast() with a unique broadcast replaces nothing and asks nothing", () => {
    const queue = new TransmitLimitedQueue({ numNodes: () => 10, retransmitMult: 4 });
    let asked = 0;
    const unique = (s: string): UniqueBroadcast => ({
      uniqueBroadcast() {},
      message: () => bytes(s),
      invalidates: () => (asked++, true),
    });
    queue.queueBroadcast(new Counted("plain"));
    queue.queueBroadcast(unique("u1"));
    queue.queueBroadcast(unique("u1"));
    queue.queueBroadcast(unique("u2"));
    assert.equal(asked, 0);
    assert.equal(queue.numQueued(), 4);
  });

  it("queueBroadcast() offers only plain broadcasts to invalidates(), in queue order", () => {
    const queue = new TransmitLimitedQueue({ numNodes: () => 10, retransmitMult: 4 });
    const p1 = new Counted("p1");
    const p22 = new Counted("p22");
    const p3 = new Counted("p3");
    queue.queueBroadcast(p1);
    queue.queueBroadcast(mb("named"));
    queue.queueBroadcast(p22);
    queue.queueBroadcast({ uniqueBroadcast() {}, message: () => bytes("unique") });
    queue.queueBroadcast(p3);
    const offered: Broadcast[] = [];
    queue.queueBroadcast({
      message: () => bytes("new"),
      invalidates(other) {
        offered.push(other);
        return other === p1 || other === p3;
      },
    });
    // Queue order: length descending, then newest first.
    assert.deepEqual(offered, [p22, p3, p1]);
    assert.deepEqual([p1.finishedCount, p22.finishedCount, p3.finishedCount], [1, 0, 1]);
    assert.deepEqual(queue.orderedView().map((q) => text(q.broadcast.message())), [
      "unique",
      "named",
      "new",
      "p22",
    ]);
  });

  it("queueBroadcast() treats an empty name as no name, as Go does", () => {
    const queue = new TransmitLimitedQueue({ numNodes: () => 10, retransmitMult: 4 });
    const plain = new Counted("plain");
    queue.queueBroadcast(plain);
    const emptyNamed = (s: string): NamedBroadcast => ({
      name: () => "",
      message: () => bytes(s),
      invalidates: () => true,
    });
    const first = emptyNamed("e1");
    queue.queueBroadcast(first);
    // It scans plain broadcasts with invalidates() ...
    assert.equal(plain.finishedCount, 1);
    // ... does not replace another broadcast with an empty name ...
    queue.queueBroadcast(emptyNamed("e2"));
    assert.equal(queue.numQueued(), 2);
    // ... and is itself never offered to a plain broadcast's invalidates().
    queue.queueBroadcast({ message: () => bytes("p"), invalidates: () => true });
    assert.equal(queue.numQueued(), 3);
  });

  it("queueBroadcast() reads message() and name() once", () => {
    const queue = new TransmitLimitedQueue({ numNodes: () => 10, retransmitMult: 4 });
    let messageCalls = 0;
    let nameCalls = 0;
    queue.queueBroadcast({
      name: () => (nameCalls++, "x"),
      message: () => (messageCalls++, bytes("hello")),
    } as NamedBroadcast);
    queue.getBroadcasts(2, 100);
    queue.getBroadcasts(2, 100);
    assert.equal(messageCalls, 1);
    assert.equal(nameCalls, 1);
  });

  it("queueBroadcast() rejects a broadcast without a proper message()", () => {
    const queue = new TransmitLimitedQueue({ numNodes: () => 10, retransmitMult: 4 });
    assert.throws(() => queue.queueBroadcast({} as Broadcast), {
      name: "TypeError",
      message: 'Cannot queue broadcast: "message" must be a method, got undefined',
    });
    assert.throws(() => queue.queueBroadcast(null as unknown as Broadcast), TypeError);
    assert.throws(() => queue.queueBroadcast({ message: () => "x" as unknown as Uint8Array }), {
      name: "TypeError",
      message: 'Cannot queue broadcast: "message()" must return a Uint8Array, got string',
    });
    assert.throws(
      () => queue.queueBroadcast({ name: () => 1, message: () => bytes("") } as unknown as Broadcast),
      { name: "TypeError", message: 'Cannot queue broadcast: "name()" must return a string, got 1' },
    );
    assert.equal(queue.numQueued(), 0);
  });

  it("getBroadcasts() packs messages up to the limit, counting the overhead", () => {
    // Go TestTransmitLimited_GetBroadcasts.
    const queue = new TransmitLimitedQueue({ numNodes: () => 10, retransmitMult: 3 });
    for (const [i, node] of ["test", "foo", "bar", "baz"].entries()) {
      queue.queueBroadcast(mb(node, `${i + 1}. this is a test.`)); // 18 bytes each
    }
    // 4 × (2 + 18) = 80 fits exactly.
    assert.equal(queue.getBroadcasts(2, 80).length, 4);
    // 3 × (3 + 18) = 63; a fourth would need 84.
    assert.equal(queue.getBroadcasts(3, 80).length, 3);
  });

  it("getBroadcasts() drops messages at the retransmit limit and restarts ids when empty", () => {
    // Go TestTransmitLimited_GetBroadcasts_Limit.
    const queue = new TransmitLimitedQueue({ numNodes: () => 10, retransmitMult: 1 });
    const ids = () => queue.orderedView().map((q) => q.id).sort((a, b) => a - b);
    // retransmit limit: 1 × ceil(log10(11)) = 2
    for (const [i, node] of ["test", "foo", "bar", "baz"].entries()) {
      queue.queueBroadcast(mb(node, `${i + 1}. this is a test.`));
    }
    assert.deepEqual(ids(), [1, 2, 3, 4]);

    assert.equal(queue.getBroadcasts(3, 80).length, 3);
    assert.deepEqual(ids(), [1, 2, 3, 4], "ids kept until the queue is empty");
    assert.equal(queue.getBroadcasts(3, 80).length, 3);
    assert.equal(queue.numQueued(), 2);
    // Only two not expired.
    assert.equal(queue.getBroadcasts(3, 80).length, 2);
    assert.equal(queue.numQueued(), 0);
    assert.equal(queue.getBroadcasts(3, 80).length, 0);

    queue.queueBroadcast(mb("again"));
    assert.deepEqual(ids(), [1], "the id generator restarted");
  });

  it("getBroadcasts() prefers messages with fewer transmits", () => {
    const queue = new TransmitLimitedQueue({ numNodes: () => 10, retransmitMult: 4 });
    queue.queueBroadcast(mb("old", "old message, long"));
    assert.deepEqual(queue.getBroadcasts(0, 100).map(text), ["old message, long"]);
    queue.queueBroadcast(mb("new", "new"));
    // Room for one only: the untransmitted message wins although shorter.
    assert.deepEqual(queue.getBroadcasts(0, 17).map(text), ["new"]);
    // Both have one transmit now: the longer goes first.
    assert.deepEqual(queue.getBroadcasts(0, 100).map(text), ["old message, long", "new"]);
  });

  it("getBroadcasts() takes the longest message that fits, then smaller ones", () => {
    const queue = new TransmitLimitedQueue({ numNodes: () => 10, retransmitMult: 4 });
    for (const size of [5, 40, 20, 10, 20]) queue.queueBroadcast(new Counted(new Uint8Array(size)));
    // free 35: 40 does not fit; 20 (the newer of two), then 10 (free 14), then 5 does not fit (free 3).
    const out = queue.getBroadcasts(1, 36);
    assert.deepEqual(out.map((m) => m.length), [20, 10]);
    assert.equal(out.reduce((n, m) => n + 1 + m.length, 0), 32);
  });

  it("getBroadcasts() moves to the next tier only when nothing in this one fits", () => {
    const queue = new TransmitLimitedQueue({ numNodes: () => 10, retransmitMult: 4 });
    queueBroadcastAt(queue, { broadcast: new Counted(new Uint8Array(8)), transmits: 5 });
    queueBroadcastAt(queue, { broadcast: new Counted(new Uint8Array(3)), transmits: 2 });
    queue.queueBroadcast(new Counted(new Uint8Array(30)));
    queue.queueBroadcast(new Counted(new Uint8Array(6)));
    // Tier 0: 30 does not fit in 12, 6 does; tier 2: 3 fits in 6; tier 5: 8 does not fit in 3.
    assert.deepEqual(queue.getBroadcasts(0, 12).map((m) => m.length), [6, 3]);
    assert.deepEqual(queue.orderedView().map((q) => [q.transmits, q.length]), [
      [0, 30],
      [1, 6],
      [3, 3],
      [5, 8],
    ]);
  });

  it("getBroadcasts() returns a message at most once per call", () => {
    const queue = new TransmitLimitedQueue({ numNodes: () => 1000, retransmitMult: 4 });
    const b = new Counted("only");
    queue.queueBroadcast(b);
    const out = queue.getBroadcasts(0, 1000);
    assert.deepEqual(out, [b.msg]);
    assert.equal(queue.orderedView()[0]?.transmits, 1);
  });

  describe("getBroadcasts() with a share (not in Go)", () => {
    /** A queue with messages of these lengths, all untransmitted. */
    function queueOf(...lengths: number[]): TransmitLimitedQueue {
      const queue = new TransmitLimitedQueue({ numNodes: () => 10, retransmitMult: 4 });
      for (const n of lengths) queue.queueBroadcast({ message: () => new Uint8Array(n) });
      return queue;
    }

    it("stops short of the reserve after the first message, lets fill() use the rest, then fills what fill() left", () => {
      const queue = queueOf(40, 30, 20, 10);
      const calls: number[] = [];
      // 100 bytes, overhead 0, reserve 50: 40 (the first may take anything), then nothing more fits in
      // 50 - 40 = 10 but the 10: 40 + 10 = 50. fill() gets 50 and uses 25; 25 are left: the 20 fits.
      const out = queue.getBroadcasts(0, 100, { reserve: 50, fill: (avail) => (calls.push(avail), 25) });
      assert.deepEqual(out.map((m) => m.length), [40, 10, 20]);
      assert.deepEqual(calls, [50]);
      assert.deepEqual(queue.orderedView().map((q) => [q.length, q.transmits]), [[30, 0], [40, 1], [20, 1], [10, 1]]);
    });

    it("gives the first message the whole packet, however large the reserve", () => {
      const queue = queueOf(90, 5);
      const calls: number[] = [];
      const out = queue.getBroadcasts(0, 100, { reserve: 80, fill: (avail) => (calls.push(avail), 0) });
      assert.deepEqual(out.map((m) => m.length), [90, 5]);
      assert.deepEqual(calls, [10]);
    });

    it("with reserve 0 takes what getBroadcasts() without a share takes, and offers the leftover to fill()", () => {
      const plain = queueOf(50, 40, 30, 20).getBroadcasts(2, 100).map((m) => m.length);
      const calls: number[] = [];
      const shared = queueOf(50, 40, 30, 20).getBroadcasts(2, 100, { reserve: 0, fill: (a) => (calls.push(a), 0) });
      assert.deepEqual(shared.map((m) => m.length), plain);
      assert.deepEqual(calls, [100 - plain.reduce((n, l) => n + 2 + l, 0)]);
    });

    it("calls fill() with the whole packet when the queue is empty", () => {
      const calls: number[] = [];
      assert.deepEqual(queueOf().getBroadcasts(2, 100, { reserve: 25, fill: (a) => (calls.push(a), 60) }), []);
      assert.deepEqual(calls, [100]);
    });

    it("keeps the queue consistent when fill() throws or returns nonsense", () => {
      for (const fill of [() => {
        throw new Error("boom");
      }, () => Number.NaN, () => -1]) {
        const queue = queueOf(40, 30);
        assert.throws(() => queue.getBroadcasts(0, 100, { reserve: 50, fill: fill as () => number }));
        // The message taken before fill() counts as transmitted, the other is untouched.
        assert.deepEqual(queue.orderedView().map((q) => [q.length, q.transmits]), [[30, 0], [40, 1]]);
      }
    });
  });

  it("getBroadcasts() hands each message out retransmitMult × ceil(log10(n + 1)) times", () => {
    const cases: [mult: number, n: number, expected: number][] = [
      [4, 1, 4],
      [4, 9, 4],
      [4, 10, 8],
      [4, 99, 8],
      [4, 100, 12],
      [4, 999, 12],
      [4, 1000, 16],
      [2, 5, 2],
      [3, 10, 6],
      [1, 0, 1], // limit 0: still sent once
      [0, 50, 1], // limit 0: still sent once (cortex#4269)
      [4, -5, 1], // a nonsense estimate counts as 0
      [4, NaN, 1],
    ];
    for (const [mult, n, expected] of cases) {
      const queue = new TransmitLimitedQueue({ numNodes: () => n, retransmitMult: mult });
      const b = new Counted("m");
      queue.queueBroadcast(b);
      let sent = 0;
      while (queue.getBroadcasts(0, 10).length > 0) sent++;
      assert.equal(sent, expected, `mult ${mult}, n ${n}`);
      assert.equal(b.finishedCount, 1);
    }
  });

  it("getBroadcasts() reads numNodes() and retransmitMult at each call", () => {
    let n = 1;
    let calls = 0;
    const queue = new TransmitLimitedQueue({ numNodes: () => (calls++, n), retransmitMult: 1 });
    assert.deepEqual(queue.getBroadcasts(0, 10), []);
    assert.equal(calls, 0, "numNodes() is not called on an empty queue");
    const b = new Counted("m");
    queue.queueBroadcast(b);
    queue.getBroadcasts(0, 10); // limit 1 × 1: would finish ...
    assert.equal(b.finishedCount, 1);
    const c = new Counted("m");
    queue.queueBroadcast(c);
    n = 1000; // limit 4
    queue.getBroadcasts(0, 10);
    queue.retransmitMult = 2; // limit 8
    for (let i = 0; i < 6; i++) queue.getBroadcasts(0, 10);
    assert.equal(c.finishedCount, 0);
    queue.getBroadcasts(0, 10);
    assert.equal(c.finishedCount, 1);
    assert.equal(calls, 9);
  });

  it("getBroadcasts() returns nothing when the overhead leaves no room", () => {
    const queue = new TransmitLimitedQueue({ numNodes: () => 10, retransmitMult: 4 });
    queue.queueBroadcast(new Counted(new Uint8Array(0)));
    assert.deepEqual(queue.getBroadcasts(5, 5), []);
    assert.deepEqual(queue.getBroadcasts(0, 0), []);
    assert.deepEqual(queue.getBroadcasts(2, -10), []);
    // An empty message fits as soon as one byte is free beyond the overhead.
    assert.equal(queue.getBroadcasts(5, 6).length, 1);
    assert.equal(queue.orderedView()[0]?.transmits, 1);
  });

  it("getBroadcasts() rejects a limit or overhead that is not an integer", () => {
    const queue = new TransmitLimitedQueue({ numNodes: () => 10, retransmitMult: 4 });
    assert.throws(() => queue.getBroadcasts(2, 1.5), {
      name: "RangeError",
      message: 'Cannot get broadcasts: "limit" must be an integer, got 1.5',
    });
    assert.throws(() => queue.getBroadcasts("2" as unknown as number, 10), {
      name: "TypeError",
      message: 'Cannot get broadcasts: "overhead" must be a number, got string',
    });
  });

  it("prune() keeps the least transmitted broadcasts and calls finished() on the rest", () => {
    // Go TestTransmitLimited_Prune.
    const queue = new TransmitLimitedQueue({ numNodes: () => 10, retransmitMult: 1 });
    let notified1 = 0;
    let notified2 = 0;
    queue.queueBroadcast(mb("test", "1. this is a test.", () => notified1++));
    queue.queueBroadcast(mb("foo", "2. this is a test.", () => notified2++));
    queue.queueBroadcast(mb("bar", "3. this is a test."));
    queue.queueBroadcast(mb("baz", "4. this is a test."));
    queue.prune(2);
    assert.equal(queue.numQueued(), 2);
    assert.equal(notified1, 1);
    assert.equal(notified2, 1);
    assert.deepEqual(names(queue, true), ["bar", "baz"]);
  });

  it("prune() drops the most transmitted first", () => {
    const queue = new TransmitLimitedQueue({ numNodes: () => 10, retransmitMult: 4 });
    const order: string[] = [];
    const add = (node: string, transmits: number) =>
      queueBroadcastAt(queue, { broadcast: mb(node, node, () => order.push(node)), transmits });
    add("t0", 0);
    add("t3", 3);
    add("t1", 1);
    add("t2", 2);
    queue.prune(1);
    assert.deepEqual(order, ["t3", "t2", "t1"]);
    assert.deepEqual(names(queue), ["t0"]);
    queue.prune(5);
    queue.prune(0);
    assert.deepEqual(order, ["t3", "t2", "t1", "t0"]);
    assert.throws(() => queue.prune(-1), RangeError);
  });

  it("reset() calls finished() on every broadcast and restarts ids", () => {
    const queue = new TransmitLimitedQueue({ numNodes: () => 10, retransmitMult: 4 });
    const all = [new Counted("a"), new Counted("bb"), new Counted("ccc")];
    for (const b of all) queue.queueBroadcast(b);
    queue.getBroadcasts(0, 2);
    queue.reset();
    assert.equal(queue.numQueued(), 0);
    assert.deepEqual(all.map((b) => b.finishedCount), [1, 1, 1]);
    assert.deepEqual(queue.getBroadcasts(0, 100), []);
    queue.queueBroadcast(new Counted("d"));
    assert.equal(queue.orderedView()[0]?.id, 1);
    queue.reset();
    queue.reset();
    assert.deepEqual(all.map((b) => b.finishedCount), [1, 1, 1]);
  });

  it("keeps ids unique when a replacement empties the queue (Go reuses them)", () => {
    // In Go the replacing broadcast takes id 2, the emptied queue resets the
    // generator, and the next two broadcasts get ids 1 and 2: "z" then has the
    // same B-tree key as "x" and silently replaces it.
    const queue = new TransmitLimitedQueue({ numNodes: () => 10, retransmitMult: 4 });
    let xNotified = 0;
    queue.queueBroadcast(mb("x", "alive-x"));
    queue.queueBroadcast(mb("x", "suspx-x", () => xNotified++));
    queue.queueBroadcast(mb("y", "suspy-y"));
    queue.queueBroadcast(mb("z", "suspz-z"));
    assert.equal(queue.numQueued(), 3);
    assert.deepEqual(names(queue), ["z", "y", "x"]);
    assert.deepEqual(queue.orderedView().map((q) => q.id), [3, 2, 1]);
    queue.queueBroadcast(mb("x", "dead-x!"));
    assert.equal(xNotified, 1);
    assert.deepEqual(names(queue).sort(), ["x", "y", "z"]);
  });

  it("keeps ids unique when getBroadcasts() takes every message (Go reuses them)", () => {
    // In Go the queue is empty for a moment during the scan, the generator
    // resets, and "c" later collides with "a" in tier 1.
    const queue = new TransmitLimitedQueue({ numNodes: () => 10, retransmitMult: 4 });
    queue.queueBroadcast(mb("a", "aaaa"));
    queue.queueBroadcast(mb("b", "bbbb"));
    assert.equal(queue.getBroadcasts(0, 100).length, 2);
    queue.queueBroadcast(mb("c", "cccc"));
    assert.deepEqual(queue.getBroadcasts(0, 4).map(text), ["cccc"]);
    assert.equal(queue.numQueued(), 3);
    assert.deepEqual(queue.orderedView().map((q) => [text(q.broadcast.message()), q.transmits, q.id]), [
      ["cccc", 1, 3],
      ["bbbb", 1, 2],
      ["aaaa", 1, 1],
    ]);
  });

  it("calls finished() exactly once per broadcast that leaves the queue", () => {
    const queue = new TransmitLimitedQueue({ numNodes: () => 10, retransmitMult: 2 });
    const named = [mb("a", "a1"), mb("b", "b1")];
    const counts = new Map<Broadcast, number>();
    const wrap = <T extends Broadcast>(b: T): T => {
      counts.set(b, 0);
      const original = b.finished?.bind(b);
      b.finished = () => {
        counts.set(b, counts.get(b)! + 1);
        original?.();
      };
      return b;
    };
    for (const b of named) queue.queueBroadcast(wrap(b));
    queue.queueBroadcast(wrap(mb("a", "a2"))); // replaces a1
    const plain = wrap(new Counted("p"));
    queue.queueBroadcast(plain);
    queue.queueBroadcast(wrap({ message: () => bytes("q"), invalidates: (o) => o === plain })); // invalidates p
    queue.queueBroadcast(wrap({ uniqueBroadcast() {}, message: () => bytes("u") }));
    for (let i = 0; i < 5; i++) queue.getBroadcasts(0, 3); // transmits some to the limit
    queue.queueBroadcast(wrap(mb("c", "c1")));
    queue.prune(1);
    queue.reset();
    assert.equal(queue.numQueued(), 0);
    for (const [b, n] of counts) assert.equal(n, 1, text(b.message()));
  });

  it("lets finished() call back into the queue", () => {
    const queue = new TransmitLimitedQueue({ numNodes: () => 1, retransmitMult: 1 });
    const requeued: string[] = [];
    queue.queueBroadcast({
      message: () => bytes("first"),
      finished: () => {
        requeued.push("second");
        queue.queueBroadcast({ message: () => bytes("second") });
      },
    });
    assert.deepEqual(queue.getBroadcasts(0, 100).map(text), ["first"]);
    assert.deepEqual(requeued, ["second"]);
    assert.deepEqual(queue.getBroadcasts(0, 100).map(text), ["second"]);
    assert.equal(queue.numQueued(), 0);
  });

  it("rethrows a finished() error after the queue is updated", () => {
    const queue = new TransmitLimitedQueue({ numNodes: () => 1, retransmitMult: 1 });
    const other = new Counted("other");
    queue.queueBroadcast({
      message: () => bytes("boom"),
      finished: () => {
        throw new Error("finished failed");
      },
    });
    queue.queueBroadcast(other);
    assert.throws(() => queue.getBroadcasts(0, 100), { message: "finished failed" });
    assert.equal(other.finishedCount, 1);
    assert.equal(queue.numQueued(), 0);
  });

  it("maxQueued drops what prune() would when a broadcast takes the queue over it", () => {
    const queue = new TransmitLimitedQueue({ numNodes: () => 10, retransmitMult: 4, maxQueued: 2 });
    const dropped: string[] = [];
    const add = (node: string) => queue.queueBroadcast(mb(node, node, () => dropped.push(node)));
    add("a1");
    queue.getBroadcasts(0, 100); // a1 has 1 transmit
    add("b1");
    add("c1"); // over the bound: a1 (most transmitted) goes
    assert.deepEqual(dropped, ["a1"]);
    assert.deepEqual(names(queue), ["c1", "b1"]);
    add("d1"); // all untransmitted, same length: the oldest goes
    assert.deepEqual(dropped, ["a1", "b1"]);
    queue.maxQueued = 0;
    add("e1"); // even the new broadcast
    assert.deepEqual(dropped, ["a1", "b1", "c1", "d1", "e1"]); // from the end: oldest first
    assert.equal(queue.numQueued(), 0);
    queue.maxQueued = Infinity;
    add("f1");
    assert.equal(queue.orderedView()[0]?.id, 1);
  });

  it("handles thousands of queued broadcasts", () => {
    const queue = new TransmitLimitedQueue({ numNodes: () => 1000, retransmitMult: 4 });
    const n = 5000;
    let finished = 0;
    for (let i = 0; i < n; i++) {
      queue.queueBroadcast(mb(`node-${i}`, `alive node-${i} ${"x".repeat(i % 50)}`, () => finished++));
    }
    assert.equal(queue.numQueued(), n);
    let messages = 0;
    for (;;) {
      const out = queue.getBroadcasts(2, 1400);
      if (out.length === 0) break;
      messages += out.length;
      assert.ok(out.reduce((used, m) => used + 2 + m.length, 0) <= 1400);
    }
    assert.equal(messages, n * 16);
    assert.equal(finished, n);
    assert.equal(queue.numQueued(), 0);
  });
});

// ---------------------------------------------------------------------------
// Reference model: the spec §10.1 rules written as plainly as possible, with a
// sorted array. Ids follow this port (unique; restart only when empty).

const PLAIN = "plain";
const NAMED = "named";
const UNIQUE = "unique";
type Kind = typeof PLAIN | typeof NAMED | typeof UNIQUE;

interface ModelItem {
  b: Broadcast;
  msg: Uint8Array;
  id: number;
  transmits: number;
  name: string;
  kind: Kind;
}

class ModelQueue {
  items: ModelItem[] = [];
  idGen = 0;
  numNodes = 1;
  retransmitMult = 1;
  maxQueued = Infinity;

  sort(): void {
    this.items.sort((a, b) => a.transmits - b.transmits || b.msg.length - a.msg.length || b.id - a.id);
  }

  queue(b: Broadcast, transmits: number): void {
    const msg = b.message();
    let kind: Kind = PLAIN;
    let name = "";
    if ("name" in b && typeof b.name === "function") {
      kind = NAMED;
      name = (b as NamedBroadcast).name();
    } else if ("uniqueBroadcast" in b) {
      kind = UNIQUE;
    }
    const gone: ModelItem[] = [];
    this.sort();
    if (name !== "") {
      gone.push(...this.items.filter((x) => x.name === name));
    } else if (kind !== UNIQUE) {
      gone.push(...this.items.filter((x) => x.kind === PLAIN && b.invalidates?.(x.b) === true));
    }
    this.items = this.items.filter((x) => !gone.includes(x));
    if (this.items.length === 0) this.idGen = 0;
    this.items.push({ b, msg, id: ++this.idGen, transmits, name, kind });
    this.sort();
    while (this.items.length > this.maxQueued) gone.push(this.items.pop()!);
    for (const x of gone) x.b.finished?.();
  }

  get(overhead: number, limit: number): Uint8Array[] {
    if (this.items.length === 0) return [];
    const n = this.numNodes;
    const transmitLimit = n > 0 ? this.retransmitMult * Math.ceil(Math.log10(n + 1)) : 0;
    this.sort();
    const taken: ModelItem[] = [];
    let used = 0;
    const minT = this.items[0]!.transmits;
    const maxT = this.items[this.items.length - 1]!.transmits;
    outer: for (let t = minT; t <= maxT; t++) {
      for (;;) {
        const free = limit - used - overhead;
        if (free <= 0) break outer;
        const pick = this.items.find((x) => x.transmits === t && x.msg.length <= free && !taken.includes(x));
        if (pick === undefined) break;
        taken.push(pick);
        used += overhead + pick.msg.length;
      }
    }
    const gone: ModelItem[] = [];
    for (const x of taken) {
      if (x.transmits + 1 >= transmitLimit) gone.push(x);
      else x.transmits++;
    }
    this.items = this.items.filter((x) => !gone.includes(x));
    this.sort();
    for (const x of gone) x.b.finished?.();
    return taken.map((x) => x.msg);
  }

  prune(max: number): void {
    this.sort();
    const gone: ModelItem[] = [];
    while (this.items.length > max) gone.push(this.items.pop()!);
    for (const x of gone) x.b.finished?.();
  }

  reset(): void {
    this.sort();
    const gone = this.items;
    this.items = [];
    this.idGen = 0;
    for (const x of gone) x.b.finished?.();
  }
}

/** mulberry32: a small seeded PRNG, so failures can be replayed. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** What one random broadcast is; built twice, once for each queue. */
interface Spec {
  label: string;
  length: number;
  kind: Kind;
  name: string;
  key: number;
}

/** A plain broadcast that invalidates queued plain ones with the same key. */
class Keyed implements Broadcast {
  key: number;
  msg: Uint8Array;
  onFinished: () => void;
  constructor(key: number, msg: Uint8Array, onFinished: () => void) {
    this.key = key;
    this.msg = msg;
    this.onFinished = onFinished;
  }
  invalidates(other: Broadcast): boolean {
    return other instanceof Keyed && other.key === this.key;
  }
  message(): Uint8Array {
    return this.msg;
  }
  finished(): void {
    this.onFinished();
  }
}

function build(
  spec: Spec,
  labels: Map<Uint8Array, string>,
  log: string[],
): Broadcast | NamedBroadcast | UniqueBroadcast {
  const msg = new Uint8Array(spec.length);
  labels.set(msg, spec.label);
  const finished = () => log.push(spec.label);
  switch (spec.kind) {
    case NAMED:
      return { name: () => spec.name, message: () => msg, finished, invalidates: () => true };
    case UNIQUE:
      return { uniqueBroadcast() {}, message: () => msg, finished, invalidates: () => true };
    default:
      return new Keyed(spec.key, msg, finished);
  }
}

/** Knobs of {@linkcode runModel}; the defaults keep the queue short and busy. */
interface ModelRun {
  seed: number;
  steps: number;
  /** Share of steps forced to queue a broadcast, to grow the queue. */
  extraQueueing?: number;
  /** Upper bound of the random `maxQueued` values. */
  maxQueuedMax?: number;
  /** How many distinct names (and a third as many plain keys) to draw from. */
  names?: number;
  /** No reset() and no deep prune() calls. */
  gentle?: boolean;
}

/**
 * Runs random operations on the queue and on the model, comparing them after
 * each. Returns the largest queue length seen.
 */
function runModel(run: ModelRun): number {
  const { seed, steps, extraQueueing = 0, maxQueuedMax = 65, names = 25, gentle = false } = run;
  const rand = prng(seed);
  const int = (n: number) => Math.floor(rand() * n);
  const labels = new Map<Uint8Array, string>();
  const realLog: string[] = [];
  const modelLog: string[] = [];
  const finishedCount = new Map<string, number>();
  let numNodes = 1 + int(100);
  const real = new TransmitLimitedQueue({ numNodes: () => numNodes, retransmitMult: 1 + int(3) });
  const model = new ModelQueue();
  model.retransmitMult = real.retransmitMult;
  model.numNodes = numNodes;
  let serial = 0;
  let largest = 0;

  const view = (q: TransmitLimitedQueue) =>
    q.orderedView().map((x) => [labels.get(x.broadcast.message()), x.transmits, x.id]);
  const modelView = () => model.items.map((x) => [labels.get(x.msg), x.transmits, x.id]);

  for (let step = 0; step < steps; step++) {
    const where = `seed ${seed}, step ${step}`;
    const r = rand() < extraQueueing ? 0 : rand();
    if (r < 0.55) {
      const roll = rand();
      const kind: Kind = roll < 0.5 ? NAMED : roll < 0.85 ? PLAIN : UNIQUE;
      const spec: Spec = {
        label: `#${serial++}`,
        length: int(4) === 0 ? int(60) : 10 + int(5),
        kind,
        name: kind === NAMED && int(20) > 0 ? `n${int(names)}` : "",
        key: int(Math.ceil(names / 3)),
      };
      finishedCount.set(spec.label, 0);
      const transmits = int(10) === 0 ? int(6) : 0;
      const a = build(spec, labels, realLog);
      const b = build(spec, labels, modelLog);
      if (transmits === 0) real.queueBroadcast(a);
      else queueBroadcastAt(real, { broadcast: a, transmits });
      model.queue(b, transmits);
    } else if (r < 0.9) {
      const overhead = int(4);
      const limit = int(10) === 0 ? int(20) : 20 + int(150);
      const got = real.getBroadcasts(overhead, limit).map((m) => labels.get(m));
      const want = model.get(overhead, limit).map((m) => labels.get(m));
      assert.deepEqual(got, want, where);
    } else if (r < 0.93) {
      const n = real.numQueued();
      const max = !gentle && int(3) === 0 ? int(n + 3) : Math.max(0, n - int(20));
      real.prune(max);
      model.prune(max);
    } else if (r < 0.935 && !gentle) {
      real.reset();
      model.reset();
    } else if (r < 0.96) {
      numNodes = int(3000);
      model.numNodes = numNodes;
    } else if (r < 0.97) {
      real.retransmitMult = model.retransmitMult = int(5);
    } else {
      real.maxQueued = model.maxQueued = int(4) === 0 ? Infinity : 5 + int(maxQueuedMax - 5);
    }
    largest = Math.max(largest, real.numQueued());
    assert.deepEqual(view(real), modelView(), where);
    assert.deepEqual(realLog, modelLog, where);
  }
  // Every broadcast that left the queue was finished exactly once; none still queued was.
  real.reset();
  model.reset();
  assert.deepEqual(realLog, modelLog);
  for (const label of realLog) finishedCount.set(label, finishedCount.get(label)! + 1);
  for (const [label, count] of finishedCount) assert.equal(count, 1, `${label} finished ${count} times`);
  return largest;
}

describe("TransmitLimitedQueue against a reference model", () => {
  it("matches a sorted-array model over thousands of random operations", () => {
    for (const seed of [1, 2, 3, 42, 2024]) runModel({ seed, steps: 3000 });
  });

  it("matches the model with hundreds of broadcasts queued", () => {
    // Large enough to split and merge the queue's internal leaves.
    const largest = runModel({
      seed: 99,
      steps: 3000,
      extraQueueing: 0.5,
      maxQueuedMax: 2000,
      names: 3000,
      gentle: true,
    });
    assert.ok(largest > 300, `largest queue ${largest}`);
  });

  it("getBroadcasts() never exceeds the limit nor returns a message twice, with or without a share", () => {
    const rand = prng(7);
    const int = (n: number) => Math.floor(rand() * n);
    const queue = new TransmitLimitedQueue({ numNodes: () => 50, retransmitMult: 3 });
    for (let round = 0; round < 2000; round++) {
      for (let i = int(6); i > 0; i--) {
        const roll = int(3);
        const msg = new Uint8Array(int(80));
        if (roll === 0) queue.queueBroadcast({ name: () => `n${int(40)}`, message: () => msg });
        else if (roll === 1) queue.queueBroadcast({ uniqueBroadcast() {}, message: () => msg });
        else queue.queueBroadcast({ message: () => msg });
      }
      const overhead = int(5);
      const limit = int(300);
      // Half the rounds share the packet with another source that takes part of what it is offered.
      let filled = 0;
      const share = round % 2 === 0 ? undefined : {
        reserve: int(limit + 1),
        fill: (avail: number) => (filled = Math.min(avail, int(120))),
      };
      const out = queue.getBroadcasts(overhead, limit, share);
      const used = out.reduce((n, m) => n + overhead + m.length, 0) + filled;
      assert.ok(used <= limit, `used ${used} of ${limit}`);
      assert.equal(new Set(out).size, out.length, "a message was returned twice");
    }
  });
});
