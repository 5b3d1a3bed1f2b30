// Helpers for the white-box protocol tests (state_test.ts, net_test.ts): quiet
// nodes whose schedules are stopped so a test drives probes and gossip by hand,
// raw peers that speak the wire format directly (as Go's tests use bare
// sockets), and recording delegates and metrics.
import { Reader } from "../lib/_bytes.ts";
import { type Alive, decodeMessage, type DecodedMessage, MessageType } from "../lib/codec.ts";
import type { Config } from "../lib/config.ts";
import type { EventDelegate } from "../lib/delegate.ts";
import { memberlistState } from "../lib/memberlist.ts";
import type { MetricLabel, Metrics } from "../lib/metrics.ts";
import type { Node } from "../lib/node.ts";
import { openPacket, unpackMessages, type WireOptions } from "../lib/packet.ts";
import { aliveNode, deschedule, type MemberlistState } from "../lib/state.ts";
import { StreamReader } from "../lib/stream.ts";
import type { Conn, Packet } from "../lib/transport.ts";
import type { MockTransport } from "../transports/mock.ts";
import type { TestCluster, TestNode } from "./_helpers.ts";

/** A node of a test cluster with its protocol state at hand. */
export interface QuietNode extends TestNode {
  /** The protocol state (Go's `*Memberlist` internals). */
  m: MemberlistState;
  /** `"127.0.0.1"`-style address bytes of this node. */
  ip: Uint8Array;
  /** The port it listens on. */
  port: number;
}

/**
 * Creates a node whose probe, gossip, push/pull and reconnect schedules never run (Go's
 * `newMemberlist` without `schedule`), so each test calls `probeNode`,
 * `gossip`... itself. Its own alive record exists, as after Go's `setAlive`,
 * but its broadcast queue starts empty.
 */
export async function quietNode(c: TestCluster, name: string, overrides: Partial<Config> = {}): Promise<QuietNode> {
  const node = await c.add(name, { pushPullInterval: 0, reconnectInterval: 0, ...overrides });
  const m = memberlistState(node.ml);
  deschedule(m);
  // Go's test memberlists start with an empty queue: drop our own start-up alive.
  m.broadcasts.reset();
  return { ...node, m, ip: m.advertiseAddr, port: m.advertisePort };
}

/** An alive message about `name` at `ip:port`, with this implementation's default versions. */
export function alive(name: string, ip: Uint8Array, port: number, incarnation: number, extra: Partial<Alive> = {}): Alive {
  return { incarnation, node: name, addr: ip, port, meta: null, vsn: DEFAULT_VSN.slice(), ...extra };
}

/** `[pMin 1, pMax 5, pCur 2, dMin 0, dMax 0, dCur 0]`, what a default node advertises. */
export const DEFAULT_VSN: Uint8Array = Uint8Array.from([1, 5, 2, 0, 0, 0]);

/** Tells `node` about `peer` as Go's tests do with `aliveNode(&alive{...}, nil, false)`. */
export function learn(node: QuietNode, peer: { name: string; ip: Uint8Array; port: number }, extra: Partial<Alive> = {}): void {
  aliveNode(node.m, alive(peer.name, peer.ip, peer.port, 1, extra), null, false);
}

/** The state of `name` in `m`'s table, or undefined when there is no record. */
export function stateIn(m: MemberlistState, name: string): number | undefined {
  return m.nodeMap.get(name)?.state;
}

/** The types of the broadcasts queued in `m`, next to be sent first. */
export function queuedTypes(m: MemberlistState): number[] {
  return m.broadcasts.orderedView().map((q) => q.broadcast.message()[0]!);
}

/** The queued broadcasts of `m`, decoded. */
export function queued(m: MemberlistState): DecodedMessage[] {
  return m.broadcasts.orderedView().map((q) => decodeMessage(q.broadcast.message()));
}

/** Plain wire settings: no label, no encryption, no compression. */
export const PLAIN_WIRE: WireOptions = {
  label: new Uint8Array(0),
  skipInboundLabelCheck: false,
  keyring: null,
  encryptionVersion: 1,
  gossipVerifyIncoming: true,
  gossipVerifyOutgoing: true,
  enableCompression: false,
};

/** One datagram a raw peer received, with its messages unpacked and decoded. */
export interface RawPacket extends Packet {
  /** The message after label/CRC removal, before unpacking (type byte first). */
  top: Uint8Array;
  /** The leaf messages, decoded. */
  messages: DecodedMessage[];
}

/** A bare endpoint on the mock network that records what it receives (Go's `listenUDP`). */
export class RawPeer {
  readonly transport: MockTransport;
  readonly packets: RawPacket[] = [];
  readonly conns: Conn[] = [];
  readonly ip: Uint8Array;
  readonly port: number;
  #wire: WireOptions;

  constructor(transport: MockTransport, wire: WireOptions = PLAIN_WIRE) {
    this.transport = transport;
    this.#wire = wire;
    const [host, port] = transport.addr.split(":") as [string, string];
    this.ip = Uint8Array.from(host.split(".").map(Number));
    this.port = Number(port);
    transport.setHandlers({
      packet: (p) => {
        // Undecodable input is kept with no messages: some tests send it on purpose.
        let top = p.buf;
        let messages: DecodedMessage[] = [];
        try {
          top = openPacket(p.buf, this.#wire);
          messages = unpackMessages(top).messages.map((msg) => decodeMessage(msg));
        } catch {
          messages = [];
        }
        this.packets.push({ ...p, top, messages });
      },
      stream: (conn) => void this.conns.push(conn),
    });
  }

  /** Sends raw bytes to `to`. */
  send(to: { addr: string; name: string }, bytes: Uint8Array): void {
    this.transport.writeTo(bytes, to);
  }

  /** Every message received, in order, flattened. */
  messages(): DecodedMessage[] {
    return this.packets.flatMap((p) => p.messages);
  }
}

/** Creates a {@linkcode RawPeer} on the cluster's network. */
export function rawPeer(c: TestCluster, name = "raw", wire: WireOptions = PLAIN_WIRE): RawPeer {
  return new RawPeer(c.net.newTransport(name), wire);
}

/** Reads one value-level view of a stream: the bytes until the peer closes it. */
export async function readToEnd(c: TestCluster, conn: Conn): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  for (;;) {
    const chunk = await c.settle(conn.read());
    if (chunk === null) break;
    chunks.push(chunk);
  }
  const out = new Uint8Array(chunks.reduce((n, b) => n + b.length, 0));
  let p = 0;
  for (const b of chunks) {
    out.set(b, p);
    p += b.length;
  }
  return out;
}

/** A stream reader over a connection. */
export function streamOf(conn: Conn): StreamReader {
  return new StreamReader(conn);
}

/** A reader positioned after the type byte of `msg`. */
export function bodyOf(msg: Uint8Array): Reader {
  return new Reader(msg, 1);
}

/** What an {@linkcode EventDelegate} was told, as `"join a"`, `"leave b"`, `"update c"`. */
export class RecordingEvents implements EventDelegate {
  readonly events: string[] = [];
  readonly nodes: Node[] = [];
  /** When false, events are ignored (Go's `toggledEventDelegate`). */
  enabled = true;
  notifyJoin(node: Node): void {
    this.#record("join", node);
  }
  notifyLeave(node: Node): void {
    this.#record("leave", node);
  }
  notifyUpdate(node: Node): void {
    this.#record("update", node);
  }
  #record(kind: string, node: Node): void {
    if (!this.enabled) return;
    this.events.push(`${kind} ${node.name}`);
    this.nodes.push(node);
  }
  /** Returns the events so far and forgets them. */
  take(): string[] {
    const out = this.events.splice(0);
    this.nodes.length = 0;
    return out;
  }
}

/** A metrics sink that remembers everything, keyed by the dotted name (labels after `;`, Go inmem style). */
export class RecordingMetrics implements Metrics {
  readonly counters: Map<string, number> = new Map();
  readonly gauges: Map<string, number> = new Map();
  readonly samples: Map<string, number[]> = new Map();
  readonly timings: Map<string, number[]> = new Map();

  static key(key: readonly string[], labels: readonly MetricLabel[]): string {
    const base = key.join(".");
    return labels.length === 0 ? base : `${base};${labels.map((l) => `${l.name}=${l.value}`).join(";")}`;
  }
  incrCounter(key: readonly string[], value: number, labels: readonly MetricLabel[]): void {
    const k = RecordingMetrics.key(key, labels);
    this.counters.set(k, (this.counters.get(k) ?? 0) + value);
  }
  setGauge(key: readonly string[], value: number, labels: readonly MetricLabel[]): void {
    this.gauges.set(RecordingMetrics.key(key, labels), value);
  }
  addSample(key: readonly string[], value: number, labels: readonly MetricLabel[]): void {
    const k = RecordingMetrics.key(key, labels);
    this.samples.set(k, [...(this.samples.get(k) ?? []), value]);
  }
  measureSince(key: readonly string[], ms: number, labels: readonly MetricLabel[]): void {
    const k = RecordingMetrics.key(key, labels);
    this.timings.set(k, [...(this.timings.get(k) ?? []), ms]);
  }
  /** A counter's total (0 when never incremented), by name and labels (in the order they were reported). */
  counter(name: string, labels: Record<string, string> = {}): number {
    const list = Object.entries(labels).map(([n, value]) => ({ name: n, value }));
    return this.counters.get(RecordingMetrics.key(name.split("."), list)) ?? 0;
  }
}

/** The message type names, for readable assertions. */
export const T: typeof MessageType = MessageType;
