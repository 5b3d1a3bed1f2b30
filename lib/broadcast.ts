// Copyright (c) memberlist-ts authors. SPDX-License-Identifier: MPL-2.0
/**
 * memberlist's own broadcasts (Go `broadcast.go`): the alive, suspect and dead
 * messages it gossips about each node, queued in a `TransmitLimitedQueue`
 * (lib/queue.ts).
 *
 * Each message is named after the node it is about, so queueing a newer
 * message about a node drops the older one still waiting: if
 * `{suspect M1 incarnation 1}` is queued and `{alive M1 incarnation 2}`
 * arrives, only the alive message is gossiped from then on.
 *
 * @module
 */

import type { Broadcast, NamedBroadcast } from "./queue.ts";

/**
 * A message memberlist gossips about a node (Go `memberlistBroadcast`). It is
 * a {@linkcode NamedBroadcast} named after the node, so at most one message
 * per node waits in the queue. Exported for the core; not part of mod.ts.
 */
export class MemberlistBroadcast implements NamedBroadcast {
  /** Name of the node the message is about. */
  readonly node: string;
  /** The encoded message. */
  readonly msg: Uint8Array;
  /** Called by the first `finished()`, or `null`. */
  readonly notify: (() => void) | null;
  #notified = false;

  /**
   * Creates a broadcast. The arguments follow the fields of Go's struct
   * literal `&memberlistBroadcast{node, msg, notify}`.
   *
   * @param node Name of the node the message is about; also the broadcast's
   * name in the queue.
   * @param msg The encoded message (type byte and body).
   * @param notify Called once when the queue lets go of the message; `leave()`
   * and `updateNode()` wait for it. Go passed a channel here.
   */
  constructor(node: string, msg: Uint8Array, notify: (() => void) | null = null) {
    this.node = node;
    this.msg = msg;
    this.notify = notify;
  }

  /**
   * Reports whether this message makes `other` obsolete: true when `other`
   * is also a memberlist broadcast about the same node (Go checks only its
   * own type, not any NamedBroadcast). The queue does not ask named
   * broadcasts this today; it compares names instead, with the same result.
   *
   * @param other Another broadcast.
   * @returns Whether `other` is a MemberlistBroadcast about the same node.
   */
  invalidates(other: Broadcast): boolean {
    return other instanceof MemberlistBroadcast && other.node === this.node;
  }

  /**
   * Returns the node name, the broadcast's name in the queue.
   *
   * @returns {@linkcode MemberlistBroadcast.node}.
   */
  name(): string {
    return this.node;
  }

  /**
   * Returns the encoded message.
   *
   * @returns {@linkcode MemberlistBroadcast.msg}, not a copy.
   */
  message(): Uint8Array {
    return this.msg;
  }

  /**
   * Calls `notify` the first time; later calls do nothing (Go's non-blocking
   * send on the notify channel).
   *
   * @throws {unknown} Whatever `notify` throws.
   */
  finished(): void {
    if (this.#notified) return;
    this.#notified = true;
    this.notify?.();
  }
}
