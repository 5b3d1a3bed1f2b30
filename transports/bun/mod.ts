// Copyright (c) memberlist-ts authors. SPDX-License-Identifier: MPL-2.0
/**
 * The network transport on Bun's own sockets (Go `NetTransport`):
 * `Bun.udpSocket` for UDP and `Bun.listen` for TCP, with listeners on every
 * bind address, all on one port. Outgoing streams are dialled with Bun's
 * `node:net` (see below).
 *
 * Loading this module has no side effects: `Bun` is reached through a small
 * local interface, and `node:os`/`node:fs` (for the host's interfaces) are
 * imported, only when {@linkcode createNetTransport} is called.
 *
 * What it takes care of:
 *
 * - every UDP socket has an `error` handler: Bun reports the ICMP "port
 *   unreachable" that follows a send to a dead node as an `ECONNREFUSED`
 *   error, which would otherwise end the process (memberlist sends to dead
 *   nodes all the time); it is logged at debug;
 * - when `send()` returns false (the socket buffer is full), that datagram and
 *   every later one wait in order (up to 4096 of them; more are dropped and
 *   logged) and go out on `drain`;
 * - stream writes resolve once Bun took every byte: a partial `write()` keeps
 *   the rest queued until `drain`;
 * - deadlines and dial timeouts are timers that close the connection:
 *   `socket.timeout()` only fires in steps of about 4 s;
 * - dials use `node:net` rather than `Bun.connect`: `Bun.connect` hands out no
 *   socket until it is connected, so a dial to a peer that drops SYNs cannot
 *   be cancelled when it times out, and it kept the process alive for minutes
 *   after `shutdown()`; `node:net`'s `destroy()` cancels it, and a 1 KiB
 *   request/response loop runs as fast either way;
 * - sends made by a packet handler leave on the next macrotask
 *   (`setImmediate`): sending from inside Bun's UDP receive callback to a
 *   socket of the same process starves timers;
 * - `"0.0.0.0"` binds `"::"`, dual-stack, as in Go; peers reported as
 *   `::ffff:a.b.c.d` are normalised to `a.b.c.d`;
 * - Bun has no API for the UDP receive buffer size: `udpRecvBufferSize` is
 *   ignored (logged at debug) and the system default applies.
 *
 * @example Usage
 * ```ts
 * import { createNetTransport } from "@gossip/memberlist/transports/bun";
 * import assert from "node:assert/strict";
 *
 * // This backend needs Bun; elsewhere createNetTransport() throws.
 * if ("Bun" in globalThis) {
 *   const a = await createNetTransport({ bindAddrs: ["127.0.0.1"], bindPort: 0 });
 *   const b = await createNetTransport({ bindAddrs: ["127.0.0.1"], bindPort: 0 });
 *   const ignore = { packet() {}, stream(conn: { close(): void }) { conn.close(); } };
 *   a.setHandlers(ignore);
 *   const received = new Promise<{ buf: Uint8Array; from: string }>((resolve) => b.setHandlers({ ...ignore, packet: resolve }));
 *   a.writeTo(new TextEncoder().encode("ping"), { addr: `127.0.0.1:${b.port}`, name: "b" });
 *   const packet = await received;
 *   assert.equal(new TextDecoder().decode(packet.buf), "ping");
 *   assert.equal(packet.from, `127.0.0.1:${a.port}`);
 *   await Promise.all([a.shutdown(), b.shutdown()]);
 * } else {
 *   await assert.rejects(createNetTransport(), /not running on Bun/);
 * }
 * ```
 *
 * @module
 */

import type * as Net from "node:net";
import type { Clock } from "../../lib/clock.ts";
import type { Logger } from "../../lib/logging.ts";
import {
  type BindRequest,
  type ConnectAttempt,
  formatAddress,
  hostInterfacesFromTable,
  type NetBackend,
  type NetInput,
  type NetTransport,
  type NetTransportOptions,
  openNetTransport,
  parseDefaultRoute,
  type ResolvedNetTransportOptions,
  resolveNetTransportOptions,
  SocketConn,
  TCP_KEEPALIVE_MS,
  type TcpListenerHandle,
  type UdpSocketHandle,
} from "../_net_transport.ts";
import { ConnectionClosedError, errorCode, NetError, toNetError } from "../_errors.ts";
import { connectNodeNet } from "../_node_net.ts";

export type { CreateNetTransport, NetTransport, NetTransportOptions } from "../_net_transport.ts";
export {
  AddressInUseError,
  ConnectionClosedError,
  ConnectionRefusedError,
  ConnectionResetError,
  NetError,
  TimeoutError,
} from "../_errors.ts";

// Datagrams that may wait for `drain` on one UDP socket once Bun reports a full send
// buffer; more are dropped (and logged), as a full kernel queue would drop them.
const UDP_SEND_QUEUE_LIMIT = 4096;

// ---------------------------------------------------------------- the Bun API we use

/** `Bun.udpSocket`'s socket. */
interface BunUdpSocket {
  readonly port: number;
  send(data: Uint8Array, port: number, address: string): boolean;
  close(): void;
}

/** The handlers of a `Bun.udpSocket`. */
interface BunUdpHandlers {
  data(socket: BunUdpSocket, data: Uint8Array, port: number, address: string): void;
  drain(socket: BunUdpSocket): void;
  error(err: Error): void;
}

/** A `Bun.Socket`; `data` is ours. */
interface BunSocket {
  data: BunConn | undefined;
  readonly remoteAddress: string;
  readonly remotePort?: number;
  write(data: Uint8Array): number;
  end(): void;
  terminate(): void;
  setNoDelay?(noDelay?: boolean): boolean;
  setKeepAlive?(enable?: boolean, initialDelay?: number): boolean;
  pause?(): void;
  resume?(): void;
}

/** The handlers of `Bun.listen`. */
interface BunSocketHandlers {
  open(socket: BunSocket): void;
  data(socket: BunSocket, data: Uint8Array): void;
  drain(socket: BunSocket): void;
  end(socket: BunSocket): void;
  close(socket: BunSocket, err?: Error): void;
  error(socket: BunSocket, err: Error): void;
}

/** `Bun.listen`'s listener. */
interface BunListener {
  readonly port: number;
  stop(closeActiveConnections?: boolean): void;
}

/** The part of the `Bun` namespace this backend uses. */
interface BunLike {
  udpSocket(options: {
    hostname: string;
    port: number;
    binaryType: "uint8array";
    socket: BunUdpHandlers;
  }): Promise<BunUdpSocket>;
  listen(options: {
    hostname: string;
    port: number;
    allowHalfOpen: boolean;
    exclusive: boolean;
    binaryType: "uint8array";
    socket: BunSocketHandlers;
  }): BunListener;
}

/** The `node:` modules the backend uses, loaded when a transport is created. */
interface HostModules {
  net: typeof Net;
  networkInterfaces(): Record<
    string,
    { address: string; cidr?: string | null; netmask?: string }[] | undefined
  >;
  readFileSync(path: string, encoding: "utf8"): string;
}

interface TimerGlobals {
  setImmediate?(fn: () => void): unknown;
  setTimeout(fn: () => void, ms: number): unknown;
}

function bunGlobal(): BunLike | undefined {
  return (globalThis as unknown as { Bun?: BunLike }).Bun;
}

// ---------------------------------------------------------------- streams

interface QueuedWrite {
  b: Uint8Array;
  off: number;
  resolve(): void;
  reject(err: unknown): void;
}

/** A stream over a `Bun.Socket`, fed by the socket's handlers. */
class BunConn extends SocketConn {
  readonly #sock: BunSocket;
  // Bytes Bun did not take yet, in order: written on drain.
  #queue: QueuedWrite[] = [];
  #gone = false;

  constructor(sock: BunSocket, remoteAddr: string, clock: Clock) {
    super(remoteAddr, clock);
    this.#sock = sock;
    sock.data = this;
    try {
      sock.setNoDelay?.(true);
      sock.setKeepAlive?.(true, TCP_KEEPALIVE_MS);
    } catch {
      // Options are best effort (the socket may already be closing).
    }
  }

  protected writeBytes(b: Uint8Array): Promise<void> {
    if (this.#gone) {
      return Promise.reject(
        new ConnectionClosedError(`Cannot write to "${this.remoteAddr}": socket is closed`),
      );
    }
    return new Promise<void>((resolve, reject) => {
      this.#queue.push({ b, off: 0, resolve, reject });
      if (this.#queue.length === 1) this.flush();
    });
  }

  /** Writes what is queued until Bun takes less than offered (then `drain` calls again). */
  flush(): void {
    const queue = this.#queue;
    while (queue.length > 0) {
      const w = queue[0]!;
      let n: number;
      try {
        n = this.#sock.write(w.off === 0 ? w.b : w.b.subarray(w.off));
      } catch (err) {
        this.#failQueue(err);
        return;
      }
      if (n < 0) {
        this.#failQueue(new ConnectionClosedError(`Cannot write to "${this.remoteAddr}": socket is closed`));
        return;
      }
      w.off += n;
      if (w.off < w.b.length) return;
      queue.shift();
      w.resolve();
    }
  }

  /**
   * The socket closed: the peer's data ended (or `err` says why it failed),
   * and queued writes can no longer go out.
   */
  socketClosed(err: Error | undefined): void {
    this.#gone = true;
    if (err !== undefined) this.receiveError(err);
    else this.receiveEnd();
    this.#failQueue(
      err ?? new ConnectionClosedError(`Cannot write to "${this.remoteAddr}": socket is closed`),
    );
  }

  #failQueue(err: unknown): void {
    const queue = this.#queue;
    this.#queue = [];
    for (const w of queue) w.reject(err);
  }

  protected destroySocket(): void {
    this.#queue = []; // SocketConn already failed their writes
    if (this.#gone) return;
    this.#gone = true;
    // end(): FIN once what Bun holds is sent, then close. terminate() would reset the
    // connection, and the peer could lose a reply written just before.
    this.#sock.end();
  }

  protected pauseReading(): void {
    this.#sock.pause?.();
  }

  protected resumeReading(): void {
    this.#sock.resume?.();
  }
}

/** Handlers that pass a socket's events to the {@linkcode BunConn} in its `data`. */
const CONN_EVENTS: Omit<BunSocketHandlers, "open"> = {
  data: (s, chunk) => s.data?.receive(chunk),
  drain: (s) => s.data?.flush(),
  end: (s) => s.data?.receiveEnd(),
  close: (s, err) => s.data?.socketClosed(err ?? undefined),
  error: (s, err) => s.data?.receiveError(err),
};


// ---------------------------------------------------------------- UDP

interface QueuedDatagram {
  b: Uint8Array;
  host: string;
  port: number;
  onError(err: unknown): void;
}

/** A UDP socket's sends: straight to Bun, or queued in order while Bun's buffer is full. */
class UdpSender {
  sock: BunUdpSocket | null = null;
  #queue: QueuedDatagram[] = [];
  #head = 0;

  send(d: QueuedDatagram): void {
    if (this.#head < this.#queue.length) {
      if (this.#queue.length - this.#head >= UDP_SEND_QUEUE_LIMIT) {
        d.onError(
          new NetError(
            "ENOBUFS",
            `Cannot send to port ${d.port}: ${UDP_SEND_QUEUE_LIMIT} datagrams already wait`,
          ),
        );
        return;
      }
      this.#queue.push(d);
      return;
    }
    if (!this.#trySend(d)) this.#queue.push(d);
  }

  // False when Bun's buffer is full (the datagram was not sent).
  #trySend(d: QueuedDatagram): boolean {
    try {
      return this.sock!.send(d.b, d.port, d.host);
    } catch (err) {
      // Bun turns on IP_RECVERR: the ICMP "port unreachable" of an earlier send to a dead
      // node is thrown by the next send, and that datagram is not sent. The error is
      // consumed by then, so send it again, once.
      if (err instanceof Error && isUnreachable(err)) {
        try {
          return this.sock!.send(d.b, d.port, d.host);
        } catch (again) {
          d.onError(again);
          return true;
        }
      }
      d.onError(err);
      return true;
    }
  }

  drain(): void {
    const queue = this.#queue;
    while (this.#head < queue.length) {
      if (!this.#trySend(queue[this.#head]!)) return;
      queue[this.#head++] = undefined as unknown as QueuedDatagram;
    }
    this.#queue = [];
    this.#head = 0;
  }

  clear(): void {
    this.#queue = [];
    this.#head = 0;
  }
}

function isUnreachable(err: Error): boolean {
  const code = errorCode(err);
  return code === "ECONNREFUSED" || code === "EHOSTUNREACH" || code === "ENETUNREACH";
}

function udpError(logger: Logger, err: Error): void {
  const code = errorCode(err);
  if (code === "ECONNREFUSED" || code === "EHOSTUNREACH" || code === "ENETUNREACH") {
    logger.debug("UDP destination unreachable", { error: toNetError(err, "send").message });
  } else {
    logger.error("Error reading UDP packet", { error: err.message });
  }
}

// ---------------------------------------------------------------- the backend

function bunBackend(bun: BunLike, mods: HostModules, opts: ResolvedNetTransportOptions): NetBackend {
  const { clock, logger } = opts;
  const g = globalThis as unknown as TimerGlobals;
  let bufferNoted = false;
  return {
    listenTcp(req: BindRequest, port: number, input: NetInput): Promise<TcpListenerHandle> {
      let listener: BunListener;
      try {
        listener = bun.listen({
          hostname: req.host,
          port,
          allowHalfOpen: true,
          exclusive: true,
          binaryType: "uint8array",
          socket: {
            ...CONN_EVENTS,
            open: (s) => {
              const peerPort = s.remotePort;
              if (typeof peerPort !== "number") {
                s.terminate(); // gone before we saw it
                return;
              }
              input.stream(new BunConn(s, formatAddress(s.remoteAddress, peerPort), clock));
            },
          },
        });
      } catch (err) {
        return Promise.reject(err);
      }
      let closed = false;
      return Promise.resolve({
        port: listener.port,
        close: () => {
          if (!closed) {
            closed = true;
            // Accepted streams are the transport's: it closes them itself.
            listener.stop(false);
          }
          return Promise.resolve();
        },
      });
    },

    async bindUdp(req: BindRequest, port: number, input: NetInput): Promise<UdpSocketHandle> {
      const sender = new UdpSender();
      const sock = await bun.udpSocket({
        hostname: req.host,
        port,
        binaryType: "uint8array",
        socket: {
          data: (_s, data, fromPort, address) => input.packet(data, address, fromPort),
          drain: () => sender.drain(),
          // Required: Bun reports ICMP refusals here, and an unhandled one ends the process.
          error: (err) => udpError(logger, err),
        },
      });
      sender.sock = sock;
      if (opts.udpRecvBufferSize > 0 && !bufferNoted) {
        bufferNoted = true;
        logger.debug("Bun cannot set a UDP receive buffer size: the system default applies", {
          requested: opts.udpRecvBufferSize,
        });
      }
      return {
        family: req.family,
        dualStack: req.dualStack,
        send(b: Uint8Array, host: string, toPort: number, onError: (err: unknown) => void): void {
          sender.send({ b, host, port: toPort, onError });
        },
        close: () => {
          sender.clear();
          try {
            sock.close();
          } catch {
            // Already closed.
          }
          return Promise.resolve();
        },
      };
    },

    // Dials go through Bun's node:net, not Bun.connect: Bun.connect hands out no socket
    // until it connects, so a dial that timed out against a peer dropping SYNs could not
    // be cancelled, and would hold the process open for minutes (until the kernel gives
    // up) after shutdown(). node:net's destroy() cancels it; its speed is the same.
    connect(host: string, port: number, remoteAddr: string): ConnectAttempt {
      return connectNodeNet(mods.net, host, port, remoteAddr, clock);
    },

    defer: (fn: () => void) => {
      if (g.setImmediate !== undefined) g.setImmediate(fn);
      else g.setTimeout(fn, 0);
    },

    network: {
      interfaces: () => hostInterfacesFromTable(mods.networkInterfaces()),
      defaultInterface: () => {
        try {
          return parseDefaultRoute(mods.readFileSync("/proc/net/route", "utf8"));
        } catch {
          return null; // Not Linux, or no permission to read it.
        }
      },
    },
  };
}

/**
 * Creates a transport on Bun's native sockets and binds it: TCP then UDP on
 * each bind address, all on one port (Go `NewNetTransport`).
 *
 * @param options Bind addresses and port, logger, clock (`udpRecvBufferSize`
 * is ignored: Bun cannot set it).
 * @returns The bound transport; shut it down to release its sockets.
 * @throws {TypeError} When an option has the wrong type or a bind address is not an IP.
 * @throws {RangeError} When the port is out of range or no bind address is given.
 * @throws {AddressInUseError} When the port is taken on one of the addresses.
 * @throws {NetError} When binding fails otherwise (`EADDRNOTAVAIL` for an address the host does not have).
 * @throws {Error} When not running on Bun.
 *
 * @example Usage
 * ```ts
 * import { createNetTransport } from "@gossip/memberlist/transports/bun";
 * import assert from "node:assert/strict";
 *
 * // This backend needs Bun; elsewhere createNetTransport() throws.
 * if ("Bun" in globalThis) {
 *   const t = await createNetTransport({ bindAddrs: ["127.0.0.1"], bindPort: 0 });
 *   assert.deepEqual(t.finalAdvertiseAddr("", 0), { ip: "127.0.0.1", port: t.port });
 *   await t.shutdown();
 * }
 * ```
 */
export async function createNetTransport(options: NetTransportOptions = {}): Promise<NetTransport> {
  const opts = resolveNetTransportOptions(options);
  const bun = bunGlobal();
  if (bun === undefined) {
    throw new Error(
      `Cannot create a Bun transport: not running on Bun: use @gossip/memberlist/transports, which picks the runtime's backend`,
    );
  }
  const [net, os, fs] = await Promise.all([import("node:net"), import("node:os"), import("node:fs")]);
  const mods: HostModules = {
    net,
    networkInterfaces: () => os.networkInterfaces(),
    readFileSync: (path, encoding) => fs.readFileSync(path, encoding),
  };
  return await openNetTransport(opts, bunBackend(bun, mods, opts));
}
