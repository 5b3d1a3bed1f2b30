// Copyright (c) memberlist-ts authors. SPDX-License-Identifier: MPL-2.0
/**
 * What a node does right after it joined, beyond Go's `Join` (neither is in Go
 * memberlist): it announces itself straight to every member it learned of
 * (`Config.announceAfterJoin`), and it exchanges state with a few more members
 * (`Config.pushPullAfterJoin`). Gossip alone carries a newcomer's alive only
 * `retransmitMult × ceil(log10(n + 1))` times per node, so a member now and then
 * misses it until the next periodic push/pull; these two close that gap within
 * about a second, in clusters of any size and whatever the members run.
 *
 * @module
 */

import { sleep } from "./clock.ts";
import { type Alive, encodeMessage, MessageType } from "./codec.ts";
import { NodeState } from "./node.ts";
import { rawSendMsgPacket } from "./net.ts";
import { fullAddress, log, type MemberlistState, type NodeRecord, pushPullNode } from "./state.ts";
import { kRandomNodes } from "./util.ts";

/**
 * Sends this node's alive message to every live member it knows, except those
 * at the addresses in `skip` (the ones the join exchanged state with, which
 * know it already). The members are split into batches sent one gossip
 * interval apart, so all of them are told within one probe interval. The
 * message is read from this node's record at each batch (a newer incarnation
 * or metadata goes out as it is), and the announcing stops when the node
 * leaves or shuts down.
 *
 * @param m The node.
 * @param skip `host:port` of the members not to tell.
 */
export async function announceAfterJoin(m: MemberlistState, skip: ReadonlySet<string>): Promise<void> {
  const c = m.config;
  const targets = m.nodes.filter((n) => n.name !== c.name && n.state === NodeState.Alive && !skip.has(fullAddress(n).addr));
  if (targets.length === 0) return;
  const step = Math.max(c.gossipInterval, 1);
  const batches = Math.max(1, Math.floor(c.probeInterval / step));
  const size = Math.ceil(targets.length / batches);
  try {
    for (let i = 0; i < targets.length; i += size) {
      if (i > 0) await sleep(c.clock, step, m.stopped.signal);
      const self = m.nodeMap.get(c.name);
      if (m.leaving || m.shutdown || self === undefined) return;
      const msg = encodeMessage(MessageType.Alive, aliveOf(self));
      for (const node of targets.slice(i, i + size)) {
        if (node.state !== NodeState.Alive) continue;
        try {
          rawSendMsgPacket(m, fullAddress(node), node, msg);
        } catch (err) {
          log(m, "debug", "Failed to announce the join", { node: node.name, error: err });
        }
      }
    }
  } catch (err) {
    if (!m.stopped.signal.aborted) throw err;
  }
}

function aliveOf(r: NodeRecord): Alive {
  return {
    incarnation: r.incarnation,
    node: r.name,
    addr: r.addr,
    port: r.port,
    meta: r.meta,
    vsn: r.id.vsn,
  };
}

/**
 * The follow-up exchanges after a join (`Config.pushPullAfterJoin`): push/pulls
 * with live members at `probeInterval`, then twice, four times… as late, to
 * pick up the newcomers that gossip missed when many nodes joined at once.
 * Each goes to a member not exchanged with yet (the join's own peers at the
 * addresses in `skip` included), while there is one: drawing with replacement
 * could go back to a member twice and miss the one that gossip missed.
 *
 * @param m The node.
 * @param skip `host:port` of the members the join exchanged state with.
 */
export async function pushPullAfterJoin(m: MemberlistState, skip: ReadonlySet<string>): Promise<void> {
  const c = m.config;
  const done = new Set(skip);
  let delay = Math.max(c.probeInterval, c.gossipInterval * 5, 100);
  try {
    for (let i = 0; i < c.pushPullAfterJoin && !m.shutdown; i++) {
      await sleep(c.clock, delay, m.stopped.signal);
      delay *= 2;
      const live = (n: NodeRecord) => n.name !== c.name && n.state === NodeState.Alive;
      const node = kRandomNodes(1, m.nodes, (n) => !live(n) || done.has(fullAddress(n).addr), c.random)[0] ??
        kRandomNodes(1, m.nodes, (n) => !live(n), c.random)[0];
      if (node === undefined) continue;
      const addr = fullAddress(node);
      done.add(addr.addr);
      try {
        await pushPullNode(m, addr, false);
      } catch (err) {
        if (!m.shutdown) log(m, "error", "Push/Pull failed", { node: node.name, error: err });
      }
    }
  } catch (err) {
    if (!m.stopped.signal.aborted) throw err;
  }
}
