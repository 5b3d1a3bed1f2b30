// Copyright (c) memberlist-ts authors. SPDX-License-Identifier: MPL-2.0
/**
 * Streams over `node:net` sockets, shared by the Node backend (all its streams)
 * and the Bun backend (its dials, since a `Bun.connect` that timed out cannot be
 * cancelled). Private: the `node:net` module is passed in, so loading this file
 * touches no runtime.
 *
 * @module
 */

import type * as Net from "node:net";
import type { Clock } from "../lib/clock.ts";
import { type ConnectAttempt, SocketConn, TCP_KEEPALIVE_MS } from "./_net_transport.ts";

/** A stream over a `node:net` socket. */
export class NodeConn extends SocketConn {
  readonly #sock: Net.Socket;

  /**
   * Wraps a connected socket.
   *
   * @param sock The socket.
   * @param remoteAddr The peer as `ip:port`.
   * @param clock The clock of deadlines.
   */
  constructor(sock: Net.Socket, remoteAddr: string, clock: Clock) {
    super(remoteAddr, clock);
    this.#sock = sock;
    sock.on("data", (chunk: Uint8Array) => this.receive(chunk));
    sock.on("end", () => this.receiveEnd());
    sock.on("error", (err: Error) => this.receiveError(err));
    sock.on("close", () => this.receiveEnd());
    try {
      sock.setNoDelay(true);
      sock.setKeepAlive(true, TCP_KEEPALIVE_MS);
    } catch {
      // Options are best effort (the socket may already be closing).
    }
  }

  protected writeBytes(b: Uint8Array): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.#sock.write(b, (err?: Error | null) => (err ? reject(err) : resolve()));
    });
  }

  protected destroySocket(): void {
    this.#sock.destroy();
  }

  protected pauseReading(): void {
    this.#sock.pause();
  }

  protected resumeReading(): void {
    this.#sock.resume();
  }
}

/**
 * Dials `host:port` with `node:net`; the attempt can be aborted (destroying the
 * socket cancels a pending connect).
 *
 * @param net The `node:net` module.
 * @param host The IP to dial.
 * @param port The port.
 * @param remoteAddr The peer as `ip:port`, for the stream.
 * @param clock The clock of deadlines.
 * @returns The attempt: the stream to be, and how to abort it.
 */
export function connectNodeNet(
  net: Pick<typeof Net, "connect">,
  host: string,
  port: number,
  remoteAddr: string,
  clock: Clock,
): ConnectAttempt {
  let sock: Net.Socket | null = null;
  const conn = new Promise<SocketConn>((resolve, reject) => {
    const s = net.connect({ host, port, allowHalfOpen: true });
    sock = s;
    // Stays attached until connected: an error after abort() must not crash.
    const onError = (err: Error) => {
      s.destroy();
      reject(err);
    };
    s.on("error", onError);
    s.once("connect", () => {
      s.off("error", onError);
      resolve(new NodeConn(s, remoteAddr, clock));
    });
  });
  return {
    conn,
    abort: () => {
      (sock as Net.Socket | null)?.destroy();
    },
  };
}
