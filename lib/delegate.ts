// Copyright (c) memberlist-ts authors. SPDX-License-Identifier: MPL-2.0
/**
 * The hooks through which an application takes part in memberlist (Go's
 * `delegate.go`, `event_delegate.go`, `conflict_delegate.go`,
 * `merge_delegate.go`, `alive_delegate.go` and `ping_delegate.go`, in one
 * file). Each is a plain object given in the configuration (`delegate`,
 * `events`, `conflict`, `merge`, `alive`, `ping`), and every method is
 * optional: leave out what you do not need.
 *
 * Rules shared by all of them:
 *
 * - **Return quickly.** Most methods run on the receive path, inside the
 *   handling of one packet or stream; a slow method delays probes and acks and
 *   can get healthy nodes suspected. Hand long work to a queue of your own.
 *   Returning a promise does not help: it is not awaited.
 * - **Methods are called as methods** (`delegate.notifyMsg(msg)`), so a class
 *   instance can be passed and `this` works.
 * - **Throwing** is caught, logged through the configured `logger` at error
 *   level, and treated as if the method had returned nothing, except where a
 *   method says otherwise: a throw from {@linkcode MergeDelegate.notifyMerge}
 *   refuses the merge, a throw from {@linkcode AliveDelegate.notifyAlive} drops
 *   the alive message (both as Go's returned error does), and a throw from
 *   {@linkcode Delegate.nodeMeta} fails `Memberlist.create()` or
 *   `updateNode()`.
 * - **Node values are snapshots**: frozen, never changed afterwards.
 *
 * @example A delegate object
 * ```ts
 * import type { Delegate, EventDelegate } from "@gossip/memberlist";
 * import assert from "node:assert/strict";
 *
 * const meta = new TextEncoder().encode("zone=a");
 * const inbox: Uint8Array[] = [];
 * const delegate: Delegate = {
 *   nodeMeta: (limit) => meta.subarray(0, limit),
 *   notifyMsg: (msg) => {
 *     inbox.push(msg);
 *   },
 * };
 * const joined: string[] = [];
 * const events: EventDelegate = {
 *   notifyJoin: (node) => {
 *     joined.push(node.name);
 *   },
 * };
 *
 * assert.deepEqual(delegate.nodeMeta?.(512), meta);
 * delegate.notifyMsg?.(new Uint8Array([1, 2, 3]));
 * assert.equal(inbox.length, 1);
 * assert.equal(events.notifyLeave, undefined);
 * ```
 *
 * @module
 */

import type { Node } from "./node.ts";

/**
 * The main application hook (Go `Delegate`): metadata about this node, user
 * messages, user broadcasts piggybacked on gossip, and application state
 * exchanged during push/pull.
 *
 * @example Usage
 * ```ts
 * import { defaultLocalConfig, Memberlist } from "@gossip/memberlist";
 * import { MockNetwork } from "@gossip/memberlist/transports/mock";
 * import assert from "node:assert/strict";
 * import type { Delegate } from "@gossip/memberlist";
 *
 * const net = new MockNetwork();
 * const got: string[] = [];
 * const delegate: Delegate = {
 *   nodeMeta: () => new TextEncoder().encode("role=web"),
 *   notifyMsg: (msg) => void got.push(new TextDecoder().decode(msg)),
 * };
 * const a = await Memberlist.create({ ...defaultLocalConfig(), name: "a", transport: net.newTransport("a"), delegate });
 * const b = await Memberlist.create({ ...defaultLocalConfig(), name: "b", transport: net.newTransport("b") });
 * await b.join([a.localNode().address]);
 * await b.sendReliable(a.localNode(), new TextEncoder().encode("hi"));
 * assert.equal(new TextDecoder().decode(b.members().find((n) => n.name === "a")!.meta), "role=web");
 * while (got.length === 0) await new Promise((r) => setTimeout(r, 5)); // delivered on a's side
 * assert.deepEqual(got, ["hi"]);
 * await Promise.all([a.shutdown(), b.shutdown()]);
 * ```
 */
export interface Delegate {
  /**
   * Returns this node's metadata, which every other member sees as
   * `Node.meta` (Go `NodeMeta`). Called when the node is created and on each
   * `updateNode()`.
   *
   * Throwing, or returning more than `limit` bytes, fails `create()` or
   * `updateNode()` (Go panics on oversized metadata).
   *
   * @param limit The most bytes allowed: the configured `metaMaxSize`, 512 by default.
   * @returns The metadata, at most `limit` bytes.
   */
  nodeMeta?(limit: number): Uint8Array;

  /**
   * Receives one user message sent by another node with `sendBestEffort()`,
   * `sendReliable()` or a user broadcast (Go `NotifyMsg`). Called on the
   * receive path for every such message: return quickly. The array is a copy
   * that the method may keep. A throw is logged and the message is dropped.
   *
   * @param msg The message payload, without memberlist's framing.
   */
  notifyMsg?(msg: Uint8Array): void;

  /**
   * Supplies user broadcasts to piggyback on an outgoing packet (Go
   * `GetBroadcasts`). Called each time memberlist fills a packet with gossip:
   * on every gossip round and on every ping, indirect ping, ack and nack it
   * sends, after its own broadcasts have taken their share. Runs on the send and
   * receive paths: return quickly.
   *
   * Each returned message costs `overhead` bytes of framing besides its own
   * length, and the total, `Σ (length + overhead)`, must not exceed `limit`; a
   * `TransmitLimitedQueue` of your own does this bookkeeping. Empty messages
   * are skipped. A throw is logged and nothing is added.
   *
   * @param overhead Framing bytes each message costs.
   * @param limit The most bytes the returned messages may use, framing included.
   * @returns The messages to send; may be empty.
   */
  getBroadcasts?(overhead: number, limit: number): Uint8Array[];

  /**
   * Returns application state to send to the peer in a push/pull exchange,
   * alongside the membership table (Go `LocalState`). Called by both sides of
   * every push/pull: the periodic anti-entropy sync and each `join()`. The
   * peer receives it in {@linkcode Delegate.mergeRemoteState}. A throw is
   * logged and no state is sent.
   *
   * @param join True when the exchange is part of a join, false for the periodic sync.
   * @returns The state; may be empty.
   */
  localState?(join: boolean): Uint8Array;

  /**
   * Receives the application state a peer returned from its
   * {@linkcode Delegate.localState} (Go `MergeRemoteState`). Called after the
   * peer's membership table has been merged, and only when the peer sent a
   * non-empty state. Runs on the push/pull path: return quickly. A throw is
   * logged and ignored.
   *
   * @param buf The peer's state.
   * @param join True when the exchange is part of a join.
   */
  mergeRemoteState?(buf: Uint8Array, join: boolean): void;
}

/**
 * Notifications of membership changes (Go `EventDelegate`). The calls for one
 * node come in the order the changes happened. The same events are also
 * dispatched as `"join"`, `"leave"` and `"update"` events on the `Memberlist`.
 *
 * @example Usage
 * ```ts
 * import { defaultLocalConfig, Memberlist } from "@gossip/memberlist";
 * import { MockNetwork } from "@gossip/memberlist/transports/mock";
 * import assert from "node:assert/strict";
 * import type { EventDelegate } from "@gossip/memberlist";
 *
 * const net = new MockNetwork();
 * const joined: string[] = [];
 * const events: EventDelegate = { notifyJoin: (node) => void joined.push(node.name) };
 * const a = await Memberlist.create({ ...defaultLocalConfig(), name: "a", transport: net.newTransport("a"), events });
 * const b = await Memberlist.create({ ...defaultLocalConfig(), name: "b", transport: net.newTransport("b") });
 * await b.join([a.localNode().address]);
 * assert.deepEqual(joined, ["a", "b"]);
 * await Promise.all([a.shutdown(), b.shutdown()]);
 * ```
 */
export interface EventDelegate {
  /**
   * A node joined, or came back after being dead or having left (Go
   * `NotifyJoin`). Also called once for this node itself at creation. Runs on
   * the receive path: return quickly. A throw is logged and ignored.
   *
   * @param node The node.
   */
  notifyJoin?(node: Node): void;

  /**
   * A node left or was declared dead (Go `NotifyLeave`); `node.state` tells
   * which. Runs on the receive path or a timer: return quickly. A throw is
   * logged and ignored.
   *
   * @param node The node.
   */
  notifyLeave?(node: Node): void;

  /**
   * A live node changed its metadata (Go `NotifyUpdate`). Runs on the receive
   * path: return quickly. A throw is logged and ignored.
   *
   * @param node The node, with its new metadata.
   */
  notifyUpdate?(node: Node): void;
}

/**
 * Notification of name conflicts (Go `ConflictDelegate`): two nodes, at
 * different addresses, claim the same name.
 *
 * @example Usage
 * ```ts
 * import type { ConflictDelegate, Node } from "@gossip/memberlist";
 * import assert from "node:assert/strict";
 *
 * const conflicts: string[] = [];
 * const conflict: ConflictDelegate = {
 *   notifyConflict: (existing: Node, other: Node) => void conflicts.push(`${existing.address} vs ${other.address}`),
 * };
 * conflict.notifyConflict?.({ address: "10.0.0.1:7946" } as Node, { address: "10.0.0.2:7946" } as Node);
 * assert.deepEqual(conflicts, ["10.0.0.1:7946 vs 10.0.0.2:7946"]);
 * ```
 */
export interface ConflictDelegate {
  /**
   * Called when an alive message announces a known name at a different
   * address or port and the known node may not be replaced: it is alive or
   * suspect, or dead and `deadNodeReclaimTime` is 0 or has not passed yet (a
   * node that left can always be replaced). The message is dropped (Go
   * `NotifyConflict`). Runs on the receive path: return
   * quickly. A throw is logged and ignored.
   *
   * @param existing The node as currently known.
   * @param other The node the message describes; its protocol versions are not filled in (0).
   */
  notifyConflict?(existing: Node, other: Node): void;
}

/**
 * A veto over joins (Go `MergeDelegate`). Not consulted for the periodic
 * push/pull sync, only for exchanges that are part of a `join()`, on both
 * sides.
 *
 * @example Usage
 * ```ts
 * import { defaultLocalConfig, Memberlist } from "@gossip/memberlist";
 * import { MockNetwork } from "@gossip/memberlist/transports/mock";
 * import assert from "node:assert/strict";
 * import { JoinError, type MergeDelegate } from "@gossip/memberlist";
 *
 * const net = new MockNetwork();
 * // Refuse to merge with a cluster that has a node called "intruder".
 * const merge: MergeDelegate = {
 *   notifyMerge: (peers) => {
 *     if (peers.some((p) => p.name === "intruder")) throw new Error("refused");
 *   },
 * };
 * const a = await Memberlist.create({ ...defaultLocalConfig(), name: "intruder", transport: net.newTransport("a") });
 * const b = await Memberlist.create({ ...defaultLocalConfig(), name: "b", transport: net.newTransport("b"), merge });
 * await assert.rejects(b.join([a.localNode().address]), JoinError);
 * await Promise.all([a.shutdown(), b.shutdown()]);
 * ```
 */
export interface MergeDelegate {
  /**
   * Called with the peer's view of the cluster before it is merged into the
   * local table (Go `NotifyMerge`). **Throw to refuse the merge** (Go returns
   * an error): nothing from the peer is applied, and on the joining side that
   * join target counts as failed. Note that the responding side has already
   * sent its own state by then, so the other side may still learn about this
   * node. Runs on the push/pull path: return quickly.
   *
   * @param peers Every node in the peer's table, with its state and versions.
   */
  notifyMerge?(peers: Node[]): void;
}

/**
 * A filter on alive messages (Go `AliveDelegate`), to keep nodes out of the
 * cluster by application rules (wrong cluster ID in their metadata, say).
 *
 * @example Usage
 * ```ts
 * import { defaultLocalConfig, Memberlist } from "@gossip/memberlist";
 * import { MockNetwork } from "@gossip/memberlist/transports/mock";
 * import assert from "node:assert/strict";
 * import type { AliveDelegate } from "@gossip/memberlist";
 *
 * const net = new MockNetwork();
 * const seen: string[] = [];
 * const alive: AliveDelegate = { notifyAlive: (peer) => void seen.push(peer.name) };
 * const a = await Memberlist.create({ ...defaultLocalConfig(), name: "a", transport: net.newTransport("a"), alive });
 * const b = await Memberlist.create({ ...defaultLocalConfig(), name: "b", transport: net.newTransport("b") });
 * await b.join([a.localNode().address]);
 * assert.ok(seen.includes("b"));
 * await Promise.all([a.shutdown(), b.shutdown()]);
 * ```
 */
export interface AliveDelegate {
  /**
   * Called for every alive message about a node, whether it came by gossip or
   * in a push/pull (Go `NotifyAlive`). **Throw to drop the message**: the
   * node is then not added, or its record not refreshed. Runs on the receive
   * path: return quickly.
   *
   * @param peer The node the message describes.
   */
  notifyAlive?(peer: Node): void;
}

/**
 * Round-trip times and custom ack payloads (Go `PingDelegate`). Only direct
 * UDP probes count: indirect probes and TCP fallback probes say nothing
 * useful about the round trip to the target.
 *
 * @example Usage
 * ```ts
 * import { defaultLocalConfig, Memberlist } from "@gossip/memberlist";
 * import { MockNetwork } from "@gossip/memberlist/transports/mock";
 * import assert from "node:assert/strict";
 * import type { PingDelegate } from "@gossip/memberlist";
 *
 * const net = new MockNetwork();
 * const rtts: number[] = [];
 * const ping: PingDelegate = {
 *   ackPayload: () => new TextEncoder().encode("load=0.3"),
 *   notifyPingComplete: (_other, rttMs) => void rtts.push(rttMs),
 * };
 * const a = await Memberlist.create({ ...defaultLocalConfig(), name: "a", transport: net.newTransport("a"), ping });
 * const b = await Memberlist.create({ ...defaultLocalConfig(), name: "b", transport: net.newTransport("b"), ping });
 * await b.join([a.localNode().address]);
 * assert.ok((await b.ping("a", a.localNode().address)) >= 0);
 * await Promise.all([a.shutdown(), b.shutdown()]);
 * ```
 */
export interface PingDelegate {
  /**
   * Returns bytes to attach to each ack this node sends in answer to a direct
   * ping (Go `AckPayload`); the prober receives them in
   * {@linkcode PingDelegate.notifyPingComplete}. Runs on the receive path:
   * return quickly, and keep it small, since the ack must fit in one packet. A
   * throw is logged and the ack is sent without a payload.
   *
   * @returns The payload; may be empty.
   */
  ackPayload?(): Uint8Array;

  /**
   * Called when a direct probe of another node was acked (Go
   * `NotifyPingComplete`). Runs on the probe path: return quickly. A throw is
   * logged and ignored.
   *
   * @param other The node that answered.
   * @param rttMs The round-trip time in milliseconds, from sending the ping to
   * receiving the ack.
   * @param payload What the other node's `ackPayload()` returned; empty if nothing.
   */
  notifyPingComplete?(other: Node, rttMs: number, payload: Uint8Array): void;
}
