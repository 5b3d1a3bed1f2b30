// Copyright (c) memberlist-ts authors. SPDX-License-Identifier: MPL-2.0
/**
 * Cluster membership and failure detection over gossip, for Deno, Bun and
 * Node: a TypeScript re-implementation of
 * [hashicorp/memberlist](https://github.com/hashicorp/memberlist), the library
 * under Consul, Serf and Nomad, and wire-compatible with it. A TypeScript node
 * joins a cluster of Go nodes (or a serf cluster), and they probe, gossip with
 * and detect each other as equals, encrypted or not.
 *
 * The protocol is [SWIM](https://www.cs.cornell.edu/projects/Quicksilver/public_pdfs/SWIM.pdf)
 * with HashiCorp's [Lifeguard](https://arxiv.org/abs/1707.00788) extensions:
 * randomised probing with indirect probes and a TCP fallback, suspicion timers
 * that shorten as independent peers confirm a failure, a local health score that
 * slows a struggling node down before it accuses others, gossip piggybacked on
 * probes, and periodic full-state push/pull.
 *
 * @example Usage
 * ```ts
 * import { defaultLocalConfig, Memberlist, NodeState } from "@gossip/memberlist";
 * import { MockNetwork } from "@gossip/memberlist/transports/mock";
 * import assert from "node:assert/strict";
 *
 * // Two nodes on an in-memory network (use the default transport for real UDP/TCP).
 * const net = new MockNetwork();
 * const a = await Memberlist.create({ ...defaultLocalConfig(), name: "a", transport: net.newTransport("a") });
 * const b = await Memberlist.create({ ...defaultLocalConfig(), name: "b", transport: net.newTransport("b") });
 * assert.equal(await b.join([a.localNode().address]), 1);
 * assert.deepEqual(b.members().map((n) => [n.name, n.state]).sort(), [["a", NodeState.Alive], ["b", NodeState.Alive]]);
 * await b.leave(1000);
 * await Promise.all([a.shutdown(), b.shutdown()]);
 * ```
 *
 * The main entry is the API an application uses. Around it:
 *
 * | subpath | what |
 * | --- | --- |
 * | `@gossip/memberlist/http` | a web-standard `(Request) => Response` handler: members, health, events (SSE), Prometheus `/metrics`, a live status page |
 * | `@gossip/memberlist/agent` | the `memberlist` agent and CLI, and graceful leave on SIGTERM/SIGINT on every runtime |
 * | `@gossip/memberlist/transports` (`/deno`, `/bun`, `/node`, `/mock`) | the UDP/TCP backends and the in-memory network |
 * | `@gossip/memberlist/testing` | a virtual clock, a seeded random source, the default-transport hook |
 * | `@gossip/memberlist/wire` | the framing layers (encryption, labels, version arrays) for tools and custom transports |
 *
 * @module
 */
import { setDefaultTransportFactory } from "./lib/memberlist.ts";
import { netTransportFactory } from "./transports/_net_transport.ts";
import { createNetTransport } from "./transports/mod.ts";

// The transport Memberlist.create() binds when config.transport is null: UDP and TCP on
// the running runtime's sockets, as Go's Create builds a NetTransport. lib/ may not import
// transports/, so the package entry point installs it (the package's one side effect).
setDefaultTransportFactory(netTransportFactory(createNetTransport));

export {
  createNetTransport,
  type CreateNetTransport,
  type NetTransport,
  type NetTransportOptions,
} from "./transports/mod.ts";
export {
  type JoinOptions,
  Memberlist,
  NodeEvent,
  type NodeEventListener,
  type NodeEventListenerOptions,
  type NodeEventsOptions,
  type NodeEventType,
} from "./lib/memberlist.ts";
export {
  joinHostPort,
  type Node,
  type NodeJSON,
  NodeState,
  type NodeStateName,
  nodeStateName,
  nodeToJSON,
  splitHostPort,
} from "./lib/node.ts";
export {
  type Config,
  defaultLANConfig,
  defaultLocalConfig,
  defaultWANConfig,
  type IPNet,
  META_MAX_SIZE,
  PROTOCOL_VERSION_2_COMPATIBLE,
  PROTOCOL_VERSION_MAX,
  PROTOCOL_VERSION_MIN,
  type ResolvedConfig,
  type ResolveOptions,
  validateConfig,
} from "./lib/config.ts";
export type {
  AliveDelegate,
  ConflictDelegate,
  Delegate,
  EventDelegate,
  MergeDelegate,
  PingDelegate,
} from "./lib/delegate.ts";
export {
  DecodeError,
  DecryptError,
  JoinError,
  LabelMismatchError,
  NoPingResponseError,
  TransportClosedError,
} from "./lib/errors.ts";
export { Keyring, validateKey } from "./lib/keyring.ts";
export type { EncryptionVersion } from "./lib/security.ts";
export {
  type Broadcast,
  type BroadcastShare,
  type NamedBroadcast,
  type QueuedBroadcast,
  TransmitLimitedQueue,
  type TransmitLimitedQueueOptions,
  type UniqueBroadcast,
} from "./lib/queue.ts";
export { type Clock, systemClock, type TimerHandle } from "./lib/clock.ts";
export { defaultRandom, type RandomSource } from "./lib/random.ts";
export {
  defaultLogger,
  type LogFields,
  type Logger,
  type PinoLike,
  pinoLogger,
  silentLogger,
} from "./lib/logging.ts";
export { type MetricLabel, type Metrics, noopMetrics } from "./lib/metrics.ts";
export { PrometheusMetrics, type PrometheusMetricsOptions } from "./lib/prometheus.ts";
export { decodeTags, encodeTags } from "./lib/tags.ts";
export type {
  Address,
  AdvertiseAddress,
  Conn,
  Packet,
  Transport,
  TransportHandlers,
} from "./lib/transport.ts";
export type { ByteSource } from "./lib/stream.ts";
