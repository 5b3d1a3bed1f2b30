// Copyright (c) memberlist-ts authors. SPDX-License-Identifier: MPL-2.0
/**
 * What the UDP/TCP transports of every runtime share (Go `net_transport.go`
 * and the transport set-up in `memberlist.go`): the options, binding TCP then
 * UDP on one port with Go's retries, the advertise-address rules (with
 * go-sockaddr's `GetPrivateIP`), address normalisation, datagram size limits,
 * and the parts of a {@linkcode NetTransport} that do not depend on the socket
 * API: handler dispatch, dial timeouts, stream deadlines and buffering,
 * shutdown.
 *
 * A backend (`transports/node`, and later `deno` and `bun`) supplies only a
 * {@linkcode NetBackend}: how to listen, bind, connect and send with its
 * runtime's sockets, and how to list the host's network interfaces. Nothing in
 * this file touches a runtime global, so it loads anywhere.
 *
 * Private to the package.
 *
 * @module
 */

import { type Clock, systemClock, type TimerHandle } from "../lib/clock.ts";
import type { ResolvedConfig } from "../lib/config.ts";
import { defaultLogger, type Logger } from "../lib/logging.ts";
import { noopMetrics } from "../lib/metrics.ts";
import { DropLog } from "../lib/_drops.ts";
import { joinHostPort, splitHostPort } from "../lib/node.ts";
import type { Address, AdvertiseAddress, Conn, Transport, TransportHandlers } from "../lib/transport.ts";
import { formatIP, ipTo4, parseIP } from "../lib/_ip.ts";
import {
  AddressInUseError,
  ConnectionClosedError,
  errorCode,
  NetError,
  TimeoutError,
  toNetError,
  transportClosed,
} from "./_errors.ts";

/** Bytes Go reads each datagram into (Go `udpPacketBufSize`); no datagram can be longer. */
export const UDP_PACKET_BUF_SIZE: number = 65_536;
/** The UDP socket receive buffer Go asks for, in bytes, halving until accepted (Go `udpRecvBufSize`). */
export const UDP_RECV_BUF_SIZE: number = 2 * 1024 * 1024;
/** The largest UDP payload to an IPv4 address: 65,535 − 20 (IP header) − 8 (UDP header). */
export const MAX_UDP_PAYLOAD_IPV4: number = 65_507;
/** The largest UDP payload to an IPv6 address (without jumbograms): 65,535 − 8 (UDP header). */
export const MAX_UDP_PAYLOAD_IPV6: number = 65_527;
/** Binds tried when `bindPort` is 0 and the port the kernel chose for TCP is taken for UDP (Go `makeNetRetry(10)`). */
export const BIND_ATTEMPTS: number = 10;
/** TCP keep-alive period, in milliseconds: Go's `net.Dialer` and listener default. */
export const TCP_KEEPALIVE_MS: number = 15_000;
/**
 * Unread stream bytes above which a backend stops reading the socket (TCP flow
 * control then slows the peer). Small, so a stream that memberlist does not
 * read yet (one waiting for a slot) holds little memory.
 */
export const READ_HIGH_WATER: number = 256 * 1024;
/** Unread stream bytes below which reading resumes. */
export const READ_LOW_WATER: number = 64 * 1024;
/**
 * Most bytes of datagrams waiting to be sent after a packet handler returns
 * (Bun only, see `NetTransportImpl`); sends beyond it are dropped (and logged
 * at a bounded rate), as a kernel drops what overflows its send buffer.
 */
export const MAX_DEFERRED_SEND_BYTES: number = 2 * 1024 * 1024;


// ---------------------------------------------------------------- options

/**
 * Options of `createNetTransport` (Go `NetTransportConfig`). Every field is
 * optional.
 *
 * @example Usage
 * ```ts
 * import { createNetTransport, type NetTransportOptions } from "@gossip/memberlist";
 * import assert from "node:assert/strict";
 *
 * const options: NetTransportOptions = { bindAddrs: ["127.0.0.1"], bindPort: 0 };
 * const t = await createNetTransport(options);
 * assert.equal(t.finalAdvertiseAddr("", 0).ip, "127.0.0.1");
 * await t.shutdown();
 * ```
 */
export interface NetTransportOptions {
  /**
   * The IP addresses to listen on, TCP and UDP on each, all on `bindPort`.
   * `"0.0.0.0"` and `"::"` listen on every address of the host, IPv4 and
   * IPv6 alike, as Go does (one dual-stack socket; IPv4 only when the host
   * has no IPv6). Host names are not accepted. Go `BindAddrs`.
   *
   * @default {["0.0.0.0"]}
   */
  bindAddrs?: readonly string[];
  /**
   * The port to listen on, the same for TCP and UDP on every address; 0 lets
   * the kernel pick one for the first TCP listener, used for everything else
   * (binding is then retried up to 10 times if UDP finds that port taken).
   * Go `BindPort`.
   *
   * @default {0}
   */
  bindPort?: number;
  /**
   * Where the transport logs what Go's `NetTransport` logs (accept and read
   * errors) and failed sends.
   *
   * @default {defaultLogger}
   */
  logger?: Logger;
  /**
   * The clock for packet timestamps, send times, dial timeouts and stream
   * deadlines. Pass the memberlist's `config.clock`, so round-trip times are
   * measured on its scale.
   *
   * @default {systemClock}
   */
  clock?: Clock;
  /**
   * The kernel receive buffer to ask for on each UDP socket, in bytes, halved
   * until the runtime accepts it (the kernel may cap it further). 0 leaves the
   * system default. Go's fixed `udpRecvBufSize`; unrelated to
   * `Config.udpBufferSize`, which is the gossip packing budget.
   *
   * @default {2097152}
   */
  udpRecvBufferSize?: number;
}

/** {@linkcode NetTransportOptions} checked, normalised and completed. */
export interface ResolvedNetTransportOptions {
  /** The bind addresses as canonical IP text. */
  readonly bindAddrs: readonly string[];
  /** The bind port. */
  readonly bindPort: number;
  /** The logger. */
  readonly logger: Logger;
  /** The clock. */
  readonly clock: Clock;
  /** The UDP receive buffer to request, in bytes (0: leave the default). */
  readonly udpRecvBufferSize: number;
}

/**
 * Checks and completes transport options.
 *
 * @param options The options given.
 * @returns The options with defaults applied and addresses normalised.
 * @throws {TypeError} When a field has the wrong type or an address is not an IP literal.
 * @throws {RangeError} When the port or buffer size is out of range, or `bindAddrs` is empty.
 */
export function resolveNetTransportOptions(options: NetTransportOptions = {}): ResolvedNetTransportOptions {
  if (typeof options !== "object" || options === null) {
    throw new TypeError(`Cannot create transport: options must be an object`);
  }
  const addrs = options.bindAddrs ?? ["0.0.0.0"];
  if (!Array.isArray(addrs)) {
    throw new TypeError(`Cannot create transport: "bindAddrs" must be an array of IP addresses`);
  }
  if (addrs.length === 0) {
    throw new RangeError(`Cannot create transport: at least one bind address is required`);
  }
  const bindAddrs = addrs.map((addr: unknown) => {
    const ip = typeof addr === "string" ? parseIP(addr) : null;
    if (ip === null) {
      throw new TypeError(
        `Cannot create transport: bind address ${JSON.stringify(addr)} is not an IP address`,
      );
    }
    return formatIP(ip);
  });
  const bindPort = options.bindPort ?? 0;
  if (!Number.isInteger(bindPort) || bindPort < 0 || bindPort > 65535) {
    throw new RangeError(`Cannot create transport: port ${bindPort} is not in [0, 65535]`);
  }
  const udpRecvBufferSize = options.udpRecvBufferSize ?? UDP_RECV_BUF_SIZE;
  if (!Number.isInteger(udpRecvBufferSize) || udpRecvBufferSize < 0 || udpRecvBufferSize > 0x7fffffff) {
    throw new RangeError(
      `Cannot create transport: UDP receive buffer size ${udpRecvBufferSize} is not a byte count`,
    );
  }
  return {
    bindAddrs,
    bindPort,
    logger: options.logger ?? defaultLogger,
    clock: options.clock ?? systemClock,
    udpRecvBufferSize,
  };
}

/**
 * The options Go's `Create` gives its default `NetTransport`: one bind
 * address and the port from the config, with the config's logger and clock.
 *
 * @param config A resolved memberlist configuration.
 * @returns Transport options.
 */
export function netTransportOptionsFromConfig(config: ResolvedConfig): NetTransportOptions {
  return {
    bindAddrs: [config.bindAddr],
    bindPort: config.bindPort,
    logger: config.logger,
    clock: config.clock,
  };
}

/**
 * Builds the default transport factory of `Memberlist.create()` from a
 * backend's `createNetTransport`. As in Go's `newMemberlist`, when
 * `config.bindPort` is 0 the port the kernel chose is also the advertised
 * port, even with an explicit `advertiseAddr`.
 *
 * @param create A backend's `createNetTransport`.
 * @returns The factory to pass to `setDefaultTransportFactory`.
 */
export function netTransportFactory(
  create: CreateNetTransport,
): (config: ResolvedConfig) => Promise<Transport> {
  return async (config) => {
    const t = await create(netTransportOptionsFromConfig(config));
    if (config.bindPort !== 0) return t;
    // memberlist.go: conf.AdvertisePort = nt.GetAutoBindPort() when BindPort is 0.
    return {
      finalAdvertiseAddr: (ip) => t.finalAdvertiseAddr(ip, t.port),
      setHandlers: (handlers) => t.setHandlers(handlers),
      writeTo: (b, addr) => t.writeTo(b, addr),
      dialTimeout: (addr, timeoutMs) => t.dialTimeout(addr, timeoutMs),
      shutdown: () => t.shutdown(),
    };
  };
}

// ---------------------------------------------------------------- the transport type

/**
 * A {@linkcode Transport} over the host's UDP and TCP sockets (Go
 * `NetTransport`): TCP and UDP listeners on every bind address, all on one
 * port.
 *
 * @example Usage
 * ```ts
 * import { createNetTransport, type NetTransport } from "@gossip/memberlist";
 * import assert from "node:assert/strict";
 *
 * const t: NetTransport = await createNetTransport({ bindAddrs: ["127.0.0.1"], bindPort: 0 });
 * assert.equal(t.getAutoBindPort(), t.port);
 * assert.deepEqual(t.bindAddrs, ["127.0.0.1"]);
 * await t.shutdown();
 * ```
 */
export interface NetTransport extends Transport {
  /** The port listened on, TCP and UDP, on every address: the kernel's choice when `bindPort` was 0. */
  readonly port: number;
  /**
   * The addresses listened on, in `bindAddrs` order. A wildcard shows how it
   * was bound: `"::"` (dual-stack) or `"0.0.0.0"` (IPv4 only, when the host
   * has no IPv6).
   */
  readonly bindAddrs: readonly string[];
  /**
   * The port listened on (Go `GetAutoBindPort`); the same as `port`.
   *
   * @returns The port.
   */
  getAutoBindPort(): number;
}

/**
 * The shape of every backend's `createNetTransport`.
 *
 * @example Usage
 * ```ts
 * import type { CreateNetTransport } from "@gossip/memberlist";
 * import { createNetTransport } from "@gossip/memberlist/transports";
 * import assert from "node:assert/strict";
 *
 * const create: CreateNetTransport = createNetTransport; // every backend has this shape
 * const t = await create({ bindAddrs: ["127.0.0.1"], bindPort: 0 });
 * assert.ok(t.port > 0);
 * await t.shutdown();
 * ```
 */
export type CreateNetTransport = (options?: NetTransportOptions) => Promise<NetTransport>;

// ---------------------------------------------------------------- addresses

/**
 * Normalises IP text: an IPv4-mapped IPv6 address (`::ffff:1.2.3.4`, as
 * dual-stack sockets report IPv4 peers) becomes `1.2.3.4`, IPv6 becomes its
 * canonical form (a zone, `%eth0`, is kept). Anything else is returned as is.
 *
 * @param host IP text or a host name.
 * @returns The normalised text.
 */
export function normalizeIP(host: string): string {
  const pct = host.indexOf("%");
  const ip = parseIP(pct < 0 ? host : host.slice(0, pct));
  if (ip === null) return host;
  const text = formatIP(ip);
  return pct < 0 || ipTo4(ip) !== null ? text : text + host.slice(pct);
}

/**
 * Formats a peer address as `"ip:port"` (IPv6 in brackets), normalising the IP.
 *
 * @param host The IP text a socket reported.
 * @param port The port.
 * @returns The address.
 */
export function formatAddress(host: string, port: number): string {
  return joinHostPort(normalizeIP(host), port);
}

/** A destination split into its parts. */
export interface Destination {
  /** The host: normalised IP text, or a name (dials only). */
  readonly host: string;
  /** The port. */
  readonly port: number;
  /** 4 or 6 for an IP address, 0 for a name. */
  readonly family: 0 | 4 | 6;
}

/**
 * Splits a `"host:port"` destination and normalises its IP.
 *
 * @param addr The address.
 * @param action What is attempted, for the error message.
 * @param allowNames Whether a host name is acceptable (dials) or only an IP (datagrams).
 * @returns The parts.
 * @throws {TypeError} When the address has no port, or is a name where an IP is needed.
 */
export function parseDestination(addr: string, action: string, allowNames: boolean): Destination {
  let parts: { host: string; port: number };
  try {
    parts = splitHostPort(addr, -1);
  } catch (err) {
    throw new TypeError(`Cannot ${action}: address "${addr}" is not "host:port"`, { cause: err });
  }
  if (parts.port < 0 || parts.host === "") {
    throw new TypeError(`Cannot ${action}: address "${addr}" is not "host:port"`);
  }
  const pct = parts.host.indexOf("%");
  const ip = parseIP(pct < 0 ? parts.host : parts.host.slice(0, pct));
  if (ip === null) {
    if (!allowNames) throw new TypeError(`Cannot ${action}: "${parts.host}" is not an IP address`);
    return { host: parts.host, port: parts.port, family: 0 };
  }
  return { host: normalizeIP(parts.host), port: parts.port, family: ipTo4(ip) !== null ? 4 : 6 };
}

function isUnspecified(ip: string): boolean {
  return ip === "0.0.0.0" || ip === "::";
}

/**
 * Returns bytes the caller may keep: a plain `Uint8Array` (never a Node
 * `Buffer`, whose `slice` shares memory) that does not pin a much larger
 * buffer. Deno's `node:dgram` hands each datagram over as a view into its own
 * 64 KiB buffer; those are copied, other chunks are wrapped without copying.
 *
 * @param chunk Bytes a socket delivered (and will not write to again).
 * @returns The bytes.
 */
export function ownBytes(chunk: Uint8Array): Uint8Array {
  const backing = chunk.buffer.byteLength;
  // new Uint8Array(view) copies; a Buffer's slice() would not.
  if (backing > 4096 && backing > 2 * chunk.byteLength) return new Uint8Array(chunk);
  return Object.getPrototypeOf(chunk) === Uint8Array.prototype
    ? chunk
    : new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength);
}

// ---------------------------------------------------------------- the private IP to advertise

/** One address of a network interface of the host. */
export interface HostInterface {
  /** The interface name (`"eth0"`). */
  readonly name: string;
  /** The address as IP text. */
  readonly address: string;
  /** The network prefix length of the address (24 for a /24). */
  readonly prefixLength: number;
}

/** The host's interfaces and default route, as a backend reads them. */
export interface HostNetwork {
  /**
   * Lists the addresses of the interfaces that are up.
   *
   * @throws When the runtime cannot list them (no permission).
   */
  interfaces(): HostInterface[];
  /** Names the interface of the IPv4 default route, or null when unknown. */
  defaultInterface(): string | null;
}

interface Net {
  ip: Uint8Array;
  bits: number;
}

function nets(list: readonly string[]): Net[] {
  return list.map((cidr) => {
    const slash = cidr.indexOf("/");
    return { ip: parseIP(cidr.slice(0, slash))!, bits: Number(cidr.slice(slash + 1)) };
  });
}

// go-sockaddr rfc.go, ForwardingBlacklist: blocks whose addresses are never forwarded.
const NOT_FORWARDABLE = [
  "0.0.0.0/8",
  "127.0.0.0/8",
  "169.254.0.0/16",
  "192.0.0.0/24",
  "192.0.2.0/24",
  "198.51.100.0/24",
  "203.0.113.0/24",
  "240.0.0.0/4",
  "255.255.255.255/32",
  "::1/128",
  "::/128",
  "::ffff:0:0/96",
  "2001:db8::/32",
  "2001:10::/28",
  "fe80::/10",
];
// go-sockaddr rfc.go, RFC 6890 (special-purpose registries), as coded there: it
// contains RFC 1918, RFC 6598 (100.64/10), benchmarking, ULA (fc00::/7), ...
const RFC_6890 = [
  "0.0.0.0/8",
  "10.0.0.0/8",
  "100.64.0.0/10",
  "127.0.0.0/8",
  "169.254.0.0/16",
  "172.16.0.0/12",
  "192.0.0.0/24",
  "192.0.0.0/29",
  "192.0.2.0/24",
  "192.88.99.0/24",
  "192.168.0.0/16",
  "198.18.0.0/15",
  "198.51.100.0/24",
  "203.0.113.0/24",
  "240.0.0.0/4",
  "255.255.255.255/32",
  "::1/128",
  "::/128",
  "64:ff9b::/96",
  "::ffff:0:0/96",
  "100::/64",
  "2001::/16",
  "2002::/16",
  "fc00::/7",
  "fe80::/10",
];
let blocks: { notForwardable: Net[]; rfc6890: Net[] } | null = null;

// Whether ip is in one of the blocks. As in go-sockaddr, an IPv4 address is only
// compared with IPv4 blocks and an IPv6 address with IPv6 blocks.
function inBlocks(ip: Uint8Array, list: readonly Net[]): boolean {
  for (const n of list) {
    if (n.ip.length !== ip.length) continue;
    let bits = n.bits;
    let i = 0;
    for (; bits >= 8; bits -= 8, i++) if (ip[i] !== n.ip[i]) break;
    if (bits >= 8) continue;
    if (bits === 0 || ((ip[i]! ^ n.ip[i]!) & (0xff << (8 - bits)) & 0xff) === 0) return true;
  }
  return false;
}

/**
 * Picks the private IP address to advertise when bound to every address, as
 * Go's `sockaddr.GetPrivateIP()` does: of the addresses of the interfaces that
 * are up, drop the non-forwardable ones (loopback, link-local, 0/8, TEST-NETs,
 * ...), order them with the default route's interface first, then IPv4 before
 * IPv6, then larger networks first, and take the first in RFC 6890's
 * special-purpose blocks (RFC 1918, RFC 6598 `100.64.0.0/10`, `198.18.0.0/15`,
 * IPv6 ULA `fc00::/7`, ...). Go finds nothing, and fails, on a host with only
 * public addresses; so does this.
 *
 * @param interfaces The host's interface addresses, in the order the system lists them.
 * @param defaultInterface The name of the default route's interface, if known.
 * @param ipv4Only Consider IPv4 addresses only (the transport could not bind IPv6).
 * @returns The address as text, or null when there is none.
 */
export function getPrivateIP(
  interfaces: readonly HostInterface[],
  defaultInterface: string | null,
  ipv4Only = false,
): string | null {
  blocks ??= { notForwardable: nets(NOT_FORWARDABLE), rfc6890: nets(RFC_6890) };
  const { notForwardable, rfc6890 } = blocks;
  const candidates: { ip: Uint8Array; iface: HostInterface; index: number }[] = [];
  interfaces.forEach((iface, index) => {
    const pct = iface.address.indexOf("%");
    const parsed = parseIP(pct < 0 ? iface.address : iface.address.slice(0, pct));
    if (parsed === null) return;
    const ip = ipTo4(parsed) ?? parsed;
    if (ipv4Only && ip.length !== 4) return;
    if (inBlocks(ip, notForwardable) || !inBlocks(ip, rfc6890)) return;
    candidates.push({ ip, iface, index });
  });
  const isDefault = (
    c: { iface: HostInterface },
  ) => (defaultInterface !== null && c.iface.name === defaultInterface ? 0 : 1);
  candidates.sort((a, b) =>
    isDefault(a) - isDefault(b) || a.ip.length - b.ip.length || a.iface.prefixLength - b.iface.prefixLength ||
    a.index - b.index
  );
  const first = candidates[0];
  return first === undefined ? null : formatIP(first.ip);
}

/**
 * Finds the interface of the IPv4 default route in the text of Linux's
 * `/proc/net/route` (what go-sockaddr learns from `ip route`).
 *
 * @param text The file's contents.
 * @returns The interface name, or null when there is no default route.
 */
export function parseDefaultRoute(text: string): string | null {
  for (const line of text.split("\n").slice(1)) {
    const f = line.trim().split(/\s+/);
    // Iface Destination Gateway Flags RefCnt Use Metric Mask ...; flag 0x1 = RTF_UP.
    if (f.length >= 8 && f[1] === "00000000" && f[7] === "00000000" && (parseInt(f[3]!, 16) & 1) === 1) {
      return f[0]!;
    }
  }
  return null;
}

/**
 * Converts the `{ name: [{ address, cidr, netmask }] }` shape of Node's
 * `os.networkInterfaces()` (also Deno's and Bun's) into a list.
 *
 * @param table The interfaces by name.
 * @returns One entry per address.
 */
export function hostInterfacesFromTable(
  table: Record<string, readonly { address: string; cidr?: string | null; netmask?: string }[] | undefined>,
): HostInterface[] {
  const out: HostInterface[] = [];
  for (const [name, addrs] of Object.entries(table)) {
    for (const a of addrs ?? []) {
      let prefixLength = -1;
      const slash = a.cidr?.lastIndexOf("/") ?? -1;
      if (slash > 0) prefixLength = Number(a.cidr!.slice(slash + 1));
      if (!(prefixLength >= 0)) {
        const mask = a.netmask === undefined ? null : parseIP(a.netmask);
        prefixLength = 0;
        if (mask !== null) { for (const byte of ipTo4(mask) ?? mask) prefixLength += popcount(byte); }
      }
      out.push({ name, address: a.address, prefixLength });
    }
  }
  return out;
}

function popcount(byte: number): number {
  let n = 0;
  for (let b = byte; b !== 0; b &= b - 1) n++;
  return n;
}

/**
 * Sets a UDP receive buffer as Go's `setUDPRecvBuf` does: ask for `size`,
 * halving until the runtime accepts.
 *
 * @param set Sets the socket's receive buffer; throws when refused.
 * @param size The size to ask for first, in bytes.
 * @returns The size accepted, or 0 when none was (or `size` was 0).
 */
export function setRecvBufferHalving(set: (bytes: number) => void, size: number): number {
  for (let n = size; n > 0; n = Math.floor(n / 2)) {
    try {
      set(n);
      return n;
    } catch {
      // Refused: try half.
    }
  }
  return 0;
}

// ---------------------------------------------------------------- streams

interface Reader {
  resolve(chunk: Uint8Array | null): void;
  reject(err: Error): void;
}

interface PendingWrite {
  resolve(): void;
  reject(err: Error): void;
}

/**
 * A {@linkcode Conn} over a socket that pushes its input (Node's `'data'`
 * events, Bun's `data` callback, or a read loop), with the semantics of the
 * mock transport:
 *
 * - `read()` resolves with each chunk in order (the chunks are the reader's to
 *   keep), then null once the peer closed its side or this side closed;
 * - `write()` resolves once the runtime took every byte (flushed to the
 *   kernel), so backpressure and partial writes stay the backend's business;
 *   after `close()` it rejects with {@linkcode ConnectionClosedError};
 * - when the deadline passes, pending and later reads and writes reject with
 *   {@linkcode TimeoutError} and the stream closes (the peer reads the end);
 * - a reset by the peer rejects reads and writes with the normalised error.
 *
 * A backend subclasses it, feeds it with {@linkcode SocketConn.receive},
 * {@linkcode SocketConn.receiveEnd} and {@linkcode SocketConn.receiveError},
 * and implements the four socket operations. When more than
 * {@linkcode READ_HIGH_WATER} bytes wait unread it stops reading the socket.
 */
export abstract class SocketConn implements Conn {
  /** The peer as `"ip:port"`. */
  readonly remoteAddr: string;
  #clock: Clock;
  #chunks: Uint8Array[] = [];
  #head = 0;
  #buffered = 0;
  #readers: Reader[] = [];
  #writes: Set<PendingWrite> = new Set();
  #eof = false;
  #closed = false;
  #paused = false;
  // Fails reads and writes (a deadline, or a reset before the end of the peer's data).
  #error: Error | null = null;
  // Fails writes only (a reset after the peer's data ended).
  #writeError: Error | null = null;
  #deadline: TimerHandle | null = null;
  #onClose: ((conn: SocketConn) => void) | null = null;

  /**
   * @param remoteAddr The peer as `"ip:port"`.
   * @param clock The clock deadlines run on.
   */
  constructor(remoteAddr: string, clock: Clock) {
    this.remoteAddr = remoteAddr;
    this.#clock = clock;
  }

  /** Whether `close()` was called (or the deadline passed). */
  get closed(): boolean {
    return this.#closed;
  }

  /**
   * Registers the one callback run when the stream closes (the transport's
   * bookkeeping).
   *
   * @param fn The callback.
   */
  onClose(fn: (conn: SocketConn) => void): void {
    this.#onClose = fn;
  }

  /**
   * Resolves with the next chunk, or null at the end of the peer's data or
   * after `close()`.
   *
   * @returns The chunk, or null.
   */
  read(): Promise<Uint8Array | null> {
    if (this.#error !== null) return Promise.reject(this.#error);
    if (this.#head < this.#chunks.length) {
      const chunk = this.#chunks[this.#head]!;
      this.#chunks[this.#head++] = EMPTY;
      if (this.#head === this.#chunks.length) {
        this.#chunks = [];
        this.#head = 0;
      }
      this.#buffered -= chunk.length;
      if (this.#paused && this.#buffered < READ_LOW_WATER && !this.#closed) {
        this.#paused = false;
        this.resumeReading();
      }
      return Promise.resolve(chunk);
    }
    if (this.#eof || this.#closed) return Promise.resolve(null);
    return new Promise((resolve, reject) => this.#readers.push({ resolve, reject }));
  }

  /**
   * Writes all of `b`.
   *
   * @param b The bytes; they are not copied, so leave them alone until the promise settles.
   * @returns A promise that resolves once the runtime took every byte.
   */
  write(b: Uint8Array): Promise<void> {
    const failed = this.#error ?? this.#writeError;
    if (failed !== null) return Promise.reject(failed);
    if (this.#closed) {
      return Promise.reject(
        new ConnectionClosedError(`Cannot write to "${this.remoteAddr}": stream is closed`),
      );
    }
    if (b.length === 0) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      const w: PendingWrite = { resolve, reject };
      this.#writes.add(w);
      let done: Promise<void>;
      try {
        done = this.writeBytes(b);
      } catch (err) {
        done = Promise.reject(err);
      }
      done.then(
        () => {
          if (this.#writes.delete(w)) resolve();
        },
        (err: unknown) => {
          if (this.#writes.delete(w)) {
            reject(this.#error ?? this.#writeError ?? toNetError(err, `write to "${this.remoteAddr}"`));
          }
        },
      );
    });
  }

  /**
   * Closes the stream `ms` milliseconds from now unless it closes before; a
   * new call replaces the previous deadline, and `Infinity` removes it.
   *
   * @param ms Milliseconds from now.
   */
  setDeadline(ms: number): void {
    if (this.#closed) return;
    this.#deadline?.cancel();
    this.#deadline = null;
    if (ms < Infinity) this.#deadline = this.#clock.setTimeout(this.#onDeadline, Math.max(0, ms));
  }

  readonly #onDeadline = (): void => {
    this.#deadline = null;
    if (this.#closed) return;
    this.#error = new TimeoutError(`Cannot use stream to "${this.remoteAddr}": deadline passed`);
    this.#failReaders(this.#error);
    this.close();
  };

  /** Closes the stream now: local reads end, pending writes fail, the peer reads the end. Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#deadline?.cancel();
    this.#deadline = null;
    this.#chunks = [];
    this.#head = 0;
    this.#buffered = 0;
    const readers = this.#readers;
    this.#readers = [];
    for (const r of readers) r.resolve(null);
    this.#failWrites(
      this.#error ?? new ConnectionClosedError(`Cannot write to "${this.remoteAddr}": stream is closed`),
    );
    try {
      this.destroySocket();
    } catch {
      // Already gone.
    }
    const onClose = this.#onClose;
    this.#onClose = null;
    onClose?.(this);
  }

  /**
   * For backends: bytes arrived from the peer.
   *
   * @param chunk The bytes; the socket must not write to them again.
   */
  receive(chunk: Uint8Array): void {
    if (this.#closed || this.#error !== null || this.#eof || chunk.length === 0) return;
    const own = ownBytes(chunk);
    const reader = this.#readers.shift();
    if (reader !== undefined) {
      reader.resolve(own);
      return;
    }
    this.#chunks.push(own);
    this.#buffered += own.length;
    if (!this.#paused && this.#buffered > READ_HIGH_WATER) {
      this.#paused = true;
      this.pauseReading();
    }
  }

  /** For backends: the peer's data ended (FIN), or the socket closed without an error. */
  receiveEnd(): void {
    if (this.#closed || this.#eof || this.#error !== null) return;
    this.#eof = true;
    const readers = this.#readers;
    this.#readers = [];
    for (const r of readers) r.resolve(null);
  }

  /**
   * For backends: the socket failed (a reset, a broken pipe).
   *
   * @param err The runtime's error.
   */
  receiveError(err: unknown): void {
    if (this.#closed || this.#error !== null || this.#writeError !== null) return;
    const mapped = toNetError(err, `use stream to "${this.remoteAddr}"`);
    if (this.#eof) {
      this.#writeError = mapped;
    } else {
      this.#error = mapped;
      this.#failReaders(mapped);
    }
    this.#failWrites(mapped);
  }

  #failReaders(err: Error): void {
    const readers = this.#readers;
    this.#readers = [];
    for (const r of readers) r.reject(err);
  }

  #failWrites(err: Error): void {
    const writes = [...this.#writes];
    this.#writes.clear();
    for (const w of writes) w.reject(err);
  }

  /**
   * Hands all of `b` to the socket.
   *
   * @param b The bytes.
   * @returns A promise that resolves once every byte is written (flushed to the kernel).
   */
  protected abstract writeBytes(b: Uint8Array): Promise<void>;
  /** Closes the socket at once. */
  protected abstract destroySocket(): void;
  /** Stops taking input from the socket until {@linkcode SocketConn.resumeReading}. */
  protected abstract pauseReading(): void;
  /** Takes input from the socket again. */
  protected abstract resumeReading(): void;
}

const EMPTY: Uint8Array = new Uint8Array(0);

// ---------------------------------------------------------------- backends

/** What to bind for one bind address. */
export interface BindRequest {
  /** The IP to bind: `"::"` for a dual-stack wildcard. */
  readonly host: string;
  /** The socket family. */
  readonly family: 4 | 6;
  /** Whether the socket is an IPv6 wildcard that also carries IPv4 (IPV6_V6ONLY off). */
  readonly dualStack: boolean;
}

/** A bound UDP socket, as a backend hands it to the shared transport. */
export interface UdpSocketHandle {
  /** 4 for IPv4; 6 for IPv6, a dual-stack socket included. */
  readonly family: 4 | 6;
  /** Whether it also sends to and receives from IPv4 addresses. */
  readonly dualStack: boolean;
  /**
   * Sends one datagram. Failures (also those the runtime reports later) go to
   * `onError`, never thrown.
   *
   * @param b The datagram, the socket's to keep.
   * @param host The destination IP (IPv4-mapped for IPv4 on a dual-stack socket).
   * @param port The destination port.
   * @param onError Called with the runtime's error if sending fails.
   */
  send(b: Uint8Array, host: string, port: number, onError: (err: unknown) => void): void;
  /** Closes the socket; resolves when it is closed. */
  close(): Promise<void>;
}

/** A TCP listener, as a backend hands it to the shared transport. */
export interface TcpListenerHandle {
  /** The port it listens on. */
  readonly port: number;
  /** Stops listening; resolves when the listener is closed. */
  close(): Promise<void>;
}

/** Where a backend delivers input; the shared transport implements it. */
export interface NetInput {
  /**
   * A datagram arrived.
   *
   * @param buf The bytes; the socket must not write to them again.
   * @param host The sender's IP as the socket reports it (normalised here).
   * @param port The sender's port.
   */
  packet(buf: Uint8Array, host: string, port: number): void;
  /**
   * A peer opened a stream.
   *
   * @param conn The stream.
   */
  stream(conn: SocketConn): void;
}

/** A dial in progress. */
export interface ConnectAttempt {
  /** Resolves with the connected stream; rejects with the runtime's error. */
  readonly conn: Promise<SocketConn>;
  /** Gives up: closes the socket if it is still connecting (the promise may then never settle). */
  abort(): void;
}

/**
 * The socket operations of one runtime. Errors are thrown or rejected as the
 * runtime gives them; the shared transport normalises them.
 */
export interface NetBackend {
  /**
   * Listens for TCP.
   *
   * @param req The address to bind.
   * @param port The port (0: let the kernel pick).
   * @param input Where to deliver accepted streams.
   */
  listenTcp(req: BindRequest, port: number, input: NetInput): Promise<TcpListenerHandle>;
  /**
   * Binds a UDP socket and asks for its receive buffer (see {@linkcode setRecvBufferHalving}).
   *
   * @param req The address to bind.
   * @param port The port (never 0).
   * @param input Where to deliver datagrams.
   */
  bindUdp(req: BindRequest, port: number, input: NetInput): Promise<UdpSocketHandle>;
  /**
   * Starts a TCP connection (no timeout: the transport aborts it).
   *
   * @param host The IP or host name.
   * @param port The port.
   * @param remoteAddr The address to give the stream.
   */
  connect(host: string, port: number, remoteAddr: string): ConnectAttempt;
  /** Runs `fn` on a later macrotask (Node's `setImmediate`). */
  defer(fn: () => void): void;
  /** The host's interfaces, for {@linkcode getPrivateIP}. */
  readonly network: HostNetwork;
}

// Codes that mean the host cannot open IPv6 sockets: a wildcard then binds IPv4 only.
const NO_IPV6 = new Set(["EAFNOSUPPORT", "EADDRNOTAVAIL", "EPROTONOSUPPORT", "EINVAL"]);

interface Bound {
  port: number;
  hosts: string[];
  dualStack: boolean[];
  listeners: TcpListenerHandle[];
  sockets: UdpSocketHandle[];
}

async function closeQuietly(handles: readonly { close(): Promise<void> }[], logger: Logger): Promise<void> {
  await Promise.all(
    handles.map((h) =>
      h.close().catch((err: unknown) => logger.warn("Failed to close a listener", { error: err }))
    ),
  );
}

// Go NewNetTransport: for each address, TCP first (port 0 lets the kernel pick, and that
// port is then used for everything), then UDP on that port. Closes what it opened on failure.
async function bindOnce(
  opts: ResolvedNetTransportOptions,
  backend: NetBackend,
  input: NetInput,
): Promise<Bound> {
  const bound: Bound = { port: opts.bindPort, hosts: [], dualStack: [], listeners: [], sockets: [] };
  try {
    for (const addr of opts.bindAddrs) {
      let req: BindRequest = isUnspecified(addr)
        ? { host: "::", family: 6, dualStack: true }
        : { host: addr, family: addr.includes(":") ? 6 : 4, dualStack: false };
      let tcp: TcpListenerHandle;
      try {
        tcp = await backend.listenTcp(req, bound.port, input);
      } catch (err) {
        if (!req.dualStack || !NO_IPV6.has(errorCode(err))) {
          throw toNetError(err, `listen on TCP "${addr}" port ${bound.port}`);
        }
        req = { host: "0.0.0.0", family: 4, dualStack: false };
        try {
          tcp = await backend.listenTcp(req, bound.port, input);
        } catch (err4) {
          throw toNetError(err4, `listen on TCP "${addr}" port ${bound.port}`);
        }
      }
      bound.listeners.push(tcp);
      if (bound.port === 0) bound.port = tcp.port;
      try {
        bound.sockets.push(await backend.bindUdp(req, bound.port, input));
      } catch (err) {
        throw toNetError(err, `listen on UDP "${addr}" port ${bound.port}`);
      }
      bound.hosts.push(req.host);
      bound.dualStack.push(req.dualStack);
    }
    return bound;
  } catch (err) {
    await closeQuietly([...bound.listeners, ...bound.sockets], opts.logger);
    throw err;
  }
}

/**
 * Binds every address (Go `NewNetTransport`), retrying up to
 * {@linkcode BIND_ATTEMPTS} times when `bindPort` is 0 and a port the kernel
 * chose for TCP turns out to be taken for UDP (Go's `makeNetRetry`; Go retries
 * on any error, which can only help for this one).
 */
async function bindAll(
  opts: ResolvedNetTransportOptions,
  backend: NetBackend,
  input: NetInput,
): Promise<Bound> {
  const attempts = opts.bindPort === 0 ? BIND_ATTEMPTS : 1;
  for (let attempt = 1;; attempt++) {
    try {
      return await bindOnce(opts, backend, input);
    } catch (err) {
      if (errorCode(err) === "EADDRINUSE" && attempt >= attempts) throw inUseWithHint(err);
      if (attempt >= attempts || errorCode(err) !== "EADDRINUSE") throw err;
      opts.logger.debug("Got bind error", { error: err instanceof Error ? err.message : err });
    }
  }
}

/**
 * A taken port, with the two ways a server framework runs a module twice and
 * what to do about each: the message is where a user looks first.
 */
function inUseWithHint(err: unknown): AddressInUseError {
  const message = err instanceof Error ? err.message : String(err);
  return new AddressInUseError(
    `${message}: another node holds the port. A server that runs this module more than once binds it twice: ` +
      `"deno serve --parallel" runs it in every worker (start the node in one process only, or run without --parallel); ` +
      `"bun --hot" runs it again on each reload in the same process (keep the node on globalThis and reuse it: ` +
      `globalThis.ml ??= await Memberlist.create(...))`,
    { cause: err },
  );
}

/**
 * Binds the sockets with `backend` and returns the transport: the body of
 * every backend's `createNetTransport`.
 *
 * @param opts Resolved options.
 * @param backend The runtime's socket operations.
 * @returns The bound transport.
 * @throws {NetError} When an address cannot be bound (`AddressInUseError` for a taken port).
 */
export async function openNetTransport(
  opts: ResolvedNetTransportOptions,
  backend: NetBackend,
): Promise<NetTransport> {
  const t = new NetTransportImpl(opts, backend);
  await t.bind();
  return t;
}

class PendingDial {
  readonly action: string;
  settled = false;
  timer: TimerHandle | null = null;
  attempt: ConnectAttempt | null = null;
  readonly #dials: Set<PendingDial>;
  readonly #resolve: (conn: Conn) => void;
  readonly #reject: (err: Error) => void;

  constructor(
    action: string,
    dials: Set<PendingDial>,
    resolve: (conn: Conn) => void,
    reject: (err: Error) => void,
  ) {
    this.action = action;
    this.#dials = dials;
    this.#resolve = resolve;
    this.#reject = reject;
    dials.add(this);
  }

  #settle(): boolean {
    if (this.settled) return false;
    this.settled = true;
    this.timer?.cancel();
    this.timer = null;
    this.#dials.delete(this);
    return true;
  }

  succeed(conn: Conn): void {
    if (this.#settle()) this.#resolve(conn);
  }

  fail(err: Error): void {
    if (!this.#settle()) return;
    this.attempt?.abort();
    this.#reject(err);
  }
}

interface DeferredSend {
  socket: UdpSocketHandle;
  b: Uint8Array;
  host: string;
  port: number;
  addr: string;
}

// Failed sends (per error code) and empty datagrams are logged at a bounded rate; the
// counters go nowhere, as a transport has no metrics.
const SEND_FAILED: readonly string[] = ["memberlist", "udp", "send_failed"];
const UDP_TOO_SHORT: readonly string[] = ["memberlist", "udp", "too_short"];
const SEND_QUEUE_FULL: readonly string[] = ["memberlist", "udp", "send_queue_full"];

// Codes of send failures that only say the peer is gone (Bun reports ICMP refusals): logged at debug.
const PEER_GONE = new Set(["ECONNREFUSED", "EHOSTUNREACH", "ENETUNREACH", "EHOSTDOWN", "ENETDOWN"]);

class NetTransportImpl implements NetTransport {
  readonly #opts: ResolvedNetTransportOptions;
  readonly #backend: NetBackend;
  #bound: Bound = { port: 0, hosts: [], dualStack: [], listeners: [], sockets: [] };
  #handlers: TransportHandlers | null = null;
  #closed = false;
  #shutdown: Promise<void> | null = null;
  readonly #conns: Set<SocketConn> = new Set();
  readonly #dials: Set<PendingDial> = new Set();
  // Sends made while a packet handler runs wait for a macrotask: on Bun, sending from
  // inside a UDP receive callback to a socket of the same process starves timers.
  #dispatching = false;
  #deferred: DeferredSend[] = [];
  #deferredBytes = 0;
  // Log lines that input can trigger at will (failed sends to addresses strangers named,
  // empty datagrams, a full send queue), at a bounded rate.
  readonly #logs: DropLog;

  constructor(opts: ResolvedNetTransportOptions, backend: NetBackend) {
    this.#opts = opts;
    this.#backend = backend;
    this.#logs = new DropLog({ clock: opts.clock, logger: opts.logger, metrics: noopMetrics, labels: [] });
  }

  async bind(): Promise<void> {
    this.#bound = await bindAll(this.#opts, this.#backend, this.#input);
  }

  get port(): number {
    return this.#bound.port;
  }

  get bindAddrs(): readonly string[] {
    return this.#bound.hosts;
  }

  getAutoBindPort(): number {
    return this.#bound.port;
  }

  // Go NetTransport.FinalAdvertiseAddr.
  finalAdvertiseAddr(ip: string, port: number): AdvertiseAddress {
    if (ip !== "") {
      const parsed = parseIP(ip);
      if (parsed === null) throw new TypeError(`Cannot advertise "${ip}": not an IP address`);
      return { ip: formatIP(parsed), port };
    }
    if (isUnspecified(this.#opts.bindAddrs[0]!)) {
      const network = this.#backend.network;
      let interfaces: HostInterface[];
      try {
        interfaces = network.interfaces();
      } catch (err) {
        // Deno says why (no --allow-sys) in its message: pass that on.
        const why = err instanceof Error ? ` (${err.message})` : "";
        throw new Error(
          `Cannot pick an address to advertise: the network interfaces cannot be listed${why}: set "advertiseAddr" or bind a specific address`,
          { cause: err },
        );
      }
      let defaultInterface: string | null = null;
      try {
        defaultInterface = network.defaultInterface();
      } catch {
        // Unknown: no interface is preferred.
      }
      const found = getPrivateIP(interfaces, defaultInterface, !this.#bound.dualStack[0]);
      if (found === null) {
        throw new Error(
          `Cannot pick an address to advertise: no private IP address found: set "advertiseAddr" or bind a specific address`,
        );
      }
      return { ip: found, port: this.#bound.port };
    }
    return { ip: this.#bound.hosts[0]!, port: this.#bound.port };
  }

  setHandlers(handlers: TransportHandlers): void {
    if (!this.#closed) this.#handlers = handlers;
  }

  writeTo(b: Uint8Array, addr: Address): number {
    const action = `send to "${addr.addr}"`;
    if (this.#closed) throw transportClosed(action);
    const dest = parseDestination(addr.addr, action, false);
    const max = dest.family === 4 ? MAX_UDP_PAYLOAD_IPV4 : MAX_UDP_PAYLOAD_IPV6;
    if (b.length > max) {
      throw new NetError(
        "EMSGSIZE",
        `Cannot ${action}: ${b.length} bytes is more than the ${max} a datagram can carry`,
      );
    }
    const socket = this.#socketFor(dest.family as 4 | 6);
    if (socket === null) {
      throw new NetError("EAFNOSUPPORT", `Cannot ${action}: no socket is bound for IPv${dest.family}`);
    }
    const host = socket.family === 6 && dest.family === 4 ? `::ffff:${dest.host}` : dest.host;
    // A copy (never Buffer's slice(), a view): the caller may reuse its buffer, and the runtime may send later.
    const send: DeferredSend = { socket, b: new Uint8Array(b), host, port: dest.port, addr: addr.addr };
    if (this.#dispatching) {
      if (this.#deferredBytes + send.b.length > MAX_DEFERRED_SEND_BYTES) {
        this.#logs.drop(SEND_QUEUE_FULL, "queue_full", "warn", "Dropped packet: the send queue is full", { to: addr.addr });
        return this.#opts.clock.now();
      }
      this.#deferredBytes += send.b.length;
      if (this.#deferred.push(send) === 1) this.#backend.defer(this.#flush);
    } else {
      this.#send(send);
    }
    return this.#opts.clock.now();
  }

  // Go sends every packet from the first UDP socket; with sockets of both families we
  // take the first that can reach the destination.
  #socketFor(family: 4 | 6): UdpSocketHandle | null {
    const sockets = this.#bound.sockets;
    for (const s of sockets) if (s.family === family) return s;
    if (family === 4) { for (const s of sockets) if (s.dualStack) return s; }
    return null;
  }

  #send(d: DeferredSend): void {
    d.socket.send(d.b, d.host, d.port, (err) => {
      if (this.#closed) return;
      const code = errorCode(err);
      const error = toNetError(err, `send to "${d.addr}"`);
      // Rate-limited: the address may be one a stranger asked us to answer at.
      this.#logs.drop(SEND_FAILED, code, PEER_GONE.has(code) ? "debug" : "warn", `Failed to send packet to "${d.addr}"`, {
        error: error.message,
      });
      this.#handlers?.sendError?.(d.addr, error);
    });
  }

  readonly #flush = (): void => {
    const queue = this.#deferred;
    this.#deferred = [];
    this.#deferredBytes = 0;
    if (this.#closed) return;
    for (const d of queue) this.#send(d);
  };

  dialTimeout(addr: Address, timeoutMs: number): Promise<Conn> {
    const action = `dial "${addr.addr}"`;
    if (this.#closed) return Promise.reject(transportClosed(action));
    if (!(timeoutMs >= 0)) {
      return Promise.reject(
        new RangeError(`Cannot ${action}: timeout ${timeoutMs} is not a duration in milliseconds`),
      );
    }
    let dest: Destination;
    try {
      dest = parseDestination(addr.addr, action, true);
    } catch (err) {
      return Promise.reject(err);
    }
    return new Promise<Conn>((resolve, reject) => {
      const pd = new PendingDial(action, this.#dials, resolve, reject);
      if (timeoutMs < Infinity) {
        pd.timer = this.#opts.clock.setTimeout(
          () => pd.fail(new TimeoutError(`Cannot ${action}: timed out after ${timeoutMs} ms`)),
          timeoutMs,
        );
      }
      let attempt: ConnectAttempt;
      try {
        attempt = this.#backend.connect(dest.host, dest.port, joinHostPort(dest.host, dest.port));
      } catch (err) {
        pd.fail(toNetError(err, action));
        return;
      }
      pd.attempt = attempt;
      attempt.conn.then(
        (conn) => {
          if (pd.settled) {
            conn.close();
            return;
          }
          this.#track(conn);
          pd.succeed(conn);
        },
        (err: unknown) => pd.fail(toNetError(err, action)),
      );
    });
  }

  #track(conn: SocketConn): void {
    this.#conns.add(conn);
    conn.onClose((c) => this.#conns.delete(c));
  }

  readonly #input: NetInput = {
    packet: (buf, host, port) => {
      const handlers = this.#handlers;
      if (handlers === null) return;
      const timestamp = this.#opts.clock.now();
      const from = formatAddress(host, port);
      if (buf.length < 1) {
        // Go udpListen: a datagram must hold at least one byte (logged here at a bounded rate).
        this.#logs.drop(UDP_TOO_SHORT, "too_short", "error", `UDP packet too short (0 bytes) from "${from}"`);
        return;
      }
      this.#dispatching = true;
      try {
        handlers.packet({ buf: ownBytes(buf), from, timestamp });
      } catch (err) {
        this.#opts.logger.error("Packet handler threw", { from, error: err });
      } finally {
        this.#dispatching = false;
      }
    },
    stream: (conn) => {
      const handlers = this.#handlers;
      if (handlers === null) {
        conn.close();
        return;
      }
      this.#track(conn);
      try {
        handlers.stream(conn);
      } catch (err) {
        this.#opts.logger.error("Stream handler threw", { from: conn.remoteAddr, error: err });
        conn.close();
      }
    },
  };

  shutdown(): Promise<void> {
    this.#shutdown ??= this.#close();
    return this.#shutdown;
  }

  async #close(): Promise<void> {
    this.#closed = true;
    this.#handlers = null;
    this.#deferred = [];
    this.#deferredBytes = 0;
    this.#logs.close();
    for (const pd of [...this.#dials]) pd.fail(transportClosed(pd.action));
    for (const conn of [...this.#conns]) conn.close();
    await closeQuietly([...this.#bound.listeners, ...this.#bound.sockets], this.#opts.logger);
  }
}
