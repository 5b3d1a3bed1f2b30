// Copyright (c) memberlist-ts authors. SPDX-License-Identifier: MPL-2.0
/**
 * The protocol arithmetic of Go memberlist's `util.go`: how long a suspect
 * node is given before it is declared dead, how many times a broadcast is
 * retransmitted, how push/pull slows down as the cluster grows, and how random
 * peers are picked. Internal to the package.
 *
 * Each function returns what Go returns for the same inputs; the tests compare
 * them with values printed by Go for every cluster size from 0 to 100,000.
 * Durations are milliseconds.
 *
 * @module
 */

import { randomInt, type RandomSource, shuffle } from "./random.ts";

/** Cluster size up to which push/pull runs at its configured interval (Go `pushPullScaleThreshold`). */
export const PUSH_PULL_SCALE_THRESHOLD = 32;

/**
 * The base suspicion timeout for a cluster of `n` nodes (Go
 * `suspicionTimeout`, spec §9.6):
 * `suspicionMult × floor(1000 × max(1, log10(max(1, n)))) × interval / 1000`.
 *
 * The node-count factor is log10(n), floored at 1 and truncated to thousandths
 * before it multiplies, exactly as Go does with its integer nanosecond
 * durations; Go's comments describe it as log(n + 1), which it is not. The
 * result can have a fractional part (microsecond steps) when `interval` is not
 * a multiple of 1000 ms: Go keeps that precision too. For LAN defaults
 * (mult 4, 1000 ms) it is 4000 ms up to 10 nodes, 8000 ms at 100 and 12,000 ms
 * at 1000. The Lifeguard maximum is this times `suspicionMaxTimeoutMult`.
 *
 * @param suspicionMult The configured `suspicionMult`.
 * @param n The estimated cluster size (self and unreaped dead nodes included).
 * @param intervalMs The configured, unscaled `probeInterval` in milliseconds.
 * @returns The timeout in milliseconds.
 */
export function suspicionTimeout(suspicionMult: number, n: number, intervalMs: number): number {
  const nodeScale = Math.max(1, Math.log10(Math.max(1, n)));
  // Go truncates nodeScale × 1000 to an integer before multiplying.
  const thousandths = Math.trunc(nodeScale * 1000);
  return (suspicionMult * thousandths * intervalMs) / 1000;
}

/**
 * How many times a broadcast is sent before it is dropped from the queue (Go
 * `retransmitLimit`, spec §10.1): `retransmitMult × ceil(log10(n + 1))`. With
 * multiplier 4 that is 4 for 1-9 nodes, 8 for 10-99, 12 for 100-999, and 0
 * for an empty cluster.
 *
 * @param retransmitMult The configured `retransmitMult`.
 * @param n The estimated cluster size.
 * @returns The limit.
 */
export function retransmitLimit(retransmitMult: number, n: number): number {
  const nodeScale = Math.ceil(Math.log10(n + 1));
  return retransmitMult * nodeScale;
}

/**
 * The push/pull interval for a cluster of `n` nodes (Go `pushPullScale`, spec
 * §11.1): unchanged up to 32 nodes, then one more multiple of the interval each
 * time the cluster doubles: `interval × (ceil(log2(n) − log2(32)) + 1)`. With
 * 30 s: 60 s for 33-64 nodes, 90 s for 65-128, 180 s at 1000.
 *
 * @param intervalMs The configured `pushPullInterval` in milliseconds.
 * @param n The estimated cluster size.
 * @returns The interval to wait in milliseconds.
 */
export function pushPullScale(intervalMs: number, n: number): number {
  if (n <= PUSH_PULL_SCALE_THRESHOLD) return intervalMs;
  const multiplier = Math.ceil(Math.log2(n) - Math.log2(PUSH_PULL_SCALE_THRESHOLD)) + 1;
  return multiplier * intervalMs;
}

/**
 * A uniformly random integer in [0, n), or 0 when `n` is 0 (Go
 * `randomOffset`).
 *
 * @param n The exclusive upper bound.
 * @param random The random source.
 * @returns The offset.
 */
export function randomOffset(n: number, random: RandomSource): number {
  return randomInt(random, n);
}

/**
 * Picks up to `k` distinct random entries of `nodes` for which `exclude`
 * returns false (Go `kRandomNodes`, newest behaviour, spec §10.5). Fewer than
 * `k` may come back.
 *
 * - With fewer than `3k` entries, a shuffled copy is scanned in order, so
 *   every eligible entry is found (gossiping to 3 nodes, a 3-node cluster
 *   with one eligible peer always picks it; memberlist 0.2.2 drew at random
 *   here too and could miss it).
 * - Otherwise up to `3 × nodes.length` uniform random draws are made,
 *   skipping excluded entries and names already picked.
 *
 * `nodes` itself is never reordered.
 *
 * @typeParam T The node record type; entries are told apart by `name`.
 * @param k How many to pick.
 * @param nodes The candidates.
 * @param exclude Returns true for entries that must not be picked; null for none.
 * @param random The random source.
 * @returns The picked entries, at most `k`, in the order picked.
 */
export function kRandomNodes<T extends { readonly name: string }>(
  k: number,
  nodes: readonly T[],
  exclude: ((node: T) => boolean) | null,
  random: RandomSource,
): T[] {
  const n = nodes.length;
  const picked: T[] = [];
  if (k <= 0) return picked;

  if (n < k * 3) {
    const copy = nodes.slice();
    shuffle(random, copy);
    for (let i = 0; i < n && picked.length < k; i++) {
      const node = copy[i]!;
      if (exclude !== null && exclude(node)) continue;
      picked.push(node);
    }
    return picked;
  }

  draws: for (let i = 0; i < 3 * n && picked.length < k; i++) {
    const node = nodes[randomOffset(n, random)]!;
    if (exclude !== null && exclude(node)) continue;
    for (const chosen of picked) if (chosen.name === node.name) continue draws;
    picked.push(node);
  }
  return picked;
}
