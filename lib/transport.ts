// Copyright (c) memberlist-ts authors. SPDX-License-Identifier: MPL-2.0
/**
 * What memberlist needs from a network (Go `transport.go`): an unreliable
 * packet channel and a reliable stream channel, both addressed by
 * `"host:port"`. The default implementations bind UDP and TCP on one port with
 * the runtime's own sockets (`transports/deno`, `transports/bun`,
 * `transports/node`); `transports/mock` is an in-memory network for tests and
 * simulation. Any object with this shape can be passed as `Config.transport`.
 *
 * Unlike Go's channels, delivery is by callback: the transport calls the
 * handlers given to {@linkcode Transport.setHandlers} for each packet and each
 * accepted stream. Handlers never throw.
 *
 * @module
 */

import type { ByteSource } from "./stream.ts";

/**
 * A datagram received by a transport.
 *
 * @example Usage
 * ```ts
 * import type { Packet } from "@gossip/memberlist";
 * import { MockNetwork } from "@gossip/memberlist/transports/mock";
 * import assert from "node:assert/strict";
 *
 * const net = new MockNetwork();
 * const a = net.newTransport("a");
 * const b = net.newTransport("b");
 * const got = new Promise<Packet>((resolve) => b.setHandlers({ packet: resolve, stream: (c) => c.close() }));
 * a.writeTo(new Uint8Array([1, 2, 3]), { addr: b.addr, name: "b" });
 * const packet = await got;
 * assert.deepEqual(packet.buf, new Uint8Array([1, 2, 3]));
 * assert.equal(packet.from, a.addr);
 * await Promise.all([a.shutdown(), b.shutdown()]);
 * ```
 */
export interface Packet {
  /** The bytes received. The receiver may keep them: the transport must not reuse the memory. */
  buf: Uint8Array;
  /** The sender as `"ip:port"` (IPv6 in brackets). */
  from: string;
  /** When it was received, on the memberlist clock's scale (used for round-trip times). */
  timestamp: number;
}

/**
 * Where to send: a `"host:port"` and, when known, the node name behind it (Go `Address`).
 *
 * @example Usage
 * ```ts
 * import type { Address } from "@gossip/memberlist";
 * import assert from "node:assert/strict";
 *
 * const to: Address = { addr: "[::1]:7946", name: "node-2" };
 * assert.equal(to.name, "node-2");
 * ```
 */
export interface Address {
  /** `"host:port"`, IPv6 hosts in brackets. */
  addr: string;
  /** The node's name, or "" when unknown. Transports may use it to route. */
  name: string;
}

/**
 * A reliable, ordered, bidirectional byte stream (one TCP connection).
 * Reading follows {@linkcode ByteSource}; the stream is closed by `close()`, by
 * the peer, or when its deadline passes.
 *
 * @example Usage
 * ```ts
 * import type { Conn } from "@gossip/memberlist";
 * import { MockNetwork } from "@gossip/memberlist/transports/mock";
 * import assert from "node:assert/strict";
 *
 * const net = new MockNetwork();
 * const a = net.newTransport("a");
 * const b = net.newTransport("b");
 * const received = new Promise<string>((resolve) =>
 *   b.setHandlers({ packet() {}, stream: async (conn: Conn) => resolve(new TextDecoder().decode((await conn.read())!)) })
 * );
 * a.setHandlers({ packet() {}, stream: (conn) => conn.close() });
 * const conn: Conn = await a.dialTimeout({ addr: b.addr, name: "b" }, 1000);
 * await conn.write(new TextEncoder().encode("hello"));
 * assert.equal(await received, "hello");
 * conn.close();
 * await Promise.all([a.shutdown(), b.shutdown()]);
 * ```
 */
export interface Conn extends ByteSource {
  /** The peer as `"ip:port"`. */
  readonly remoteAddr: string;
  /**
   * Writes all of `b`, waiting for the transport to accept it (partial writes and
   * backpressure are the transport's business).
   */
  write(b: Uint8Array): Promise<void>;
  /**
   * Closes the stream `ms` milliseconds from now if it is still open; pending and
   * later reads and writes then fail. A new call replaces the previous deadline.
   */
  setDeadline(ms: number): void;
  /** Closes the stream now. Idempotent. */
  close(): void;
}

/**
 * The callbacks through which a transport delivers input.
 *
 * @example Usage
 * ```ts
 * import type { TransportHandlers } from "@gossip/memberlist";
 * import { MockNetwork } from "@gossip/memberlist/transports/mock";
 * import assert from "node:assert/strict";
 *
 * let packets = 0;
 * const handlers: TransportHandlers = { packet: () => void packets++, stream: (conn) => conn.close() };
 * const net = new MockNetwork();
 * const a = net.newTransport("a");
 * const b = net.newTransport("b");
 * b.setHandlers(handlers);
 * a.setHandlers(handlers);
 * a.writeTo(new Uint8Array([0]), { addr: b.addr, name: "b" });
 * await new Promise((r) => setTimeout(r, 20));
 * assert.equal(packets, 1);
 * await Promise.all([a.shutdown(), b.shutdown()]);
 * ```
 */
export interface TransportHandlers {
  /** Called once per datagram received. */
  packet(packet: Packet): void;
  /** Called once per stream a peer opened to us; the handler owns (and closes) it. */
  stream(conn: Conn): void;
  /**
   * Called when a datagram that {@linkcode Transport.writeTo} accepted could
   * not be sent after all: the socket reported an error later (no route, the
   * destination refused). Optional for transports, which may report such
   * errors by throwing from `writeTo()` instead, or not at all. The failure
   * detector treats it like a throw from `writeTo()` (Go's `failedRemote`).
   *
   * @param addr The `"host:port"` given to `writeTo()`.
   * @param error What the socket reported.
   */
  sendError?(addr: string, error: Error): void;
}

/**
 * The address and port this node tells others to use.
 *
 * @example Usage
 * ```ts
 * import { type AdvertiseAddress, createNetTransport } from "@gossip/memberlist";
 * import assert from "node:assert/strict";
 *
 * const t = await createNetTransport({ bindAddrs: ["127.0.0.1"], bindPort: 0 });
 * const adv: AdvertiseAddress = t.finalAdvertiseAddr("", 0);
 * assert.deepEqual(adv, { ip: "127.0.0.1", port: t.port });
 * await t.shutdown();
 * ```
 */
export interface AdvertiseAddress {
  /** An IP literal (IPv4 dotted or IPv6). */
  ip: string;
  /** The port. */
  port: number;
}

/**
 * A network for memberlist (Go `Transport` and `NodeAwareTransport`).
 *
 * @example Usage
 * ```ts
 * import { defaultLocalConfig, Memberlist } from "@gossip/memberlist";
 * import { MockNetwork } from "@gossip/memberlist/transports/mock";
 * import assert from "node:assert/strict";
 * import type { Transport } from "@gossip/memberlist";
 *
 * // Any object of this shape can carry memberlist's traffic: here, the in-memory network's.
 * const transport: Transport = new MockNetwork().newTransport("a");
 * const ml = await Memberlist.create({ ...defaultLocalConfig(), name: "a", transport });
 * assert.equal(ml.localNode().address, transport.finalAdvertiseAddr("", 0).ip + ":" + ml.localNode().port);
 * await ml.shutdown();
 * ```
 */
export interface Transport {
  /**
   * Decides the address to advertise (Go `FinalAdvertiseAddr`): the given one
   * when `ip` is not empty, else one derived from what the transport is bound to.
   *
   * @param ip The configured advertise address, or "".
   * @param port The configured advertise port.
   */
  finalAdvertiseAddr(ip: string, port: number): AdvertiseAddress;
  /** Installs the input handlers. Input that arrives before this call is dropped. */
  setHandlers(handlers: TransportHandlers): void;
  /**
   * Sends one datagram, fire and forget.
   *
   * @returns The send time on the memberlist clock's scale.
   * @throws When the datagram cannot be handed to the network at all (a bad
   * address, a closed transport, a message too large). Errors the socket
   * reports after this returned go to {@linkcode TransportHandlers.sendError}.
   */
  writeTo(b: Uint8Array, addr: Address): number;
  /**
   * Opens a stream, failing after `timeoutMs`.
   */
  dialTimeout(addr: Address, timeoutMs: number): Promise<Conn>;
  /** Stops receiving and releases every socket and timer. Idempotent. */
  shutdown(): Promise<void>;
}
