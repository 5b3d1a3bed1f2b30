// Copyright (c) memberlist-ts authors. SPDX-License-Identifier: MPL-2.0
/**
 * Randomness, injected. Every random choice of the protocol core (probe order,
 * gossip targets, initial timer offsets, relays) comes from the
 * {@linkcode RandomSource} in its configuration, so that a simulation seeded
 * with the same number makes the same choices.
 *
 * Nothing here is for secrets: encryption nonces come from
 * `crypto.getRandomValues`.
 *
 * @module
 */

/**
 * Returns a number uniformly distributed in [0, 1), like `Math.random`.
 *
 * @example Usage
 * ```ts
 * import { defaultRandom, type RandomSource } from "@gossip/memberlist";
 * import assert from "node:assert/strict";
 *
 * const random: RandomSource = defaultRandom; // or createSeededRandom(seed) from "@gossip/memberlist/testing"
 * const x = random();
 * assert.ok(x >= 0 && x < 1);
 * ```
 */
export type RandomSource = () => number;

/**
 * The default random source (`Math.random`).
 *
 * @example Usage
 * ```ts
 * import { defaultRandom } from "@gossip/memberlist";
 * import assert from "node:assert/strict";
 *
 * const x = defaultRandom();
 * assert.ok(x >= 0 && x < 1);
 * ```
 */
export const defaultRandom: RandomSource = (): number => Math.random();

/**
 * A fast seeded generator (xoshiro128**, seeded through splitmix32). The same
 * seed always yields the same sequence, on every runtime.
 *
 * @param seed Any 32-bit integer.
 * @returns A random source.
 *
 * @example Usage
 * ```ts
 * import { createSeededRandom } from "@gossip/memberlist/testing";
 * import assert from "node:assert/strict";
 *
 * const a = createSeededRandom(42);
 * const b = createSeededRandom(42);
 * assert.equal(a(), b());
 * assert.notEqual(createSeededRandom(1)(), createSeededRandom(2)());
 * ```
 */
export function createSeededRandom(seed: number): RandomSource {
  let s = seed >>> 0;
  const splitmix = (): number => {
    s = (s + 0x9e3779b9) >>> 0;
    let z = s;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
    return (z ^ (z >>> 16)) >>> 0;
  };
  let a = splitmix(), b = splitmix(), c = splitmix(), d = splitmix();
  return () => {
    const result = Math.imul(rotl(Math.imul(b, 5), 7), 9) >>> 0;
    const t = b << 9;
    c ^= a;
    d ^= b;
    b ^= c;
    a ^= d;
    c ^= t;
    d = rotl(d, 11);
    return result / 0x100000000;
  };
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}

/**
 * A uniformly random integer in [0, n) (0 when n ≤ 0), like Go's `rand.Intn`.
 *
 * @param random The random source.
 * @param n The exclusive upper bound.
 * @returns The integer.
 */
export function randomInt(random: RandomSource, n: number): number {
  return n <= 0 ? 0 : Math.floor(random() * n);
}

/**
 * Shuffles `items` in place (Fisher–Yates).
 *
 * @param random The random source.
 * @param items The array to shuffle.
 */
export function shuffle<T>(random: RandomSource, items: T[]): void {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    const tmp = items[i]!;
    items[i] = items[j]!;
    items[j] = tmp;
  }
}
