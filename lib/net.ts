// Copyright (c) memberlist-ts authors. SPDX-License-Identifier: MPL-2.0
/**
 * Sending and receiving (Go `net.go`): the packet handlers (ping, indirect
 * ping, ack, nack, and the queued alive/suspect/dead/user handlers), the send
 * path with piggybacked gossip, and the stream exchanges (push/pull, user
 * messages, TCP pings) on both the dialing and the accepting side.
 *
 * Nothing that arrives from the network can throw out of here: bad input is
 * logged and dropped, a failed stream is closed.
 *
 * @module
 */

import { Reader } from "./_bytes.ts";
import { formatIP, parseIP } from "./_ip.ts";
import {
  type AckResp,
  decodeAckResp,
  decodeAlive,
  decodeDead,
  decodeErrResp,
  decodeIndirectPingReq,
  decodeNackResp,
  decodePing,
  decodeSuspect,
  encodeMessage,
  encodePushPull,
  encodeUserStreamMessage,
  MAX_PUSH_STATE_BYTES,
  type MessageBodies,
  MessageType,
  type Ping,
  type PushPull,
} from "./codec.ts";
import { ipAllowed, ipMustBeChecked } from "./config.ts";
import { TCP_DROPPED, UDP_DROPPED } from "./_drops.ts";
import { DecodeError, DecryptError, LabelMismatchError } from "./errors.ts";
import { joinHostPort, splitHostPort } from "./node.ts";
import {
  COMPOUND_HEADER_OVERHEAD,
  COMPOUND_OVERHEAD,
  makeCompoundMessages,
  openPacket,
  packetOverhead,
  sealPacket,
  unpackMessages,
} from "./packet.ts";
import {
  aliveNode,
  callUser,
  deadNode,
  getBroadcasts,
  incr,
  invokeAckHandler,
  invokeNackHandler,
  localState,
  log,
  type MemberlistState,
  mergeRemoteState,
  nextSeqNo,
  setAckHandler,
  suspectNode,
  track,
  yieldToEventLoop,
} from "./state.ts";
import {
  type ByteSource,
  encodeStreamMessage,
  MAX_STRUCT_BYTES,
  readPushPull,
  type ReadPushPullOptions,
  readStreamLabel,
  readStreamMessage,
  readUserMsg,
  StreamReader,
  streamLabelHeader,
} from "./stream.ts";
import type { Address, Conn, Packet } from "./transport.ts";

/** Most inbound push/pulls served at once; the next one is refused (Go `maxPushPullRequests`). */
export const MAX_PUSH_PULL_REQUESTS = 128;

/**
 * The transport refused a datagram (its `writeTo()` threw). When it is a
 * probe's ping, the prober goes on to indirect probes and the TCP ping at once
 * instead of waiting `probeTimeout` for an ack that cannot come, and its health
 * score does not improve; so does a send error the transport reports later
 * through `sendError` while the prober waits (Go `failedRemote`, which counts
 * UDP write errors since memberlist 0.3.0, #242; 0.2.2 gave up the probe
 * without a verdict, so an unreachable node was never suspected by that node).
 */
export class TransportSendError extends Error {
  static override readonly name: string = "TransportSendError";
  /**
   * @param message What failed.
   * @param options The transport's error as `cause`.
   */
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "TransportSendError";
  }
}

/** A queued inbound message for the handler task (Go `msgHandoff`). */
export interface HandoffMessage {
  type: number;
  buf: Uint8Array;
  from: string;
}

// ---------------------------------------------------------------- receive: packets

/**
 * Most indirect probes relayed for others at once (each holds an ack handler and
 * a nack timer for `probeTimeout`); requests beyond it are dropped and counted.
 * Honest load is a few per failed probe in the cluster.
 */
export const MAX_RELAYED_PROBES = 1024;

/**
 * Processes one datagram (Go `ingestPacket` and `handleCommand`): label,
 * decryption and CRC, then each message in it, in order.
 *
 * A datagram gets at most one ack and one relayed probe out of this node: a Go
 * sender puts one ping or one indirect ping in a packet (with gossip around
 * it), so further ones are the work of an attacker reflecting traffic at a
 * victim, and are dropped and counted.
 */
export function ingestPacket(m: MemberlistState, p: Packet): void {
  if (m.shutdown) return;
  incr(m, ["memberlist", "udp", "received"], p.buf.length);
  let buf: Uint8Array;
  try {
    buf = openPacket(p.buf, m.wire);
  } catch (err) {
    dropped(m, UDP_DROPPED, "packet", p.from, err);
    return;
  }
  const { messages, drops } = unpackMessages(buf);
  for (const d of drops) {
    m.drops.drop(UDP_DROPPED, d.error.reason, "warn", `Dropped packet: ${d.error.message}`, { from: p.from }, d.count);
  }
  let pings = 0;
  let relays = 0;
  for (const msg of messages) {
    const type = msg[0]!;
    if ((type === MessageType.Ping && pings++ > 0) || (type === MessageType.IndirectPing && relays++ > 0)) continue;
    handleMessage(m, msg, p.from, p.timestamp);
  }
  const extra = Math.max(0, pings - 1) + Math.max(0, relays - 1);
  if (extra > 0) {
    m.drops.drop(UDP_DROPPED, "extra_probe", "warn", "Dropped pings beyond the first of a packet", { from: p.from }, extra);
  }
}

/** Counts and logs refused input by its error: label, decryption, a decode error's reason, or a bug. */
function dropped(m: MemberlistState, key: readonly string[], what: string, from: string, err: unknown): void {
  const message = `Dropped ${what}: ${err instanceof Error ? err.message : String(err)}`;
  if (err instanceof DecodeError) m.drops.drop(key, err.reason, "warn", message, { from });
  else if (err instanceof DecryptError) m.drops.drop(key, "decrypt", "warn", message, { from });
  else if (err instanceof LabelMismatchError) m.drops.drop(key, "label", "warn", message, { from });
  else m.drops.drop(key, "error", "error", message, { from, error: err });
}

function handleMessage(m: MemberlistState, msg: Uint8Array, from: string, timestamp: number): void {
  const type = msg[0]!;
  try {
    switch (type) {
      case MessageType.Ping:
        return handlePing(m, msg, from);
      case MessageType.IndirectPing:
        return handleIndirectPing(m, msg, from);
      case MessageType.AckResp: {
        const ack = decodeAckResp(new Reader(msg, 1));
        return invokeAckHandler(m, ack.seqNo, ack.payload, timestamp);
      }
      case MessageType.NackResp:
        return invokeNackHandler(m, decodeNackResp(new Reader(msg, 1)).seqNo);
      case MessageType.Suspect:
      case MessageType.Alive:
      case MessageType.Dead:
      case MessageType.User:
        return handoff(m, { type, buf: msg, from });
      default:
        m.drops.drop(UDP_DROPPED, "type", "error", `Message type (${type}) not supported`, { from });
    }
  } catch (err) {
    dropped(m, UDP_DROPPED, `message (type ${type})`, from, err);
  }
}

/** Queues alive (high priority) and suspect/dead/user messages for the handler task. */
function handoff(m: MemberlistState, h: HandoffMessage): void {
  const queue = h.type === MessageType.Alive ? m.highPriority : m.lowPriority;
  if (queue.length >= m.config.handoffQueueDepth) {
    m.drops.drop(UDP_DROPPED, "queue_full", "warn", `Handler queue full, dropping message (${h.type})`, { from: h.from });
    return;
  }
  queue.push(h);
  if (!m.handoffScheduled) {
    m.handoffScheduled = true;
    queueMicrotask(() => drainHandoff(m));
  }
}

/** The handler task: newest first, alive messages before the others (Go `packetHandler`). */
function drainHandoff(m: MemberlistState): void {
  m.handoffScheduled = false;
  for (;;) {
    if (m.shutdown) {
      m.highPriority.length = 0;
      m.lowPriority.length = 0;
      return;
    }
    const h = m.highPriority.pop() ?? m.lowPriority.pop();
    if (h === undefined) return;
    try {
      const r = new Reader(h.buf, 1);
      switch (h.type) {
        case MessageType.Suspect:
          suspectNode(m, decodeSuspect(r));
          break;
        case MessageType.Alive:
          handleAlive(m, h);
          break;
        case MessageType.Dead:
          deadNode(m, decodeDead(r));
          break;
        case MessageType.User: {
          const d = m.config.delegate;
          if (d?.notifyMsg !== undefined) {
            const data = h.buf.slice(1);
            callUser(m, "Delegate.notifyMsg", () => d.notifyMsg!(data));
          }
          break;
        }
      }
    } catch (err) {
      dropped(m, UDP_DROPPED, `message (type ${h.type})`, h.from, err);
    }
  }
}

function handleAlive(m: MemberlistState, h: HandoffMessage): void {
  if (ipMustBeChecked(m.config)) {
    const host = splitHostPort(h.from, 0).host;
    const ip = parseIP(host);
    if (ip === null || !ipAllowed(m.config, ip)) {
      m.drops.drop(UDP_DROPPED, "cidr", "debug", "Blocked alive message: source address not allowed", { from: h.from });
      return;
    }
  }
  const live = decodeAlive(new Reader(h.buf, 1));
  if (ipMustBeChecked(m.config) && live.addr.length > 0 && !ipAllowed(m.config, live.addr)) {
    m.drops.drop(UDP_DROPPED, "cidr", "debug", "Blocked alive message: advertised address not allowed", { from: h.from });
    return;
  }
  if (m.config.protocolVersion < 2 || live.port === 0) live.port = m.bindPort;
  aliveNode(m, live, null, false);
}

/**
 * Answers a ping (Go `handlePing`): an ack with the ping delegate's payload, to
 * the source it names. Gossip rides on the ack only when that source is a
 * member at the address named: a stranger (or a victim an attacker named)
 * gets a bare ack, never a full packet of our broadcasts.
 */
function handlePing(m: MemberlistState, msg: Uint8Array, from: string): void {
  const p = decodePing(new Reader(msg, 1));
  if (p.node !== "" && p.node !== m.config.name) {
    m.drops.drop(UDP_DROPPED, "wrong_node", "warn", "Got ping for unexpected node", { node: p.node, from });
    return;
  }
  const ack: AckResp = { seqNo: p.seqNo, payload: null };
  const pd = m.config.ping;
  if (pd?.ackPayload !== undefined) {
    const payload = callUser(m, "PingDelegate.ackPayload", () => pd.ackPayload!());
    if (payload instanceof Uint8Array) ack.payload = payload;
  }
  const to: Address = { addr: replyAddress(p, from), name: p.sourceNode };
  try {
    sendMsg(m, to, encodeMessage(MessageType.AckResp, ack), isMemberAt(m, to));
  } catch (err) {
    m.drops.drop(UDP_DROPPED, "reply_failed", "error", "Failed to send ack", { to: to.addr, error: err });
  }
}

/** Where a ping or indirect ping asks to be answered: its `Source*` fields, else the packet's source. */
function replyAddress(p: Pick<Ping, "sourceAddr" | "sourcePort">, from: string): string {
  return p.sourceAddr !== null && p.sourceAddr.length > 0 && p.sourcePort > 0
    ? joinHostPort(formatIP(p.sourceAddr), p.sourcePort)
    : from;
}

/** Whether `a` names a node of the table at exactly that address (so gossip may ride along). */
function isMemberAt(m: MemberlistState, a: Address): boolean {
  const r = m.nodeMap.get(a.name);
  return r !== undefined && r.id.address === a.addr;
}

/**
 * Probes a node for a peer (Go `handleIndirectPing`, spec §9.3): ping it with
 * our own sequence number, relay its ack, and nack after `probeTimeout` when
 * asked to. At most {@linkcode MAX_RELAYED_PROBES} run at once. Unlike Go, no
 * gossip rides on these packets: whoever asks, a request costs this node two
 * small datagrams, never full packets sent to addresses the request names.
 */
function handleIndirectPing(m: MemberlistState, msg: Uint8Array, from: string): void {
  const ind = decodeIndirectPingReq(new Reader(msg, 1));
  if (m.relayedProbes >= MAX_RELAYED_PROBES) {
    m.drops.drop(UDP_DROPPED, "relay_busy", "warn", "Too many indirect probes in flight, dropping request", { from });
    return;
  }
  if (m.config.protocolVersion < 2 || ind.port === 0) ind.port = m.bindPort;
  const localSeqNo = nextSeqNo(m);
  const ping: Ping = {
    seqNo: localSeqNo,
    node: ind.node,
    sourceAddr: m.advertiseAddr,
    sourcePort: m.advertisePort,
    sourceNode: m.config.name,
  };
  const requester: Address = { addr: replyAddress(ind, from), name: ind.sourceNode };

  m.relayedProbes++;
  let finished = false;
  const finish = () => {
    if (finished) return;
    finished = true;
    m.relayedProbes--;
  };
  setAckHandler(m, localSeqNo, () => {
    finish();
    try {
      sendMsg(m, requester, encodeMessage(MessageType.AckResp, { seqNo: ind.seqNo, payload: null }), false);
    } catch (err) {
      m.drops.drop(UDP_DROPPED, "reply_failed", "error", "Failed to forward ack", { to: requester.addr, error: err });
    }
  }, m.config.probeTimeout, () => {
    finish();
    // The nack goes when the ack handler expires (both after probeTimeout, as in Go), so that
    // shutdown, which cancels ack handlers, leaves no nack timer behind.
    if (!ind.nack || m.shutdown) return;
    try {
      sendMsg(m, requester, encodeMessage(MessageType.NackResp, { seqNo: ind.seqNo }), false);
    } catch (err) {
      m.drops.drop(UDP_DROPPED, "reply_failed", "error", "Failed to send nack", { to: requester.addr, error: err });
    }
  });

  const target: Address = { addr: joinHostPort(formatIP(ind.target), ind.port), name: ind.node };
  try {
    sendMsg(m, target, encodeMessage(MessageType.Ping, ping), false);
  } catch (err) {
    m.drops.drop(UDP_DROPPED, "reply_failed", "error", "Failed to send indirect ping", { to: target.addr, error: err });
  }
}

// ---------------------------------------------------------------- send: packets

/** Encodes a message and sends it with piggybacked gossip (Go `encodeAndSendMsg`). */
export function encodeAndSendMsg<T extends keyof MessageBodies>(
  m: MemberlistState,
  a: Address,
  type: T,
  body: MessageBodies[T],
): void {
  sendMsg(m, a, encodeMessage(type, body));
}

/**
 * Sends a message, filling the rest of the packet with queued broadcasts (Go
 * `sendMsg`, spec §2.7).
 */
export function sendMsg(m: MemberlistState, a: Address, msg: Uint8Array, piggyback = true): void {
  const avail = m.config.udpBufferSize - msg.length - COMPOUND_HEADER_OVERHEAD - packetOverhead(m.wire, false);
  const extra = piggyback ? getBroadcasts(m, COMPOUND_OVERHEAD, avail) : [];
  if (extra.length === 0) {
    rawSendMsgPacket(m, a, null, msg);
    return;
  }
  for (const compound of makeCompoundMessages([msg, ...extra])) rawSendMsgPacket(m, a, null, compound);
}

/**
 * Wraps and sends one packet (Go `rawSendMsgPacket`). The CRC header is added
 * when the recipient's record is known and speaks protocol 5; without `node`,
 * the record is looked up by the host part of the address used as a name,
 * which is what Go does (and finds nothing for ordinary names).
 *
 * @throws {Error} When node names are required and `a` has none.
 * @throws {TransportSendError} When the transport refuses the datagram.
 */
export function rawSendMsgPacket(
  m: MemberlistState,
  a: Address,
  node: { readonly pMax: number } | null,
  msg: Uint8Array,
): void {
  if (a.name === "" && m.config.requireNodeNames) {
    throw new Error(`Cannot send to "${a.addr}": node names are required`);
  }
  let target: { readonly pMax: number } | null = node;
  if (target === null) {
    let host = a.addr;
    try {
      host = splitHostPort(a.addr, 0).host;
    } catch {
      // Not host:port; no record can match.
    }
    target = m.nodeMap.get(host) ?? null;
  }
  const datagram = sealPacket(msg, m.wire, target !== null && target.pMax >= 5);
  incr(m, ["memberlist", "udp", "sent"], datagram.length);
  try {
    m.transport.writeTo(datagram, a);
  } catch (err) {
    throw new TransportSendError(`Cannot send packet to "${a.addr}": ${err instanceof Error ? err.message : err}`, {
      cause: err,
    });
  }
}

// ---------------------------------------------------------------- streams

/** Wraps and writes one stream message (Go `rawSendMsgStream`). */
async function rawSendMsgStream(m: MemberlistState, conn: Conn, msg: Uint8Array, label: Uint8Array): Promise<void> {
  const out = encodeStreamMessage(msg, m.wire, label);
  incr(m, ["memberlist", "tcp", "sent"], out.length);
  await conn.write(out);
}

/**
 * Reads one stream message (Go `readStream`), sampling the announced size of an
 * encrypted one as `memberlist.size.remote` and warning when it nears the limit,
 * as Go's `decryptRemoteState` does.
 */
function readStream(m: MemberlistState, sr: StreamReader, label: Uint8Array): ReturnType<typeof readStreamMessage> {
  return readStreamMessage(sr, m.wire, label, (len) => {
    m.config.metrics.addSample(["memberlist", "size", "remote"], len, m.metricLabels);
    if (len > Math.floor(0.6 * MAX_PUSH_STATE_BYTES)) {
      m.drops.note("state_size", "warn", "Remote node state size is close to the limit", {
        size: len,
        limit: MAX_PUSH_STATE_BYTES,
      });
    }
  });
}

/** Dials a stream and writes the label header, if any (Go's label-wrapped transport). */
async function dial(m: MemberlistState, a: Address, timeoutMs: number, signal?: AbortSignal): Promise<Conn> {
  if (a.name === "" && m.config.requireNodeNames) {
    throw new Error(`Cannot connect to "${a.addr}": node names are required`);
  }
  signal?.throwIfAborted();
  const conn = await m.transport.dialTimeout(a, timeoutMs);
  if (signal?.aborted || m.shutdown) {
    conn.close();
    signal?.throwIfAborted();
    throw new Error("Cannot use stream: memberlist is shut down");
  }
  if (m.wire.label.length > 0) {
    try {
      await conn.write(streamLabelHeader(m.wire.label));
    } catch (err) {
      conn.close();
      throw err;
    }
  }
  return conn;
}

/** Sends this node's state on a stream (Go `sendLocalState`, which also re-arms the deadline: the dialer does). */
async function sendLocalState(m: MemberlistState, conn: Conn, join: boolean, label: Uint8Array): Promise<void> {
  const nodes = localState(m);
  const d = m.config.delegate;
  let userState: Uint8Array = new Uint8Array(0);
  if (d?.localState !== undefined) {
    const s = callUser(m, "Delegate.localState", () => d.localState!(join));
    if (s instanceof Uint8Array) userState = s;
  }
  const msg = encodePushPull({ join, nodes, userState });
  m.config.metrics.setGauge(["memberlist", "size", "local"], msg.length, m.metricLabels);
  await rawSendMsgStream(m, conn, msg, label);
}

/**
 * Push/pull, dialing side (Go `sendAndReceiveState`): send our state, read the
 * peer's.
 *
 * @throws {Error} On dial or I/O failure, a remote error reply, or bad input.
 */
export async function sendAndReceiveState(
  m: MemberlistState,
  a: Address,
  join: boolean,
  signal?: AbortSignal,
): Promise<PushPull> {
  const conn = await dial(m, a, m.config.tcpTimeout, signal);
  const onAbort = () => conn.close();
  signal?.addEventListener("abort", onAbort, { once: true });
  try {
    log(m, "debug", "Initiating push/pull sync", { node: a.name, addr: a.addr });
    incr(m, ["memberlist", "tcp", "connect"]);
    conn.setDeadline(m.config.tcpTimeout);
    await sendLocalState(m, conn, join, m.wire.label);
    conn.setDeadline(m.config.tcpTimeout);
    const reply = await readStream(m, new StreamReader(conn), m.wire.label);
    if (reply === null) throw new Error(`Cannot push/pull with "${a.addr}": connection closed without a reply`);
    if (reply.type === MessageType.Err) {
      const e = decodeErrResp(await reply.body.readValue(MAX_STRUCT_BYTES));
      throw new Error(`Cannot push/pull with "${a.addr}": remote error: ${e.error}`);
    }
    if (reply.type !== MessageType.PushPull) {
      throw new Error(`Cannot push/pull with "${a.addr}": received message type ${reply.type}, expected ${MessageType.PushPull}`);
    }
    return await readPushPull(reply.body, pushPullReadOptions(m));
  } catch (err) {
    signal?.throwIfAborted();
    throw err;
  } finally {
    signal?.removeEventListener("abort", onAbort);
    conn.close();
  }
}

/**
 * Sends a user message on a stream (Go `sendUserMsg`).
 *
 * @throws {Error} On dial or write failure.
 */
export async function sendUserMsg(m: MemberlistState, a: Address, data: Uint8Array): Promise<void> {
  const conn = await dial(m, a, m.config.tcpTimeout);
  try {
    conn.setDeadline(m.config.tcpTimeout);
    await rawSendMsgStream(m, conn, encodeUserStreamMessage(data), m.wire.label);
  } finally {
    conn.close();
  }
}

/**
 * The TCP fallback probe (Go `sendPingAndWaitForAck`): resolves true when the
 * node acked, false when it could not be reached.
 *
 * @throws {Error} When the node answered wrongly (the caller logs it).
 */
export async function sendPingAndWaitForAck(
  m: MemberlistState,
  a: Address,
  ping: Ping,
  deadline: number,
): Promise<boolean> {
  const left = deadline - m.config.clock.now();
  if (left <= 0) return false;
  let conn: Conn;
  try {
    conn = await dial(m, a, left);
  } catch {
    return false;
  }
  try {
    conn.setDeadline(Math.max(0, deadline - m.config.clock.now()));
    await rawSendMsgStream(m, conn, encodeMessage(MessageType.Ping, ping), m.wire.label);
    const reply = await readStream(m, new StreamReader(conn), m.wire.label);
    if (reply === null || reply.type !== MessageType.AckResp) {
      throw new Error(`Unexpected reply to TCP ping: ${reply === null ? "connection closed" : `type ${reply.type}`}`);
    }
    const ack = decodeAckResp(await reply.body.readValue(MAX_STRUCT_BYTES));
    if (ack.seqNo !== ping.seqNo) {
      throw new Error(`Sequence number from ack (${ack.seqNo}) does not match ping (${ping.seqNo})`);
    }
    return true;
  } finally {
    conn.close();
  }
}

/** The bounds and pacing of reading a push/pull: `maxNodes`, and pauses that keep probes answered. */
function pushPullReadOptions(m: MemberlistState): ReadPushPullOptions {
  return { maxNodes: m.config.maxNodes, pause: () => yieldToEventLoop(m) };
}

/**
 * A stream's bytes, closing the stream when the peer sends nothing for
 * `tcpIdleTimeout` while a read waits.
 */
class IdleLimitedSource implements ByteSource {
  /** Set when the stream was closed for idling. */
  idled = false;
  readonly #m: MemberlistState;
  readonly #conn: Conn;

  constructor(m: MemberlistState, conn: Conn) {
    this.#m = m;
    this.#conn = conn;
  }

  read(): Promise<Uint8Array | null> {
    const timer = this.#m.config.clock.setTimeout(() => {
      this.idled = true;
      this.#conn.close();
    }, this.#m.config.tcpIdleTimeout);
    return this.#conn.read().finally(() => timer.cancel());
  }
}

/**
 * Serves one inbound stream (Go `handleConn`): a push/pull, a user message or a
 * TCP ping. Always closes the stream.
 */
export function handleConn(m: MemberlistState, conn: Conn): void {
  if (m.shutdown) {
    conn.close();
    return;
  }
  track(m, serveConn(m, conn));
}

/**
 * One inbound stream, start to end. It gets `tcpTimeout` in all from accept
 * (including any wait for a slot, see `StreamSlots`), and `tcpIdleTimeout`
 * between bytes while its message is read.
 */
async function serveConn(m: MemberlistState, conn: Conn): Promise<void> {
  log(m, "debug", "Stream connection", { from: conn.remoteAddr });
  incr(m, ["memberlist", "tcp", "accept"]);
  const started = m.config.clock.now();
  conn.setDeadline(m.config.tcpTimeout);
  let host = conn.remoteAddr;
  try {
    host = splitHostPort(conn.remoteAddr, 0).host;
  } catch {
    // Not host:port (a custom transport): the whole text identifies the source.
  }
  const slot = m.streamSlots.acquire(host, m.config.tcpTimeout);
  if (!(slot === true || (slot !== false && await slot))) {
    if (!m.shutdown) {
      m.drops.drop(TCP_DROPPED, "busy", "warn", "Too many inbound streams, closing one", { from: conn.remoteAddr });
    }
    conn.close();
    return;
  }
  const source = new IdleLimitedSource(m, conn);
  const sr = new StreamReader(source);
  let pushPullSlot = false;
  // Whatever goes wrong, say why the stream ended: it idled, ran out of time, or the input was bad.
  const fail = (err: unknown) => {
    if (m.shutdown) return;
    if (source.idled) {
      m.drops.drop(TCP_DROPPED, "idle", "warn", "Closed an idle stream", { from: conn.remoteAddr });
    } else if (m.config.clock.now() - started >= m.config.tcpTimeout) {
      m.drops.drop(TCP_DROPPED, "timeout", "warn", "Closed a stream that ran out of time", { from: conn.remoteAddr });
    } else dropped(m, TCP_DROPPED, "stream", conn.remoteAddr, err);
  };
  try {
    let label: Uint8Array;
    try {
      label = await readStreamLabel(sr, m.wire);
    } catch (err) {
      fail(err);
      return;
    }
    let msg;
    try {
      msg = await readStream(m, sr, label);
    } catch (err) {
      fail(err);
      if (m.shutdown || source.idled) return;
      const text = err instanceof Error ? err.message : String(err);
      try {
        await rawSendMsgStream(m, conn, encodeMessage(MessageType.Err, { error: text }), label);
      } catch (sendErr) {
        log(m, "debug", "Failed to send error reply", { to: conn.remoteAddr, error: sendErr });
      }
      return;
    }
    if (msg === null) {
      if (source.idled) fail(null);
      return;
    }

    switch (msg.type) {
      case MessageType.User: {
        const data = await readUserMsg(msg.body);
        const d = m.config.delegate;
        if (data.length > 0 && d?.notifyMsg !== undefined) callUser(m, "Delegate.notifyMsg", () => d.notifyMsg!(data));
        return;
      }
      case MessageType.PushPull: {
        m.pushPullReq++;
        pushPullSlot = true;
        if (m.pushPullReq >= MAX_PUSH_PULL_REQUESTS) {
          m.drops.drop(TCP_DROPPED, "push_pull_busy", "error", "Too many pending push/pull requests", {
            from: conn.remoteAddr,
          });
          return;
        }
        const remote = await readPushPull(msg.body, pushPullReadOptions(m));
        await sendLocalState(m, conn, remote.join, label);
        if (m.shutdown) return;
        await mergeRemoteState(m, remote.join, remote.nodes, remote.userState);
        return;
      }
      case MessageType.Ping: {
        const p = decodePing(await msg.body.readValue(MAX_STRUCT_BYTES));
        if (p.node !== "" && p.node !== m.config.name) {
          m.drops.drop(TCP_DROPPED, "wrong_node", "warn", "Got TCP ping for unexpected node", {
            node: p.node,
            from: conn.remoteAddr,
          });
          return;
        }
        await rawSendMsgStream(m, conn, encodeMessage(MessageType.AckResp, { seqNo: p.seqNo, payload: null }), label);
        return;
      }
      default:
        m.drops.drop(TCP_DROPPED, "type", "error", `Received invalid message type (${msg.type}) on stream`, {
          from: conn.remoteAddr,
        });
    }
  } catch (err) {
    fail(err);
  } finally {
    if (pushPullSlot) m.pushPullReq--;
    m.streamSlots.release(host);
    conn.close();
  }
}
