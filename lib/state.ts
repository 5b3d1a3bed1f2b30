// Copyright (c) memberlist-ts authors. SPDX-License-Identifier: MPL-2.0
/**
 * The node table and its state machine, the failure detector and the gossip
 * and push/pull schedules (Go `state.go`; spec §8 to §11).
 *
 * Everything here runs on the injected clock and random source and does no I/O
 * of its own: packets and streams go through `net.ts`. Functions take the
 * {@linkcode MemberlistState} as their first argument, the way Go's methods take
 * their receiver.
 *
 * @module
 */

import { bytesEqual } from "./_bytes.ts";
import { NodeIdentity, NodeRecord, type NodeTable } from "./_records.ts";
import { type DropLog, NODE_REJECTED } from "./_drops.ts";
import { utf8Length } from "./_msgpack.ts";
import type { Awareness } from "./awareness.ts";
import type { TimerHandle } from "./clock.ts";
import { sleep } from "./clock.ts";
import type { Alive, Dead, PushNodeState, Suspect } from "./codec.ts";
import { encodeMessage, MessageType } from "./codec.ts";
import type { ResolvedConfig } from "./config.ts";
import { ipAllowed } from "./config.ts";
import { formatIP } from "./_ip.ts";
import type { LogFields } from "./logging.ts";
import type { MetricLabel } from "./metrics.ts";
import { freezeNode, joinHostPort, type Node, NodeState } from "./node.ts";
import type { Address, Transport } from "./transport.ts";
import type { TransmitLimitedQueue } from "./queue.ts";
import { MemberlistBroadcast } from "./broadcast.ts";
import { Suspicion } from "./suspicion.ts";
import { kRandomNodes, pushPullScale, randomOffset, suspicionTimeout } from "./util.ts";
import { type FailedNode, reconnect, rememberFailed } from "./reconnect.ts";
import {
  encodeAndSendMsg,
  type HandoffMessage,
  rawSendMsgPacket,
  sendAndReceiveState,
  sendPingAndWaitForAck,
  TransportSendError,
} from "./net.ts";
import { makeCompoundMessage, makeCompoundMessages, type WireOptions } from "./packet.ts";
import { PUSH_PULL_SLICE } from "./stream.ts";
import type { StreamSlots } from "./_stream_slots.ts";
import { COMPOUND_HEADER_OVERHEAD, COMPOUND_OVERHEAD, packetOverhead } from "./packet.ts";

/** Bytes a user broadcast adds: its type byte (Go `userMsgOverhead`). */
export const USER_MSG_OVERHEAD = 1;

export { NodeRecord } from "./_records.ts";

/** What waits for an ack (or nack) of one sequence number (Go `ackHandler`). */
export interface AckHandler {
  /** Called with the ack's payload and receive time. */
  ackFn(payload: Uint8Array | null, timestamp: number): void;
  /** Called for each nack, or null when nacks do not matter. */
  nackFn: (() => void) | null;
  /** Removes the handler when it expires. */
  timer: TimerHandle;
  /** Called by shutdown for a handler still waiting (its timer will not fire). */
  stop?: () => void;
}

/**
 * Everything one memberlist instance knows and runs (the fields of Go's
 * `Memberlist` struct). Owned by the `Memberlist` class; shared by the
 * functions of state.ts and net.ts.
 */
export interface MemberlistState {
  readonly config: ResolvedConfig;
  readonly wire: WireOptions;
  readonly transport: Transport;
  readonly awareness: Awareness;
  readonly broadcasts: TransmitLimitedQueue;
  readonly metricLabels: readonly MetricLabel[];
  /** The node list, in probe order. */
  nodes: NodeRecord[];
  /** The same records by name. */
  nodeMap: NodeTable;
  /** Running suspicion timers, by node name. */
  nodeTimers: Map<string, Suspicion>;
  /** Reaped dead nodes that are still reconnect candidates, oldest first (`reconnect.ts`). */
  failed: Map<string, FailedNode>;
  /** Next index into `nodes` for the probe round robin. */
  probeIndex: number;
  /** Last sequence number used (uint32). */
  sequenceNum: number;
  /** Last incarnation used for this node (uint32). */
  incarnation: number;
  /** Pending acks by sequence number. */
  ackHandlers: Map<number, AckHandler>;
  /** The port this node is bound to (the advertised one when the configured bind port was 0). */
  bindPort: number;
  /** Advertised address of this node. */
  advertiseAddr: Uint8Array;
  advertiseIp: string;
  advertisePort: number;
  /** Set by `leave()`. */
  leaving: boolean;
  /** Set by `shutdown()`. */
  shutdown: boolean;
  /** Aborted by `shutdown()`: every wait of the schedules listens to it. */
  readonly stopped: AbortController;
  /** Called when our leave broadcast has been sent enough times. */
  leaveNotify: (() => void) | null;
  /** Inbound alive messages (high priority) and suspect/dead/user messages, LIFO (Go handoff queues). */
  highPriority: HandoffMessage[];
  lowPriority: HandoffMessage[];
  handoffScheduled: boolean;
  /** Inbound push/pulls being served. */
  pushPullReq: number;
  /** Indirect probes being relayed for other nodes. */
  relayedProbes: number;
  /** Counts and rate-limits the logging of refused input. */
  readonly drops: DropLog;
  /** Admission of inbound streams. */
  readonly streamSlots: StreamSlots;
  /** Scheduler timers (probe, gossip, push/pull, queue check). */
  tickers: TimerHandle[];
  /** Restarts the gossip ticker when it went idle for lack of anything to send; null while it runs. */
  wakeGossip: (() => void) | null;
  /** Whether a probe round is running, and whether a tick arrived meanwhile. */
  probing: boolean;
  probeTickPending: boolean;
  /**
   * The incarnation ceiling in force: {@linkcode MAX_INCARNATION}, or null for
   * Go's rule (no ceiling, refutations wrap), which only the simulator sets to
   * show Go beside us.
   */
  incarnationCeiling: number | null;
  /**
   * Alive messages refused because another address holds their name (a node
   * moved), by name: applied once the old record may be reclaimed
   * (`retryClaims`). Null until the first one (most nodes never keep one).
   */
  claims: Map<string, Claim> | null;
  /** Whether claims are kept at all: false for Go's rule, which only the simulator sets. */
  keepClaims: boolean;
  /** When each node held suspect or dead was last told of its accusation (`Config.repairAccusations`; null until then). */
  accusedTold: Map<string, number> | null;
  /** When each node that accused this one too late was last sent its refutation (`Config.repairAccusations`; null until then). */
  accusersTold: Map<string, number> | null;
  /** The address a probe's direct ping went to while it waits for the ack; a send error there ends the wait. */
  probeSendWatch: { addr: string; fail(): void } | null;
  /** Streams and timers started by this instance that shutdown must wait for. */
  readonly inflight: Set<Promise<unknown>>;
  /** Event hooks of the public class (delegates and EventTarget). */
  readonly events: StateEvents;
}

/** The notifications the state machine raises (Go EventDelegate calls). */
export interface StateEvents {
  join(node: Node): void;
  leave(node: Node): void;
  update(node: Node): void;
  /** Alive → suspect, which Go reports to no delegate (Memberlist's "suspect" event). */
  suspect?(node: Node): void;
}

// ---------------------------------------------------------------- helpers

/** Logs through the configured logger; never throws. */
export function log(m: MemberlistState, level: "debug" | "info" | "warn" | "error", msg: string, fields?: LogFields): void {
  try {
    m.config.logger[level](msg, fields);
  } catch {
    // A broken logger must not break the protocol.
  }
}

/** Runs a user callback, logging (not propagating) what it throws. Returns its result or undefined. */
export function callUser<T>(m: MemberlistState, what: string, fn: () => T): T | undefined {
  try {
    return fn();
  } catch (err) {
    log(m, "error", `${what} threw`, { error: err });
    return undefined;
  }
}

/** Increments a counter metric. */
export function incr(m: MemberlistState, key: string[], value = 1): void {
  m.config.metrics.incrCounter(key, value, m.metricLabels);
}

/** A public snapshot of a record. */
export function toNode(r: NodeRecord, state: NodeState = r.state): Node {
  return freezeNode({
    name: r.name,
    addr: r.ip,
    port: r.port,
    address: r.id.address,
    meta: r.meta === null ? new Uint8Array(0) : r.meta.slice(),
    state,
    pMin: r.pMin,
    pMax: r.pMax,
    pCur: r.pCur,
    dMin: r.dMin,
    dMax: r.dMax,
    dCur: r.dCur,
  });
}

/** The address to reach a record at. */
export function fullAddress(r: NodeRecord): Address {
  return { addr: r.id.address, name: r.name };
}

/** Dead or left (Go `DeadOrLeft`). */
export function deadOrLeft(r: NodeRecord): boolean {
  return r.state === NodeState.Dead || r.state === NodeState.Left;
}

/** The cluster size estimate: every record, self and unreaped dead included (Go `estNumNodes`). */
export function estNumNodes(m: MemberlistState): number {
  return m.nodes.length;
}

/** Next sequence number (uint32, wrapping). */
export function nextSeqNo(m: MemberlistState): number {
  m.sequenceNum = (m.sequenceNum + 1) >>> 0;
  return m.sequenceNum;
}

function nextIncarnation(m: MemberlistState): number {
  m.incarnation = (m.incarnation + 1) >>> 0;
  return m.incarnation;
}

/** Queues one of memberlist's own messages for gossip, named after a node (Go `encodeBroadcastNotify`). */
function broadcast(m: MemberlistState, node: string, msg: Uint8Array, notify: (() => void) | null = null): void {
  m.broadcasts.queueBroadcast(new MemberlistBroadcast(node, msg, notify));
  m.wakeGossip?.();
}

/**
 * Takes memberlist's queued broadcasts and the delegate's for a packet with
 * `limit` bytes to spare (Go `getBroadcasts` in broadcast.go). Go gives the
 * delegate only what memberlist's own messages leave, which under heavy churn
 * is nothing; here they leave at least `userBroadcastShare` of the packet
 * after their first message, and take back whatever the delegate leaves.
 */
export function getBroadcasts(m: MemberlistState, overhead: number, limit: number): Uint8Array[] {
  const d = m.config.delegate;
  if (d?.getBroadcasts === undefined) return m.broadcasts.getBroadcasts(overhead, limit);
  const user: Uint8Array[] = [];
  const fill = (avail: number): number => {
    if (avail <= overhead + USER_MSG_OVERHEAD) return 0;
    const msgs = callUser(m, "Delegate.getBroadcasts", () => d.getBroadcasts!(overhead + USER_MSG_OVERHEAD, avail));
    if (!Array.isArray(msgs)) return 0;
    let used = 0;
    for (const msg of msgs) {
      if (!(msg instanceof Uint8Array) || msg.length === 0) continue;
      const buf = new Uint8Array(msg.length + USER_MSG_OVERHEAD);
      buf[0] = MessageType.User;
      buf.set(msg, USER_MSG_OVERHEAD);
      user.push(buf);
      used += overhead + buf.length;
    }
    return used;
  };
  const reserve = Math.max(0, Math.floor(limit * m.config.userBroadcastShare));
  const toSend = m.broadcasts.getBroadcasts(overhead, limit, { reserve, fill });
  for (const msg of user) toSend.push(msg);
  return toSend;
}

/**
 * The broadcasts `getBroadcasts` would pick for a packet, without counting them
 * as transmitted (memberlist's own queue only; delegates' broadcasts are not
 * sent to dead nodes).
 */
function peekBroadcasts(m: MemberlistState, overhead: number, limit: number): Uint8Array[] {
  const out: Uint8Array[] = [];
  let used = 0;
  for (const q of m.broadcasts.orderedView()) {
    const free = limit - used - overhead;
    if (free <= 0) break;
    if (q.length > free) continue;
    out.push(q.broadcast.message());
    used += overhead + q.length;
  }
  return out;
}

// ---------------------------------------------------------------- schedules

/**
 * Starts the probe, gossip, push/pull and reconnect schedules, each after a
 * random stagger (Go `schedule`, which has no reconnect).
 */
export function schedule(m: MemberlistState): void {
  const c = m.config;
  if (c.probeInterval > 0) {
    const stagger = Math.floor(m.config.random() * c.probeInterval);
    startTicker(m, c.probeInterval, stagger, () => probeTick(m));
  }
  if (c.gossipInterval > 0 && c.gossipNodes > 0) {
    const stagger = Math.floor(m.config.random() * c.gossipInterval);
    // With nothing queued and no delegate broadcasts, a gossip tick sends nothing (as in Go);
    // the ticker then sleeps until something is queued instead of waking the process for nothing.
    const idle = c.delegate?.getBroadcasts === undefined ? () => m.broadcasts.numQueued() === 0 : undefined;
    startTicker(m, c.gossipInterval, stagger, () => gossip(m), idle);
  }
  if (c.pushPullInterval > 0) track(m, scaledLoop(m, c.pushPullInterval, pushPull));
  if (c.reconnectInterval > 0) track(m, scaledLoop(m, c.reconnectInterval, reconnect));
  if (c.queueCheckInterval > 0) {
    startTicker(m, c.queueCheckInterval, c.queueCheckInterval, () => {
      m.config.metrics.addSample(["memberlist", "queue", "broadcasts"], m.broadcasts.numQueued(), m.metricLabels);
    });
  }
}

/**
 * A fixed-rate ticker on the injected clock: first tick after `first` ms, then
 * every `interval`. With `idle`, a tick after which `idle()` holds does not
 * re-arm: the ticker sleeps until `m.wakeGossip()` (only the gossip ticker is
 * idle-aware), and then resumes on its original phase.
 */
function startTicker(
  m: MemberlistState,
  interval: number,
  first: number,
  fn: () => void,
  idle?: () => boolean,
): void {
  const slot = m.tickers.length;
  let next = m.config.clock.now() + first;
  const arm = (now: number) => {
    m.tickers[slot] = m.config.clock.setTimeout(tick, next - now);
  };
  const tick = () => {
    if (m.shutdown) return;
    next += interval;
    // A tick that comes late (a busy process) is not repeated to catch up, as Go's ticker drops ticks.
    const now = m.config.clock.now();
    if (next <= now) next = now + interval;
    try {
      fn();
    } catch (err) {
      log(m, "error", "Scheduled task failed", { error: err });
    }
    if (idle?.() === true) {
      m.wakeGossip = () => {
        m.wakeGossip = null;
        const at = m.config.clock.now();
        if (next <= at) next += Math.ceil((at - next) / interval) * interval;
        if (next <= at) next += interval;
        arm(at);
      };
      return;
    }
    arm(now);
  };
  m.tickers[slot] = m.config.clock.setTimeout(tick, first);
}

/** Stops every schedule (Go `deschedule`). */
export function deschedule(m: MemberlistState): void {
  for (const t of m.tickers) t.cancel();
  m.tickers.length = 0;
  m.wakeGossip = null;
}

/** Keeps a background promise in `inflight` until it settles; shutdown waits for these. */
export function track<T>(m: MemberlistState, p: Promise<T>): Promise<T> {
  const tracked = p.catch((err) => {
    if (!m.shutdown) log(m, "error", "Background task failed", { error: err });
    return undefined;
  }).finally(() => m.inflight.delete(tracked));
  m.inflight.add(tracked);
  return p;
}

/**
 * Resolves on a later turn of the event loop (a 0 ms timer of the node's
 * clock), so that long work in slices lets packets and timers in between.
 */
export function yieldToEventLoop(m: MemberlistState): Promise<void> {
  return new Promise<void>((resolve) => m.config.clock.setTimeout(resolve, 0));
}

/**
 * Runs `task` after a random stagger within `interval`, then every `interval`
 * scaled up with the cluster's size, until shutdown (Go `pushPullTrigger`).
 */
async function scaledLoop(m: MemberlistState, interval: number, task: (m: MemberlistState) => Promise<unknown>): Promise<void> {
  const c = m.config;
  const signal = m.stopped.signal;
  try {
    await sleep(c.clock, Math.floor(c.random() * interval), signal);
    while (!m.shutdown) {
      await sleep(c.clock, pushPullScale(interval, estNumNodes(m)), signal);
      if (m.shutdown) return;
      await task(m);
    }
  } catch (err) {
    if (!signal.aborted) throw err;
  }
}

// ---------------------------------------------------------------- probing

function probeTick(m: MemberlistState): void {
  if (m.claims !== null && m.claims.size > 0) retryClaims(m);
  if (m.probing) {
    // Go's ticker keeps one tick while the receiver is busy.
    m.probeTickPending = true;
    return;
  }
  m.probing = true;
  const done = () => {
    m.probing = false;
    if (m.probeTickPending && !m.shutdown) {
      m.probeTickPending = false;
      probeTick(m);
    }
  };
  let round: Promise<void>;
  try {
    round = probe(m);
  } catch (err) {
    log(m, "error", "Probe failed", { error: err });
    done();
    return;
  }
  track(m, round.finally(done));
}

/** One probe round: pick the next live node in the shuffled list and probe it (Go `probe`). */
export function probe(m: MemberlistState): Promise<void> {
  let checked = 0;
  for (;;) {
    if (checked >= m.nodes.length) return Promise.resolve();
    if (m.probeIndex >= m.nodes.length) {
      resetNodes(m);
      m.probeIndex = 0;
      checked++;
      continue;
    }
    const node = m.nodes[m.probeIndex]!;
    m.probeIndex++;
    if (node.name === m.config.name || deadOrLeft(node)) {
      checked++;
      continue;
    }
    // A snapshot: the probe judges the node as it was when the probe started.
    return probeNode(m, node.clone());
  }
}

/**
 * Reaps dead and left records older than `gossipToTheDeadTime` and shuffles the
 * list (Go `resetNodes` and `moveDeadNodes`). This node's own record stays: Go
 * reaps it too after a leave, and then `LocalNode()` and `UpdateNode()` fail.
 */
export function resetNodes(m: MemberlistState): void {
  const now = m.config.clock.now();
  const keep: NodeRecord[] = [];
  for (const n of m.nodes) {
    if (deadOrLeft(n) && now - n.stateChange > m.config.gossipToTheDeadTime && n.name !== m.config.name) {
      m.nodeMap.delete(n.name);
      if (n.state === NodeState.Dead) rememberFailed(m, n.name, fullAddress(n).addr, n.stateChange);
      const timer = m.nodeTimers.get(n.name);
      if (timer !== undefined) {
        timer.cancel();
        m.nodeTimers.delete(n.name);
      }
    } else keep.push(n);
  }
  m.nodes = keep;
  for (let i = keep.length - 1; i > 0; i--) {
    const j = Math.floor(m.config.random() * (i + 1));
    const t = keep[i]!;
    keep[i] = keep[j]!;
    keep[j] = t;
  }
}

/** The outcome of waiting on a probe's ack handler. */
interface AckResult {
  complete: boolean;
  payload: Uint8Array | null;
  timestamp: number;
}

/**
 * Registers the ack handler of a probe (Go `setProbeChannels`): the returned
 * promise resolves with the first ack, or with `complete: false` when
 * `timeoutMs` passes. Nacks are counted.
 */
function setProbeChannels(
  m: MemberlistState,
  seqNo: number,
  timeoutMs: number,
): { ack: Promise<AckResult>; nacks: () => number } {
  let nacks = 0;
  let resolve!: (v: AckResult) => void;
  const ack = new Promise<AckResult>((r) => (resolve = r));
  const timer = m.config.clock.setTimeout(() => {
    m.ackHandlers.delete(seqNo);
    resolve({ complete: false, payload: null, timestamp: m.config.clock.now() });
  }, timeoutMs);
  m.ackHandlers.set(seqNo, {
    ackFn: (payload, timestamp) => resolve({ complete: true, payload, timestamp }),
    nackFn: () => void nacks++,
    timer,
    // Shutdown cancels that timer: end the wait then, or the probe (which shutdown waits for) never finishes.
    stop: () => resolve({ complete: false, payload: null, timestamp: m.config.clock.now() }),
  });
  return { ack, nacks: () => nacks };
}

/**
 * Takes a send error the transport reported after `writeTo()` returned: when
 * a probe waits for the ack of a ping to that address, it stops waiting and
 * goes on to indirect probes.
 */
export function handleSendError(m: MemberlistState, addr: string): void {
  const watch = m.probeSendWatch;
  if (watch !== null && watch.addr === addr) watch.fail();
}

/**
 * Registers a plain ack handler that expires after `timeoutMs` (Go
 * `setAckHandler`), calling `onExpire` if no ack came by then; shutdown
 * cancels the timer with every other ack handler's, and `onExpire` with it.
 */
export function setAckHandler(
  m: MemberlistState,
  seqNo: number,
  ackFn: (payload: Uint8Array | null, timestamp: number) => void,
  timeoutMs: number,
  onExpire?: () => void,
): void {
  const timer = m.config.clock.setTimeout(() => {
    m.ackHandlers.delete(seqNo);
    onExpire?.();
  }, timeoutMs);
  m.ackHandlers.set(seqNo, { ackFn, nackFn: null, timer });
}

/** Delivers an ack to its handler, if any (Go `invokeAckHandler`). */
export function invokeAckHandler(m: MemberlistState, seqNo: number, payload: Uint8Array | null, timestamp: number): void {
  const ah = m.ackHandlers.get(seqNo);
  if (ah === undefined) return;
  m.ackHandlers.delete(seqNo);
  ah.timer.cancel();
  ah.ackFn(payload, timestamp);
}

/** Delivers a nack to its handler, if it counts nacks (Go `invokeNackHandler`). */
export function invokeNackHandler(m: MemberlistState, seqNo: number): void {
  m.ackHandlers.get(seqNo)?.nackFn?.();
}

/** Waits for `p` or `ms` of clock time, whichever comes first; never leaves a timer behind. */
function raceTimeout<T>(m: MemberlistState, p: Promise<T>, ms: number): Promise<T | undefined> {
  return new Promise<T | undefined>((resolve) => {
    const timer = m.config.clock.setTimeout(() => resolve(undefined), ms);
    p.then((v) => {
      timer.cancel();
      resolve(v);
    });
  });
}

/**
 * Probes one node (Go `probeNode`, spec §9.2): a direct ping, then after
 * `probeTimeout` indirect pings through random relays and, in parallel, a TCP
 * ping; the node becomes suspect when nothing answers before the (health-scaled)
 * probe interval ends. Updates the local health score.
 */
export async function probeNode(m: MemberlistState, node: NodeRecord): Promise<void> {
  const c = m.config;
  const started = c.clock.now();
  const probeInterval = m.awareness.scaleTimeout(c.probeInterval);
  if (probeInterval > c.probeInterval) incr(m, ["memberlist", "degraded", "probe"]);

  const ping = {
    seqNo: nextSeqNo(m),
    node: node.name,
    sourceAddr: m.advertiseAddr,
    sourcePort: m.advertisePort,
    sourceNode: c.name,
  };
  const { ack, nacks } = setProbeChannels(m, ping.seqNo, probeInterval);
  const sent = c.clock.now();
  const deadline = sent + probeInterval;
  let delta = 0;
  try {
    let remoteFailure = false;
    // A send error the transport reports after writeTo() returned (as sockets do) ends the
    // wait for the direct ack like a throw from writeTo(); it may come during the send, too.
    const sendFailed = new Promise<"send failed">((resolve) => {
      m.probeSendWatch = { addr: fullAddress(node).addr, fail: () => resolve("send failed") };
    });
    try {
      if (node.state === NodeState.Alive) {
        encodeAndSendMsg(m, fullAddress(node), MessageType.Ping, ping);
      } else {
        // The "buddy system": a suspect learns it is suspected with the probe itself.
        const s: Suspect = { incarnation: node.incarnation, node: node.name, from: c.name };
        const compound = makeCompoundMessage([
          encodeMessage(MessageType.Ping, ping),
          encodeMessage(MessageType.Suspect, s),
        ]);
        rawSendMsgPacket(m, fullAddress(node), node, compound);
      }
    } catch (err) {
      m.probeSendWatch = null;
      log(m, "error", "Failed to send UDP ping", { node: node.name, error: err });
      if (!(err instanceof TransportSendError)) return;
      remoteFailure = true;
    }

    if (!remoteFailure) {
      delta = -1;
      const first = await raceTimeout(m, Promise.race([ack, sendFailed]), c.probeTimeout);
      m.probeSendWatch = null;
      if (m.shutdown) return;
      if (first === "send failed") {
        log(m, "error", "Failed to send UDP ping", { node: node.name, error: "the transport reported a send error" });
        delta = 0;
      } else if (first?.complete) {
        const pd = c.ping;
        if (pd?.notifyPingComplete !== undefined) {
          const rtt = first.timestamp - sent;
          callUser(m, "PingDelegate.notifyPingComplete", () =>
            pd.notifyPingComplete!(toNode(node), rtt, first.payload ?? new Uint8Array(0)));
        }
        return;
      } else {
        log(m, "debug", "Failed UDP ping (timeout reached)", { node: node.name });
      }
    }

    // Indirect probes through up to indirectChecks live relays.
    const relays = kRandomNodes(
      c.indirectChecks,
      m.nodes,
      (n) => n.name === c.name || n.name === node.name || n.state !== NodeState.Alive,
      c.random,
    );
    let expectedNacks = 0;
    for (const peer of relays) {
      const nack = peer.pMax >= 4;
      if (nack) expectedNacks++;
      try {
        encodeAndSendMsg(m, fullAddress(peer), MessageType.IndirectPing, {
          seqNo: ping.seqNo,
          target: node.addr,
          port: node.port,
          node: node.name,
          nack,
          sourceAddr: m.advertiseAddr,
          sourcePort: m.advertisePort,
          sourceNode: c.name,
        });
      } catch (err) {
        log(m, "error", "Failed to send indirect UDP ping", { node: peer.name, error: err });
      }
    }

    // The TCP fallback runs alongside, bounded by the same deadline.
    const tcpAllowed = !c.disableTcpPings &&
      !(c.disableTcpPingsForNode !== null && callUser(m, "disableTcpPingsForNode", () => c.disableTcpPingsForNode!(node.name)) === true) &&
      node.pMax >= 3;
    const fallback = tcpAllowed
      ? sendPingAndWaitForAck(m, fullAddress(node), ping, deadline).catch((err) => {
        if (!m.shutdown) log(m, "error", "Failed fallback TCP ping", { node: node.name, error: err });
        return false;
      })
      : Promise.resolve(false);

    const v = await ack;
    if (m.shutdown) return;
    if (v.complete) return;
    if (await fallback) {
      log(m, "warn", "Was able to connect over TCP but UDP probes failed, network may be misconfigured", {
        node: node.name,
      });
      return;
    }
    if (m.shutdown) return;

    delta = 0;
    if (expectedNacks > 0) {
      const got = nacks();
      if (got < expectedNacks) delta += expectedNacks - got;
    } else delta += 1;

    log(m, "info", "Suspect has failed, no acks received", { node: node.name });
    suspectNode(m, { incarnation: node.incarnation, node: node.name, from: c.name });
  } finally {
    m.probeSendWatch = null;
    if (!m.shutdown) {
      m.awareness.applyDelta(delta);
      c.metrics.measureSince(["memberlist", "probeNode"], c.clock.now() - started, m.metricLabels);
    }
  }
}

/**
 * A bare direct UDP probe of `name` at `address` (Go `Ping`): resolves with the
 * round-trip time in ms, or null when no ack came within `probeTimeout`.
 */
export async function pingNode(m: MemberlistState, name: string, address: string): Promise<number | null> {
  const ping = {
    seqNo: nextSeqNo(m),
    node: name,
    sourceAddr: m.advertiseAddr,
    sourcePort: m.advertisePort,
    sourceNode: m.config.name,
  };
  const { ack } = setProbeChannels(m, ping.seqNo, m.config.probeInterval);
  encodeAndSendMsg(m, { addr: address, name }, MessageType.Ping, ping);
  const sent = m.config.clock.now();
  const v = await raceTimeout(m, ack, m.config.probeTimeout);
  if (v?.complete) return v.timestamp - sent;
  const h = m.ackHandlers.get(ping.seqNo);
  if (h !== undefined) {
    h.timer.cancel();
    m.ackHandlers.delete(ping.seqNo);
  }
  return null;
}

// ---------------------------------------------------------------- gossip

/** One gossip tick: send queued broadcasts to a few random nodes (Go `gossip`, spec §10.4). */
export function gossip(m: MemberlistState): void {
  const c = m.config;
  const started = c.clock.now();
  const now = started;
  const targets = kRandomNodes(c.gossipNodes, m.nodes, (n) => {
    if (n.name === c.name) return true;
    switch (n.state) {
      case NodeState.Alive:
      case NodeState.Suspect:
        return false;
      case NodeState.Dead:
        return now - n.stateChange > c.gossipToTheDeadTime;
      default:
        return true;
    }
  }, c.random);

  const bytesAvail = c.udpBufferSize - COMPOUND_HEADER_OVERHEAD - packetOverhead(m.wire, true);
  for (const node of targets) {
    // Gossip to the dead gives a wrongly declared node the chance to refute; unlike
    // Go, it does not spend the messages' retransmissions, which in small clusters
    // left live nodes without a leave or an alive (the dead node soaked them up).
    const dead = node.state === NodeState.Dead;
    const msgs = dead ? peekBroadcasts(m, COMPOUND_OVERHEAD, bytesAvail) : getBroadcasts(m, COMPOUND_OVERHEAD, bytesAvail);
    // Nothing for a dead target says nothing about the live ones: the delegate's broadcasts go
    // only to them. Go returns here, which is the same there since it sends one queue to all.
    if (msgs.length === 0) {
      if (dead) continue;
      break;
    }
    const packets = msgs.length === 1 ? msgs : makeCompoundMessages(msgs);
    for (const packet of packets) {
      try {
        rawSendMsgPacket(m, fullAddress(node), node, packet);
      } catch (err) {
        log(m, "error", "Failed to send gossip", { node: node.name, error: err });
      }
    }
  }
  c.metrics.measureSince(["memberlist", "gossip"], c.clock.now() - started, m.metricLabels);
}

// ---------------------------------------------------------------- push/pull

/** Push/pull with one random live node (Go `pushPull`). */
export async function pushPull(m: MemberlistState): Promise<void> {
  const c = m.config;
  const nodes = kRandomNodes(1, m.nodes, (n) => n.name === c.name || n.state !== NodeState.Alive, c.random);
  const node = nodes[0];
  if (node === undefined) return;
  try {
    await pushPullNode(m, fullAddress(node), false);
  } catch (err) {
    if (!m.shutdown) log(m, "error", "Push/Pull failed", { node: node.name, error: err });
  }
}

/** Exchanges full state with one node and merges what comes back (Go `pushPullNode`). */
export async function pushPullNode(m: MemberlistState, a: Address, join: boolean, signal?: AbortSignal): Promise<void> {
  const started = m.config.clock.now();
  try {
    const remote = await sendAndReceiveState(m, a, join, signal);
    await mergeRemoteState(m, join, remote.nodes, remote.userState);
  } finally {
    m.config.metrics.measureSince(["memberlist", "pushPullNode"], m.config.clock.now() - started, m.metricLabels);
  }
}

/** This node's table as push/pull records (Go `sendLocalState`'s first half). */
export function localState(m: MemberlistState): PushNodeState[] {
  const counts = { alive: 0, suspect: 0, dead: 0, left: 0 };
  const out: PushNodeState[] = new Array(m.nodes.length);
  for (let i = 0; i < m.nodes.length; i++) {
    const n = m.nodes[i]!;
    out[i] = {
      name: n.name,
      addr: n.addr,
      port: n.port,
      meta: n.meta,
      incarnation: n.incarnation,
      state: n.state,
      vsn: n.id.vsn,
    };
    if (n.state === NodeState.Alive) counts.alive++;
    else if (n.state === NodeState.Suspect) counts.suspect++;
    else if (n.state === NodeState.Dead) counts.dead++;
    else counts.left++;
  }
  for (const [state, count] of Object.entries(counts)) {
    m.config.metrics.setGauge(["memberlist", "node", "instances"], count, [
      ...m.metricLabels,
      { name: "node_state", value: state },
    ]);
  }
  return out;
}

/**
 * Checks that every node, remote and local, speaks a protocol version the
 * others understand (Go `verifyProtocol`, spec §7.4).
 *
 * @throws {Error} Naming the first incompatible node.
 */
export function verifyProtocol(m: MemberlistState, remote: readonly PushNodeState[]): void {
  let maxPMin = 0, minPMax = 255, maxDMin = 0, minDMax = 255;
  for (const rn of remote) {
    if (rn.state !== NodeState.Alive || rn.vsn.length < 5) continue;
    maxPMin = Math.max(maxPMin, rn.vsn[0]!);
    minPMax = Math.min(minPMax, rn.vsn[1]!);
    maxDMin = Math.max(maxDMin, rn.vsn[3]!);
    minDMax = Math.min(minDMax, rn.vsn[4]!);
  }
  for (const n of m.nodes) {
    if (n.state !== NodeState.Alive) continue;
    maxPMin = Math.max(maxPMin, n.pMin);
    minPMax = Math.min(minPMax, n.pMax);
    maxDMin = Math.max(maxDMin, n.dMin);
    minDMax = Math.min(minDMax, n.dMax);
  }
  const check = (name: string, pCur: number, dCur: number) => {
    if (pCur < maxPMin || pCur > minPMax) {
      throw new Error(`Node "${name}" protocol version (${pCur}) is incompatible: [${maxPMin}, ${minPMax}]`);
    }
    if (dCur < maxDMin || dCur > minDMax) {
      throw new Error(`Node "${name}" delegate protocol version (${dCur}) is incompatible: [${maxDMin}, ${minDMax}]`);
    }
  };
  for (const rn of remote) {
    const six = rn.vsn.length >= 6;
    check(rn.name, six ? rn.vsn[2]! : 0, six ? rn.vsn[5]! : 0);
  }
  for (const n of m.nodes) check(n.name, n.pCur, n.dCur);
}

/**
 * Verifies and merges remote state, then hands user state to the delegate (Go
 * `mergeRemoteState`). Large states are merged in slices (see
 * {@linkcode mergeState}).
 *
 * @throws {Error} When versions are incompatible or the merge delegate refuses.
 */
export async function mergeRemoteState(
  m: MemberlistState,
  join: boolean,
  remote: PushNodeState[],
  userState: Uint8Array,
): Promise<void> {
  if (m.config.protocolVersion < 2 || remote.some((r) => r.port === 0)) {
    for (const r of remote) if (m.config.protocolVersion < 2 || r.port === 0) r.port = m.bindPort;
  }
  verifyProtocol(m, remote);
  const md = m.config.merge;
  if (join && md?.notifyMerge !== undefined) {
    const peers: Node[] = remote.map((r) => {
      const six = r.vsn.length >= 6;
      return Object.freeze({
        name: r.name,
        addr: formatIP(r.addr),
        port: r.port,
        address: joinHostPort(formatIP(r.addr), r.port),
        meta: r.meta === null ? new Uint8Array(0) : r.meta.slice(),
        state: r.state as NodeState,
        pMin: six ? r.vsn[0]! : 0,
        pMax: six ? r.vsn[1]! : 0,
        pCur: six ? r.vsn[2]! : 0,
        dMin: six ? r.vsn[3]! : 0,
        dMax: six ? r.vsn[4]! : 0,
        dCur: six ? r.vsn[5]! : 0,
      });
    });
    // A throw from the merge delegate refuses the merge, as Go's error return does.
    md.notifyMerge(peers);
  }
  await mergeState(m, remote);
  if (m.shutdown) return;
  const d = m.config.delegate;
  if (userState.length > 0 && d?.mergeRemoteState !== undefined) {
    callUser(m, "Delegate.mergeRemoteState", () => d.mergeRemoteState!(userState, join));
  }
}

/**
 * Applies remote records to the local table (Go `mergeState`, spec §8.10), in
 * slices of {@linkcode PUSH_PULL_SLICE} records with a turn of the event loop
 * between them: a large state (tens of thousands of records) then never keeps
 * the node from answering probes, where Go's single pass under its lock can
 * hold it for seconds.
 */
export async function mergeState(m: MemberlistState, remote: readonly PushNodeState[]): Promise<void> {
  for (let i = 0; i < remote.length; i++) {
    if (i > 0 && i % PUSH_PULL_SLICE === 0) {
      await yieldToEventLoop(m);
      if (m.shutdown) return;
    }
    const r = remote[i]!;
    switch (r.state) {
      case NodeState.Alive:
        aliveNode(m, {
          incarnation: r.incarnation,
          node: r.name,
          addr: r.addr,
          port: r.port,
          meta: r.meta,
          vsn: r.vsn,
        }, null, false);
        break;
      case NodeState.Left:
        deadNode(m, { incarnation: r.incarnation, node: r.name, from: r.name });
        break;
      case NodeState.Dead:
      case NodeState.Suspect:
        // A remote "dead" only makes us suspect: we check for ourselves.
        suspectNode(m, { incarnation: r.incarnation, node: r.name, from: m.config.name });
        break;
    }
  }
}

// ---------------------------------------------------------------- the state machine

/**
 * Refutes an accusation against this node: a higher incarnation, gossiped as
 * alive (Go `refute`, spec §8.6).
 */
export function refute(m: MemberlistState, me: NodeRecord, accusedInc: number): void {
  let inc = nextIncarnation(m);
  if (accusedInc >= inc) {
    // Never wraps: accusations at MAX_INCARNATION or above are dropped before they get here
    // (only Go's rule, which the simulator can switch to, wraps to 0).
    m.incarnation = m.incarnationCeiling === null ? (accusedInc + 1) >>> 0 : Math.min(accusedInc + 1, 0xffff_ffff);
    inc = m.incarnation;
  }
  me.incarnation = inc;
  m.awareness.applyDelta(1);
  const a: Alive = { incarnation: inc, node: me.name, addr: me.addr, port: me.port, meta: me.meta, vsn: me.id.vsn };
  // Go names this broadcast after the address text, not the node name.
  broadcast(m, me.ip, encodeMessage(MessageType.Alive, a));
}

/**
 * The highest incarnation a record takes (not in Go; hashicorp/memberlist#358).
 * An incarnation counts one node's refutations and metadata updates: 2^31 − 1
 * of them take 68 years at one a second, so a message above is forged or
 * corrupt. Without a ceiling one suspect message at 2^32 − 1 evicts a node:
 * no alive can beat it, and Go's refutation wraps to 0. So alive messages
 * above the ceiling are dropped, and so are suspect and dead messages that
 * would raise a record to it or above, or that accuse this node at it (its
 * refutation must stay at or below). Everything stays wire-compatible; Go
 * nodes in the cluster still take such messages. A node that a forged
 * accusation drove to the ceiling cannot refute the next one (it is declared
 * dead where a probe of it fails, and taken back as new once forgotten), but
 * it never wraps and is never evicted for good.
 */
export const MAX_INCARNATION = 0x7fff_ffff;

/**
 * Whether an accusation at `inc` must be dropped by the ceiling (see
 * {@linkcode MAX_INCARNATION}); counts and logs it.
 */
function overCeiling(m: MemberlistState, r: NodeRecord, inc: number, what: "suspect" | "dead"): boolean {
  const ceiling = m.incarnationCeiling;
  if (ceiling === null || inc < ceiling) return false;
  const self = r.name === m.config.name;
  // A prober's own record at the ceiling raises nothing; a leave is this node's own dead message.
  if ((!self && inc === r.incarnation) || (self && m.leaving)) return false;
  m.drops.drop(NODE_REJECTED, "incarnation", "warn", `Ignoring a ${what} message: incarnation ${inc} is beyond ${ceiling}`, {
    node: r.name,
  });
  return true;
}

/**
 * Processes an alive message (Go `aliveNode`, spec §8.3).
 *
 * @param notify Called when the resulting broadcast has been sent enough times.
 * @param bootstrap True only for this node's own alive at start and in `updateNode`.
 */
export function aliveNode(m: MemberlistState, a: Alive, notify: (() => void) | null, bootstrap: boolean): void {
  const c = m.config;
  let state = m.nodeMap.get(a.node);
  if (m.leaving && a.node === c.name) return;
  if (m.incarnationCeiling !== null && a.incarnation > m.incarnationCeiling) {
    m.drops.drop(NODE_REJECTED, "incarnation", "warn", `Ignoring an alive message: incarnation ${a.incarnation} is beyond ${m.incarnationCeiling}`, {
      node: a.node.length > 64 ? `${a.node.slice(0, 64)}…` : a.node,
    });
    return;
  }
  if (!bootstrap) {
    const refused = refuseAlive(m, a, state === undefined);
    if (refused !== null) {
      m.drops.drop(NODE_REJECTED, refused[0], "warn", `Refused an alive message: ${refused[1]}`, {
        node: a.node.length > 64 ? `${a.node.slice(0, 64)}…` : a.node,
      });
      return;
    }
  }

  if (a.vsn.length >= 3) {
    const [pMin, pMax] = [a.vsn[0]!, a.vsn[1]!];
    if (pMin === 0 || pMax === 0 || pMin > pMax) {
      m.drops.drop(NODE_REJECTED, "vsn", "warn", "Ignoring an alive message because protocol versions are wrong", {
        node: a.node,
        vsn: [...a.vsn],
      });
      return;
    }
  }

  const ad = c.alive;
  if (ad?.notifyAlive !== undefined) {
    if (a.vsn.length < 6) {
      m.drops.drop(NODE_REJECTED, "vsn", "warn", "Ignoring alive message because Vsn is not present", { node: a.node });
      return;
    }
    const ip = formatIP(a.addr);
    const peer: Node = Object.freeze({
      name: a.node,
      addr: ip,
      port: a.port,
      address: joinHostPort(ip, a.port),
      meta: a.meta === null ? new Uint8Array(0) : a.meta.slice(),
      state: NodeState.Alive,
      pMin: a.vsn[0]!, pMax: a.vsn[1]!, pCur: a.vsn[2]!,
      dMin: a.vsn[3]!, dMax: a.vsn[4]!, dCur: a.vsn[5]!,
    });
    try {
      ad.notifyAlive(peer);
    } catch (err) {
      m.drops.drop(NODE_REJECTED, "delegate", "warn", "Ignoring alive message: the alive delegate refused it", {
        node: a.node,
        error: err,
      });
      return;
    }
  }

  let updatesNode = false;
  if (state === undefined) {
    if (!ipAllowed(c, a.addr)) {
      m.drops.drop(NODE_REJECTED, "cidr", "warn", "Rejected node: address not allowed", {
        node: a.node,
        addr: formatIP(a.addr),
      });
      return;
    }
    if (m.nodes.length >= c.maxNodes) {
      m.drops.drop(NODE_REJECTED, "table_full", "warn", `Rejected node: the node table holds maxNodes (${c.maxNodes}) records`, {
        node: a.node,
      });
      return;
    }
    state = new NodeRecord(NodeIdentity.of(a.node, a.addr, a.port, a.meta, a.vsn), 0, NodeState.Dead, 0);
    m.nodeMap.set(a.node, state);
    // Insert at a random position so new nodes are probed within one round.
    const n = m.nodes.length;
    const offset = randomOffset(n, c.random);
    m.nodes.push(state);
    m.nodes[n] = m.nodes[offset]!;
    m.nodes[offset] = state;
  } else if (!bytesEqual(state.addr, a.addr) || state.port !== a.port) {
    if (!ipAllowed(c, a.addr)) {
      m.drops.drop(NODE_REJECTED, "cidr", "warn", "Rejected IP update: address not allowed", {
        node: a.node,
        addr: formatIP(a.addr),
      });
      return;
    }
    const canReclaim = c.deadNodeReclaimTime > 0 && c.clock.now() - state.stateChange > c.deadNodeReclaimTime;
    if (state.state === NodeState.Left || (state.state === NodeState.Dead && canReclaim)) {
      log(m, "info", "Updating address for left or failed node", {
        node: state.name,
        from: joinHostPort(state.ip, state.port),
        to: joinHostPort(formatIP(a.addr), a.port),
      });
      updatesNode = true;
    } else {
      rememberClaim(m, a, state);
      m.drops.drop(NODE_REJECTED, "conflict", "error", "Conflicting address for node", {
        node: state.name,
        mine: joinHostPort(state.ip, state.port),
        theirs: joinHostPort(formatIP(a.addr), a.port),
        state: state.state,
      });
      const cd = c.conflict;
      if (cd?.notifyConflict !== undefined) {
        const existing = toNode(state);
        const ip = formatIP(a.addr);
        const other: Node = Object.freeze({
          name: a.node, addr: ip, port: a.port, address: joinHostPort(ip, a.port),
          meta: a.meta === null ? new Uint8Array(0) : a.meta.slice(), state: NodeState.Alive,
          pMin: 0, pMax: 0, pCur: 0, dMin: 0, dMax: 0, dCur: 0,
        });
        callUser(m, "ConflictDelegate.notifyConflict", () => cd.notifyConflict!(existing, other));
      }
      return;
    }
  }

  const isLocal = state.name === c.name;
  if (a.incarnation <= state.incarnation && !isLocal && !updatesNode) {
    // (Incarnation 0 is the placeholder an alive at 0 leaves for an unknown node: no accusation.)
    const accused = state.state === NodeState.Suspect || state.state === NodeState.Dead;
    if (c.repairAccusations && accused && state.incarnation > 0) tellAccused(m, state);
    return;
  }
  if (a.incarnation < state.incarnation && isLocal) return;

  const timer = m.nodeTimers.get(a.node);
  if (timer !== undefined) {
    timer.cancel();
    m.nodeTimers.delete(a.node);
  }

  const oldState = state.state;
  const oldMeta = state.meta;

  if (!bootstrap && isLocal) {
    if (a.incarnation === state.incarnation && bytesEqual(a.meta, state.meta) && bytesEqual(a.vsn, state.id.vsn)) {
      return;
    }
    refute(m, state, a.incarnation);
    m.drops.note("refute_alive", "warn", "Refuting an alive message", { node: a.node });
  } else {
    broadcast(m, a.node, encodeMessage(MessageType.Alive, a), notify);
    // Versions shorter than six bytes keep the record's own.
    state.id = NodeIdentity.of(a.node, a.addr, a.port, a.meta, a.vsn, state.id);
    state.incarnation = a.incarnation;
    if (state.state !== NodeState.Alive) {
      state.state = NodeState.Alive;
      state.stateChange = c.clock.now();
    }
  }

  incr(m, ["memberlist", "msg", "alive"]);

  if (oldState === NodeState.Dead || oldState === NodeState.Left) {
    m.events.join(toNode(state));
  } else if (!bytesEqual(oldMeta, state.meta)) {
    m.events.update(toNode(state));
  }
}

/** Longest node name, in bytes of UTF-8, a record may have (Go has no limit; an alive must fit a packet). */
export const MAX_NODE_NAME_BYTES = 512;

/**
 * Checks an alive message before it may create or change a record, and returns
 * why not as `[reason, text]`, or null when it may. Refused: an empty or overlong
 * name, an address that is not 4 or 16 bytes, metadata over `metaMaxSize`, and
 * version bytes that would make a Go peer refuse every push/pull with this node
 * (Go's `verifyProtocol` checks every record, dead ones too, against the
 * versions of the live ones, this node among them): for a new record they must
 * be present (6 bytes), ordered (`min <= cur <= max`), and compatible both
 * ways with this node's own ranges. An update without version bytes keeps the
 * record's versions (Go treats fewer than 6 bytes as absent since #368, after v0.6.0).
 */
function refuseAlive(m: MemberlistState, a: Alive, isNew: boolean): [string, string] | null {
  const c = m.config;
  if (a.node === "") return ["name", "the node name is empty"];
  if (a.node.length > MAX_NODE_NAME_BYTES || (a.node.length * 3 > MAX_NODE_NAME_BYTES && utf8Length(a.node) > MAX_NODE_NAME_BYTES)) {
    return ["name", `the node name is longer than ${MAX_NODE_NAME_BYTES} bytes`];
  }
  if (a.addr.length !== 4 && a.addr.length !== 16) return ["addr", `the address has ${a.addr.length} bytes, not 4 or 16`];
  if (a.meta !== null && a.meta.length > c.metaMaxSize) {
    return ["meta", `the metadata has ${a.meta.length} bytes, more than metaMaxSize (${c.metaMaxSize})`];
  }
  const v = a.vsn;
  if (v.length < 6) return isNew ? ["vsn", `the version bytes are missing (${v.length} of 6)`] : null;
  const [pMin, pMax, pCur, dMin, dMax, dCur] = [v[0]!, v[1]!, v[2]!, v[3]!, v[4]!, v[5]!];
  if (pMin === 0 || pMin > pCur || pCur > pMax || dMin > dCur || dCur > dMax) {
    return ["vsn", `the versions are out of order: [${pMin}, ${pMax}, ${pCur}, ${dMin}, ${dMax}, ${dCur}]`];
  }
  const mine = c.vsn;
  if (
    pCur < mine[0]! || pCur > mine[1]! || mine[2]! < pMin || mine[2]! > pMax ||
    dCur < mine[3]! || dCur > mine[4]! || mine[5]! < dMin || mine[5]! > dMax
  ) {
    return ["incompatible", `versions [${pMin}, ${pMax}, ${pCur}, ${dMin}, ${dMax}, ${dCur}] are incompatible with this node's [${[...mine].join(", ")}]`];
  }
  return null;
}

/**
 * Sends a node we hold suspect or dead the accusation, when an alive message
 * no newer than our record shows it missed it (`Config.repairAccusations`; not in
 * Go, hashicorp/memberlist#311): at most once per probe interval per node.
 * The suspect message goes to the address we hold, which is the alive's (a
 * different one is a conflict, handled before).
 */
function tellAccused(m: MemberlistState, r: NodeRecord): void {
  const c = m.config;
  const now = c.clock.now();
  const every = Math.max(c.probeInterval, c.gossipInterval, 100);
  const told = (m.accusedTold ??= new Map());
  const last = told.get(r.name);
  if (last !== undefined && now - last < every) return;
  if (told.size >= 1024) for (const [name, at] of told) if (now - at >= every) told.delete(name);
  told.set(r.name, now);
  const s: Suspect = { incarnation: r.incarnation, node: r.name, from: c.name };
  try {
    encodeAndSendMsg(m, fullAddress(r), MessageType.Suspect, s);
  } catch (err) {
    log(m, "debug", "Failed to tell a node of its accusation", { node: r.name, error: err });
  }
}

/**
 * Sends the node that accused this one, at an incarnation this node has
 * already refuted, this node's current alive (`Config.repairAccusations`; not in Go,
 * which drops such an accusation): the accuser evidently missed the refutation,
 * and without it declares this node dead when its suspicion runs out. At most
 * once per probe interval per accuser.
 */
function tellAccuser(m: MemberlistState, accuser: string): void {
  const c = m.config;
  if (accuser === c.name) return;
  const r = m.nodeMap.get(accuser);
  const self = m.nodeMap.get(c.name);
  if (r === undefined || self === undefined || deadOrLeft(r)) return;
  const now = c.clock.now();
  const every = Math.max(c.probeInterval, c.gossipInterval, 100);
  const told = (m.accusersTold ??= new Map());
  const last = told.get(accuser);
  if (last !== undefined && now - last < every) return;
  if (told.size >= 1024) for (const [name, at] of told) if (now - at >= every) told.delete(name);
  told.set(accuser, now);
  const a: Alive = { incarnation: self.incarnation, node: self.name, addr: self.addr, port: self.port, meta: self.meta, vsn: self.id.vsn };
  try {
    encodeAndSendMsg(m, fullAddress(r), MessageType.Alive, a);
  } catch (err) {
    log(m, "debug", "Failed to send a refutation to its accuser", { node: accuser, error: err });
  }
}

/** An alive message refused for a name held at another address, kept for later (`MemberlistState.claims`). */
export interface Claim {
  alive: Alive;
  /** Clock time it was refused. */
  at: number;
  /** The incarnation of the record it conflicted with, then. */
  held: number;
}

/** How many names may have a pending claim; past it the oldest claim is forgotten. */
const MAX_CLAIMS = 256;

/**
 * Keeps an alive refused because its name is held at another address (not in
 * Go). Go refuses it once; when the old record can be reclaimed later (left, or
 * dead for `deadNodeReclaimTime`, or forgotten), the node at the new address is
 * taken back only if its alive happens to come again, which after gossip has
 * run out means the next push/pull: a rescheduled pod waited a minute or more
 * after its old address was free (hashicorp/memberlist#157). A claim is applied
 * at the first probe tick that allows it (`retryClaims`).
 */
function rememberClaim(m: MemberlistState, a: Alive, held: NodeRecord): void {
  if (!m.keepClaims || a.node === m.config.name) return;
  const claims = (m.claims ??= new Map());
  claims.delete(a.node);
  claims.set(a.node, { alive: a, at: m.config.clock.now(), held: held.incarnation });
  if (claims.size > MAX_CLAIMS) claims.delete(claims.keys().next().value!);
}

/**
 * Applies the pending claims whose old record may now be reclaimed (left, dead
 * for `deadNodeReclaimTime`, or reaped), and forgets those that are settled
 * (the old owner is alive at a newer incarnation, so two nodes share the name;
 * or the name moved meanwhile) or too old: a claim lives as long as a dead
 * record may take to be reclaimed or reaped, plus two minutes for the old node
 * to be declared dead.
 */
export function retryClaims(m: MemberlistState): void {
  const c = m.config;
  const claims = m.claims!;
  const now = c.clock.now();
  const ttl = Math.max(c.deadNodeReclaimTime, c.gossipToTheDeadTime) + 120_000;
  for (const [name, claim] of [...claims]) {
    const r = m.nodeMap.get(name);
    const a = claim.alive;
    const moved = r !== undefined && bytesEqual(r.addr, a.addr) && r.port === a.port;
    const refuted = r !== undefined && r.state === NodeState.Alive && r.incarnation > claim.held;
    if (moved || refuted || now - claim.at > ttl) {
      claims.delete(name);
      continue;
    }
    const reclaimable = r === undefined || r.state === NodeState.Left ||
      (r.state === NodeState.Dead && c.deadNodeReclaimTime > 0 && now - r.stateChange > c.deadNodeReclaimTime);
    if (!reclaimable) continue;
    claims.delete(name);
    aliveNode(m, a, null, false);
  }
}

/** Processes a suspect message (Go `suspectNode`, spec §8.4). */
export function suspectNode(m: MemberlistState, s: Suspect): void {
  const c = m.config;
  const state = m.nodeMap.get(s.node);
  if (state === undefined) return;
  if (s.incarnation < state.incarnation) {
    if (state.name === c.name && c.repairAccusations) tellAccuser(m, s.from);
    return;
  }
  if (overCeiling(m, state, s.incarnation, "suspect")) return;

  const timer = m.nodeTimers.get(s.node);
  if (timer !== undefined) {
    if (timer.confirm(s.from)) broadcast(m, s.node, encodeMessage(MessageType.Suspect, s));
    return;
  }
  if (state.state !== NodeState.Alive) return;

  if (state.name === c.name) {
    refute(m, state, s.incarnation);
    m.drops.note("refute_suspect", "warn", "Refuting a suspect message", { from: s.from });
    return;
  }
  broadcast(m, s.node, encodeMessage(MessageType.Suspect, s));
  incr(m, ["memberlist", "msg", "suspect"]);

  state.incarnation = s.incarnation;
  state.state = NodeState.Suspect;
  const changeTime = c.clock.now();
  state.stateChange = changeTime;
  m.events.suspect?.(toNode(state));

  let k = c.suspicionMult - 2;
  const n = estNumNodes(m);
  if (n - 2 < k) k = 0;
  const min = suspicionTimeout(c.suspicionMult, n, c.probeInterval);
  const max = c.suspicionMaxTimeoutMult * min;
  const name = s.node;
  m.nodeTimers.set(name, new Suspicion({
    from: s.from,
    k,
    minMs: min,
    maxMs: max,
    clock: c.clock,
    onTimeout: (confirmations: number) => {
      const st = m.nodeMap.get(name);
      if (m.shutdown || st === undefined || st.state !== NodeState.Suspect || st.stateChange !== changeTime) return;
      if (m.nodeTimers.get(name)?.confirmations === confirmations) m.nodeTimers.delete(name);
      if (k > 0 && confirmations < k) incr(m, ["memberlist", "degraded", "timeout"]);
      log(m, "info", "Marking node as failed, suspect timeout reached", { node: name, confirmations });
      deadNode(m, { incarnation: st.incarnation, node: st.name, from: c.name });
    },
  }));
}

/** Processes a dead message (Go `deadNode`, spec §8.5). */
export function deadNode(m: MemberlistState, d: Dead): void {
  const c = m.config;
  const state = m.nodeMap.get(d.node);
  if (state === undefined) return;
  if (d.incarnation < state.incarnation) {
    if (state.name === c.name && !m.leaving && c.repairAccusations) tellAccuser(m, d.from);
    return;
  }
  if (overCeiling(m, state, d.incarnation, "dead")) return;

  const timer = m.nodeTimers.get(d.node);
  if (timer !== undefined) {
    timer.cancel();
    m.nodeTimers.delete(d.node);
  }
  if (deadOrLeft(state)) return;

  if (state.name === c.name) {
    if (!m.leaving) {
      refute(m, state, d.incarnation);
      m.drops.note("refute_dead", "warn", "Refuting a dead message", { from: d.from });
      return;
    }
    broadcast(m, d.node, encodeMessage(MessageType.Dead, d), () => m.leaveNotify?.());
  } else {
    broadcast(m, d.node, encodeMessage(MessageType.Dead, d));
  }
  incr(m, ["memberlist", "msg", "dead"]);

  state.incarnation = d.incarnation;
  state.state = d.node === d.from ? NodeState.Left : NodeState.Dead;
  state.stateChange = c.clock.now();
  m.events.leave(toNode(state));
}

/** Whether any node other than this one is alive or suspect (Go `anyAlive`). */
export function anyAlive(m: MemberlistState): boolean {
  for (const n of m.nodes) if (!deadOrLeft(n) && n.name !== m.config.name) return true;
  return false;
}
