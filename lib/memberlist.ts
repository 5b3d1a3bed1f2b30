// Copyright (c) memberlist-ts authors. SPDX-License-Identifier: MPL-2.0
/**
 * The public face of memberlist (Go `memberlist.go`): create a node, join a
 * cluster, watch members come and go, send messages, leave, shut down.
 *
 * @module
 */

import { DropLog } from "./_drops.ts";
import { formatIP, parseIP } from "./_ip.ts";
import { NodeTable } from "./_records.ts";
import { StreamSlots } from "./_stream_slots.ts";
import { Awareness } from "./awareness.ts";
import { type Alive, encodeMessage, MessageType, MAX_USER_MSG_BYTES } from "./codec.ts";
import { type Config, type ResolvedConfig, validateConfig } from "./config.ts";
import { JoinError, NoPingResponseError, TransportClosedError } from "./errors.ts";
import type { Keyring } from "./keyring.ts";
import { type Node, splitHostPort } from "./node.ts";
import { labelOverhead } from "./label.ts";
import { COMPOUND_HEADER_OVERHEAD, COMPOUND_OVERHEAD, packetOverhead } from "./packet.ts";
import { encryptOverhead } from "./security.ts";
import { TransmitLimitedQueue } from "./queue.ts";
import { announceAfterJoin, pushPullAfterJoin } from "./join.ts";
import { handleConn, ingestPacket, rawSendMsgPacket, sendUserMsg } from "./net.ts";
import {
  aliveNode,
  anyAlive,
  callUser,
  deadNode,
  deadOrLeft,
  deschedule,
  handleSendError,
  log,
  MAX_INCARNATION,
  type MemberlistState,
  pingNode,
  pushPullNode,
  schedule,
  toNode,
  track,
} from "./state.ts";
import type { Address, Transport } from "./transport.ts";

/**
 * A membership event: a node joined, left (or failed), updated its metadata,
 * or became suspect. Dispatched by {@linkcode Memberlist} as `"join"`,
 * `"leave"`, `"update"` and `"suspect"` events, and yielded by
 * {@linkcode Memberlist.events}.
 *
 * @example Usage
 * ```ts
 * import { NodeEvent } from "@gossip/memberlist";
 * import assert from "node:assert/strict";
 *
 * const node = { name: "a" } as NodeEvent["node"];
 * assert.equal(new NodeEvent("join", node).node.name, "a");
 * ```
 */
export class NodeEvent extends Event {
  /** The node, as this node sees it after the change. */
  readonly node: Node;
  /**
   * Creates an event.
   *
   * @param type `"join"`, `"leave"` or `"update"`.
   * @param node The node concerned.
   */
  constructor(type: NodeEventType, node: Node) {
    super(type);
    this.node = node;
  }
}

/**
 * The membership events: `"join"`, `"leave"` (left or failed: `node.state`
 * tells which), `"update"` (metadata changed) and `"suspect"` (a probe
 * failed and the suspicion timer started; not in Go's `EventDelegate`).
 *
 * @example Usage
 * ```ts
 * import type { NodeEventType } from "@gossip/memberlist";
 * import assert from "node:assert/strict";
 *
 * const types: NodeEventType[] = ["join", "leave", "update", "suspect"];
 * assert.equal(types.length, 4);
 * ```
 */
export type NodeEventType = "join" | "leave" | "update" | "suspect";

/**
 * Options of {@linkcode Memberlist.events}.
 *
 * @example Usage
 * ```ts
 * import { defaultLocalConfig, Memberlist } from "@gossip/memberlist";
 * import { MockNetwork } from "@gossip/memberlist/transports/mock";
 * import assert from "node:assert/strict";
 * import type { NodeEventsOptions } from "@gossip/memberlist";
 *
 * const ml = await Memberlist.create({ ...defaultLocalConfig(), name: "a", transport: new MockNetwork().newTransport("a") });
 * const stop = new AbortController();
 * const options: NodeEventsOptions = { types: ["leave"], signal: stop.signal, maxBuffered: 100 };
 * const events = ml.events(options);
 * stop.abort();
 * assert.equal((await events.next()).done, true);
 * await ml.shutdown();
 * ```
 */
export interface NodeEventsOptions {
  /** The event types to yield. @default {["join", "leave", "update", "suspect"]} */
  types?: readonly NodeEventType[];
  /** Ends the iteration when aborted. */
  signal?: AbortSignal;
  /**
   * Most events held for a consumer that is behind; one more ends the
   * iteration with a `RangeError` instead of holding memory without bound.
   *
   * @default {10000}
   */
  maxBuffered?: number;
}

/**
 * A listener of {@linkcode NodeEvent}s.
 *
 * @example Usage
 * ```ts
 * import { defaultLocalConfig, Memberlist } from "@gossip/memberlist";
 * import { MockNetwork } from "@gossip/memberlist/transports/mock";
 * import assert from "node:assert/strict";
 * import type { NodeEventListener } from "@gossip/memberlist";
 *
 * const ml = await Memberlist.create({ ...defaultLocalConfig(), name: "a", transport: new MockNetwork().newTransport("a") });
 * const names: string[] = [];
 * const listener: NodeEventListener = (e) => names.push(e.node.name);
 * ml.addEventListener("join", listener);
 * ml.removeEventListener("join", listener);
 * assert.deepEqual(names, []);
 * await ml.shutdown();
 * ```
 */
export type NodeEventListener = (event: NodeEvent) => void;

/**
 * Options of {@linkcode Memberlist.addEventListener}.
 *
 * @example Usage
 * ```ts
 * import { defaultLocalConfig, Memberlist } from "@gossip/memberlist";
 * import { MockNetwork } from "@gossip/memberlist/transports/mock";
 * import assert from "node:assert/strict";
 * import type { NodeEventListenerOptions } from "@gossip/memberlist";
 *
 * const net = new MockNetwork();
 * const a = await Memberlist.create({ ...defaultLocalConfig(), name: "a", transport: net.newTransport("a") });
 * const b = await Memberlist.create({ ...defaultLocalConfig(), name: "b", transport: net.newTransport("b") });
 * const options: NodeEventListenerOptions = { once: true };
 * let joins = 0;
 * a.addEventListener("join", () => joins++, options);
 * await b.join([a.localNode().address]);
 * assert.equal(joins, 1);
 * await Promise.all([a.shutdown(), b.shutdown()]);
 * ```
 */
export interface NodeEventListenerOptions {
  /** Remove the listener after its first call. */
  once?: boolean;
  /** Remove the listener when this signal aborts. */
  signal?: AbortSignal;
}

/**
 * Options of {@linkcode Memberlist.join}.
 *
 * @example Usage
 * ```ts
 * import { defaultLocalConfig, Memberlist } from "@gossip/memberlist";
 * import { MockNetwork } from "@gossip/memberlist/transports/mock";
 * import assert from "node:assert/strict";
 * import type { JoinOptions } from "@gossip/memberlist";
 *
 * const net = new MockNetwork();
 * const a = await Memberlist.create({ ...defaultLocalConfig(), name: "a", transport: net.newTransport("a") });
 * const b = await Memberlist.create({ ...defaultLocalConfig(), name: "b", transport: net.newTransport("b") });
 * const options: JoinOptions = { signal: AbortSignal.timeout(5000) };
 * assert.equal(await b.join([a.localNode().address], options), 1);
 * await Promise.all([a.shutdown(), b.shutdown()]);
 * ```
 */
export interface JoinOptions {
  /** Aborts the join: pending exchanges are closed and the promise rejects with the signal's reason. */
  signal?: AbortSignal;
}

/** Creates the default transport for this runtime; set by `mod.ts` so that `lib/` stays runtime-free. */
export type TransportFactory = (config: ResolvedConfig) => Promise<Transport>;

let defaultTransportFactory: TransportFactory | null = null;

// The protocol state behind each instance, for tests and the simulator (not exported from mod.ts).
const internals = new WeakMap<Memberlist, MemberlistState>();

/**
 * The protocol state behind a {@linkcode Memberlist}: for white-box tests and
 * the simulator only; not part of the public API.
 *
 * @param ml The instance.
 * @returns Its state.
 */
export function memberlistState(ml: Memberlist): MemberlistState {
  return internals.get(ml)!;
}

/**
 * Installs the factory `Memberlist.create()` uses when `config.transport` is
 * unset. The package entry point installs the native UDP/TCP transport of the
 * running runtime; call this only to change that default.
 *
 * @param factory Builds a transport from the resolved configuration.
 */
export function setDefaultTransportFactory(factory: TransportFactory | null): void {
  defaultTransportFactory = factory;
}

/**
 * A member of a cluster: one node's view of who is alive, and the machinery
 * (SWIM failure detection with Lifeguard, gossip, push/pull) that keeps it
 * current.
 *
 * @example Usage
 * ```ts
 * import { defaultLocalConfig, Memberlist } from "@gossip/memberlist";
 * import { MockNetwork } from "@gossip/memberlist/transports/mock";
 * import assert from "node:assert/strict";
 *
 * const net = new MockNetwork();
 * const a = await Memberlist.create({ ...defaultLocalConfig(), name: "a", transport: net.newTransport("a") });
 * const b = await Memberlist.create({ ...defaultLocalConfig(), name: "b", transport: net.newTransport("b") });
 * assert.equal(await b.join([a.localNode().address]), 1);
 * assert.equal(b.numMembers(), 2);
 * await Promise.all([a.shutdown(), b.shutdown()]);
 * ```
 */
export class Memberlist {
  #m: MemberlistState;
  #listeners = new Map<NodeEventType, Map<NodeEventListener, boolean>>([
    ["join", new Map()],
    ["leave", new Map()],
    ["update", new Map()],
    ["suspect", new Map()],
  ]);

  private constructor(m: MemberlistState) {
    this.#m = m;
    internals.set(this, m);
  }

  /**
   * Creates a node and starts it (Go `Create`): binds the transport, marks this
   * node alive (a `join` event for itself) and starts probing, gossip and
   * push/pull. It knows only itself until it {@linkcode join}s others or they
   * join it.
   *
   * @param config A full configuration, or a partial one over `defaultLANConfig()`.
   * @returns The running node.
   * @throws {TypeError} When a config field has the wrong type (the message names it).
   * @throws {RangeError} When a config field is out of range, when an alive
   * message with `metaMaxSize` bytes of metadata would not fit in a gossip
   * packet of `udpBufferSize` (it could never be gossiped), or when the node's
   * metadata is longer than `metaMaxSize`.
   */
  static async create(config: Partial<Config>): Promise<Memberlist> {
    const cfg = validateConfig(config);
    let transport = cfg.transport;
    if (transport === null) {
      if (defaultTransportFactory === null) {
        throw new TypeError(`Invalid config "transport": no default transport is installed for this runtime`);
      }
      transport = await defaultTransportFactory(cfg);
    }
    let ml: Memberlist | undefined;
    try {
      const adv = transport.finalAdvertiseAddr(cfg.advertiseAddr, cfg.advertisePort);
      const addr = parseIP(adv.ip);
      if (addr === null) throw new TypeError(`Cannot advertise "${adv.ip}": not an IP address`);
      checkAliveFits(cfg, addr, adv.port);
      const m: MemberlistState = {
        config: cfg,
        wire: {
          label: cfg.labelBytes,
          skipInboundLabelCheck: cfg.skipInboundLabelCheck,
          keyring: cfg.keyring,
          encryptionVersion: cfg.encryptionVersion,
          gossipVerifyIncoming: cfg.gossipVerifyIncoming,
          gossipVerifyOutgoing: cfg.gossipVerifyOutgoing,
          enableCompression: cfg.enableCompression,
        },
        transport,
        awareness: new Awareness({ max: cfg.awarenessMaxMultiplier, metrics: cfg.metrics, metricLabels: cfg.metricLabels }),
        broadcasts: undefined as unknown as TransmitLimitedQueue,
        metricLabels: cfg.metricLabels,
        nodes: [],
        nodeMap: new NodeTable(),
        nodeTimers: new Map(),
        failed: new Map(),
        probeIndex: 0,
        sequenceNum: 0,
        incarnation: 0,
        ackHandlers: new Map(),
        bindPort: cfg.bindPort === 0 ? adv.port : cfg.bindPort,
        advertiseAddr: addr,
        advertiseIp: formatIP(addr),
        advertisePort: adv.port,
        leaving: false,
        shutdown: false,
        stopped: new AbortController(),
        leaveNotify: null,
        highPriority: [],
        lowPriority: [],
        handoffScheduled: false,
        pushPullReq: 0,
        relayedProbes: 0,
        drops: new DropLog({ clock: cfg.clock, logger: cfg.logger, metrics: cfg.metrics, labels: cfg.metricLabels }),
        streamSlots: new StreamSlots(cfg),
        tickers: [],
        wakeGossip: null,
        probing: false,
        probeTickPending: false,
        probeSendWatch: null,
        accusedTold: null,
        accusersTold: null,
        incarnationCeiling: MAX_INCARNATION,
        claims: null,
        keepClaims: true,
        inflight: new Set(),
        events: undefined as unknown as MemberlistState["events"],
      };
      (m as { broadcasts: TransmitLimitedQueue }).broadcasts = new TransmitLimitedQueue({
        numNodes: () => m.nodes.length,
        retransmitMult: cfg.retransmitMult,
      });
      ml = new Memberlist(m);
      const self = ml;
      (m as { events: MemberlistState["events"] }).events = {
        join: (node) => self.#emit("join", node),
        leave: (node) => self.#emit("leave", node),
        update: (node) => self.#emit("update", node),
        suspect: (node) => self.#emit("suspect", node),
      };
      transport.setHandlers({
        packet: (p) => ingestPacket(m, p),
        stream: (conn) => handleConn(m, conn),
        sendError: (addr) => handleSendError(m, addr),
      });
      ml.#setAlive();
      schedule(m);
      return ml;
    } catch (err) {
      if (ml !== undefined) await ml.shutdown();
      else await transport.shutdown();
      throw err;
    }
  }

  #emit(type: NodeEventType, node: Node): void {
    const m = this.#m;
    const ed = m.config.events;
    if (ed !== null && type !== "suspect") {
      const fn = type === "join" ? ed.notifyJoin : type === "leave" ? ed.notifyLeave : ed.notifyUpdate;
      if (fn !== undefined) callUser(m, `EventDelegate.notify${type[0]!.toUpperCase()}${type.slice(1)}`, () => fn.call(ed, node));
    }
    const set = this.#listeners.get(type)!;
    if (set.size === 0) return;
    const event = new NodeEvent(type, node);
    for (const [listener, once] of [...set]) {
      if (once) set.delete(listener);
      try {
        listener.call(this, event);
      } catch (err) {
        log(m, "error", `Event listener for "${type}" threw`, { error: err });
      }
    }
  }

  /**
   * Calls `listener` on each `"join"`, `"leave"` or `"update"` event, like
   * `EventTarget.addEventListener` but typed. A listener that throws is logged,
   * never allowed to disturb the protocol. Adding the same listener twice for
   * one type has no effect.
   *
   * @param type The event type.
   * @param listener Receives a {@linkcode NodeEvent}.
   * @param options `once` removes the listener after one call; `signal` removes it when aborted.
   */
  addEventListener(type: NodeEventType, listener: NodeEventListener, options: NodeEventListenerOptions = {}): void {
    const set = this.#listeners.get(type)!;
    if (set.has(listener) || options.signal?.aborted) return;
    set.set(listener, options.once === true);
    options.signal?.addEventListener("abort", () => set.delete(listener), { once: true });
  }

  /**
   * The membership events as an async iterator, from the moment of the call:
   * `for await (const e of ml.events({ signal })) ...`. The iteration ends when
   * `signal` aborts, when the loop breaks, or at shutdown. Events are held
   * for a consumer that is behind, up to `maxBuffered`.
   *
   * @param options The types to yield, an abort signal, the buffer bound.
   * @returns The events.
   * @throws {RangeError} From the iterator, when more than `maxBuffered` events were waiting.
   *
   * @example Usage
   * ```ts
   * import { defaultLocalConfig, Memberlist } from "@gossip/memberlist";
   * import { MockNetwork } from "@gossip/memberlist/transports/mock";
   * import assert from "node:assert/strict";
   *
   * const net = new MockNetwork();
   * const a = await Memberlist.create({ ...defaultLocalConfig(), name: "a", transport: net.newTransport("a") });
   * const b = await Memberlist.create({ ...defaultLocalConfig(), name: "b", transport: net.newTransport("b") });
   * const seen: string[] = [];
   * const watching = (async () => {
   *   for await (const e of a.events({ types: ["join", "leave"] })) {
   *     seen.push(`${e.type} ${e.node.name}`);
   *     if (e.type === "leave") break;
   *   }
   * })();
   * await b.join([a.localNode().address]);
   * await b.leave(1000);
   * await b.shutdown();
   * await watching;
   * assert.deepEqual(seen, ["join b", "leave b"]);
   * await a.shutdown();
   * ```
   */
  events(options: NodeEventsOptions = {}): AsyncIterableIterator<NodeEvent> {
    const types = options.types ?? ["join", "leave", "update", "suspect"];
    const max = options.maxBuffered ?? 10_000;
    if (!Number.isInteger(max) || max < 1) {
      throw new RangeError(`Invalid option "maxBuffered": expected an integer of at least 1, got ${max}`);
    }
    const stop = new AbortController();
    const signals = [stop.signal, this.#m.stopped.signal];
    if (options.signal !== undefined) signals.push(options.signal);
    const done = AbortSignal.any(signals);
    const queue: NodeEvent[] = [];
    let overflow = false;
    let wake: (() => void) | null = null;
    const onEvent = (e: NodeEvent) => {
      if (queue.length >= max) {
        overflow = true;
        stop.abort();
      } else queue.push(e);
      wake?.();
    };
    for (const type of types) {
      if (!this.#listeners.has(type)) throw new TypeError(`Invalid event type "${type}": expected join, leave, update or suspect`);
      this.addEventListener(type, onEvent, { signal: done });
    }
    done.addEventListener("abort", () => wake?.(), { once: true });
    const iterator: AsyncIterableIterator<NodeEvent> = {
      next: async (): Promise<IteratorResult<NodeEvent>> => {
        while (queue.length === 0 && !done.aborted) await new Promise<void>((r) => (wake = r));
        wake = null;
        if (overflow) {
          overflow = false;
          queue.length = 0;
          throw new RangeError(`Cannot deliver events: more than ${max} were waiting (maxBuffered)`);
        }
        const e = queue.shift();
        return e === undefined ? { value: undefined, done: true } : { value: e, done: false };
      },
      return: (): Promise<IteratorResult<NodeEvent>> => {
        stop.abort();
        queue.length = 0;
        return Promise.resolve({ value: undefined, done: true });
      },
      [Symbol.asyncIterator]() {
        return iterator;
      },
    };
    return iterator;
  }

  /**
   * Stops calling a listener added with {@linkcode addEventListener}.
   *
   * @param type The event type.
   * @param listener The listener.
   */
  removeEventListener(type: NodeEventType, listener: NodeEventListener): void {
    this.#listeners.get(type)?.delete(listener);
  }

  #nodeMeta(): Uint8Array | null {
    const m = this.#m;
    const d = m.config.delegate;
    if (d?.nodeMeta === undefined) return null;
    const meta = d.nodeMeta(m.config.metaMaxSize);
    if (!(meta instanceof Uint8Array)) throw new TypeError("Cannot use node metadata: nodeMeta() must return a Uint8Array");
    if (meta.length > m.config.metaMaxSize) {
      throw new RangeError(`Cannot use node metadata: ${meta.length} bytes is longer than metaMaxSize (${m.config.metaMaxSize})`);
    }
    return meta.slice();
  }

  /** Marks this node alive at start, and when it joins again after a leave (Go `setAlive`). */
  #setAlive(meta: Uint8Array | null = this.#nodeMeta()): void {
    const m = this.#m;
    m.incarnation = (m.incarnation + 1) >>> 0;
    aliveNode(m, {
      incarnation: m.incarnation,
      node: m.config.name,
      addr: m.advertiseAddr,
      port: m.advertisePort,
      meta,
      vsn: m.config.vsn,
    }, null, true);
  }

  #checkOpen(action: string): void {
    if (this.#m.shutdown) throw new TransportClosedError(`Cannot ${action}: memberlist has been shut down`);
  }

  /**
   * Joins a cluster by exchanging full state with each of `addresses` (Go
   * `Join`). An address is `host:port`, `host` (the bind port is assumed) or
   * `name/host:port`; host names are resolved and every address they resolve
   * to is contacted. Unlike Go, all host names are resolved and all
   * addresses contacted at once, so dead seeds and slow DNS do not delay live
   * seeds; the abort signal reaches `config.resolve` too. A node that has left
   * can join again (Go needs a new instance): it comes back alive with a new
   * incarnation.
   *
   * @param addresses Where to find existing members.
   * @param options An abort signal.
   * @returns How many exchanges succeeded (at least 1).
   * @throws {RangeError} When `addresses` is empty.
   * @throws {JoinError} When none succeeded; `errors` has the reason for each address.
   */
  async join(addresses: readonly string[], options: JoinOptions = {}): Promise<number> {
    this.#checkOpen("join");
    if (addresses.length === 0) throw new RangeError("Cannot join: no addresses given");
    const m = this.#m;
    const { signal } = options;
    signal?.throwIfAborted();
    if (m.leaving) {
      // Back from a leave: alive again, at an incarnation above the one the others hold as left.
      const meta = this.#nodeMeta();
      m.leaving = false;
      m.leaveNotify?.();
      m.leaveNotify = null;
      this.#setAlive(meta);
    }
    const errors: unknown[] = [];
    const exchanged = new Set<string>();
    // Every entry at once: host names are resolved side by side, and each address is
    // contacted as soon as it is known (Go resolves and exchanges with one seed at a time).
    const attempt = async (entry: string): Promise<number> => {
      let targets: Address[];
      try {
        targets = await this.#resolve(entry, signal);
      } catch (err) {
        if (!signal?.aborted) log(m, "warn", `Failed to resolve "${entry}"`, { error: err });
        errors.push(err);
        return 0;
      }
      const results = await Promise.all(targets.map((a) =>
        pushPullNode(m, a, true, signal).then(
          () => {
            exchanged.add(a.addr);
            return true;
          },
          (err) => {
            log(m, "debug", `Failed to join "${a.addr}"`, { error: err });
            errors.push(new Error(`Cannot join "${a.addr}": ${err instanceof Error ? err.message : err}`, { cause: err }));
            return false;
          },
        )
      ));
      return results.filter(Boolean).length;
    };
    const counts = await Promise.all(addresses.map(attempt));
    signal?.throwIfAborted();
    const joined = counts.reduce((a, b) => a + b, 0);
    if (joined === 0) throw new JoinError(errors);
    if (m.config.announceAfterJoin) track(m, announceAfterJoin(m, exchanged));
    if (m.config.pushPullAfterJoin > 0) track(m, pushPullAfterJoin(m, exchanged));
    return joined;
  }

  async #resolve(entry: string, signal: AbortSignal | undefined): Promise<Address[]> {
    const m = this.#m;
    let name = "";
    let rest = entry;
    const slash = entry.indexOf("/");
    if (slash >= 0) {
      if (slash === 0) throw new SyntaxError(`Cannot parse address "${entry}": empty node name`);
      name = entry.slice(0, slash);
      rest = entry.slice(slash + 1);
    }
    const { host, port } = splitHostPort(rest, m.bindPort);
    // Go's resolver finds nothing for an empty host (":7946"); never ask ours.
    if (host === "") throw new SyntaxError(`Cannot parse address "${entry}": empty host`);
    const literal = parseIP(host);
    if (literal !== null) return [{ addr: joinAddr(formatIP(literal), port), name }];
    const ips = await untilAborted(m.config.resolve(host, signal === undefined ? {} : { signal }), signal);
    if (ips.length === 0) throw new Error(`Cannot resolve "${host}": no addresses`);
    return ips.map((ip) => ({ addr: joinAddr(ip, port), name }));
  }

  /**
   * Every member that is alive or suspect, this node included (Go `Members`).
   * Each call returns fresh snapshots.
   *
   * @returns The members.
   */
  members(): Node[] {
    const out: Node[] = [];
    for (const n of this.#m.nodes) if (!deadOrLeft(n)) out.push(toNode(n));
    return out;
  }

  /**
   * The number of members alive or suspect, this node included (Go `NumMembers`).
   *
   * @returns The count.
   */
  numMembers(): number {
    let n = 0;
    for (const r of this.#m.nodes) if (!deadOrLeft(r)) n++;
    return n;
  }

  /**
   * This node, as the cluster sees it (Go `LocalNode`).
   *
   * @returns A snapshot.
   */
  localNode(): Node {
    const m = this.#m;
    const self = m.nodeMap.get(m.config.name);
    if (self === undefined) throw new TransportClosedError("Cannot read local node: it is not in the node table");
    return toNode(self);
  }

  /**
   * The local health score (Lifeguard): 0 is healthy; up to
   * `awarenessMaxMultiplier - 1` when this node is missing acks and refuting
   * accusations, i.e. is likely the slow one itself (Go `GetHealthScore`).
   *
   * @returns The score.
   */
  getHealthScore(): number {
    return this.#m.awareness.getHealthScore();
  }

  /**
   * The protocol version this node speaks (Go `ProtocolVersion`).
   *
   * @returns The version.
   */
  protocolVersion(): number {
    return this.#m.config.protocolVersion;
  }

  /**
   * The keyring in use, for key rotation (`addKey`, `useKey`, `removeKey`), or
   * null when encryption is off.
   *
   * @returns The keyring.
   */
  keyring(): Keyring | null {
    return this.#m.config.keyring;
  }

  /**
   * Re-reads this node's metadata from the delegate and gossips it with a new
   * incarnation (Go `UpdateNode`). Waits until the update has been sent to the
   * cluster, when there is anyone to send it to.
   *
   * @param timeoutMs Longest wait in ms; 0 (the default) waits as long as it takes.
   * @throws {RangeError} When the metadata is longer than `metaMaxSize`.
   * @throws {Error} When the wait times out, or when this node has left the
   * cluster (the update would go nowhere: {@linkcode join} again first; Go
   * waits for a broadcast that never goes out).
   */
  async updateNode(timeoutMs: number = 0): Promise<void> {
    this.#checkOpen("update node");
    const m = this.#m;
    if (m.leaving) throw new Error("Cannot update node: it has left the cluster: join() again first");
    const meta = this.#nodeMeta();
    const self = m.nodeMap.get(m.config.name)!;
    m.incarnation = (m.incarnation + 1) >>> 0;
    const a: Alive = {
      incarnation: m.incarnation,
      node: m.config.name,
      addr: self.addr,
      port: self.port,
      meta,
      vsn: m.config.vsn,
    };
    const { promise, notify } = notifier();
    aliveNode(m, a, notify, true);
    if (anyAlive(m)) await this.#wait(promise, timeoutMs, "Cannot update node: timed out waiting for the update broadcast");
  }

  /** Waits for `promise`, at most `timeoutMs` (0: forever), or until shutdown. */
  async #wait(promise: Promise<void>, timeoutMs: number, timeoutMessage: string): Promise<void> {
    const m = this.#m;
    let timer: { cancel(): void } | undefined;
    let onStop: (() => void) | undefined;
    try {
      await new Promise<void>((resolve, reject) => {
        promise.then(resolve);
        if (timeoutMs > 0) timer = m.config.clock.setTimeout(() => reject(new Error(timeoutMessage)), timeoutMs);
        onStop = () => reject(new TransportClosedError());
        m.stopped.signal.addEventListener("abort", onStop, { once: true });
      });
    } finally {
      timer?.cancel();
      if (onStop !== undefined) m.stopped.signal.removeEventListener("abort", onStop);
    }
  }

  /**
   * Sends a user message to a node in one packet, without delivery guarantee
   * (Go `SendBestEffort`); the receiver's `delegate.notifyMsg` gets it. Unlike
   * Go, the documented size limit is enforced.
   *
   * @param to The recipient.
   * @param msg The payload.
   * @throws {RangeError} When the message does not fit in `udpBufferSize`.
   * @throws {Error} When the packet cannot be sent.
   */
  async sendBestEffort(to: Node, msg: Uint8Array): Promise<void> {
    this.#checkOpen("send");
    await Promise.resolve();
    const m = this.#m;
    const max = m.config.udpBufferSize - 1 - packetOverhead(m.wire, false);
    if (msg.length > max) {
      throw new RangeError(`Cannot send best-effort message: ${msg.length} bytes is more than the ${max} that fit in udpBufferSize`);
    }
    const buf = new Uint8Array(msg.length + 1);
    buf[0] = MessageType.User;
    buf.set(msg, 1);
    rawSendMsgPacket(m, { addr: to.address, name: to.name }, to, buf);
  }

  /**
   * Sends a user message to a node over a stream (Go `SendReliable`); the
   * receiver's `delegate.notifyMsg` gets it.
   *
   * @param to The recipient.
   * @param msg The payload, at most 20 MiB.
   * @throws {RangeError} When the message is larger than 20 MiB.
   * @throws {Error} When the stream cannot be opened or written.
   */
  async sendReliable(to: Node, msg: Uint8Array): Promise<void> {
    this.#checkOpen("send");
    if (msg.length > MAX_USER_MSG_BYTES) {
      throw new RangeError(`Cannot send reliable message: ${msg.length} bytes is more than ${MAX_USER_MSG_BYTES}`);
    }
    await sendUserMsg(this.#m, { addr: to.address, name: to.name }, msg);
  }

  /**
   * Sends a user message in one packet to an address (Go `SendToAddress`).
   *
   * @param address `host:port`, and the node name when known.
   * @param msg The payload.
   */
  async sendToAddress(address: Address, msg: Uint8Array): Promise<void> {
    this.#checkOpen("send");
    await Promise.resolve();
    const buf = new Uint8Array(msg.length + 1);
    buf[0] = MessageType.User;
    buf.set(msg, 1);
    rawSendMsgPacket(this.#m, address, null, buf);
  }

  /**
   * Pings a node directly, once (Go `Ping`): no indirect probes, no suspicion.
   *
   * @param name The node's name (a node ignores pings for another name).
   * @param address Its `host:port`.
   * @returns The round-trip time in milliseconds.
   * @throws {NoPingResponseError} When no ack came within `probeTimeout`.
   */
  async ping(name: string, address: string): Promise<number> {
    this.#checkOpen("ping");
    const rtt = await pingNode(this.#m, name, address);
    if (rtt === null) throw new NoPingResponseError(name);
    return rtt;
  }

  /**
   * Leaves the cluster gracefully (Go `Leave`): tells the others this node is
   * leaving, and waits until that has been gossiped, when there is anyone to
   * tell. The node keeps answering probes until {@linkcode shutdown}, and can
   * {@linkcode join} again until then.
   *
   * @param timeoutMs Longest wait in ms; 0 (the default) waits as long as it takes.
   * @throws {TransportClosedError} After shutdown.
   * @throws {Error} When the wait times out.
   */
  async leave(timeoutMs: number = 0): Promise<void> {
    this.#checkOpen("leave");
    const m = this.#m;
    if (m.leaving) return;
    m.leaving = true;
    const self = m.nodeMap.get(m.config.name);
    if (self === undefined) {
      log(m, "warn", "Leave but we are not in the node map");
      return;
    }
    const { promise, notify } = notifier();
    m.leaveNotify = notify;
    deadNode(m, { incarnation: self.incarnation, node: self.name, from: self.name });
    if (anyAlive(m)) await this.#wait(promise, timeoutMs, "Cannot leave: timed out waiting for the leave broadcast");
  }

  /**
   * Stops everything (Go `Shutdown`): timers, sockets, pending exchanges. Sends
   * nothing: call {@linkcode leave} first to leave gracefully. Idempotent. A
   * process with only shut-down memberlists exits by itself.
   */
  async shutdown(): Promise<void> {
    const m = this.#m;
    if (m.shutdown) return;
    m.shutdown = true;
    m.stopped.abort(new TransportClosedError());
    deschedule(m);
    for (const t of m.nodeTimers.values()) t.cancel();
    m.nodeTimers.clear();
    for (const h of m.ackHandlers.values()) {
      h.timer.cancel();
      h.stop?.();
    }
    m.ackHandlers.clear();
    m.highPriority.length = 0;
    m.lowPriority.length = 0;
    m.drops.close();
    m.streamSlots.close();
    try {
      await m.transport.shutdown();
    } catch (err) {
      log(m, "error", "Failed to shut down transport", { error: err });
    }
    while (m.inflight.size > 0) await Promise.allSettled([...m.inflight]);
  }

  /** Shuts down (`await using ml = await Memberlist.create(...)`). */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.shutdown();
  }
}

/**
 * Refuses a configuration whose own alive message could outgrow a gossip
 * packet: such a message is never sent by gossip, so `updateNode()` would wait
 * for ever. Counts `metaMaxSize` bytes of metadata (none without a `nodeMeta`
 * delegate), the largest incarnation, the label, and encryption whenever a
 * keyring is set (keys may be installed later).
 *
 * @throws {RangeError} Naming `metaMaxSize` (or `name`) and the range that fits.
 */
function checkAliveFits(cfg: ResolvedConfig, addr: Uint8Array, port: number): void {
  const room = cfg.udpBufferSize - COMPOUND_HEADER_OVERHEAD - COMPOUND_OVERHEAD - labelOverhead(cfg.labelBytes) -
    (cfg.keyring === null ? 0 : encryptOverhead(cfg.encryptionVersion));
  const size = (metaBytes: number) =>
    encodeMessage(MessageType.Alive, {
      incarnation: 0xffff_ffff,
      node: cfg.name,
      addr,
      port,
      meta: metaBytes === 0 ? null : new Uint8Array(metaBytes),
      vsn: cfg.vsn,
    }).length;
  const metaMax = cfg.delegate?.nodeMeta === undefined ? 0 : cfg.metaMaxSize;
  const need = size(metaMax);
  if (need <= room) return;
  const fix = `raise udpBufferSize (${cfg.udpBufferSize}) to at least ${cfg.udpBufferSize + need - room}`;
  if (size(0) > room) {
    throw new RangeError(
      `Invalid config "name": an alive message of node "${cfg.name}" is ${size(0)} bytes, more than the ${room} a gossip packet has room for: ${fix}`,
    );
  }
  // The longest metadata that fits (msgpack's length header grows with it, so search).
  let lo = 0, hi = metaMax;
  while (lo < hi) {
    const mid = Math.ceil((lo + hi) / 2);
    if (size(mid) <= room) lo = mid;
    else hi = mid - 1;
  }
  throw new RangeError(
    `Invalid config "metaMaxSize": expected an integer in [0, ${lo}] for an alive message of node "${cfg.name}" to fit in a gossip packet, got ${metaMax}: lower it, or ${fix}`,
  );
}

function joinAddr(ip: string, port: number): string {
  return ip.includes(":") ? `[${ip}]:${port}` : `${ip}:${port}`;
}

/** `p`, or a rejection with the signal's reason as soon as `signal` aborts. */
function untilAborted<T>(p: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (signal === undefined) return p;
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    if (signal.aborted) onAbort();
    else signal.addEventListener("abort", onAbort, { once: true });
    p.then(resolve, reject).finally(() => signal.removeEventListener("abort", onAbort));
  });
}

function notifier(): { promise: Promise<void>; notify: () => void } {
  let notify!: () => void;
  const promise = new Promise<void>((r) => (notify = r));
  return { promise, notify };
}
