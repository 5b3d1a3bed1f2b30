// Copyright (c) memberlist-ts authors. SPDX-License-Identifier: MPL-2.0
/**
 * Reconnecting to failed nodes (`Config.reconnectInterval`; not in Go
 * memberlist, after Serf's reconnect): every so often a node pings one
 * failed node by name and, when it answers, does a join push/pull with it.
 * This heals a partition that outlasted `gossipToTheDeadTime`, after which
 * neither side contacts the other again on its own.
 *
 * @module
 */

import { NodeState } from "./node.ts";
import {
  fullAddress,
  log,
  type MemberlistState,
  pingNode,
  pushPullNode,
} from "./state.ts";

/** A failed node whose record was reaped: where it was, and since when it is dead. */
export interface FailedNode {
  name: string;
  /** `host:port`. */
  addr: string;
  /** Clock time it was declared dead. */
  since: number;
}

/**
 * How many reaped failed nodes a node remembers; past this the oldest are
 * forgotten. One successful reconnect brings back the whole other side, so a
 * few hundred candidates heal any partition.
 */
export const MAX_FAILED_NODES = 512;

/**
 * Remembers a dead record that `resetNodes` is about to reap, while it is
 * younger than `reconnectTimeout`.
 */
export function rememberFailed(m: MemberlistState, name: string, addr: string, since: number): void {
  const c = m.config;
  if (c.reconnectInterval === 0 || c.clock.now() - since > c.reconnectTimeout) return;
  m.failed.delete(name);
  m.failed.set(name, { name, addr, since });
  if (m.failed.size > MAX_FAILED_NODES) m.failed.delete(m.failed.keys().next().value!);
}

/**
 * One reconnect tick. With `f` failed nodes (dead records and remembered
 * reaped ones) and `l` live ones, tries with probability f/l, so a big
 * cluster with one failed node makes about one attempt per interval in all,
 * and each side of a split in halves tries at every tick.
 *
 * @returns Whether a join push/pull with a failed node succeeded (failures are
 * logged at debug level: a failed node is expected not to answer).
 */
export async function reconnect(m: MemberlistState): Promise<boolean> {
  const c = m.config;
  if (m.leaving) return false;
  const now = c.clock.now();
  const candidates: { name: string; addr: string }[] = [];
  let live = 0;
  for (const n of m.nodes) {
    if (n.state === NodeState.Alive || n.state === NodeState.Suspect) live++;
    else if (n.state === NodeState.Dead && n.name !== c.name && now - n.stateChange <= c.reconnectTimeout) {
      candidates.push(fullAddress(n));
    }
  }
  for (const [name, f] of m.failed) {
    if (m.nodeMap.has(name) || now - f.since > c.reconnectTimeout) m.failed.delete(name);
    else candidates.push(f);
  }
  if (candidates.length === 0 || c.random() * Math.max(live, 1) >= candidates.length) return false;

  const target = candidates[Math.floor(c.random() * candidates.length)]!;
  try {
    // A ping by name first: only the node we knew answers it, not whoever has its address now.
    const rtt = await pingNode(m, target.name, target.addr);
    if (rtt === null || m.shutdown) return false;
    log(m, "info", "Reconnecting to a failed node", { node: target.name, addr: target.addr });
    await pushPullNode(m, target, true);
    return true;
  } catch (err) {
    if (!m.shutdown) log(m, "debug", "Reconnect failed", { node: target.name, error: err });
    return false;
  }
}
