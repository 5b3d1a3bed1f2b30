// Copyright (c) memberlist-ts authors. SPDX-License-Identifier: MPL-2.0
/**
 * Configuration (Go `config.go`): every field of Go's `Config`, with
 * durations in milliseconds; the three default profiles with Go's values;
 * and {@linkcode validateConfig}, which checks a configuration and derives
 * what the protocol core needs from it.
 *
 * The profiles match Go memberlist field for field, both 0.2.2 and the newest
 * release (they differ only in the fields the newest release added: `label`,
 * `skipInboundLabelCheck`, `metricLabels`, `queueCheckInterval` and
 * `msgpackUseNewTimeFormat`).
 *
 * @module
 */

import { type Clock, systemClock } from "./clock.ts";
import type {
  AliveDelegate,
  ConflictDelegate,
  Delegate,
  EventDelegate,
  MergeDelegate,
  PingDelegate,
} from "./delegate.ts";
import { Keyring, validateKey } from "./keyring.ts";
import { encodeLabel, LABEL_MAX_SIZE } from "./label.ts";
import { defaultLogger, type Logger } from "./logging.ts";
import { type MetricLabel, type Metrics, noopMetrics } from "./metrics.ts";
import { defaultRandom, type RandomSource } from "./random.ts";
import type { EncryptionVersion } from "./security.ts";
import type { Transport } from "./transport.ts";
import { cidrContains, type IPNet, isIP, parseCIDR, parseIP } from "./_ip.ts";
import { getBuiltinModule } from "./_runtime.ts";

export type { IPNet } from "./_ip.ts";

/**
 * The lowest protocol version this implementation understands (Go
 * `ProtocolVersionMin`). Sent as the first byte of every node's version array.
 *
 * @example Usage
 * ```ts
 * import { PROTOCOL_VERSION_MIN } from "@gossip/memberlist";
 * import assert from "node:assert/strict";
 *
 * assert.equal(PROTOCOL_VERSION_MIN, 1);
 * ```
 */
export const PROTOCOL_VERSION_MIN: number = 1;

/**
 * The protocol version spoken by default (Go `ProtocolVersion2Compatible`):
 * version 2, understood by every Go memberlist release since 2014. Versions 3
 * to 5 add features (TCP fallback pings, nacks, CRC) that are used with any
 * peer advertising them whatever version is spoken, so there is rarely a
 * reason to change it.
 *
 * @example Usage
 * ```ts
 * import { defaultLANConfig, PROTOCOL_VERSION_2_COMPATIBLE } from "@gossip/memberlist";
 * import assert from "node:assert/strict";
 *
 * assert.equal(defaultLANConfig().protocolVersion, PROTOCOL_VERSION_2_COMPATIBLE);
 * ```
 */
export const PROTOCOL_VERSION_2_COMPATIBLE: number = 2;

/**
 * The highest protocol version this implementation understands (Go
 * `ProtocolVersionMax`).
 *
 * @example Usage
 * ```ts
 * import { PROTOCOL_VERSION_MAX } from "@gossip/memberlist";
 * import assert from "node:assert/strict";
 *
 * assert.equal(PROTOCOL_VERSION_MAX, 5);
 * ```
 */
export const PROTOCOL_VERSION_MAX: number = 5;

/**
 * Go's fixed limit on node metadata, in bytes (Go `MetaMaxSize`), and the
 * default of {@linkcode Config.metaMaxSize}.
 *
 * @example Usage
 * ```ts
 * import { defaultLANConfig, META_MAX_SIZE } from "@gossip/memberlist";
 * import assert from "node:assert/strict";
 *
 * assert.equal(META_MAX_SIZE, 512);
 * assert.equal(defaultLANConfig().metaMaxSize, META_MAX_SIZE);
 * ```
 */
export const META_MAX_SIZE: number = 512;

/**
 * The largest accepted {@linkcode Config.metaMaxSize}, in bytes. An alive
 * message carrying the metadata must still fit in one UDP packet with the
 * largest `udpBufferSize` (65,502): after the compound, label (up to 257) and
 * encryption (up to 45) framing and the alive message's other fields (76
 * bytes), 64,000 bytes of metadata leave 1,120 bytes for the node name.
 */
const META_MAX_SIZE_LIMIT = 64_000;

/** Upper bound of timeouts (`tcpTimeout`, `probeTimeout`): one hour. */
const MAX_TIMEOUT_MS = 3_600_000;
/** Largest `maxNodes`: far beyond any cluster memberlist's gossip can carry. */
const MAX_NODES_LIMIT = 16_777_216;
/** Largest `maxInboundStreams`: more than a process has file descriptors by default. */
const MAX_STREAMS_LIMIT = 65_536;

/**
 * Upper bound of intervals and ages: one day. It catches durations given in
 * the wrong unit (seconds × 10⁹ for a Go `time.Duration`) and keeps every
 * timer far below the 2³¹ − 1 ms that runtimes' timers accept.
 */
const MAX_INTERVAL_MS = 86_400_000;
/** The longest `reconnectTimeout`: 30 days. */
const MAX_RECONNECT_TIMEOUT_MS = 30 * 86_400_000;

/** Upper bound of counts and multipliers: Go's `int` on 32-bit platforms. */
const INT_MAX = 2_147_483_647;

/**
 * The smallest accepted `udpBufferSize`. Smaller budgets cannot hold a
 * compound header plus any memberlist message.
 */
const UDP_BUFFER_SIZE_MIN = 64;

/**
 * The largest accepted `udpBufferSize`: the largest IPv4 UDP payload (65,507)
 * minus the 5-byte CRC header, which memberlist adds after packing and does
 * not count against the budget.
 */
const UDP_BUFFER_SIZE_MAX = 65_502;

/**
 * Configuration of one memberlist node (Go `Config`). Durations are
 * milliseconds and sizes are bytes. Start from a profile and change what you
 * need:
 * `{ ...defaultLANConfig(), name: "node-1", bindPort: 7947 }`.
 * `Memberlist.create()` and {@linkcode validateConfig} also accept a partial
 * object and fill the rest from {@linkcode defaultLANConfig}.
 *
 * The `@default` values below are the LAN profile's; see
 * {@linkcode defaultWANConfig} and {@linkcode defaultLocalConfig} for the
 * others.
 *
 * @example Usage
 * ```ts
 * import { type Config, defaultLANConfig } from "@gossip/memberlist";
 * import assert from "node:assert/strict";
 *
 * const config: Config = { ...defaultLANConfig(), name: "node-1", bindPort: 7947 };
 * assert.equal(config.probeInterval, 1000);
 * ```
 */
export interface Config {
  /**
   * The node's name, unique in the cluster.
   *
   * @default {the host name, or "" when it is unavailable}
   */
  name: string;

  /**
   * The network to use. null lets `Memberlist.create()` bind the runtime's
   * native UDP and TCP sockets on `bindAddr` and `bindPort`.
   *
   * @default {null}
   */
  transport: Transport | null;

  /**
   * A label prefixed to every packet and stream, and authenticated as
   * additional data when encryption is on; at most 255 bytes of UTF-8. Nodes
   * with different labels ignore each other, which keeps clusters apart when
   * addresses are reused. Go memberlist before 0.3.0 cannot read labelled
   * traffic. Empty for none.
   *
   * @default {""}
   */
  label: string;

  /**
   * Accept unlabelled input as if it carried this node's label (and reject
   * labelled input, as a "double label"), for a transport that checks and
   * strips label headers itself (Go `SkipInboundLabelCheck`). Output is still
   * labelled, and nodes without a label drop it, so this alone does not let
   * labelled and unlabelled nodes talk both ways.
   *
   * @default {false}
   */
  skipInboundLabelCheck: boolean;

  /**
   * The IP address to listen on for UDP and TCP.
   *
   * @default {"0.0.0.0"}
   */
  bindAddr: string;

  /**
   * The port to listen on for UDP and TCP; 0 lets the system pick one, which
   * then is also advertised.
   *
   * @default {7946}
   */
  bindPort: number;

  /**
   * The IP address other nodes should use to reach this one (for NAT). Empty
   * to derive it from what the transport is bound to (a private address of the
   * host when bound to 0.0.0.0).
   *
   * @default {""}
   */
  advertiseAddr: string;

  /**
   * The port to advertise with `advertiseAddr`.
   *
   * @default {7946}
   */
  advertisePort: number;

  /**
   * The protocol version to speak, in [{@linkcode PROTOCOL_VERSION_MIN},
   * {@linkcode PROTOCOL_VERSION_MAX}]. Version 1 also selects the older
   * encryption format and ignores ports in messages.
   *
   * @default {2}
   */
  protocolVersion: number;

  /**
   * Milliseconds allowed to open a stream and for each stream read and write
   * (push/pull, reliable messages, TCP fallback pings). Go `TCPTimeout`. A
   * stream another node opened to this one gets this long in all, from accept
   * to close (Go grants it twice for a push/pull).
   *
   * @default {10000}
   */
  tcpTimeout: number;

  /**
   * Milliseconds a stream another node opened to this one may go without
   * sending a byte while this node waits for its message; then it is closed
   * (counted as `memberlist.tcp.dropped` with reason `idle`). Frees the slot of
   * a peer that connects and says nothing, or trickles. Not in Go.
   *
   * @default {5000} (WAN 15000, local 1000)
   */
  tcpIdleTimeout: number;

  /**
   * How many other nodes are asked to probe a node that failed a direct
   * probe; 0 for none.
   *
   * @default {3}
   */
  indirectChecks: number;

  /**
   * Broadcasts are retransmitted `retransmitMult × ceil(log10(n + 1))` times
   * in a cluster of n nodes.
   *
   * @default {4}
   */
  retransmitMult: number;

  /**
   * A suspect node is declared dead after
   * `suspicionMult × max(1, log10(n)) × probeInterval` (Go's comments say
   * log(n + 1); the code uses log10(n)), or later while confirmations are
   * missing (Lifeguard). At least 1.
   *
   * @default {4}
   */
  suspicionMult: number;

  /**
   * The longest suspicion timeout, as a multiple of the base timeout above,
   * used while other nodes have not confirmed the suspicion. At least 1.
   *
   * @default {6}
   */
  suspicionMaxTimeoutMult: number;

  /**
   * Milliseconds between full state syncs (push/pull over a stream) with one
   * random node, stretched in clusters above 32 nodes; 0 disables them.
   *
   * @default {30000}
   */
  pushPullInterval: number;

  /**
   * Milliseconds between probes of one random node; 0 disables failure
   * detection.
   *
   * @default {1000}
   */
  probeInterval: number;

  /**
   * Milliseconds to wait for the ack to a direct probe before probing
   * indirectly; about the 99th percentile of the network's round-trip time.
   *
   * @default {500}
   */
  probeTimeout: number;

  /**
   * Turns off the TCP ping tried alongside indirect probes when a direct UDP
   * probe fails.
   *
   * @default {false}
   */
  disableTcpPings: boolean;

  /**
   * Turns off TCP fallback pings for the nodes for which it returns true;
   * null to decide by `disableTcpPings` alone. Must return quickly.
   *
   * @default {null}
   */
  disableTcpPingsForNode: ((name: string) => boolean) | null;

  /**
   * The cap of the Lifeguard local health multiplier: a node that notices it
   * is struggling probes up to this many times less often. At least 1 (1
   * turns the back-off off).
   *
   * @default {8}
   */
  awarenessMaxMultiplier: number;

  /**
   * Milliseconds between gossip rounds that send queued broadcasts to
   * `gossipNodes` random nodes; 0 disables gossip rounds (broadcasts then
   * travel only on probe traffic).
   *
   * @default {200}
   */
  gossipInterval: number;

  /**
   * How many random nodes each gossip round sends to; 0 disables gossip
   * rounds.
   *
   * @default {3}
   */
  gossipNodes: number;

  /**
   * Milliseconds after a node is declared dead (or leaves) during which it is
   * still gossiped to, giving it a chance to refute; also how long dead and
   * left records are kept before they are forgotten.
   *
   * @default {30000}
   */
  gossipToTheDeadTime: number;

  /**
   * When a key is installed, drop input that is not encrypted. Set to false
   * while rolling encryption out across a running cluster.
   *
   * @default {true}
   */
  gossipVerifyIncoming: boolean;

  /**
   * When a key is installed, encrypt output. Set to false while rolling
   * encryption out across a running cluster.
   *
   * @default {true}
   */
  gossipVerifyOutgoing: boolean;

  /**
   * Compress packets (when that makes them smaller) and streams with LZW.
   *
   * @default {true}
   */
  enableCompression: boolean;

  /**
   * An AES key of 16, 24 or 32 bytes that turns encryption on. It becomes the
   * primary key of `keyring`, or of a new keyring when `keyring` is null. An
   * empty array counts as no key, as in Go.
   *
   * @default {null}
   */
  secretKey: Uint8Array | null;

  /**
   * The keys to decrypt with and the primary key to encrypt with; encryption
   * is on when it holds at least one key. It stays live: rotate keys on it
   * while the node runs.
   *
   * @default {null}
   */
  keyring: Keyring | null;

  /**
   * Application hooks: node metadata, user messages and broadcasts, push/pull
   * state.
   *
   * @default {null}
   */
  delegate: Delegate | null;

  /**
   * The application protocol version this node speaks, sent to peers so
   * push/pull can refuse incompatible nodes; in [`delegateProtocolMin`,
   * `delegateProtocolMax`], 0 to 255.
   *
   * @default {0}
   */
  delegateProtocolVersion: number;

  /**
   * The lowest application protocol version this node understands, 0 to 255.
   *
   * @default {0}
   */
  delegateProtocolMin: number;

  /**
   * The highest application protocol version this node understands, 0 to 255.
   *
   * @default {0}
   */
  delegateProtocolMax: number;

  /**
   * Join, leave and update notifications.
   *
   * @default {null}
   */
  events: EventDelegate | null;

  /**
   * Notification of name conflicts.
   *
   * @default {null}
   */
  conflict: ConflictDelegate | null;

  /**
   * A veto over joins.
   *
   * @default {null}
   */
  merge: MergeDelegate | null;

  /**
   * Round-trip times and ack payloads.
   *
   * @default {null}
   */
  ping: PingDelegate | null;

  /**
   * A filter on alive messages.
   *
   * @default {null}
   */
  alive: AliveDelegate | null;

  /**
   * The resolver configuration file Go reads for its DNS-over-TCP join
   * lookup. Kept for parity; the default {@linkcode Config.resolve} uses the
   * system resolver instead. Go `DNSConfigPath`.
   *
   * @default {"/etc/resolv.conf"}
   */
  dnsConfigPath: string;

  /**
   * Resolves a host name given to `join()` to IP address texts. Not in Go,
   * which queries the DNS server in `dnsConfigPath` over TCP and then the
   * system resolver. The default asks the system resolver through `node:dns`
   * (on Node, Deno and Bun). `join()` resolves all its host names at once and
   * passes its abort signal; a resolver that ignores the signal is left
   * behind when it aborts.
   *
   * @default {the system resolver}
   */
  resolve: (host: string, options?: ResolveOptions) => Promise<string[]>;

  /**
   * How many received messages may wait for processing in each of the two
   * inbound queues before more are dropped. At least 1.
   *
   * @default {1024}
   */
  handoffQueueDepth: number;

  /**
   * The most bytes memberlist packs into one packet, in [64, 65502]. Raise it
   * only if every path between nodes carries larger datagrams (jumbo frames).
   * Go `UDPBufferSize`.
   *
   * @default {1400}
   */
  udpBufferSize: number;

  /**
   * Milliseconds after which a dead node's name may be taken by a node at
   * another address or port; 0 means never.
   *
   * @default {0}
   */
  deadNodeReclaimTime: number;

  /**
   * Refuse to send to an address that does not name its node.
   *
   * @default {false}
   */
  requireNodeNames: boolean;

  /**
   * The networks (CIDR text such as "10.0.0.0/8" or "fd00::/8") allowed to
   * talk to this node and to be admitted as members; IPv4 and IPv6 are listed
   * separately. null or an empty list allows every address. (Go's doc comment
   * says an empty list blocks everything, but its code allows everything; we
   * follow the code.) Go `CIDRsAllowed`, which takes parsed networks.
   *
   * @default {null}
   */
  cidrsAllowed: readonly string[] | null;

  /**
   * Labels added to every metric.
   *
   * @default {[]}
   */
  metricLabels: readonly MetricLabel[];

  /**
   * Milliseconds between samples of the broadcast queue length (metric
   * `memberlist.queue.broadcasts`). More than 0.
   *
   * @default {30000}
   */
  queueCheckInterval: number;

  /**
   * Go's msgpack time format switch. No memberlist message carries a time, so
   * it has no effect; kept for parity.
   *
   * @default {false}
   */
  msgpackUseNewTimeFormat: boolean;

  /**
   * The most bytes of metadata `delegate.nodeMeta()` may return, in [0,
   * 64000]. Not in Go, where it is the constant 512
   * ({@linkcode META_MAX_SIZE}). Received metadata is never limited, so Go
   * nodes accept larger metadata from us. Metadata spreads in alive messages
   * gossiped over UDP, so `Memberlist.create()` refuses a value whose alive
   * message (with the node's name, label and encryption) would not fit in
   * `udpBufferSize`: raise `udpBufferSize` along with this. With the default
   * 1400 and no label or encryption, that leaves room for over 1,200 bytes.
   *
   * @default {512}
   */
  metaMaxSize: number;

  /**
   * How many extra push/pulls a node does with random live members after it
   * joins, spaced out over the seconds that follow (the first one
   * `probeInterval` after the join, then each one twice as late). Not in Go.
   *
   * Why: when many nodes join at once, gossip spreads each newcomer's alive
   * message only `retransmitMult × ceil(log10(n + 1))` times per node, and a few
   * nodes miss a few newcomers; in Go they wait for the next periodic push/pull
   * (`pushPullInterval`, 15–60 s) to learn of them. A push/pull with a random
   * member soon after joining fills those gaps on both sides at the cost of one
   * state exchange per join. 0 behaves like Go. The exchanges are ordinary
   * push/pulls, so Go members answer them as usual.
   *
   * @default {2}
   */
  pushPullAfterJoin: number;

  /**
   * Whether a node that has just joined sends its alive message straight to
   * every member it learned of in the join (not those it exchanged state
   * with), spread over the first `probeInterval`. Not in Go, where only gossip
   * carries it: each node retransmits it `retransmitMult × ceil(log10(n + 1))`
   * times, counting the copies piggybacked on probes, and in small clusters
   * that is 2 to 4 copies for 3 to 9 targets, so now and then a member misses
   * the newcomer until the next periodic push/pull (15–60 s). One small
   * packet per member, about what the join's own state transfer costs. Go
   * members take it like any gossiped alive. false behaves like Go.
   *
   * @default {true}
   */
  announceAfterJoin: boolean;

  /**
   * Whether a node sends the other side of an accusation what it evidently
   * missed, at most once per probe interval per node. Not in Go, which drops
   * both messages below.
   *
   * - An alive message about a node held suspect or dead at a higher (or the
   *   same) incarnation: the node is sent the accusation. A node restarted at
   *   incarnation 1 after it was declared dead at a higher one, and that joined
   *   through a node with no record of it, otherwise never learns of it and
   *   stays dead to the others until they forget it (hashicorp/memberlist#311,
   *   seen in mass restarts). Told, it refutes at once.
   * - An accusation of this node at an incarnation it has already refuted: the
   *   accuser is sent this node's current alive. It missed the refutation
   *   (packet loss), and would otherwise declare this node dead when its
   *   suspicion runs out.
   *
   * Both are ordinary suspect and alive messages, which Go nodes handle as
   * usual. false behaves like Go.
   *
   * @default {true}
   */
  repairAccusations: boolean;

  /**
   * The share of each gossip packet, in [0, 0.9], that memberlist's own
   * messages (alive, suspect, dead) leave to the delegate's user broadcasts
   * (`delegate.getBroadcasts`) after their first message. Not in Go, where the
   * delegate only gets what memberlist's messages leave, so under heavy churn
   * in a big cluster user broadcasts never go out (hashicorp/memberlist#299).
   * Space one side does not use goes to the other, so this changes nothing
   * while either side has little to send. 0 behaves like Go.
   *
   * @default {0.25}
   */
  userBroadcastShare: number;

  /**
   * How often, in ms, to try to reach a node that failed (declared dead, not
   * left), so that a network partition heals by itself once the network does;
   * 0 turns it off. Not in Go memberlist, where a dead node is forgotten after
   * `gossipToTheDeadTime` and the two sides of a long partition stay apart
   * until the application joins them again (Serf adds this on top, and so do
   * many applications). Like Go's push/pull interval it grows with the
   * cluster's size, and each tick tries with a probability of failed nodes
   * over live ones, so a cluster with one failed node makes about one attempt
   * per interval in all. An attempt pings the failed node by name first (a
   * node that now answers at that address under another name, such as a
   * reused IP in another cluster, is left alone), then does a join push/pull
   * with it, which merge delegates can veto as for any join.
   *
   * @default {30000}
   */
  reconnectInterval: number;

  /**
   * How long, in ms, a failed node stays a reconnect candidate after it was
   * declared dead (see {@linkcode Config.reconnectInterval}).
   *
   * @default {86400000} (24 hours, as Serf)
   */
  reconnectTimeout: number;

  /**
   * The most records the node table holds, this node's own included. Records
   * for new names beyond it are refused (counted as `memberlist.node.rejected`
   * with reason `table_full`) until dead nodes are reaped, and a push/pull that
   * announces more records is refused before it is read. Bounds what forged
   * alive messages or push/pulls can make a node keep and probe. Raise it for
   * clusters larger than the default; Go has no limit but refuses push/pulls of
   * more than 1,048,576 records (since v0.6.0, #357).
   *
   * @default {100000}
   */
  maxNodes: number;

  /**
   * The most streams other nodes may have open to this one at once (push/pulls,
   * reliable user messages, TCP pings). A stream over the limit waits for a
   * slot, within its `tcpTimeout`, and is closed if none frees up (counted as
   * `memberlist.tcp.dropped` with reason `busy`); at most as many streams wait
   * as may run. Not in Go, which serves every connection (and refuses
   * push/pulls beyond 128 at once, as this node also does).
   *
   * @default {256}
   */
  maxInboundStreams: number;

  /**
   * The most streams one IP address may have open to this node at once, within
   * `maxInboundStreams`; more wait as above. Keeps one source from taking every
   * slot. Not in Go.
   *
   * @default {32}
   */
  maxInboundStreamsPerHost: number;

  /**
   * Where log lines go (replaces Go's `Logger` and `LogOutput`).
   *
   * @default {defaultLogger}
   */
  logger: Logger;

  /**
   * Where metrics go. Not in Go, which uses the go-metrics global sink.
   *
   * @default {noopMetrics}
   */
  metrics: Metrics;

  /**
   * The source of time and timers. Not in Go. Tests and simulations pass a
   * `VirtualClock`.
   *
   * @default {systemClock}
   */
  clock: Clock;

  /**
   * The source of random choices (probe order, gossip targets, timer
   * offsets). Not in Go. Simulations pass a seeded source.
   *
   * @default {defaultRandom}
   */
  random: RandomSource;
}

/**
 * A checked configuration with the values the protocol core derives from it,
 * as returned by {@linkcode validateConfig}. Frozen; its byte arrays are
 * private copies.
 *
 * @example Usage
 * ```ts
 * import { type ResolvedConfig, validateConfig } from "@gossip/memberlist";
 * import assert from "node:assert/strict";
 *
 * const config: ResolvedConfig = validateConfig({ name: "a", label: "prod" });
 * assert.deepEqual(config.labelBytes, new TextEncoder().encode("prod"));
 * assert.equal(config.keyring, null);
 * ```
 */
export interface ResolvedConfig extends Readonly<Config> {
  /**
   * The keyring in use: null when neither `secretKey` nor `keyring` was given;
   * otherwise the given keyring (with `secretKey` added and made primary) or a
   * new keyring holding just `secretKey`.
   */
  readonly keyring: Keyring | null;
  /** `cidrsAllowed` parsed; empty when every address is allowed. */
  readonly cidrs: readonly IPNet[];
  /** `label` as UTF-8 bytes; empty for no label. */
  readonly labelBytes: Uint8Array;
  /** The encryption format to send: 0 with protocol version 1, else 1. */
  readonly encryptionVersion: EncryptionVersion;
  /** The 6-byte version array this node advertises ({@linkcode buildVsnArray}). */
  readonly vsn: Uint8Array;
}

interface DnsModule {
  promises?: {
    lookup(host: string, options: { all: true }): Promise<{ address: string }[]>;
  };
}

/**
 * Options of {@linkcode Config.resolve}: `join()` passes its abort signal, so
 * a resolver can stop a lookup nobody waits for any more.
 *
 * @example Usage
 * ```ts
 * import { defaultLocalConfig, Memberlist, type ResolveOptions } from "@gossip/memberlist";
 * import { MockNetwork } from "@gossip/memberlist/transports/mock";
 * import assert from "node:assert/strict";
 *
 * const net = new MockNetwork();
 * const a = await Memberlist.create({ ...defaultLocalConfig(), name: "a", transport: net.newTransport("a") });
 * const seen: (AbortSignal | undefined)[] = [];
 * const b = await Memberlist.create({
 *   ...defaultLocalConfig(),
 *   name: "b",
 *   transport: net.newTransport("b"),
 *   resolve: (host: string, options?: ResolveOptions) => {
 *     seen.push(options?.signal);
 *     return Promise.resolve([a.localNode().addr]);
 *   },
 * });
 * const signal = AbortSignal.timeout(5000);
 * assert.equal(await b.join([`seed.example:${a.localNode().port}`], { signal }), 1);
 * assert.equal(seen[0], signal);
 * await Promise.all([a.shutdown(), b.shutdown()]);
 * ```
 */
export interface ResolveOptions {
  /** The abort signal of the `join()` asking; the lookup may stop when it aborts. */
  signal?: AbortSignal;
}

/**
 * The default `resolve`: the system resolver through `node:dns`. Its lookups
 * cannot be cancelled; `join()` stops waiting for one when its signal aborts.
 */
function systemResolve(host: string): Promise<string[]> {
  const dns = getBuiltinModule<DnsModule>("node:dns")?.promises;
  if (typeof dns?.lookup !== "function") {
    return Promise.reject(
      new Error(
        `Cannot resolve "${host}": this runtime has no "node:dns" module: set "resolve" in the config`,
      ),
    );
  }
  return dns.lookup(host, { all: true }).then((found) => found.map((entry) => entry.address));
}

/** The host name, or "" when the runtime has none to give or refuses (Deno without --allow-sys). */
function hostname(): string {
  try {
    const name = getBuiltinModule<{ hostname(): string }>("node:os")?.hostname();
    return typeof name === "string" ? name : "";
  } catch {
    return "";
  }
}

function lanConfig(name: string): Config {
  return {
    name,
    transport: null,
    label: "",
    skipInboundLabelCheck: false,
    bindAddr: "0.0.0.0",
    bindPort: 7946,
    advertiseAddr: "",
    advertisePort: 7946,
    protocolVersion: PROTOCOL_VERSION_2_COMPATIBLE,
    tcpTimeout: 10_000,
    tcpIdleTimeout: 5_000,
    indirectChecks: 3,
    retransmitMult: 4,
    suspicionMult: 4,
    suspicionMaxTimeoutMult: 6,
    pushPullInterval: 30_000,
    probeInterval: 1_000,
    probeTimeout: 500,
    disableTcpPings: false,
    disableTcpPingsForNode: null,
    awarenessMaxMultiplier: 8,
    gossipInterval: 200,
    gossipNodes: 3,
    gossipToTheDeadTime: 30_000,
    gossipVerifyIncoming: true,
    gossipVerifyOutgoing: true,
    enableCompression: true,
    secretKey: null,
    keyring: null,
    delegate: null,
    delegateProtocolVersion: 0,
    delegateProtocolMin: 0,
    delegateProtocolMax: 0,
    events: null,
    conflict: null,
    merge: null,
    ping: null,
    alive: null,
    dnsConfigPath: "/etc/resolv.conf",
    resolve: systemResolve,
    handoffQueueDepth: 1024,
    udpBufferSize: 1400,
    deadNodeReclaimTime: 0,
    requireNodeNames: false,
    cidrsAllowed: null,
    metricLabels: [],
    queueCheckInterval: 30_000,
    msgpackUseNewTimeFormat: false,
    metaMaxSize: META_MAX_SIZE,
    pushPullAfterJoin: 2,
    announceAfterJoin: true,
    repairAccusations: true,
    userBroadcastShare: 0.25,
    reconnectInterval: 30_000,
    reconnectTimeout: 86_400_000,
    maxNodes: 100_000,
    maxInboundStreams: 256,
    maxInboundStreamsPerHost: 32,
    logger: defaultLogger,
    metrics: noopMetrics,
    clock: systemClock,
    random: defaultRandom,
  };
}

/**
 * The configuration for a LAN (Go `DefaultLANConfig`): conservative values
 * that favour fast convergence over bandwidth. The name is the host name
 * (empty when the runtime cannot tell it, in which case set `name`). Every call
 * returns a new object.
 *
 * Timings: probe every 1 s with a 500 ms ack timeout, gossip every 200 ms to 3
 * nodes, push/pull every 30 s, stream timeout 10 s, suspicion multiplier 4.
 *
 * @returns A complete configuration.
 *
 * @example Usage
 * ```ts
 * import { defaultLANConfig } from "@gossip/memberlist";
 * import assert from "node:assert/strict";
 *
 * const config = { ...defaultLANConfig(), name: "node-1", bindPort: 0 };
 * assert.equal(config.probeInterval, 1000);
 * assert.equal(config.probeTimeout, 500);
 * assert.equal(config.gossipNodes, 3);
 * ```
 */
export function defaultLANConfig(): Config {
  return lanConfig(hostname());
}

/**
 * The configuration for a WAN (Go `DefaultWANConfig`): the LAN profile with
 * slower, more tolerant timings for higher latency. Differs from the LAN
 * profile in: `tcpTimeout` 30 s, `tcpIdleTimeout` 15 s, `suspicionMult` 6, `pushPullInterval` 60 s,
 * `probeTimeout` 3 s, `probeInterval` 5 s, `gossipNodes` 4, `gossipInterval`
 * 500 ms and `gossipToTheDeadTime` 60 s.
 *
 * @returns A complete configuration.
 *
 * @example Usage
 * ```ts
 * import { defaultWANConfig } from "@gossip/memberlist";
 * import assert from "node:assert/strict";
 *
 * const config = defaultWANConfig();
 * assert.equal(config.probeInterval, 5000);
 * assert.equal(config.probeTimeout, 3000);
 * assert.equal(config.suspicionMult, 6);
 * ```
 */
export function defaultWANConfig(): Config {
  const config = defaultLANConfig();
  config.tcpTimeout = 30_000;
  config.tcpIdleTimeout = 15_000;
  config.suspicionMult = 6;
  config.pushPullInterval = 60_000;
  config.probeTimeout = 3_000;
  config.probeInterval = 5_000;
  config.gossipNodes = 4;
  config.gossipInterval = 500;
  config.gossipToTheDeadTime = 60_000;
  return config;
}

/**
 * The configuration for nodes on one host or a loopback network (Go
 * `DefaultLocalConfig`), used by tests: the LAN profile with shorter timeouts.
 * Differs from the LAN profile in: `tcpTimeout` and `tcpIdleTimeout` 1 s, `indirectChecks` 1,
 * `retransmitMult` 2, `suspicionMult` 3, `pushPullInterval` 15 s,
 * `probeTimeout` 200 ms, `gossipInterval` 100 ms and `gossipToTheDeadTime`
 * 15 s (`probeInterval` stays 1 s).
 *
 * @returns A complete configuration.
 *
 * @example Usage
 * ```ts
 * import { defaultLocalConfig } from "@gossip/memberlist";
 * import assert from "node:assert/strict";
 *
 * const config = defaultLocalConfig();
 * assert.equal(config.probeTimeout, 200);
 * assert.equal(config.gossipInterval, 100);
 * ```
 */
export function defaultLocalConfig(): Config {
  const config = defaultLANConfig();
  config.tcpTimeout = 1_000;
  config.tcpIdleTimeout = 1_000;
  config.indirectChecks = 1;
  config.retransmitMult = 2;
  config.suspicionMult = 3;
  config.pushPullInterval = 15_000;
  config.probeTimeout = 200;
  config.probeInterval = 1_000;
  config.gossipInterval = 100;
  config.gossipToTheDeadTime = 15_000;
  return config;
}

/** Every field of {@linkcode Config}, in declaration order. */
const CONFIG_KEYS: readonly (keyof Config)[] = Object.keys(lanConfig("")) as (keyof Config)[];

/** The fields a {@linkcode ResolvedConfig} adds: passing one back to `validateConfig` is fine. */
const DERIVED_KEYS: readonly string[] = ["cidrs", "labelBytes", "encryptionVersion", "vsn"];

/** Levenshtein distance, case-insensitive (config keys are short). */
function editDistance(a: string, b: string): number {
  a = a.toLowerCase();
  b = b.toLowerCase();
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      row[j] = Math.min(prev[j]! + 1, row[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    prev = row;
  }
  return prev[b.length]!;
}

/** Rejects a key that is not a config field, naming the closest one. */
function checkKnownKeys(given: Record<string, unknown>): void {
  for (const key of Object.keys(given)) {
    if ((CONFIG_KEYS as readonly string[]).includes(key) || DERIVED_KEYS.includes(key)) continue;
    let best = CONFIG_KEYS[0]!;
    let bestDistance = Infinity;
    for (const known of CONFIG_KEYS) {
      const d = editDistance(key, known);
      if (d < bestDistance) [best, bestDistance] = [known, d];
    }
    throw new TypeError(`Invalid config "${key}": not a configuration field: did you mean "${best}"?`);
  }
}

function show(value: unknown): string {
  if (typeof value === "string") return JSON.stringify(value.length > 64 ? `${value.slice(0, 64)}…` : value);
  if (typeof value === "number" || typeof value === "boolean" || typeof value === "bigint") {
    return String(value);
  }
  if (value === null || value === undefined) return String(value);
  if (typeof value === "function") return "a function";
  if (Array.isArray(value)) return "an array";
  if (value instanceof Uint8Array) return `a Uint8Array of ${value.length} bytes`;
  if (typeof value === "object") {
    const ctor = (value as { constructor?: { name?: unknown } }).constructor?.name;
    return typeof ctor === "string" && ctor !== "Object" ? `a ${ctor}` : "an object";
  }
  return typeof value;
}

/** A value already described for an error message, shown as is. */
class Described {
  readonly text: string;
  constructor(text: string) {
    this.text = text;
  }
}

function invalid(field: string, expected: string, value: unknown): string {
  const got = value instanceof Described ? value.text : show(value);
  return `Invalid config "${field}": expected ${expected}, got ${got}`;
}

function typeError(field: string, expected: string, value: unknown, cause?: unknown): TypeError {
  return new TypeError(invalid(field, expected, value), cause === undefined ? undefined : { cause });
}

function rangeError(field: string, expected: string, value: unknown, cause?: unknown): RangeError {
  return new RangeError(invalid(field, expected, value), cause === undefined ? undefined : { cause });
}

function checkMs(field: string, value: unknown, min: number, max: number): number {
  const expected = `a number of milliseconds in [${min}, ${max}]`;
  if (typeof value !== "number") throw typeError(field, expected, value);
  if (!(value >= min && value <= max)) throw rangeError(field, expected, value);
  return value;
}

function checkNumber(field: string, value: unknown, min: number, max: number): number {
  const expected = `a number in [${min}, ${max}]`;
  if (typeof value !== "number") throw typeError(field, expected, value);
  if (!(value >= min && value <= max)) throw rangeError(field, expected, value);
  return value;
}

function checkInt(field: string, value: unknown, min: number, max: number): number {
  const expected = `an integer in [${min}, ${max}]`;
  if (typeof value !== "number") throw typeError(field, expected, value);
  if (!Number.isInteger(value) || value < min || value > max) throw rangeError(field, expected, value);
  return value;
}

function checkBool(field: string, value: unknown): boolean {
  if (typeof value !== "boolean") throw typeError(field, "a boolean", value);
  return value;
}

function checkString(field: string, value: unknown): string {
  if (typeof value !== "string") throw typeError(field, "a string", value);
  return value;
}

function checkIP(field: string, value: unknown, allowEmpty: boolean): string {
  const expected = allowEmpty ? `"" or an IP address` : "an IP address";
  if (typeof value !== "string") throw typeError(field, expected, value);
  if (!(allowEmpty && value === "") && !isIP(value)) throw typeError(field, expected, value);
  return value;
}

function checkFunction<F>(field: string, value: unknown, nullable: boolean): F {
  if (nullable && value === null) return value as F;
  if (typeof value !== "function") {
    throw typeError(field, nullable ? "a function or null" : "a function", value);
  }
  return value as F;
}

/**
 * Checks an object whose listed methods are required (`required`) or optional
 * (present ones must be functions).
 */
function checkObject<T>(
  field: string,
  value: unknown,
  methods: readonly string[],
  options: { nullable: boolean; required: boolean; what: string },
): T {
  if (options.nullable && value === null) return value as T;
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw typeError(field, options.nullable ? `${options.what} or null` : options.what, value);
  }
  for (const method of methods) {
    const fn = (value as Record<string, unknown>)[method];
    if (fn === undefined && !options.required) continue;
    if (typeof fn !== "function") throw typeError(`${field}.${method}`, "a function", fn);
  }
  return value as T;
}

const DELEGATE_METHODS: Readonly<Record<string, readonly string[]>> = {
  delegate: ["nodeMeta", "notifyMsg", "getBroadcasts", "localState", "mergeRemoteState"],
  events: ["notifyJoin", "notifyLeave", "notifyUpdate"],
  conflict: ["notifyConflict"],
  merge: ["notifyMerge"],
  ping: ["ackPayload", "notifyPingComplete"],
  alive: ["notifyAlive"],
};

function checkDelegate<T>(field: string, value: unknown): T | null {
  return checkObject<T | null>(field, value, DELEGATE_METHODS[field]!, {
    nullable: true,
    required: false,
    what: "an object",
  });
}

/**
 * Builds the 6-byte version array a node advertises in its alive messages
 * and push/pull records (Go `Config.BuildVsnArray`): protocol versions min,
 * max and current, then delegate versions min, max and current.
 *
 * @param config The versions to advertise.
 * @returns `[1, 5, protocolVersion, delegateProtocolMin, delegateProtocolMax, delegateProtocolVersion]`.
 *
 * @example Usage
 * ```ts
 * import { defaultLANConfig } from "@gossip/memberlist";
 * import { buildVsnArray } from "@gossip/memberlist/wire";
 * import assert from "node:assert/strict";
 *
 * assert.deepEqual(buildVsnArray(defaultLANConfig()), new Uint8Array([1, 5, 2, 0, 0, 0]));
 * ```
 */
export function buildVsnArray(
  config: Pick<
    Config,
    "protocolVersion" | "delegateProtocolMin" | "delegateProtocolMax" | "delegateProtocolVersion"
  >,
): Uint8Array {
  return new Uint8Array([
    PROTOCOL_VERSION_MIN,
    PROTOCOL_VERSION_MAX,
    config.protocolVersion,
    config.delegateProtocolMin,
    config.delegateProtocolMax,
    config.delegateProtocolVersion,
  ]);
}

/**
 * Checks a configuration and derives what the protocol core needs from it.
 * This is what `Memberlist.create()` runs first, so calling it directly is a
 * way to find configuration errors early.
 *
 * Fields missing from `partial` (or `undefined`) come from
 * {@linkcode defaultLANConfig}; a key that is not a configuration field is an
 * error that names the closest field (a misspelled `probeIntervall` would
 * otherwise be silently ignored). Each field is then checked for type and range, and the result gets:
 *
 * - `keyring`, following Go's `Create`: a non-empty `secretKey` is added to
 *   the given keyring and made its primary key (the given keyring object is
 *   changed, and is the one used from then on), or, with no keyring, put
 *   alone in a new one;
 * - `labelBytes`, `cidrs`, `encryptionVersion` and `vsn` (see
 *   {@linkcode ResolvedConfig}).
 *
 * Beyond Go, which checks only the protocol version and the label length at
 * creation, it rejects values Go would accept but misbehave with: negative
 * or non-integer counts, zero timeouts, a `suspicionMult`,
 * `suspicionMaxTimeoutMult`, `awarenessMaxMultiplier` or `handoffQueueDepth`
 * below 1, a `queueCheckInterval` of 0 (a busy loop in Go), a
 * `delegateProtocolVersion` outside its own [min, max] (push/pull would then
 * fail against every peer), and durations above one hour (timeouts) or one
 * day (intervals), which are almost always a unit mistake.
 *
 * @param partial The configuration, complete or partial.
 * @returns A frozen, checked configuration.
 * @throws {TypeError} When a field has the wrong type, an address or CIDR
 * cannot be parsed, `name` is empty, or a key is not a configuration field.
 * The message names the field.
 * @throws {RangeError} When a field is out of range. The message names the
 * field and the allowed range.
 *
 * @example Usage
 * ```ts
 * import { validateConfig } from "@gossip/memberlist";
 * import assert from "node:assert/strict";
 *
 * const config = validateConfig({ name: "node-1", protocolVersion: 3 });
 * assert.equal(config.probeInterval, 1000); // from defaultLANConfig()
 * assert.deepEqual(config.vsn, new Uint8Array([1, 5, 3, 0, 0, 0]));
 * assert.ok(Object.isFrozen(config));
 *
 * assert.throws(() => validateConfig({ name: "n", probeTimeout: -5 }), {
 *   name: "RangeError",
 *   message: 'Invalid config "probeTimeout": expected a number of milliseconds in [1, 3600000], got -5',
 * });
 * const misspelled = JSON.parse('{ "name": "n", "probeIntervall": 500 }');
 * assert.throws(() => validateConfig(misspelled), {
 *   name: "TypeError",
 *   message: 'Invalid config "probeIntervall": not a configuration field: did you mean "probeInterval"?',
 * });
 * ```
 *
 * @example Encryption
 * ```ts
 * import { Keyring, validateConfig } from "@gossip/memberlist";
 * import assert from "node:assert/strict";
 *
 * const key = new Uint8Array(32).fill(7);
 * const config = validateConfig({ name: "node-1", secretKey: key });
 * assert.ok(config.keyring instanceof Keyring);
 * assert.deepEqual(config.keyring.getPrimaryKey(), key);
 * assert.equal(config.encryptionVersion, 1);
 * ```
 */
export function validateConfig(partial: Partial<Config>): ResolvedConfig {
  if (partial === undefined) partial = {};
  if (typeof partial !== "object" || partial === null || Array.isArray(partial)) {
    throw new TypeError(`Invalid config: expected an object, got ${show(partial)}`);
  }
  const given = partial as Record<string, unknown>;
  checkKnownKeys(given);
  const merged = lanConfig(given.name === undefined ? hostname() : "") as unknown as Record<string, unknown>;
  for (const key of CONFIG_KEYS) {
    const value = given[key];
    if (value !== undefined) merged[key] = value;
  }
  const v = merged as unknown as Config;

  if (typeof v.name !== "string") throw typeError("name", "a non-empty string", v.name);
  if (v.name === "") {
    // Also when the "" came from a profile spread over the config ({ ...defaultLANConfig() }).
    const hint = hostname() === ""
      ? `: the host name is unavailable (on Deno, run with --allow-sys): set "name"`
      : "";
    throw new TypeError(invalid("name", "a non-empty string", v.name) + hint);
  }

  const transport = checkObject<Transport | null>(
    "transport",
    v.transport,
    ["finalAdvertiseAddr", "setHandlers", "writeTo", "dialTimeout", "shutdown"],
    { nullable: true, required: true, what: "a Transport" },
  );

  const label = checkString("label", v.label);
  let labelBytes: Uint8Array;
  try {
    labelBytes = encodeLabel(label);
  } catch (err) {
    const bytes = new TextEncoder().encode(label).length;
    throw rangeError(
      "label",
      `at most ${LABEL_MAX_SIZE} bytes of UTF-8`,
      new Described(`${bytes} bytes`),
      err,
    );
  }
  const skipInboundLabelCheck = checkBool("skipInboundLabelCheck", v.skipInboundLabelCheck);

  const bindAddr = checkIP("bindAddr", v.bindAddr, false);
  const bindPort = checkInt("bindPort", v.bindPort, 0, 65535);
  const advertiseAddr = checkIP("advertiseAddr", v.advertiseAddr, true);
  const advertisePort = checkInt("advertisePort", v.advertisePort, 0, 65535);
  const protocolVersion = checkInt(
    "protocolVersion",
    v.protocolVersion,
    PROTOCOL_VERSION_MIN,
    PROTOCOL_VERSION_MAX,
  );

  const tcpTimeout = checkMs("tcpTimeout", v.tcpTimeout, 1, MAX_TIMEOUT_MS);
  const tcpIdleTimeout = checkMs("tcpIdleTimeout", v.tcpIdleTimeout, 1, MAX_TIMEOUT_MS);
  const indirectChecks = checkInt("indirectChecks", v.indirectChecks, 0, INT_MAX);
  const retransmitMult = checkInt("retransmitMult", v.retransmitMult, 0, INT_MAX);
  const suspicionMult = checkInt("suspicionMult", v.suspicionMult, 1, INT_MAX);
  const suspicionMaxTimeoutMult = checkInt("suspicionMaxTimeoutMult", v.suspicionMaxTimeoutMult, 1, INT_MAX);
  const pushPullInterval = checkMs("pushPullInterval", v.pushPullInterval, 0, MAX_INTERVAL_MS);
  const probeInterval = checkMs("probeInterval", v.probeInterval, 0, MAX_INTERVAL_MS);
  const probeTimeout = checkMs("probeTimeout", v.probeTimeout, 1, MAX_TIMEOUT_MS);
  const disableTcpPings = checkBool("disableTcpPings", v.disableTcpPings);
  const disableTcpPingsForNode = checkFunction<Config["disableTcpPingsForNode"]>(
    "disableTcpPingsForNode",
    v.disableTcpPingsForNode,
    true,
  );
  const awarenessMaxMultiplier = checkInt("awarenessMaxMultiplier", v.awarenessMaxMultiplier, 1, INT_MAX);
  const gossipInterval = checkMs("gossipInterval", v.gossipInterval, 0, MAX_INTERVAL_MS);
  const gossipNodes = checkInt("gossipNodes", v.gossipNodes, 0, INT_MAX);
  const gossipToTheDeadTime = checkMs("gossipToTheDeadTime", v.gossipToTheDeadTime, 0, MAX_INTERVAL_MS);
  const gossipVerifyIncoming = checkBool("gossipVerifyIncoming", v.gossipVerifyIncoming);
  const gossipVerifyOutgoing = checkBool("gossipVerifyOutgoing", v.gossipVerifyOutgoing);
  const enableCompression = checkBool("enableCompression", v.enableCompression);

  // Encryption keys: Go's Create installs a non-empty SecretKey as the
  // primary key of the given keyring, or of a new one.
  const secretKeyValue: unknown = v.secretKey;
  if (secretKeyValue !== null && !(secretKeyValue instanceof Uint8Array)) {
    throw typeError("secretKey", "a Uint8Array of 16, 24 or 32 bytes, or null", secretKeyValue);
  }
  const keyringValue: unknown = v.keyring;
  if (keyringValue !== null && !(keyringValue instanceof Keyring)) {
    throw typeError("keyring", "a Keyring or null", keyringValue);
  }
  const secretKey = secretKeyValue === null ? null : secretKeyValue.slice();
  const installKey = secretKey !== null && secretKey.length > 0;
  if (installKey) {
    try {
      validateKey(secretKey);
    } catch (err) {
      throw rangeError("secretKey", "16, 24 or 32 bytes", new Described(`${secretKey.length} bytes`), err);
    }
  }

  const delegate = checkDelegate<Delegate>("delegate", v.delegate);
  const delegateProtocolVersion = checkInt("delegateProtocolVersion", v.delegateProtocolVersion, 0, 255);
  const delegateProtocolMin = checkInt("delegateProtocolMin", v.delegateProtocolMin, 0, 255);
  const delegateProtocolMax = checkInt("delegateProtocolMax", v.delegateProtocolMax, 0, 255);
  if (delegateProtocolMin > delegateProtocolMax) {
    throw rangeError(
      "delegateProtocolMin",
      `at most delegateProtocolMax (${delegateProtocolMax})`,
      delegateProtocolMin,
    );
  }
  if (delegateProtocolVersion < delegateProtocolMin || delegateProtocolVersion > delegateProtocolMax) {
    throw rangeError(
      "delegateProtocolVersion",
      `an integer in [delegateProtocolMin, delegateProtocolMax] = [${delegateProtocolMin}, ${delegateProtocolMax}]`,
      delegateProtocolVersion,
    );
  }
  const events = checkDelegate<EventDelegate>("events", v.events);
  const conflict = checkDelegate<ConflictDelegate>("conflict", v.conflict);
  const merge = checkDelegate<MergeDelegate>("merge", v.merge);
  const ping = checkDelegate<PingDelegate>("ping", v.ping);
  const alive = checkDelegate<AliveDelegate>("alive", v.alive);

  const dnsConfigPath = checkString("dnsConfigPath", v.dnsConfigPath);
  const resolve = checkFunction<Config["resolve"]>("resolve", v.resolve, false);
  const handoffQueueDepth = checkInt("handoffQueueDepth", v.handoffQueueDepth, 1, INT_MAX);
  const udpBufferSize = checkInt("udpBufferSize", v.udpBufferSize, UDP_BUFFER_SIZE_MIN, UDP_BUFFER_SIZE_MAX);
  const deadNodeReclaimTime = checkMs("deadNodeReclaimTime", v.deadNodeReclaimTime, 0, MAX_INTERVAL_MS);
  const requireNodeNames = checkBool("requireNodeNames", v.requireNodeNames);

  const cidrsValue: unknown = v.cidrsAllowed;
  let cidrsAllowed: readonly string[] | null = null;
  const cidrs: IPNet[] = [];
  if (cidrsValue !== null) {
    if (!Array.isArray(cidrsValue)) {
      throw typeError("cidrsAllowed", "an array of CIDR strings or null", cidrsValue);
    }
    const texts: string[] = [];
    cidrsValue.forEach((entry: unknown, i) => {
      const field = `cidrsAllowed[${i}]`;
      const expected = `CIDR text such as "10.0.0.0/8" or "fd00::/8"`;
      if (typeof entry !== "string") throw typeError(field, expected, entry);
      // Go's ParseCIDRs trims surrounding whitespace.
      const net = parseCIDR(entry.trim());
      if (net === null) throw typeError(field, expected, entry);
      texts.push(entry);
      cidrs.push(Object.freeze(net));
    });
    cidrsAllowed = Object.freeze(texts);
  }

  const labelsValue: unknown = v.metricLabels;
  if (!Array.isArray(labelsValue)) {
    throw typeError("metricLabels", "an array of { name, value } objects", labelsValue);
  }
  const metricLabels = Object.freeze(labelsValue.map((entry: unknown, i): MetricLabel => {
    const field = `metricLabels[${i}]`;
    const expected = "an object with string name and value";
    if (typeof entry !== "object" || entry === null) throw typeError(field, expected, entry);
    const { name, value } = entry as Record<string, unknown>;
    if (typeof name !== "string") throw typeError(`${field}.name`, "a string", name);
    if (typeof value !== "string") throw typeError(`${field}.value`, "a string", value);
    return Object.freeze({ name, value });
  }));

  const queueCheckInterval = checkMs("queueCheckInterval", v.queueCheckInterval, 1, MAX_INTERVAL_MS);
  const msgpackUseNewTimeFormat = checkBool("msgpackUseNewTimeFormat", v.msgpackUseNewTimeFormat);
  const metaMaxSize = checkInt("metaMaxSize", v.metaMaxSize, 0, META_MAX_SIZE_LIMIT);
  const pushPullAfterJoin = checkInt("pushPullAfterJoin", v.pushPullAfterJoin, 0, 16);
  const announceAfterJoin = checkBool("announceAfterJoin", v.announceAfterJoin);
  const repairAccusations = checkBool("repairAccusations", v.repairAccusations);
  const userBroadcastShare = checkNumber("userBroadcastShare", v.userBroadcastShare, 0, 0.9);
  const reconnectInterval = checkMs("reconnectInterval", v.reconnectInterval, 0, MAX_INTERVAL_MS);
  const reconnectTimeout = checkMs("reconnectTimeout", v.reconnectTimeout, 0, MAX_RECONNECT_TIMEOUT_MS);
  const maxNodes = checkInt("maxNodes", v.maxNodes, 1, MAX_NODES_LIMIT);
  const maxInboundStreams = checkInt("maxInboundStreams", v.maxInboundStreams, 1, MAX_STREAMS_LIMIT);
  const maxInboundStreamsPerHost = checkInt(
    "maxInboundStreamsPerHost",
    v.maxInboundStreamsPerHost,
    1,
    maxInboundStreams,
  );
  const logger = checkObject<Logger>("logger", v.logger, ["debug", "info", "warn", "error"], {
    nullable: false,
    required: true,
    what: "a Logger",
  });
  const metrics = checkObject<Metrics>(
    "metrics",
    v.metrics,
    ["incrCounter", "setGauge", "addSample", "measureSince"],
    { nullable: false, required: true, what: "a Metrics sink" },
  );
  const clock = checkObject<Clock>("clock", v.clock, ["now", "setTimeout"], {
    nullable: false,
    required: true,
    what: "a Clock",
  });
  const random = checkFunction<RandomSource>("random", v.random, false);

  // Only now, with every field checked, touch the caller's keyring.
  let keyring = keyringValue;
  if (installKey) {
    if (keyring === null) {
      keyring = Keyring.create([], secretKey);
    } else {
      keyring.addKey(secretKey);
      keyring.useKey(secretKey);
    }
  }

  const versions = { protocolVersion, delegateProtocolMin, delegateProtocolMax, delegateProtocolVersion };
  const resolved: ResolvedConfig = {
    name: v.name,
    transport,
    label,
    skipInboundLabelCheck,
    bindAddr,
    bindPort,
    advertiseAddr,
    advertisePort,
    protocolVersion,
    tcpTimeout,
    tcpIdleTimeout,
    indirectChecks,
    retransmitMult,
    suspicionMult,
    suspicionMaxTimeoutMult,
    pushPullInterval,
    probeInterval,
    probeTimeout,
    disableTcpPings,
    disableTcpPingsForNode,
    awarenessMaxMultiplier,
    gossipInterval,
    gossipNodes,
    gossipToTheDeadTime,
    gossipVerifyIncoming,
    gossipVerifyOutgoing,
    enableCompression,
    secretKey,
    keyring,
    delegate,
    delegateProtocolVersion,
    delegateProtocolMin,
    delegateProtocolMax,
    events,
    conflict,
    merge,
    ping,
    alive,
    dnsConfigPath,
    resolve,
    handoffQueueDepth,
    udpBufferSize,
    deadNodeReclaimTime,
    requireNodeNames,
    cidrsAllowed,
    metricLabels,
    queueCheckInterval,
    msgpackUseNewTimeFormat,
    metaMaxSize,
    pushPullAfterJoin,
    announceAfterJoin,
    repairAccusations,
    userBroadcastShare,
    reconnectInterval,
    reconnectTimeout,
    maxNodes,
    maxInboundStreams,
    maxInboundStreamsPerHost,
    logger,
    metrics,
    clock,
    random,
    cidrs: Object.freeze(cidrs),
    labelBytes,
    encryptionVersion: protocolVersion >= 2 ? 1 : 0,
    vsn: buildVsnArray(versions),
  };
  return Object.freeze(resolved);
}

/**
 * Tells whether encryption is on (Go `Config.EncryptionEnabled`): a keyring
 * with at least one key. It can change while a node runs, as keys are added
 * to or removed from the keyring.
 *
 * @param config A checked configuration.
 * @returns True when outgoing messages are encrypted.
 *
 * @example Usage
 * ```ts
 * import { validateConfig } from "@gossip/memberlist";
 * import { encryptionEnabled } from "@gossip/memberlist/wire";
 * import assert from "node:assert/strict";
 *
 * assert.equal(encryptionEnabled(validateConfig({ name: "a" })), false);
 * assert.equal(encryptionEnabled(validateConfig({ name: "a", secretKey: new Uint8Array(16) })), true);
 * ```
 */
export function encryptionEnabled(config: Pick<ResolvedConfig, "keyring">): boolean {
  return config.keyring !== null && config.keyring.size > 0;
}

/**
 * Tells whether an allow-list is in force, so addresses must be checked with
 * {@linkcode ipAllowed} (Go `Config.IPMustBeChecked`).
 *
 * @param config A checked configuration.
 * @returns True when `cidrsAllowed` lists at least one network.
 *
 * @example Usage
 * ```ts
 * import { validateConfig } from "@gossip/memberlist";
 * import { ipMustBeChecked } from "@gossip/memberlist/wire";
 * import assert from "node:assert/strict";
 *
 * assert.equal(ipMustBeChecked(validateConfig({ name: "a" })), false);
 * assert.equal(ipMustBeChecked(validateConfig({ name: "a", cidrsAllowed: ["10.0.0.0/8"] })), true);
 * ```
 */
export function ipMustBeChecked(config: Pick<ResolvedConfig, "cidrs">): boolean {
  return config.cidrs.length > 0;
}

/**
 * Tells whether an address may talk to this node and be admitted as a member
 * (Go `Config.IPAllowed`, which returns an error where this returns false).
 * Every address is allowed when no allow-list is in force. Otherwise the
 * address must lie in one of the `cidrsAllowed` networks, compared as Go's
 * `net.IPNet.Contains` does: IPv4 networks match IPv4 addresses in 4-byte or
 * 16-byte IPv4-mapped form; IPv6 networks never match IPv4 addresses. Text
 * that is not an IP address, and byte arrays that are not 4 or 16 bytes long,
 * are not allowed.
 *
 * @param config A checked configuration.
 * @param ip The address, as bytes (4 or 16) or text.
 * @returns True when the address is allowed.
 *
 * @example Usage
 * ```ts
 * import { validateConfig } from "@gossip/memberlist";
 * import { ipAllowed } from "@gossip/memberlist/wire";
 * import assert from "node:assert/strict";
 *
 * const config = validateConfig({ name: "a", cidrsAllowed: ["10.0.0.0/8", "::1/128"] });
 * assert.equal(ipAllowed(config, "10.1.2.3"), true);
 * assert.equal(ipAllowed(config, new Uint8Array([10, 0, 0, 1])), true);
 * assert.equal(ipAllowed(config, "::1"), true);
 * assert.equal(ipAllowed(config, "192.168.1.1"), false);
 * ```
 */
export function ipAllowed(config: Pick<ResolvedConfig, "cidrs">, ip: Uint8Array | string): boolean {
  if (!ipMustBeChecked(config)) return true;
  const bytes = typeof ip === "string" ? parseIP(ip) : ip;
  if (bytes === null) return false;
  for (const net of config.cidrs) if (cidrContains(net, bytes)) return true;
  return false;
}
