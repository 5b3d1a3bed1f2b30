// Copyright (c) memberlist-ts authors. SPDX-License-Identifier: MPL-2.0
/**
 * Admission of the streams other nodes open to this one: at most
 * `maxInboundStreams` served at once, at most `maxInboundStreamsPerHost` from
 * one IP address. A stream over a limit waits (unread, so it costs a socket
 * and no buffers) until a slot frees up or its time runs out; at most as many
 * wait as may run, and the ones beyond are refused at once. Not in Go, which
 * serves every connection it accepts.
 *
 * @module
 */

import type { Clock, TimerHandle } from "./clock.ts";

interface Waiter {
  readonly host: string;
  readonly grant: (ok: boolean) => void;
  timer: TimerHandle | null;
}

/** The limits a {@linkcode StreamSlots} enforces. */
export interface StreamSlotLimits {
  /** Streams served at once. */
  readonly maxInboundStreams: number;
  /** Streams from one address served at once. */
  readonly maxInboundStreamsPerHost: number;
  /** Where waits are timed. */
  readonly clock: Clock;
}

/** Counts the inbound streams being served, in all and per source address. */
export class StreamSlots {
  readonly #limits: StreamSlotLimits;
  #active = 0;
  readonly #byHost = new Map<string, number>();
  #waiting: Waiter[] = [];
  #closed = false;

  /** @param limits The limits, usually the node's configuration. */
  constructor(limits: StreamSlotLimits) {
    this.#limits = limits;
  }

  /** Streams being served. */
  get active(): number {
    return this.#active;
  }

  /** Streams waiting for a slot. */
  get waiting(): number {
    return this.#waiting.length;
  }

  #free(host: string): boolean {
    return this.#active < this.#limits.maxInboundStreams &&
      (this.#byHost.get(host) ?? 0) < this.#limits.maxInboundStreamsPerHost;
  }

  #take(host: string): void {
    this.#active++;
    this.#byHost.set(host, (this.#byHost.get(host) ?? 0) + 1);
  }

  /**
   * Takes a slot for a stream from `host`.
   *
   * @param host The source address (no port).
   * @param waitMs How long the stream may wait for a slot.
   * @returns True when the slot is taken now; otherwise a promise that resolves
   * true once it is, or false when the wait ran out, too many were waiting, or
   * {@linkcode StreamSlots.close} was called. Every true must be matched by one
   * {@linkcode StreamSlots.release}.
   */
  acquire(host: string, waitMs: number): boolean | Promise<boolean> {
    if (this.#closed) return false;
    // Streams wait only for a slot they cannot take: waiters from other hosts are no reason
    // to wait (a freed slot goes to the waiters before any newcomer can take it).
    if (this.#free(host)) {
      this.#take(host);
      return true;
    }
    if (this.#waiting.length >= this.#limits.maxInboundStreams) return false;
    return new Promise<boolean>((resolve) => {
      const w: Waiter = { host, grant: resolve, timer: null };
      w.timer = this.#limits.clock.setTimeout(() => {
        w.timer = null;
        this.#waiting = this.#waiting.filter((x) => x !== w);
        resolve(false);
      }, waitMs);
      this.#waiting.push(w);
    });
  }

  /**
   * Gives back a slot taken for a stream from `host`, and hands free slots to
   * waiting streams, oldest first.
   *
   * @param host The source address the slot was taken for.
   */
  release(host: string): void {
    this.#active--;
    const n = (this.#byHost.get(host) ?? 1) - 1;
    if (n === 0) this.#byHost.delete(host);
    else this.#byHost.set(host, n);
    if (this.#waiting.length === 0) return;
    const still: Waiter[] = [];
    for (const w of this.#waiting) {
      if (this.#free(w.host)) {
        w.timer?.cancel();
        this.#take(w.host);
        w.grant(true);
      } else still.push(w);
    }
    this.#waiting = still;
  }

  /** Refuses every waiting stream and every later one. */
  close(): void {
    this.#closed = true;
    const waiting = this.#waiting;
    this.#waiting = [];
    for (const w of waiting) {
      w.timer?.cancel();
      w.grant(false);
    }
  }
}
