// Copyright (c) memberlist-ts authors. SPDX-License-Identifier: MPL-2.0
/**
 * The suspicion timer (Go `suspicion.go`, spec §9.6): how long a suspect node
 * has to refute before it is declared dead, shortened as other members
 * independently confirm the suspicion (Lifeguard §IV.B, "Lifeguard: Local
 * Health Awareness for More Accurate Failure Detection", Dadgar et al., 2018).
 *
 * A suspicion starts at its maximum timeout and falls, one confirmation at a
 * time, along a logarithmic curve to its minimum once `k` confirmations have
 * arrived. The first few confirmations shorten it the most, while a lone
 * accuser, perhaps slow itself and suspecting healthy peers, leaves the
 * suspect the whole maximum to refute.
 *
 * @module
 */

import type { Clock, TimerHandle } from "./clock.ts";

/** Options of a {@linkcode Suspicion}. */
export interface SuspicionOptions {
  /**
   * The member whose suspect message started this timer. It counts as already
   * seen, not as a confirmation, since our own suspect message can be gossiped
   * back to us.
   */
  from: string;
  /**
   * How many independent confirmations drive the timeout down to `minMs`
   * (Go `k`; the caller computes it, spec §9.6). Below 1, the timer runs for
   * `minMs` and confirmations are never accepted.
   */
  k: number;
  /** The shortest timeout, in milliseconds, reached after `k` confirmations. */
  minMs: number;
  /** The longest timeout, in milliseconds, the one with no confirmations. */
  maxMs: number;
  /** The clock to time with. */
  clock: Clock;
  /**
   * Called once when the timer expires, with the number of confirmations
   * counted by then. Never called after {@linkcode Suspicion.cancel}.
   */
  onTimeout: (confirmations: number) => void;
}

/**
 * A running suspicion timer for one suspect node (Go `suspicion`).
 *
 * Go stops nothing: a superseded timer stays armed, is left to the garbage
 * collector, and its callback checks whether it still matters. Here the owner
 * calls {@linkcode Suspicion.cancel}, so a shut-down memberlist leaves no
 * timers behind.
 */
export class Suspicion {
  /** Confirmations counted (Go `n`). The first accuser is not one of them. */
  #n = 0;
  /** Confirmations wanted to reach the minimum timeout (Go `k`). */
  readonly #k: number;
  /** The minimum timeout in milliseconds (Go `min`). */
  readonly #minMs: number;
  /** The maximum timeout in milliseconds (Go `max`). */
  readonly #maxMs: number;
  readonly #clock: Clock;
  /**
   * When the timer was first armed. Every re-arm aims at `start + T(n)`, so
   * the total timeout comes out right however late the confirmations arrive.
   */
  readonly #start: number;
  /** The armed timer, or null once it fired or was cancelled. */
  #timer: TimerHandle | null;
  readonly #onTimeout: (confirmations: number) => void;
  /** Everyone already counted, the first accuser included, so none counts twice. */
  readonly #seen = new Set<string>();

  /**
   * Starts the timer: `maxMs` when confirmations are wanted (`k ≥ 1`), else
   * `minMs` (Go `newSuspicion`).
   *
   * @param options The first accuser, `k`, the bounds, the clock and the
   * callback.
   */
  constructor(options: SuspicionOptions) {
    this.#k = options.k;
    this.#minMs = options.minMs;
    this.#maxMs = options.maxMs;
    this.#clock = options.clock;
    this.#onTimeout = options.onTimeout;
    this.#seen.add(options.from);
    const timeout = options.k < 1 ? options.minMs : options.maxMs;
    this.#timer = options.clock.setTimeout(() => this.#fire(), timeout);
    // As in Go, the start is read after arming, so any error is on the long side.
    this.#start = options.clock.now();
  }

  /** The number of independent confirmations counted so far. */
  get confirmations(): number {
    return this.#n;
  }

  /**
   * Counts a confirmation from another member that also suspects the node,
   * and shortens the timer to `start + T(n)` (Lifeguard §IV.B); if that moment
   * has already passed, the timer fires on the clock's next tick. As in Go, a
   * new confirmer still counts (and returns true) after the timer fired; the
   * timer is just not re-armed.
   *
   * @param from The member confirming the suspicion.
   * @returns True if this was new information (re-gossip the suspect
   * message), false if `from` was already seen or `k` confirmations were
   * already counted.
   */
  confirm(from: string): boolean {
    if (this.#n >= this.#k) return false;
    if (this.#seen.has(from)) return false;
    this.#seen.add(from);
    const n = ++this.#n;
    if (this.#timer !== null) {
      const elapsed = this.#clock.now() - this.#start;
      const remaining = remainingSuspicionTime(n, this.#k, elapsed, this.#minMs, this.#maxMs);
      this.#timer.cancel();
      // Go calls the callback from a new goroutine when remaining <= 0; a
      // zero-delay timer is our "soon, but not from inside confirm()".
      this.#timer = this.#clock.setTimeout(() => this.#fire(), Math.max(0, remaining));
    }
    return true;
  }

  /**
   * Stops the timer for good: the callback will not run. Safe to call more
   * than once, and after the timer fired.
   */
  cancel(): void {
    this.#timer?.cancel();
    this.#timer = null;
  }

  #fire(): void {
    if (this.#timer === null) return;
    this.#timer = null;
    this.#onTimeout(this.#n);
  }
}

// Go's math.Log, step for step. Math.log is not the same function on every
// runtime: Deno and Bun return 1.0986122886681098 for ln 3 where Go returns
// 1.0986122886681096, and Node 20 differs from Go at ln 14. One ulp in the
// ratio ln(n+1)/ln(k+1) is enough to move T(n) across a millisecond boundary
// (n = 2, k = 8: ln 3 / ln 9 is 0.5 on Math.log but 0.4999999999999999 in Go).
// So the ratio is computed with the reduction and polynomial Go uses on amd64
// (the FreeBSD e_log.c scheme with the fdlibm coefficients, evaluated in the
// same order), in plain double arithmetic, which every runtime rounds alike.
// (Go on arm64 uses its pure-Go Log and may fuse multiply-adds, so it can
// itself land a millisecond away from Go on amd64, the reference here.)

const LN2_HI = 6.93147180369123816490e-01; // 0x3fe62e42fee00000
const LN2_LO = 1.90821492927058770002e-10; // 0x3dea39ef35793c76
const LG1 = 6.666666666666735130e-01; // 0x3fe5555555555593
const LG2 = 3.999999999940941908e-01; // 0x3fd999999997fa04
const LG3 = 2.857142874366239149e-01; // 0x3fd2492494229359
const LG4 = 2.222219843214978396e-01; // 0x3fcc71c51d8e78af
const LG5 = 1.818357216161805012e-01; // 0x3fc7466496cb03de
const LG6 = 1.531383769920937332e-01; // 0x3fc39a09d078c69f
const LG7 = 1.479819860511658591e-01; // 0x3fc2f112df3e5244
const HALF_SQRT2 = 7.07106781186547524401e-01;

const bits = new DataView(new ArrayBuffer(8));

/** The natural logarithm exactly as Go's `math.Log` computes it on amd64. */
function goLog(x: number): number {
  if (Number.isNaN(x) || x === Infinity) return x;
  if (x < 0) return NaN;
  if (x === 0) return -Infinity;
  // x = f1 × 2^e with f1 in [0.5, 1): keep the mantissa, set the exponent of 0.5.
  bits.setFloat64(0, x);
  const hi = bits.getUint32(0);
  const e = ((hi >>> 20) & 0x7ff) - 0x3fe;
  bits.setUint32(0, (hi & 0x000fffff) | 0x3fe00000);
  let f1 = bits.getFloat64(0);
  let k = e;
  if (f1 < HALF_SQRT2) {
    f1 *= 2;
    k--;
  }
  // ln x = k ln 2 + ln(1 + f), with ln(1 + f) = 2 atanh(s), s = f / (2 + f).
  const f = f1 - 1;
  const s = f / (2 + f);
  const s2 = s * s;
  const s4 = s2 * s2;
  const t1 = s2 * (LG1 + s4 * (LG3 + s4 * (LG5 + s4 * LG7)));
  const t2 = s4 * (LG2 + s4 * (LG4 + s4 * LG6));
  const r = t1 + t2;
  const hfsq = 0.5 * f * f;
  return k * LN2_HI - ((hfsq - (s * (hfsq + r) + k * LN2_LO)) - f);
}

/**
 * Go's `Duration.Seconds()`: whole seconds plus the nanosecond remainder
 * divided by 1e9, which can differ in the last bit from `ms / 1000`.
 */
function seconds(ms: number): number {
  const ns = Math.round(ms * 1e6);
  const sec = Math.trunc(ns / 1e9);
  return sec + (ns - sec * 1e9) / 1e9;
}

/**
 * How long the suspicion timer still has to run after `n` confirmations
 * (Go `remainingSuspicionTime`, Lifeguard §IV.B). The total timeout is
 *
 *     T(n) = max(min, floor_ms(max − (ln(n + 1) / ln(k + 1)) × (max − min)))
 *
 * computed exactly as Go does: in floating-point seconds, floored to whole
 * milliseconds, then clamped to `min`. The result is `T(n) − elapsed` and may
 * be negative, meaning the timer is overdue. With `k = 0` the ratio is
 * infinite or NaN, and the result is `min − elapsed`, as Go gives on amd64.
 *
 * @param n Confirmations counted so far.
 * @param k Confirmations wanted to reach `minMs`.
 * @param elapsedMs Time since the timer started, in milliseconds.
 * @param minMs The minimum total timeout, in milliseconds.
 * @param maxMs The maximum total timeout, in milliseconds.
 * @returns The remaining time in milliseconds (may be zero or negative).
 */
export function remainingSuspicionTime(
  n: number,
  k: number,
  elapsedMs: number,
  minMs: number,
  maxMs: number,
): number {
  const frac = goLog(n + 1) / goLog(k + 1);
  const maxS = seconds(maxMs);
  const raw = maxS - frac * (maxS - seconds(minMs));
  let timeout = Math.floor(1000 * raw);
  // `!(>=)` also catches NaN (0/0 when n = k = 0); Go's float-to-int
  // conversion turns it into a value that ends up clamped to min as well.
  if (!(timeout >= minMs)) timeout = minMs;
  return timeout - elapsedMs;
}
