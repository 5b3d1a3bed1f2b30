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

/** A datagram received by a transport. */
export interface Packet {
  /** The bytes received. The receiver may keep them: the transport must not reuse the memory. */
  buf: Uint8Array;
  /** The sender as `"ip:port"` (IPv6 in brackets). */
  from: string;
  /** When it was received, on the memberlist clock's scale (used for round-trip times). */
  timestamp: number;
}

/** Where to send: a `"host:port"` and, when known, the node name behind it (Go `Address`). */
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

/** The callbacks through which a transport delivers input. */
export interface TransportHandlers {
  /** Called once per datagram received. */
  packet(packet: Packet): void;
  /** Called once per stream a peer opened to us; the handler owns (and closes) it. */
  stream(conn: Conn): void;
}

/** The address and port this node tells others to use. */
export interface AdvertiseAddress {
  /** An IP literal (IPv4 dotted or IPv6). */
  ip: string;
  /** The port. */
  port: number;
}

/**
 * A network for memberlist (Go `Transport` and `NodeAwareTransport`).
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
   * address, a closed transport, a message too large).
   */
  writeTo(b: Uint8Array, addr: Address): number;
  /**
   * Opens a stream, failing after `timeoutMs`.
   */
  dialTimeout(addr: Address, timeoutMs: number): Promise<Conn>;
  /** Stops receiving and releases every socket and timer. Idempotent. */
  shutdown(): Promise<void>;
}
