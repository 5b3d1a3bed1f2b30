// Copyright (c) memberlist-ts authors. SPDX-License-Identifier: MPL-2.0
/**
 * Time, injected. The protocol core never reads the clock or starts a timer
 * itself: it asks the {@linkcode Clock} in its configuration. The default,
 * {@linkcode systemClock}, is real time; a {@linkcode VirtualClock} lets tests
 * and the simulator run thousands of nodes through hours of protocol time in
 * seconds, the same way on every run.
 *
 * @module
 */

/**
 * A timer that can be cancelled.
 *
 * @example Usage
 * ```ts
 * import { systemClock, type TimerHandle } from "@gossip/memberlist";
 * import assert from "node:assert/strict";
 *
 * let fired = false;
 * const timer: TimerHandle = systemClock.setTimeout(() => (fired = true), 10);
 * timer.cancel();
 * await new Promise((r) => setTimeout(r, 20));
 * assert.equal(fired, false);
 * ```
 */
export interface TimerHandle {
  /** Stops the timer; does nothing if it already fired or was cancelled. */
  cancel(): void;
}

/**
 * A source of time and timers. All times are milliseconds on one monotonic
 * scale; only differences between them mean anything.
 *
 * @example Usage
 * ```ts
 * import { type Clock, systemClock } from "@gossip/memberlist";
 * import assert from "node:assert/strict";
 *
 * const clock: Clock = systemClock; // or VirtualClock from "@gossip/memberlist/testing"
 * const fired = await new Promise<boolean>((resolve) => clock.setTimeout(() => resolve(true), 1));
 * assert.ok(fired);
 * ```
 */
export interface Clock {
  /** The current time in milliseconds. */
  now(): number;
  /**
   * Calls `fn` once, `ms` milliseconds from now (0 or less: as soon as possible,
   * but never synchronously).
   */
  setTimeout(fn: () => void, ms: number): TimerHandle;
}

interface TimerGlobals {
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(id: unknown): void;
  performance: { now(): number };
}

const g = globalThis as unknown as TimerGlobals;

/**
 * Real time: `performance.now()` and the runtime's timers.
 *
 * @example Usage
 * ```ts
 * import { systemClock } from "@gossip/memberlist";
 * import assert from "node:assert/strict";
 *
 * const start = systemClock.now();
 * await new Promise<void>((resolve) => systemClock.setTimeout(resolve, 5));
 * assert.ok(systemClock.now() - start >= 4);
 * ```
 */
export const systemClock: Clock = {
  now: () => g.performance.now(),
  setTimeout(fn: () => void, ms: number): TimerHandle {
    const id = g.setTimeout(fn, Math.max(0, ms));
    return { cancel: () => g.clearTimeout(id) };
  },
};

/**
 * Resolves after `ms` milliseconds of `clock` time, or rejects with the
 * signal's reason when `signal` aborts first.
 *
 * @param clock The clock to wait on.
 * @param ms How long to wait.
 * @param signal Cancels the wait.
 * @returns A promise for the end of the wait.
 *
 * @example Usage
 * ```ts
 * import { sleep, VirtualClock } from "@gossip/memberlist/testing";
 * import assert from "node:assert/strict";
 *
 * const clock = new VirtualClock();
 * let woke = false;
 * sleep(clock, 1000).then(() => (woke = true));
 * await clock.advance(999);
 * assert.equal(woke, false);
 * await clock.advance(1);
 * assert.equal(woke, true);
 * ```
 */
export function sleep(clock: Clock, ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const onAbort = () => {
      timer.cancel();
      reject(signal!.reason);
    };
    const timer = clock.setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

/** Options of a {@linkcode VirtualClock}. */
export interface VirtualClockOptions {
  /** Time to start at, in milliseconds. @default {0} */
  start?: number;
  /**
   * Resolves after the runtime has run every pending promise continuation (a
   * macrotask turn). `advance()` awaits it between timers of different times,
   * so that work started by one timer (an `await` chain) is done before the
   * clock moves on. The default uses `setTimeout(0)`, which is correct but slow
   * on Node (about 1 ms); pass `() => new Promise((r) => setImmediate(r))` from
   * `node:timers` for speed.
   */
  yield?: () => Promise<void>;
}

interface VirtualTimer {
  at: number;
  seq: number;
  fn: (() => void) | null;
}

/**
 * A clock that moves only when told to. Timers run in time order (ties in the
 * order they were set), so a run driven by a seeded random source is exactly
 * reproducible.
 *
 * @example Usage
 * ```ts
 * import { VirtualClock } from "@gossip/memberlist/testing";
 * import assert from "node:assert/strict";
 *
 * const clock = new VirtualClock();
 * const fired: number[] = [];
 * clock.setTimeout(() => fired.push(clock.now()), 30);
 * clock.setTimeout(() => fired.push(clock.now()), 10);
 * await clock.advance(100);
 * assert.deepEqual(fired, [10, 30]);
 * assert.equal(clock.now(), 100);
 * ```
 */
export class VirtualClock implements Clock {
  #now: number;
  #seq = 0;
  #heap: VirtualTimer[] = [];
  #live = 0;
  #yield: () => Promise<void>;

  /**
   * Creates a virtual clock.
   *
   * @param options Start time and the macrotask yield.
   */
  constructor(options: VirtualClockOptions = {}) {
    this.#now = options.start ?? 0;
    this.#yield = options.yield ?? (() => new Promise<void>((r) => g.setTimeout(r, 0)));
  }

  /** The current virtual time. */
  now(): number {
    return this.#now;
  }

  /** Number of timers set and not yet fired or cancelled. */
  get pending(): number {
    return this.#live;
  }

  /** Time of the next timer, or undefined when none is pending. */
  get nextAt(): number | undefined {
    this.#dropCancelled();
    return this.#heap[0]?.at;
  }

  setTimeout(fn: () => void, ms: number): TimerHandle {
    const t: VirtualTimer = { at: this.#now + Math.max(0, ms), seq: this.#seq++, fn };
    this.#push(t);
    this.#live++;
    return {
      cancel: () => {
        if (t.fn !== null) {
          t.fn = null;
          this.#live--;
        }
      },
    };
  }

  /**
   * Moves time forward by `ms`, running every timer that falls due on the way,
   * in order, and letting promise continuations settle between distinct times.
   *
   * @param ms How far to move.
   */
  async advance(ms: number): Promise<void> {
    await this.runUntil(this.#now + ms);
  }

  /**
   * Moves time forward to `t` (no-op if already past), running due timers.
   *
   * @param t The target time.
   */
  async runUntil(t: number): Promise<void> {
    await this.#yield();
    for (;;) {
      this.#dropCancelled();
      const next = this.#heap[0];
      if (next === undefined || next.at > t) break;
      this.#now = Math.max(this.#now, next.at);
      // Run everything due at this instant, then let continuations settle.
      while (this.#heap.length > 0 && this.#heap[0]!.at <= this.#now) {
        const timer = this.#pop()!;
        const fn = timer.fn;
        if (fn === null) continue;
        timer.fn = null;
        this.#live--;
        fn();
      }
      await this.#yield();
    }
    if (t > this.#now) this.#now = t;
  }

  #dropCancelled(): void {
    while (this.#heap.length > 0 && this.#heap[0]!.fn === null) this.#pop();
  }

  #less(a: VirtualTimer, b: VirtualTimer): boolean {
    return a.at < b.at || (a.at === b.at && a.seq < b.seq);
  }

  #push(t: VirtualTimer): void {
    const h = this.#heap;
    h.push(t);
    let i = h.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.#less(h[i]!, h[parent]!)) break;
      [h[i], h[parent]] = [h[parent]!, h[i]!];
      i = parent;
    }
  }

  #pop(): VirtualTimer | undefined {
    const h = this.#heap;
    const top = h[0];
    const last = h.pop();
    if (h.length > 0 && last !== undefined) {
      h[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < h.length && this.#less(h[l]!, h[m]!)) m = l;
        if (r < h.length && this.#less(h[r]!, h[m]!)) m = r;
        if (m === i) break;
        [h[i], h[m]] = [h[m]!, h[i]!];
        i = m;
      }
    }
    return top;
  }
}
