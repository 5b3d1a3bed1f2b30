// Copyright (c) memberlist-ts authors. SPDX-License-Identifier: MPL-2.0
/**
 * Cluster members as the public API shows them (Go `Node` and `NodeStateType`
 * in state.go), and the address helpers around them.
 *
 * @module
 */

/**
 * The state of a member, with Go's values (`StateAlive` … `StateLeft`).
 *
 * @example Usage
 * ```ts
 * import { NodeState } from "@gossip/memberlist";
 * import assert from "node:assert/strict";
 *
 * assert.equal(NodeState.Left, 3);
 * ```
 */
export const NodeState = {
  /** Believed healthy. */
  Alive: 0,
  /** Failed a probe; its suspicion timer is running. */
  Suspect: 1,
  /** Declared failed. */
  Dead: 2,
  /** Left the cluster on purpose. */
  Left: 3,
} as const;

/** A value of {@linkcode NodeState}. */
export type NodeState = (typeof NodeState)[keyof typeof NodeState];

/**
 * The name of a {@linkcode NodeState}, as JSON and the HTTP API show it.
 *
 * @example Usage
 * ```ts
 * import { NodeState, type NodeStateName, nodeStateName } from "@gossip/memberlist";
 * import assert from "node:assert/strict";
 *
 * const name: NodeStateName = nodeStateName(NodeState.Dead);
 * assert.equal(name, "dead");
 * ```
 */
export type NodeStateName = "alive" | "suspect" | "dead" | "left";

const STATE_NAMES: readonly NodeStateName[] = ["alive", "suspect", "dead", "left"];

/**
 * Names a node state: `"alive"`, `"suspect"`, `"dead"` or `"left"`.
 *
 * @param state A {@linkcode NodeState} value.
 * @returns Its name.
 * @throws {RangeError} When `state` is not a node state.
 *
 * @example Usage
 * ```ts
 * import { NodeState, nodeStateName } from "@gossip/memberlist";
 * import assert from "node:assert/strict";
 *
 * assert.equal(nodeStateName(NodeState.Suspect), "suspect");
 * ```
 */
export function nodeStateName(state: NodeState): NodeStateName {
  const name = STATE_NAMES[state];
  if (name === undefined) throw new RangeError(`Cannot name node state ${state}: expected 0, 1, 2 or 3`);
  return name;
}

/**
 * A snapshot of one member. Later changes to the cluster never modify a
 * snapshot already handed out.
 *
 * The snapshots that `Memberlist` hands out turn into {@linkcode NodeJSON}
 * with `JSON.stringify` (so `Response.json(ml.members())` works): the state
 * by name, the metadata in base64.
 *
 * @example Usage
 * ```ts
 * import { defaultLocalConfig, Memberlist } from "@gossip/memberlist";
 * import { MockNetwork } from "@gossip/memberlist/transports/mock";
 * import assert from "node:assert/strict";
 * import { type Node, NodeState } from "@gossip/memberlist";
 *
 * const ml = await Memberlist.create({ ...defaultLocalConfig(), name: "a", transport: new MockNetwork().newTransport("a") });
 * const self: Node = ml.localNode();
 * assert.equal(self.name, "a");
 * assert.equal(self.state, NodeState.Alive);
 * assert.equal(self.address, `${self.addr}:${self.port}`);
 * await ml.shutdown();
 * ```
 */
export interface Node {
  /** Unique node name. */
  readonly name: string;
  /** Advertised IP address, as text. */
  readonly addr: string;
  /** Advertised port. */
  readonly port: number;
  /** `"addr:port"` (IPv6 in brackets), ready for `join()` or a transport (Go `Address()`). */
  readonly address: string;
  /** Metadata from the node's delegate (empty when none). */
  readonly meta: Uint8Array;
  /** The node's state as this node sees it. */
  readonly state: NodeState;
  /** Lowest protocol version the node understands. */
  readonly pMin: number;
  /** Highest protocol version the node understands. */
  readonly pMax: number;
  /** Protocol version the node speaks. */
  readonly pCur: number;
  /** Lowest delegate protocol version the node understands. */
  readonly dMin: number;
  /** Highest delegate protocol version the node understands. */
  readonly dMax: number;
  /** Delegate protocol version the node speaks. */
  readonly dCur: number;
}

/**
 * The JSON form of a {@linkcode Node}: the same fields, with the state by
 * name and the metadata in base64 (as Go's `encoding/json` writes a
 * `[]byte`).
 *
 * @example Usage
 * ```ts
 * import { defaultLocalConfig, Memberlist } from "@gossip/memberlist";
 * import { MockNetwork } from "@gossip/memberlist/transports/mock";
 * import assert from "node:assert/strict";
 * import type { NodeJSON } from "@gossip/memberlist";
 *
 * const ml = await Memberlist.create({ ...defaultLocalConfig(), name: "a", transport: new MockNetwork().newTransport("a") });
 * const [self]: NodeJSON[] = JSON.parse(JSON.stringify(ml.members()));
 * assert.equal(self!.state, "alive");
 * assert.equal(self!.meta, "");
 * await ml.shutdown();
 * ```
 */
export interface NodeJSON {
  /** Unique node name. */
  name: string;
  /** Advertised IP address. */
  addr: string;
  /** Advertised port. */
  port: number;
  /** `"addr:port"`. */
  address: string;
  /** The state, by name. */
  state: NodeStateName;
  /** Metadata, base64-encoded ("" when none). */
  meta: string;
  /** Lowest protocol version the node understands. */
  pMin: number;
  /** Highest protocol version the node understands. */
  pMax: number;
  /** Protocol version the node speaks. */
  pCur: number;
  /** Lowest delegate protocol version the node understands. */
  dMin: number;
  /** Highest delegate protocol version the node understands. */
  dMax: number;
  /** Delegate protocol version the node speaks. */
  dCur: number;
}

/**
 * The JSON form of a node snapshot (what `JSON.stringify` writes for the
 * snapshots `Memberlist` hands out).
 *
 * @param node A node snapshot.
 * @returns Its JSON form.
 *
 * @example Usage
 * ```ts
 * import { defaultLocalConfig, Memberlist, nodeToJSON } from "@gossip/memberlist";
 * import { MockNetwork } from "@gossip/memberlist/transports/mock";
 * import assert from "node:assert/strict";
 *
 * const ml = await Memberlist.create({
 *   ...defaultLocalConfig(),
 *   name: "a",
 *   transport: new MockNetwork().newTransport("a"),
 *   delegate: { nodeMeta: () => new TextEncoder().encode("hi") },
 * });
 * const json = nodeToJSON(ml.localNode());
 * assert.equal(json.state, "alive");
 * assert.equal(json.meta, "aGk=");
 * assert.deepEqual(JSON.parse(JSON.stringify(ml.members())), [json]);
 * await ml.shutdown();
 * ```
 */
export function nodeToJSON(node: Node): NodeJSON {
  return {
    name: node.name,
    addr: node.addr,
    port: node.port,
    address: node.address,
    state: nodeStateName(node.state),
    meta: base64(node.meta),
    pMin: node.pMin,
    pMax: node.pMax,
    pCur: node.pCur,
    dMin: node.dMin,
    dMax: node.dMax,
    dCur: node.dCur,
  };
}

/** Freezes a snapshot, with a non-enumerable `toJSON` (`nodeToJSON`). Internal. */
export function freezeNode(node: Node): Node {
  Object.defineProperty(node, "toJSON", { value: snapshotToJSON, enumerable: false });
  return Object.freeze(node);
}

function snapshotToJSON(this: Node): NodeJSON {
  return nodeToJSON(this);
}

const B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/** Standard base64 with padding (no `btoa` string round trip). */
export function base64(bytes: Uint8Array): string {
  let out = "";
  let i = 0;
  for (; i + 2 < bytes.length; i += 3) {
    const n = (bytes[i]! << 16) | (bytes[i + 1]! << 8) | bytes[i + 2]!;
    out += B64[n >> 18]! + B64[(n >> 12) & 63]! + B64[(n >> 6) & 63]! + B64[n & 63]!;
  }
  const rest = bytes.length - i;
  if (rest === 1) {
    const n = bytes[i]! << 16;
    out += B64[n >> 18]! + B64[(n >> 12) & 63]! + "==";
  } else if (rest === 2) {
    const n = (bytes[i]! << 16) | (bytes[i + 1]! << 8);
    out += B64[n >> 18]! + B64[(n >> 12) & 63]! + B64[(n >> 6) & 63]! + "=";
  }
  return out;
}

/**
 * Formats `host:port`, bracketing IPv6 hosts (Go `net.JoinHostPort`).
 *
 * @param host An IP literal or host name.
 * @param port The port.
 * @returns The joined address.
 *
 * @example Usage
 * ```ts
 * import { joinHostPort } from "@gossip/memberlist";
 * import assert from "node:assert/strict";
 *
 * assert.equal(joinHostPort("10.0.0.1", 7946), "10.0.0.1:7946");
 * assert.equal(joinHostPort("::1", 7946), "[::1]:7946");
 * ```
 */
export function joinHostPort(host: string, port: number): string {
  return host.includes(":") ? `[${host}]:${port}` : `${host}:${port}`;
}

/**
 * Splits `host:port` (IPv6 hosts in brackets) into its parts. A missing port
 * yields `defaultPort`.
 *
 * @param address The address.
 * @param defaultPort The port to use when none is given.
 * @returns The host (without brackets) and the port.
 * @throws {SyntaxError} When the port is not a number in [0, 65535] or a bracket is unbalanced.
 *
 * @example Usage
 * ```ts
 * import { splitHostPort } from "@gossip/memberlist";
 * import assert from "node:assert/strict";
 *
 * assert.deepEqual(splitHostPort("[::1]:80", 7946), { host: "::1", port: 80 });
 * assert.deepEqual(splitHostPort("seed.example", 7946), { host: "seed.example", port: 7946 });
 * ```
 */
export function splitHostPort(address: string, defaultPort: number): { host: string; port: number } {
  let host = address;
  let portText: string | undefined;
  if (address.startsWith("[")) {
    const end = address.indexOf("]");
    if (end < 0) throw new SyntaxError(`Cannot parse address "${address}": missing "]"`);
    host = address.slice(1, end);
    const rest = address.slice(end + 1);
    if (rest !== "") {
      if (!rest.startsWith(":")) throw new SyntaxError(`Cannot parse address "${address}": unexpected "${rest}"`);
      portText = rest.slice(1);
    }
  } else {
    const colon = address.lastIndexOf(":");
    // A bare IPv6 literal has several colons and no port.
    if (colon >= 0 && address.indexOf(":") === colon) {
      host = address.slice(0, colon);
      portText = address.slice(colon + 1);
    }
  }
  if (portText === undefined) return { host, port: defaultPort };
  const port = Number(portText);
  if (portText === "" || !Number.isInteger(port) || port < 0 || port > 65535) {
    throw new SyntaxError(`Cannot parse address "${address}": port "${portText}" is not in [0, 65535]`);
  }
  return { host, port };
}
