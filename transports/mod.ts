// Copyright (c) memberlist-ts authors. SPDX-License-Identifier: MPL-2.0
/**
 * The UDP/TCP network transport for the running runtime (Go `NetTransport`),
 * and what `Memberlist.create()` uses when `config.transport` is null.
 *
 * {@linkcode createNetTransport} is the backend of the runtime this module
 * loads in, picked once when it loads (no top-level await; every backend is
 * imported, and none touches a runtime global until it is called): Deno gets
 * `@gossip/memberlist/transports/deno` (`Deno.listenDatagram`, `Deno.listen`;
 * without `--unstable-net` it falls back to the `node:` backend with one
 * warning), Bun gets `@gossip/memberlist/transports/bun` (`Bun.udpSocket`,
 * `Bun.listen`), and Node gets `@gossip/memberlist/transports/node`
 * (`node:dgram`, `node:net`). To choose a backend yourself, import its
 * subpath directly. The npm package also resolves this subpath to the backend
 * through `deno`, `bun` and `node` export conditions.
 *
 * Errors are normalised: every runtime reports a taken port as an
 * {@linkcode AddressInUseError} with `code` `"EADDRINUSE"`, a refused dial as
 * a {@linkcode ConnectionRefusedError} (`"ECONNREFUSED"`), and so on.
 *
 * @example Usage
 * ```ts
 * import { createNetTransport } from "@gossip/memberlist/transports";
 * import assert from "node:assert/strict";
 *
 * const t = await createNetTransport({ bindAddrs: ["127.0.0.1"], bindPort: 0 });
 * await assert.rejects(createNetTransport({ bindAddrs: ["127.0.0.1"], bindPort: t.port }), {
 *   name: "AddressInUseError",
 *   code: "EADDRINUSE",
 * });
 * await t.shutdown();
 * ```
 *
 * @module
 */

import { detectRuntime, type RuntimeName } from "../lib/_runtime.ts";
import type { CreateNetTransport, NetTransport, NetTransportOptions } from "./_net_transport.ts";
import { createNetTransport as createBunNetTransport } from "./bun/mod.ts";
import { createNetTransport as createDenoNetTransport } from "./deno/mod.ts";
import { createNetTransport as createNodeNetTransport } from "./node/mod.ts";

export type { CreateNetTransport, NetTransport, NetTransportOptions } from "./_net_transport.ts";
export {
  AddressInUseError,
  ConnectionClosedError,
  ConnectionRefusedError,
  ConnectionResetError,
  NetError,
  TimeoutError,
} from "./_errors.ts";

// The backend of each runtime.
const BACKENDS: Partial<Record<RuntimeName, CreateNetTransport>> = {
  node: createNodeNetTransport,
  deno: createDenoNetTransport,
  bun: createBunNetTransport,
};

function unsupported(_options?: NetTransportOptions): Promise<NetTransport> {
  return Promise.reject(
    new Error(
      `Cannot create a network transport: runtime "${detectRuntime()}" is not supported: pass a transport in config`,
    ),
  );
}

/**
 * Creates the UDP/TCP transport of the running runtime and binds it: TCP then
 * UDP on each bind address, all on one port (Go `NewNetTransport`).
 *
 * @param options Bind addresses and port, logger, clock, UDP receive buffer.
 * @returns The bound transport; shut it down to release its sockets.
 * @throws {TypeError} When an option has the wrong type or a bind address is not an IP.
 * @throws {RangeError} When the port is out of range or no bind address is given.
 * @throws {AddressInUseError} When the port is taken on one of the addresses.
 * @throws {NetError} When binding fails otherwise.
 * @throws {Error} On a runtime without a backend (not Deno, Bun or Node).
 *
 * @example Usage
 * ```ts
 * import { createNetTransport } from "@gossip/memberlist/transports";
 * import assert from "node:assert/strict";
 *
 * const t = await createNetTransport({ bindAddrs: ["127.0.0.1"], bindPort: 0 });
 * assert.equal(t.finalAdvertiseAddr("", 0).port, t.port);
 * await t.shutdown();
 * ```
 */
export const createNetTransport: CreateNetTransport = BACKENDS[detectRuntime()] ?? unsupported;
