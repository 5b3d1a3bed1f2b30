// Copyright (c) memberlist-ts authors. SPDX-License-Identifier: MPL-2.0
/**
 * The transmit-limited broadcast queue (Go `queue.go`, spec §10.1 and §13.7).
 *
 * memberlist keeps its own alive, suspect and dead messages in one of these
 * queues, and applications keep their own broadcasts in another one, which
 * their delegate's `getBroadcasts()` drains. The queue decides which messages
 * fill each outgoing packet and how many times each message is handed out.
 *
 * @module
 */

import { retransmitLimit } from "./util.ts";

/**
 * Something that can be spread through the cluster by gossip (Go `Broadcast`).
 *
 * Add a `name()` method to make it a {@linkcode NamedBroadcast}, or a
 * `uniqueBroadcast()` method to make it a {@linkcode UniqueBroadcast}; the
 * queue looks for those methods to decide how a new broadcast replaces queued
 * ones.
 *
 * @example Usage
 * ```ts
 * import { type Broadcast, TransmitLimitedQueue } from "@gossip/memberlist";
 * import assert from "node:assert/strict";
 *
 * const queue = new TransmitLimitedQueue({ numNodes: () => 3, retransmitMult: 1 });
 * const hello: Broadcast = { message: () => new TextEncoder().encode("hello") };
 * queue.queueBroadcast(hello);
 * assert.deepEqual(queue.getBroadcasts(0, 100).map((b) => new TextDecoder().decode(b)), ["hello"]);
 * ```
 */
export interface Broadcast {
  /**
   * Reports whether queueing this broadcast makes the queued broadcast `other`
   * obsolete, so that `other` is dropped. Only asked of plain broadcasts (not
   * named, not unique), and only about other plain broadcasts. Omitted means
   * `false`.
   *
   * @param other A broadcast already in the queue.
   * @returns `true` to drop `other` (its `finished()` is then called).
   */
  invalidates?(other: Broadcast): boolean;

  /**
   * Returns the encoded message. The queue calls this once, when the
   * broadcast is queued, and sends those same bytes every time.
   *
   * @returns The message bytes.
   */
  message(): Uint8Array;

  /**
   * Called once when the queue lets go of the broadcast: it was handed out
   * as many times as the retransmit limit allows, or it was replaced,
   * invalidated, pruned or reset. Omitted means nothing to do.
   */
  finished?(): void;
}

/**
 * A broadcast with a name (Go `NamedBroadcast`). Queueing it drops a queued
 * broadcast with the same name, without asking `invalidates()`; this is how
 * memberlist keeps at most one message per node in its queue. An empty name
 * counts as no name: such a broadcast is checked against plain broadcasts with
 * `invalidates()` instead.
 *
 * Its `invalidates()` should agree with the names (true for another
 * NamedBroadcast of the same name), though the queue does not call it today.
 *
 * @example Usage
 * ```ts
 * import { type NamedBroadcast, TransmitLimitedQueue } from "@gossip/memberlist";
 * import assert from "node:assert/strict";
 *
 * const queue = new TransmitLimitedQueue({ numNodes: () => 3, retransmitMult: 1 });
 * const update = (v: string): NamedBroadcast => ({ name: () => "config", message: () => new TextEncoder().encode(v) });
 * queue.queueBroadcast(update("v1"));
 * queue.queueBroadcast(update("v2")); // replaces v1: same name
 * assert.deepEqual(queue.getBroadcasts(0, 100).map((b) => new TextDecoder().decode(b)), ["v2"]);
 * ```
 */
export interface NamedBroadcast extends Broadcast {
  /**
   * Returns the name that identifies what the message is about.
   *
   * @returns The name; read once, when the broadcast is queued.
   */
  name(): string;
}

/**
 * A broadcast that never replaces or is replaced by another one (Go
 * `UniqueBroadcast`), so queueing it skips the invalidation scan. Its
 * `invalidates()` should return `false`.
 *
 * @example Usage
 * ```ts
 * import { TransmitLimitedQueue, type UniqueBroadcast } from "@gossip/memberlist";
 * import assert from "node:assert/strict";
 *
 * const queue = new TransmitLimitedQueue({ numNodes: () => 3, retransmitMult: 1 });
 * const event = (text: string): UniqueBroadcast => ({
 *   message: () => new TextEncoder().encode(text),
 *   invalidates: () => false,
 *   uniqueBroadcast() {},
 * });
 * queue.queueBroadcast(event("a"));
 * queue.queueBroadcast(event("b"));
 * assert.equal(queue.numQueued(), 2);
 * ```
 */
export interface UniqueBroadcast extends Broadcast {
  /** Marker method, never called: its presence makes the broadcast unique. */
  uniqueBroadcast(): void;
}

/**
 * Options of {@linkcode TransmitLimitedQueue}.
 *
 * @example Usage
 * ```ts
 * import { TransmitLimitedQueue, type TransmitLimitedQueueOptions } from "@gossip/memberlist";
 * import assert from "node:assert/strict";
 *
 * const options: TransmitLimitedQueueOptions = { numNodes: () => 10, retransmitMult: 4 };
 * const queue = new TransmitLimitedQueue(options);
 * assert.equal(queue.numQueued(), 0);
 * ```
 */
export interface TransmitLimitedQueueOptions {
  /**
   * Returns the estimated number of nodes in the cluster; the retransmit
   * limit grows with its logarithm. Called once per `getBroadcasts()` on a
   * non-empty queue; a result below 1 (or NaN) counts as 0. Go field
   * `NumNodes`.
   */
  numNodes: () => number;
  /**
   * Multiplier of the retransmit limit, a non-negative integer: a message is
   * handed out at most `retransmitMult × ceil(log10(numNodes() + 1))` times.
   * memberlist uses its config's `retransmitMult` (4 on a LAN). Go field
   * `RetransmitMult`.
   */
  retransmitMult: number;
  /**
   * Most broadcasts the queue holds. When a new broadcast takes it above this,
   * the queue drops what `prune(maxQueued)` would drop. Not in Go, where the
   * queue can grow without bound.
   *
   * @default {Infinity}
   */
  maxQueued?: number | undefined;
}

/**
 * Space of a packet that {@linkcode TransmitLimitedQueue.getBroadcasts} keeps
 * for another source of messages.
 *
 * @example Usage
 * ```ts
 * import { type BroadcastShare, TransmitLimitedQueue } from "@gossip/memberlist";
 * import assert from "node:assert/strict";
 *
 * const queue = new TransmitLimitedQueue({ numNodes: () => 3, retransmitMult: 1 });
 * queue.queueBroadcast({ message: () => new Uint8Array(10) });
 * let offered = 0;
 * const share: BroadcastShare = { reserve: 20, fill: (avail) => ((offered = avail), 0) };
 * assert.equal(queue.getBroadcasts(2, 100, share).length, 1);
 * assert.ok(offered > 0);
 * ```
 */
export interface BroadcastShare {
  /** Bytes the queue leaves free after its first message, until `fill` is called (below 0 counts as 0). */
  readonly reserve: number;
  /**
   * Adds the other source's messages to the packet.
   *
   * @param avail Bytes left in the packet.
   * @returns Bytes those messages take, overheads included.
   */
  fill(avail: number): number;
}

/**
 * One queued broadcast as seen by {@linkcode TransmitLimitedQueue.orderedView}.
 *
 * @example Usage
 * ```ts
 * import { type QueuedBroadcast, TransmitLimitedQueue } from "@gossip/memberlist";
 * import assert from "node:assert/strict";
 *
 * const queue = new TransmitLimitedQueue({ numNodes: () => 3, retransmitMult: 1 });
 * queue.queueBroadcast({ message: () => new Uint8Array(7) });
 * const [first]: QueuedBroadcast[] = queue.orderedView(false);
 * assert.equal(first!.length, 7);
 * assert.equal(first!.transmits, 0);
 * ```
 */
export interface QueuedBroadcast {
  /** The broadcast as it was queued. */
  readonly broadcast: Broadcast;
  /** How many times `getBroadcasts()` has handed it out so far. */
  readonly transmits: number;
  /** Length of its message in bytes. */
  readonly length: number;
  /** Sequence number given when queued; larger is newer. */
  readonly id: number;
}

const PLAIN = 0;
const NAMED = 1;
const UNIQUE = 2;
type Kind = typeof PLAIN | typeof NAMED | typeof UNIQUE;

/** One queued broadcast. Its sort key is (transmits ↑, length ↓, id ↓). */
interface Item {
  readonly broadcast: Broadcast;
  /** `broadcast.message()`, read when queued. */
  readonly msg: Uint8Array;
  readonly length: number;
  /** Unique among the queued items (see `#nextId`). */
  readonly id: number;
  transmits: number;
  /** The name of a NamedBroadcast, "" otherwise (or when the name is empty). */
  readonly name: string;
  readonly kind: Kind;
}

/** Queue order: fewer transmits first, then longer messages, then newer. */
function compare(a: Item, b: Item): number {
  return a.transmits - b.transmits || b.length - a.length || b.id - a.id;
}

/**
 * Whether `x` comes at or after the first item of tier `transmits` that is at
 * most `free` bytes long. Monotone in queue order.
 */
function atOrAfterFit(x: Item, transmits: number, free: number): boolean {
  return x.transmits > transmits || (x.transmits === transmits && x.length <= free);
}

/** Leaf size bounds of {@linkcode SortedItems}. */
const LEAF_MAX = 128;
const LEAF_MIN = 32;

/**
 * The queued items in queue order, as a list of sorted leaves (a flat,
 * two-level B+ tree). Search is two binary searches; insertion and removal
 * move at most `LEAF_MAX` items plus one slot per leaf, so every operation
 * stays cheap with tens of thousands of items.
 */
class SortedItems {
  /** Non-empty sorted arrays; their concatenation is in queue order. */
  #leaves: Item[][] = [];
  #size = 0;

  get size(): number {
    return this.#size;
  }

  first(): Item | undefined {
    return this.#leaves[0]?.[0];
  }

  last(): Item | undefined {
    const leaf = this.#leaves[this.#leaves.length - 1];
    return leaf?.[leaf.length - 1];
  }

  /** Index of the first leaf whose last item is not before `item`. */
  #leafIndex(item: Item): number {
    const leaves = this.#leaves;
    let lo = 0;
    let hi = leaves.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const leaf = leaves[mid]!;
      if (compare(leaf[leaf.length - 1]!, item) < 0) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  insert(item: Item): void {
    const leaves = this.#leaves;
    this.#size++;
    if (leaves.length === 0) {
      leaves.push([item]);
      return;
    }
    let li = this.#leafIndex(item);
    if (li === leaves.length) li--;
    const leaf = leaves[li]!;
    leaf.splice(lowerBound(leaf, item), 0, item);
    if (leaf.length > LEAF_MAX) leaves.splice(li + 1, 0, leaf.splice(LEAF_MAX >>> 1));
  }

  /** Removes `item`; returns `false` when it is not in the list. */
  delete(item: Item): boolean {
    const leaves = this.#leaves;
    const li = this.#leafIndex(item);
    const leaf = leaves[li];
    if (leaf === undefined) return false;
    const pos = lowerBound(leaf, item);
    if (leaf[pos] !== item) return false;
    leaf.splice(pos, 1);
    this.#size--;
    if (leaf.length === 0) {
      leaves.splice(li, 1);
    } else if (leaf.length < LEAF_MIN) {
      const next = leaves[li + 1];
      const prev = leaves[li - 1];
      if (next !== undefined && leaf.length + next.length <= LEAF_MAX) {
        for (const x of next) leaf.push(x);
        leaves.splice(li + 1, 1);
      } else if (prev !== undefined && prev.length + leaf.length <= LEAF_MAX) {
        for (const x of leaf) prev.push(x);
        leaves.splice(li, 1);
      }
    }
    return true;
  }

  /**
   * The first item in queue order that is in a tier above `transmits`, or in
   * tier `transmits` and at most `free` bytes long (Go's AscendRange from
   * `{transmits, free, MaxInt64}`).
   */
  firstFit(transmits: number, free: number): Item | undefined {
    const leaves = this.#leaves;
    let lo = 0;
    let hi = leaves.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const leaf = leaves[mid]!;
      if (atOrAfterFit(leaf[leaf.length - 1]!, transmits, free)) hi = mid;
      else lo = mid + 1;
    }
    const leaf = leaves[lo];
    if (leaf === undefined) return undefined;
    let a = 0;
    let b = leaf.length - 1; // the last item qualifies
    while (a < b) {
      const mid = (a + b) >>> 1;
      if (atOrAfterFit(leaf[mid]!, transmits, free)) b = mid;
      else a = mid + 1;
    }
    return leaf[a];
  }

  /** All items in queue order, or reversed. */
  toArray(reverse: boolean): Item[] {
    const out: Item[] = [];
    for (const leaf of this.#leaves) for (const x of leaf) out.push(x);
    return reverse ? out.reverse() : out;
  }

  clear(): void {
    this.#leaves = [];
    this.#size = 0;
  }
}

/** Index of the first element of sorted `arr` that is not before `item`. */
function lowerBound(arr: readonly Item[], item: Item): number {
  let lo = 0;
  let hi = arr.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (compare(arr[mid]!, item) < 0) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function describeValue(value: unknown): string {
  if (value === null) return "null";
  if (typeof value === "number") return String(value);
  if (typeof value !== "object") return typeof value;
  return value.constructor?.name ?? "object";
}

function checkCount(value: unknown, name: string, action: string, allowInfinity = false): number {
  if (typeof value !== "number") {
    throw new TypeError(`Cannot ${action}: "${name}" must be a number, got ${describeValue(value)}`);
  }
  if (!(value >= 0 && (Number.isSafeInteger(value) || (allowInfinity && value === Infinity)))) {
    throw new RangeError(`Cannot ${action}: "${name}" must be a non-negative integer, got ${value}`);
  }
  return value;
}

function checkInteger(value: unknown, name: string, action: string): number {
  if (typeof value !== "number") {
    throw new TypeError(`Cannot ${action}: "${name}" must be a number, got ${describeValue(value)}`);
  }
  if (!Number.isSafeInteger(value)) {
    throw new RangeError(`Cannot ${action}: "${name}" must be an integer, got ${value}`);
  }
  return value;
}

/** Calls `finished()` on each item in order; rethrows the first error afterwards. */
function finishAll(items: readonly Item[]): void {
  let failed = false;
  let error: unknown;
  for (const item of items) {
    try {
      item.broadcast.finished?.();
    } catch (e) {
      if (!failed) {
        failed = true;
        error = e;
      }
    }
  }
  if (failed) throw error;
}

let enqueueAt: (queue: TransmitLimitedQueue, b: Broadcast, transmits: number) => void;

/**
 * A queue of broadcasts, each handed out a limited number of times, fewest
 * transmits first (Go `TransmitLimitedQueue`).
 *
 * **What "transmit" means.** Every message that `getBroadcasts()` returns
 * counts as one transmit of it, whether or not the packet arrives. memberlist
 * calls `getBroadcasts()` once per outgoing packet (each gossip packet, and
 * each ping or ack it piggybacks on), and each packet goes to one node. So the
 * retransmit limit caps how many nodes *this* node tells, not how many nodes
 * end up knowing: reaching the whole cluster relies on the receivers
 * queueing the message again (memberlist does this for its own messages; an
 * application must do it for its own, as Serf does). This is the answer to
 * Go issues #92 and #209.
 *
 * **The retransmit limit** is `retransmitMult × ceil(log10(numNodes() + 1))`,
 * worked out afresh at each `getBroadcasts()` call, and it counts every
 * transmit including the first: a message is handed out at most that many
 * times and then dropped (`finished()` is called). With `retransmitMult` 4:
 * 4 transmits for 1–9 nodes, 8 for 10–99, 12 for 100–999. A message is always
 * handed out at least once, even when the limit is 0 (`retransmitMult` 0, or
 * `numNodes()` returning 0): set `retransmitMult` to at least 1, as a
 * forgotten 0 means "tell one node" (cortex#4269).
 *
 * **Order.** Messages with fewer transmits go first, so fresh news spreads
 * before old news; among equals the longest message that still fits the
 * packet goes first, and among equal lengths the newest. A message is
 * returned at most once per `getBroadcasts()` call.
 *
 * **Replacement.** A new {@linkcode NamedBroadcast} replaces a queued one of
 * the same name. A new plain broadcast asks `invalidates()` about each queued
 * plain broadcast and drops those it invalidates. A
 * {@linkcode UniqueBroadcast} replaces nothing.
 *
 * **`finished()`** is called exactly once for each queued broadcast, when it
 * leaves the queue for any reason: retransmit limit reached, replaced,
 * invalidated, pruned, dropped by `maxQueued`, or `reset()`. It is called
 * after the queue is consistent again, so it may call back into the queue.
 * If a `finished()` throws, the others are still called, and the first error
 * is rethrown by the method that dropped the broadcasts.
 *
 * Differences from Go, with the same order otherwise: the optional
 * `maxQueued` bound; the message bytes are read once, at queueing; and ids
 * stay unique (Go can reuse an id still in the queue after its id generator
 * resets, and its B-tree then silently swaps one broadcast for another).
 *
 * @example Usage
 * ```ts
 * import { TransmitLimitedQueue } from "@gossip/memberlist";
 * import assert from "node:assert/strict";
 *
 * const bytes = (s: string) => new TextEncoder().encode(s);
 * const queue = new TransmitLimitedQueue({ numNodes: () => 5, retransmitMult: 2 });
 * queue.queueBroadcast({ message: () => bytes("hello") });
 * queue.queueBroadcast({ message: () => bytes("world!") });
 *
 * // 5 nodes: ceil(log10(6)) = 1, so each message goes out 2 × 1 = 2 times.
 * assert.equal(queue.getBroadcasts(2, 1400).length, 2);
 * assert.equal(queue.getBroadcasts(2, 1400).length, 2);
 * assert.equal(queue.getBroadcasts(2, 1400).length, 0);
 * assert.equal(queue.numQueued(), 0);
 * ```
 *
 * @example Named broadcasts replace each other
 * ```ts
 * import { type NamedBroadcast, TransmitLimitedQueue } from "@gossip/memberlist";
 * import assert from "node:assert/strict";
 *
 * const finished: string[] = [];
 * const update = (key: string, value: string): NamedBroadcast => ({
 *   name: () => key,
 *   message: () => new TextEncoder().encode(`${key}=${value}`),
 *   finished: () => finished.push(`${key}=${value}`),
 * });
 * const queue = new TransmitLimitedQueue({ numNodes: () => 3, retransmitMult: 4 });
 * queue.queueBroadcast(update("color", "red"));
 * queue.queueBroadcast(update("color", "blue"));
 * assert.equal(queue.numQueued(), 1);
 * assert.deepEqual(finished, ["color=red"]);
 * assert.deepEqual(queue.getBroadcasts(0, 100), [new TextEncoder().encode("color=blue")]);
 * ```
 */
export class TransmitLimitedQueue {
  /**
   * Returns the estimated number of nodes in the cluster (Go `NumNodes`).
   * Called once per `getBroadcasts()` on a non-empty queue; a result below 1
   * (or NaN) counts as 0.
   */
  numNodes: () => number;
  /**
   * Multiplier of the retransmit limit (Go `RetransmitMult`); see the class
   * description. Read at each `getBroadcasts()`.
   */
  retransmitMult: number;
  /**
   * Most broadcasts the queue holds; checked at each `queueBroadcast()`.
   * Not in Go.
   *
   * @default {Infinity}
   */
  maxQueued: number;

  #items = new SortedItems();
  #byName = new Map<string, Item>();
  /** How many queued items are plain (neither named nor unique). */
  #plainCount = 0;
  #idGen = 0;

  static {
    enqueueAt = (queue, b, transmits) => queue.#enqueue(b, transmits);
  }

  /**
   * Creates an empty queue.
   *
   * @param options The cluster size estimate, the retransmit multiplier and
   * an optional bound on the queue length.
   * @throws {TypeError} When `numNodes` is not a function, or a number option
   * is not a number.
   * @throws {RangeError} When `retransmitMult` is not a non-negative integer,
   * or `maxQueued` is neither that nor `Infinity`.
   * @example Usage
   * ```ts
   * import { TransmitLimitedQueue } from "@gossip/memberlist";
   * import assert from "node:assert/strict";
   *
   * const members = ["a", "b", "c"];
   * const queue = new TransmitLimitedQueue({ numNodes: () => members.length, retransmitMult: 4 });
   * assert.equal(queue.retransmitMult, 4);
   * assert.equal(queue.numNodes(), 3);
   * assert.equal(queue.maxQueued, Infinity);
   * assert.throws(() => new TransmitLimitedQueue({ numNodes: () => 3, retransmitMult: -1 }), RangeError);
   * ```
   */
  constructor(options: TransmitLimitedQueueOptions) {
    const action = "create broadcast queue";
    if (typeof options?.numNodes !== "function") {
      throw new TypeError(
        `Cannot ${action}: "numNodes" must be a function, got ${describeValue(options?.numNodes)}`,
      );
    }
    this.numNodes = options.numNodes;
    this.retransmitMult = checkCount(options.retransmitMult, "retransmitMult", action);
    this.maxQueued = options.maxQueued === undefined
      ? Infinity
      : checkCount(options.maxQueued, "maxQueued", action, true);
  }

  /**
   * Adds a broadcast with no transmits yet (Go `QueueBroadcast`). A named
   * broadcast first drops a queued one of the same name; a plain one first
   * drops the queued plain broadcasts its `invalidates()` accepts; a unique
   * one drops nothing. Then, if the queue holds more than `maxQueued`
   * broadcasts, the excess is dropped as by `prune()`. Dropped broadcasts
   * get `finished()`.
   *
   * @param b The broadcast. Its `message()` (and `name()`) are read now.
   * The union type lets object literals with `name()` or `uniqueBroadcast()`
   * pass type checking.
   * @throws {TypeError} When `b` has no `message()` method, or it does not
   * return a Uint8Array, or `name()` does not return a string.
   * @throws {unknown} Whatever a dropped broadcast's `finished()` throws,
   * after the queue is updated.
   * @example Usage
   * ```ts
   * import { type Broadcast, TransmitLimitedQueue } from "@gossip/memberlist";
   * import assert from "node:assert/strict";
   *
   * // A plain broadcast that obsoletes older versions of the same key.
   * class Put implements Broadcast {
   *   key: string;
   *   version: number;
   *   constructor(key: string, version: number) {
   *     this.key = key;
   *     this.version = version;
   *   }
   *   invalidates(other: Broadcast): boolean {
   *     return other instanceof Put && other.key === this.key && other.version < this.version;
   *   }
   *   message(): Uint8Array {
   *     return new TextEncoder().encode(`${this.key}@${this.version}`);
   *   }
   * }
   * const queue = new TransmitLimitedQueue({ numNodes: () => 10, retransmitMult: 4 });
   * queue.queueBroadcast(new Put("x", 1));
   * queue.queueBroadcast(new Put("y", 1));
   * queue.queueBroadcast(new Put("x", 2));
   * assert.equal(queue.numQueued(), 2);
   * ```
   */
  queueBroadcast(b: Broadcast | NamedBroadcast | UniqueBroadcast): void {
    this.#enqueue(b, 0);
  }

  #enqueue(b: Broadcast, transmits: number): void {
    const action = "queue broadcast";
    if (typeof b?.message !== "function") {
      throw new TypeError(`Cannot ${action}: "message" must be a method, got ${describeValue(b?.message)}`);
    }
    const msg: unknown = b.message();
    if (!(msg instanceof Uint8Array)) {
      throw new TypeError(
        `Cannot ${action}: "message()" must return a Uint8Array, got ${describeValue(msg)}`,
      );
    }
    let kind: Kind = PLAIN;
    let name = "";
    if (typeof (b as Partial<NamedBroadcast>).name === "function") {
      kind = NAMED;
      const n: unknown = (b as NamedBroadcast).name();
      if (typeof n !== "string") {
        throw new TypeError(`Cannot ${action}: "name()" must return a string, got ${describeValue(n)}`);
      }
      name = n;
    } else if (typeof (b as Partial<UniqueBroadcast>).uniqueBroadcast === "function") {
      kind = UNIQUE;
    }

    const dropped: Item[] = [];
    if (name !== "") {
      const old = this.#byName.get(name);
      if (old !== undefined && this.#remove(old)) dropped.push(old);
    } else if (kind !== UNIQUE && this.#plainCount > 0 && typeof b.invalidates === "function") {
      // Go's slow path: offer every queued plain broadcast, in queue order.
      // Named and unique ones (even with an empty name) are never offered.
      for (const cur of this.#items.toArray(false)) {
        if (cur.kind === PLAIN && b.invalidates(cur.broadcast) && this.#remove(cur)) dropped.push(cur);
      }
    }

    this.#add({ broadcast: b, msg, length: msg.length, id: this.#nextId(), transmits, name, kind });

    const items = this.#items;
    while (items.size > this.maxQueued) {
      const last = items.last()!;
      this.#remove(last);
      dropped.push(last);
    }
    finishAll(dropped);
  }

  /**
   * The next id. The generator restarts at 1 whenever the queue is empty, as
   * in Go; unlike Go it is not reset while items are still queued (Go resets
   * it when a scan empties the queue for a moment, or when a replacement
   * empties it before the new item is added), so no two items share an id.
   */
  #nextId(): number {
    if (this.#items.size === 0) this.#idGen = 0;
    this.#idGen = this.#idGen >= Number.MAX_SAFE_INTEGER ? 1 : this.#idGen + 1;
    return this.#idGen;
  }

  #add(item: Item): void {
    this.#items.insert(item);
    if (item.name !== "") this.#byName.set(item.name, item);
    if (item.kind === PLAIN) this.#plainCount++;
  }

  /** Removes `item` if it is queued; returns whether it was. */
  #remove(item: Item): boolean {
    if (!this.#items.delete(item)) return false;
    if (item.name !== "" && this.#byName.get(item.name) === item) this.#byName.delete(item.name);
    if (item.kind === PLAIN) this.#plainCount--;
    return true;
  }

  /**
   * Takes messages for one packet (Go `GetBroadcasts`): each message costs
   * `overhead + length` bytes and the total stays within `limit`.
   *
   * Tiers of equal transmit count are visited from the fewest transmits up.
   * Within a tier, the first message in queue order (longest, then newest)
   * that fits the space left is taken, again and again, until none fits;
   * then the next tier. It stops when no space is left. Each message taken
   * counts one transmit: those that reach the retransmit limit are dropped
   * (`finished()` called), the others move to the next tier once the scan
   * is over, so no message is taken twice in one call.
   *
   * With `share`, the packet is shared with another source of messages
   * (memberlist uses it for the delegate's user broadcasts): after the first
   * message, the queue fills only up to `limit - share.reserve`, then calls
   * `share.fill(bytesLeft)` once, which adds its own messages and returns the
   * bytes they take, and then the queue fills whatever space is left. So
   * neither side can starve the other, and neither wastes space the other does
   * not use. `fill` is called even when the queue is empty.
   *
   * @param overhead Bytes added to each message in the packet (memberlist
   * uses 2, the compound message's length prefix).
   * @param limit Bytes available in the packet.
   * @param share Space kept for another source, and the call that fills it.
   * @returns The messages, in the order taken; the arrays the broadcasts
   * gave, not copies. Empty when nothing fits or the queue is empty.
   * @throws {TypeError} When `overhead` or `limit` is not a number.
   * @throws {RangeError} When `overhead` or `limit` is not an integer.
   * @throws {unknown} Whatever `numNodes()` throws (nothing is taken then),
   * what a dropped broadcast's `finished()` throws (after the queue is
   * updated; the messages taken are lost with the return value), or what
   * `share.fill()` throws.
   * @throws {RangeError} When `share.fill()` returns something other than a
   * number >= 0.
   * @example Usage
   * ```ts
   * import { TransmitLimitedQueue } from "@gossip/memberlist";
   * import assert from "node:assert/strict";
   *
   * const queue = new TransmitLimitedQueue({ numNodes: () => 10, retransmitMult: 4 });
   * for (const size of [10, 30, 20]) queue.queueBroadcast({ message: () => new Uint8Array(size) });
   *
   * // 2 bytes of overhead each: 32 + 22 = 54 bytes fit in 60, the 10-byte one does not.
   * const packet = queue.getBroadcasts(2, 60);
   * assert.deepEqual(packet.map((m) => m.length), [30, 20]);
   * // Next time the untransmitted message goes first.
   * assert.deepEqual(queue.getBroadcasts(2, 60).map((m) => m.length), [10, 30]);
   *
   * // Keep 25 of 60 bytes for other messages: after its first message the queue
   * // stops short of them, lets fill() use what is left, then fills the rest
   * // (here the 30-byte message no longer fits).
   * const others: number[] = [];
   * const shared = queue.getBroadcasts(2, 60, {
   *   reserve: 25,
   *   fill: (avail) => {
   *     others.push(avail);
   *     return 22; // one 20-byte message of our own, plus its overhead
   *   },
   * });
   * assert.deepEqual(shared.map((m) => m.length), [20, 10]);
   * assert.deepEqual(others, [26]);
   * ```
   */
  getBroadcasts(overhead: number, limit: number, share?: BroadcastShare): Uint8Array[] {
    const action = "get broadcasts";
    checkInteger(overhead, "overhead", action);
    checkInteger(limit, "limit", action);
    if (share !== undefined) checkInteger(share.reserve, "share.reserve", action);
    const items = this.#items;
    let first = items.first();
    if (first === undefined) {
      share?.fill(limit);
      return [];
    }

    // A negative or NaN estimate would give a NaN limit and immortal messages.
    const n = this.numNodes();
    const transmitLimit = retransmitLimit(this.retransmitMult, n > 0 ? n : 0);
    const out: Uint8Array[] = [];
    const moved: Item[] = [];
    const dropped: Item[] = [];
    let used = 0;
    let tier = first.transmits;
    // With a share, the first message may take the whole packet; the next ones stop short of the reserve.
    let cap = share === undefined ? limit : limit - Math.max(0, share.reserve);
    let filled = share === undefined;
    try {
      for (;;) {
        const free = (out.length === 0 ? limit : cap) - used - overhead;
        const cur = free > 0 ? items.firstFit(tier, free) : undefined;
        if (cur === undefined) {
          if (filled) break;
          // The other source's turn, then back to the queue for whatever space it left.
          filled = true;
          cap = limit;
          const took = share!.fill(limit - used);
          if (!(typeof took === "number" && took >= 0)) {
            throw new RangeError(`Cannot ${action}: share.fill() must return a number of bytes >= 0, got ${took}`);
          }
          used += took;
          first = items.first();
          if (first === undefined) break;
          tier = first.transmits;
          continue;
        }
        if (cur.transmits !== tier) {
          // Nothing left in this tier fits; the tiers in between are empty.
          tier = cur.transmits;
          continue;
        }
        out.push(cur.msg);
        used += overhead + cur.length;
        this.#remove(cur);
        if (cur.transmits + 1 >= transmitLimit) {
          dropped.push(cur);
        } else {
          cur.transmits++;
          moved.push(cur);
        }
      }
    } finally {
      // Taken messages count as transmitted even when fill() throws: the packet may still go out.
      for (const cur of moved) this.#add(cur);
      finishAll(dropped);
    }
    return out;
  }

  /**
   * Returns how many broadcasts are queued (Go `NumQueued`).
   *
   * @returns The number of queued broadcasts.
   * @example Usage
   * ```ts
   * import { TransmitLimitedQueue } from "@gossip/memberlist";
   * import assert from "node:assert/strict";
   *
   * const queue = new TransmitLimitedQueue({ numNodes: () => 1, retransmitMult: 1 });
   * assert.equal(queue.numQueued(), 0);
   * queue.queueBroadcast({ message: () => new Uint8Array(1) });
   * assert.equal(queue.numQueued(), 1);
   * ```
   */
  numQueued(): number {
    return this.#items.size;
  }

  /**
   * Drops broadcasts until at most `maxRetain` are left, starting from the
   * end of the queue order: most transmits first, then the shortest, then
   * the oldest (Go `Prune`). Each dropped broadcast gets `finished()`.
   * Applications can call it now and then to bound the queue; memberlist
   * itself never prunes its own queue.
   *
   * @param maxRetain How many broadcasts to keep.
   * @throws {TypeError} When `maxRetain` is not a number.
   * @throws {RangeError} When `maxRetain` is not a non-negative integer (Go
   * treats a negative count as 0).
   * @throws {unknown} Whatever a dropped broadcast's `finished()` throws,
   * after the queue is updated.
   * @example Usage
   * ```ts
   * import { TransmitLimitedQueue } from "@gossip/memberlist";
   * import assert from "node:assert/strict";
   *
   * const queue = new TransmitLimitedQueue({ numNodes: () => 10, retransmitMult: 4 });
   * const bytes = (s: string) => new TextEncoder().encode(s);
   * queue.queueBroadcast({ message: () => bytes("old") });
   * queue.getBroadcasts(0, 100); // "old" now has one transmit
   * queue.queueBroadcast({ message: () => bytes("new") });
   * queue.prune(1);
   * assert.deepEqual(queue.getBroadcasts(0, 100), [bytes("new")]);
   * ```
   */
  prune(maxRetain: number): void {
    checkCount(maxRetain, "maxRetain", "prune broadcast queue");
    const items = this.#items;
    const dropped: Item[] = [];
    while (items.size > maxRetain) {
      const last = items.last()!;
      this.#remove(last);
      dropped.push(last);
    }
    finishAll(dropped);
  }

  /**
   * Drops every queued broadcast, calling `finished()` on each in queue
   * order, and restarts the id generator (Go `Reset`, which Go meant for
   * tests).
   *
   * @throws {unknown} Whatever a `finished()` throws, after the queue is
   * emptied.
   * @example Usage
   * ```ts
   * import { TransmitLimitedQueue } from "@gossip/memberlist";
   * import assert from "node:assert/strict";
   *
   * let finished = 0;
   * const queue = new TransmitLimitedQueue({ numNodes: () => 10, retransmitMult: 4 });
   * queue.queueBroadcast({ message: () => new Uint8Array(4), finished: () => finished++ });
   * queue.reset();
   * assert.equal(queue.numQueued(), 0);
   * assert.equal(finished, 1);
   * ```
   */
  reset(): void {
    const all = this.#items.toArray(false);
    this.#items.clear();
    this.#byName.clear();
    this.#plainCount = 0;
    this.#idGen = 0;
    finishAll(all);
  }

  /**
   * Lists the queued broadcasts with their transmit counts, in queue order
   * (the next to be sent first) or reversed (Go's test-only `orderedView`).
   * Meant for tests, debugging and metrics; the list is a copy.
   *
   * @param reverse List from the end of the queue order instead.
   * @returns One entry per queued broadcast.
   * @example Usage
   * ```ts
   * import { TransmitLimitedQueue } from "@gossip/memberlist";
   * import assert from "node:assert/strict";
   *
   * const queue = new TransmitLimitedQueue({ numNodes: () => 10, retransmitMult: 4 });
   * queue.queueBroadcast({ message: () => new Uint8Array(3) });
   * queue.queueBroadcast({ message: () => new Uint8Array(5) });
   * const view = queue.orderedView();
   * assert.deepEqual(view.map((q) => [q.transmits, q.length, q.id]), [[0, 5, 2], [0, 3, 1]]);
   * ```
   */
  orderedView(reverse: boolean = false): QueuedBroadcast[] {
    return this.#items.toArray(reverse).map((x) => ({
      broadcast: x.broadcast,
      transmits: x.transmits,
      length: x.length,
      id: x.id,
    }));
  }
}

/**
 * Queues `b` as if it had already been handed out `transmits` times (Go's
 * unexported `queueBroadcast(b, initialTransmits)`). For tests only; not
 * exported from mod.ts.
 *
 * @param queue The queue.
 * @param entry The broadcast and its starting transmit count.
 * @throws {TypeError} As {@linkcode TransmitLimitedQueue.queueBroadcast}, or
 * when `transmits` is not a number.
 * @throws {RangeError} When `transmits` is not a non-negative integer.
 */
export function queueBroadcastAt(
  queue: TransmitLimitedQueue,
  entry: { broadcast: Broadcast | NamedBroadcast | UniqueBroadcast; transmits: number },
): void {
  enqueueAt(queue, entry.broadcast, checkCount(entry.transmits, "transmits", "queue broadcast"));
}
