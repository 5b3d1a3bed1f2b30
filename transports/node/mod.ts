// Copyright (c) memberlist-ts authors. SPDX-License-Identifier: MPL-2.0
/**
 * The network transport on `node:dgram` and `node:net` (Go `NetTransport`):
 * UDP and TCP listeners on every bind address, all on one port. It runs on
 * Node 20 and later, and also on Deno and Bun, which implement both modules.
 *
 * Loading this module has no side effects: the `node:` modules are imported
 * by {@linkcode createNetTransport} when it is called.
 *
 * What it takes care of, per runtime (see the notes in the repository):
 *
 * - a dual-stack socket (bound to `"::"`, which is how `"0.0.0.0"` is bound,
 *   as in Go) must address IPv4 peers as `::ffff:a.b.c.d` on Node; peers
 *   reported that way are normalised back to `a.b.c.d`;
 * - every socket has an `'error'` listener, so a reset stream or an ICMP
 *   refusal reported by Bun never crashes the process;
 * - stream writes resolve when the runtime has flushed them, so large writes
 *   wait for the kernel (backpressure) instead of piling up in memory;
 * - datagrams and stream chunks are handed over as plain `Uint8Array`s that
 *   are never reused (Deno's 64 KiB datagram buffers are copied down);
 * - sends triggered from inside a packet handler go out on the next
 *   macrotask, so Bun does not starve timers.
 *
 * @example Usage
 * ```ts
 * import { createNetTransport } from "@gossip/memberlist/transports/node";
 * import assert from "node:assert/strict";
 *
 * const a = await createNetTransport({ bindAddrs: ["127.0.0.1"], bindPort: 0 });
 * const b = await createNetTransport({ bindAddrs: ["127.0.0.1"], bindPort: 0 });
 * const ignore = { packet() {}, stream(conn: { close(): void }) { conn.close(); } };
 * a.setHandlers(ignore);
 * const received = new Promise<{ buf: Uint8Array; from: string }>((resolve) => b.setHandlers({ ...ignore, packet: resolve }));
 * a.writeTo(new TextEncoder().encode("ping"), { addr: `127.0.0.1:${b.port}`, name: "b" });
 * const packet = await received;
 * assert.equal(new TextDecoder().decode(packet.buf), "ping");
 * assert.equal(packet.from, `127.0.0.1:${a.port}`);
 * await Promise.all([a.shutdown(), b.shutdown()]);
 * ```
 *
 * @module
 */

import type * as Dgram from "node:dgram";
import type * as Net from "node:net";
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
  setRecvBufferHalving,
  type TcpListenerHandle,
  type UdpSocketHandle,
} from "../_net_transport.ts";
import { errorCode, toNetError } from "../_errors.ts";
import { connectNodeNet, NodeConn } from "../_node_net.ts";
import { detectRuntime } from "../../lib/_runtime.ts";

export type { CreateNetTransport, NetTransport, NetTransportOptions } from "../_net_transport.ts";
export {
  AddressInUseError,
  ConnectionClosedError,
  ConnectionRefusedError,
  ConnectionResetError,
  NetError,
  TimeoutError,
} from "../_errors.ts";

/** The `node:` modules the backend uses, loaded when a transport is created. */
interface NodeModules {
  dgram: typeof Dgram;
  net: typeof Net;
  setImmediate(fn: () => void): unknown;
  networkInterfaces(): Record<
    string,
    { address: string; cidr?: string | null; netmask?: string }[] | undefined
  >;
  readFileSync(path: string, encoding: "utf8"): string;
}


function nodeBackend(mods: NodeModules, opts: ResolvedNetTransportOptions): NetBackend {
  const { dgram, net } = mods;
  const { clock, logger } = opts;
  const onBun = detectRuntime() === "bun";
  const onDeno = detectRuntime() === "deno";
  return {
    listenTcp(req: BindRequest, port: number, input: NetInput): Promise<TcpListenerHandle> {
      return new Promise((resolve, reject) => {
        const server = net.createServer({ allowHalfOpen: true });
        server.once("error", reject);
        server.listen({ port, host: req.host, exclusive: true }, () => {
          server.off("error", reject);
          server.on(
            "error",
            (err: Error) => logger.error("Error accepting TCP connection", { error: err.message }),
          );
          server.on("connection", (sock: Net.Socket) => {
            const host = sock.remoteAddress;
            const peerPort = sock.remotePort;
            if (host === undefined || peerPort === undefined) {
              // Gone before we saw it.
              sock.on("error", () => {});
              sock.destroy();
              return;
            }
            input.stream(new NodeConn(sock, formatAddress(host, peerPort), clock));
          });
          const address = server.address();
          resolve({
            port: typeof address === "object" && address !== null ? address.port : port,
            close: () => new Promise<void>((done) => server.close(() => done())),
          });
        });
      });
    },

    async bindUdp(req: BindRequest, port: number, input: NetInput): Promise<UdpSocketHandle> {
      const sock = dgram.createSocket({ type: req.family === 6 ? "udp6" : "udp4" });
      try {
        await new Promise<void>((resolve, reject) => {
          sock.once("error", reject);
          sock.bind({ port, address: req.host, exclusive: true }, () => {
            sock.off("error", reject);
            resolve();
          });
        });
      } catch (err) {
        sock.on("error", () => {});
        try {
          sock.close();
        } catch {
          // Never bound.
        }
        throw err;
      }
      // Bun reports ICMP errors (a refused send) here; nothing on a UDP socket may crash the process.
      sock.on("error", (err: Error) => udpError(logger, err));
      sock.on(
        "message",
        (msg: Uint8Array, rinfo: Dgram.RemoteInfo) => input.packet(msg, rinfo.address, rinfo.port),
      );
      // Deno's node:dgram does not set the kernel buffer; it allocates a read buffer of that
      // size for every datagram instead (2 MiB each: 3,000 datagrams/s). Leave it alone there.
      if (opts.udpRecvBufferSize > 0 && !onDeno) {
        const size = setRecvBufferHalving((n) => sock.setRecvBufferSize(n), opts.udpRecvBufferSize);
        if (size === 0) {
          logger.warn("Failed to resize UDP receive buffer", { requested: opts.udpRecvBufferSize });
        }
      }
      return {
        family: req.family,
        dualStack: req.dualStack,
        send(b: Uint8Array, host: string, toPort: number, onError: (err: unknown) => void): void {
          try {
            sock.send(b, toPort, host, (err: Error | null) => {
              if (!err) return;
              // Bun turns on IP_RECVERR: the ICMP "port unreachable" of an earlier send to a
              // dead node comes back as ECONNREFUSED on the next send, and that datagram is
              // dropped. The error is consumed by then, so send it again, once.
              if (isUnreachable(err)) {
                try {
                  sock.send(b, toPort, host, (again: Error | null) => {
                    if (again) onError(again);
                  });
                } catch (again) {
                  onError(again);
                }
                return;
              }
              onError(err);
            });
          } catch (err) {
            onError(err);
          }
        },
        close: () =>
          new Promise<void>((resolve) => {
            try {
              sock.close(() => resolve());
            } catch {
              resolve();
            }
          }),
      };
    },

    connect(host: string, port: number, remoteAddr: string): ConnectAttempt {
      return connectNodeNet(net, host, port, remoteAddr, clock);
    },

    // Bun starves its timers when a receive callback sends synchronously (runtimes.md), so
    // sends made while a packet is dispatched wait for setImmediate there. Node and Deno
    // have no such trap and send at once, sparing an event-loop phase per reply.
    defer: onBun
      ? (fn: () => void) => {
        mods.setImmediate(fn);
      }
      : (fn: () => void) => fn(),

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

/**
 * Creates a transport on `node:dgram` and `node:net` and binds it: TCP then
 * UDP on each bind address, all on one port (Go `NewNetTransport`).
 *
 * @param options Bind addresses and port, logger, clock, UDP receive buffer.
 * @returns The bound transport; shut it down to release its sockets.
 * @throws {TypeError} When an option has the wrong type or a bind address is not an IP.
 * @throws {RangeError} When the port is out of range or no bind address is given.
 * @throws {AddressInUseError} When the port is taken on one of the addresses.
 * @throws {NetError} When binding fails otherwise (`EADDRNOTAVAIL` for an address the host does not have).
 *
 * @example Usage
 * ```ts
 * import { createNetTransport } from "@gossip/memberlist/transports/node";
 * import assert from "node:assert/strict";
 *
 * const t = await createNetTransport({ bindAddrs: ["127.0.0.1"], bindPort: 0 });
 * assert.ok(t.port > 0);
 * assert.deepEqual(t.finalAdvertiseAddr("", 0), { ip: "127.0.0.1", port: t.port });
 * await t.shutdown();
 * ```
 */
export async function createNetTransport(options: NetTransportOptions = {}): Promise<NetTransport> {
  const opts = resolveNetTransportOptions(options);
  const [dgram, net, timers, os, fs] = await Promise.all([
    import("node:dgram"),
    import("node:net"),
    import("node:timers"),
    import("node:os"),
    import("node:fs"),
  ]);
  const mods: NodeModules = {
    dgram,
    net,
    setImmediate: (fn) => timers.setImmediate(fn),
    networkInterfaces: () => os.networkInterfaces(),
    readFileSync: (path, encoding) => fs.readFileSync(path, encoding),
  };
  return await openNetTransport(opts, nodeBackend(mods, opts));
}
