// Copyright (c) memberlist-ts authors. SPDX-License-Identifier: MPL-2.0
/**
 * The agent: one memberlist node run as a process, as `serf agent` runs a
 * serf node. It joins a cluster (retrying if asked), gossips its tags in serf's
 * format, writes events and logs to the console, serves the HTTP API and the
 * status page, and leaves gracefully on SIGTERM or SIGINT.
 *
 * Two listeners: the RPC listener on loopback (default `127.0.0.1:7373`, as
 * serf's RPC) serves everything, keyring changes, join and leave included;
 * the optional HTTP listener (`httpAddr`) serves only the read-only routes, so
 * it can face a network.
 *
 * @module
 */

import { readFile, rename, writeFile } from "node:fs/promises";
import { apiHandler, memberJSON } from "../lib/_http_api.ts";
import { parseIP } from "../lib/_ip.ts";
import { type Config, defaultLANConfig, defaultLocalConfig, defaultWANConfig } from "../lib/config.ts";
import { Keyring } from "../lib/keyring.ts";
import { LogFeed } from "../lib/http.ts";
import { formatFields, type LogFields, type Logger } from "../lib/logging.ts";
// From the package entry: it installs the default (UDP/TCP) transport.
import { Memberlist } from "../mod.ts";
import { splitHostPort } from "../lib/node.ts";
import { PrometheusMetrics } from "../lib/prometheus.ts";
import { encodeTags } from "../lib/tags.ts";
import { type HttpServer, serve } from "./serve.ts";
import { exitProcess, onStopSignals } from "./signals.ts";

/** Log levels, least severe first. */
export type LogLevel = "debug" | "info" | "warn" | "error";

/** Options of {@linkcode startAgent} (the `memberlist agent` flags). */
export interface AgentOptions {
  /** Node name. @default {the host name} */
  name?: string;
  /** `host:port` to bind gossip (UDP and TCP) to. @default {"0.0.0.0:7946"} */
  bind?: string;
  /** `host:port` to advertise, for NAT. @default {picked from the bind address} */
  advertise?: string;
  /** Addresses to join at start; the agent fails to start when none answers. */
  join?: readonly string[];
  /** Addresses to keep trying to join in the background until one answers. */
  retryJoin?: readonly string[];
  /** Wait between retries, ms. @default {30000} */
  retryInterval?: number;
  /** Most retries; 0 retries forever. @default {0} */
  retryMax?: number;
  /** Encryption key, base64 (16, 24 or 32 bytes). */
  encrypt?: string;
  /**
   * Keyring file: a JSON array of base64 keys, the first one primary (serf's
   * format). Read at start, written after every key change; created with
   * `encrypt` when missing.
   */
  keyringFile?: string;
  /** Cluster label. */
  label?: string;
  /** Tags, gossiped as metadata in serf's format. */
  tags?: Readonly<Record<string, string>>;
  /** Timing profile. @default {"lan"} */
  profile?: "lan" | "wan" | "local";
  /** Least severe level logged. @default {"info"} */
  logLevel?: LogLevel;
  /** Write events and logs as JSON lines instead of text. @default {false} */
  logJson?: boolean;
  /** `host:port` of the RPC listener; must be loopback. @default {"127.0.0.1:7373"} */
  rpcAddr?: string;
  /** `host:port` of a read-only HTTP listener (status page, members, metrics, events). */
  httpAddr?: string;
  /** Longest wait for a graceful leave, ms. @default {5000} */
  leaveTimeout?: number;
  /** Leave gracefully on SIGTERM and SIGINT, then exit. @default {true} */
  handleSignals?: boolean;
  /** Where event and log lines go. @default {console.log} */
  write?: (line: string) => void;
  /** Configuration fields to set beyond these options. */
  config?: Partial<Config>;
}

const LEVELS: Record<LogLevel, number> = { debug: 0, info: 1, warn: 2, error: 3 };
const PREFIX: Record<LogLevel, string> = { debug: "[DEBUG]", info: "[INFO]", warn: "[WARN]", error: "[ERR]" };

/** A running agent. */
export interface Agent {
  /** The node. */
  readonly memberlist: Memberlist;
  /** The RPC listener (loopback, control routes included). */
  readonly rpc: HttpServer;
  /** The read-only HTTP listener, when `httpAddr` was given. */
  readonly http: HttpServer | null;
  /** The metrics served at `/metrics`. */
  readonly metrics: PrometheusMetrics;
  /** The log feed (`monitor` follows it). */
  readonly logs: LogFeed;
  /** Resolves when the agent has stopped. */
  readonly stopped: Promise<void>;
  /** Leaves gracefully, then stops. */
  leave(): Promise<void>;
  /** Stops without leaving (the others will see a failure). */
  shutdown(): Promise<void>;
}

function hostPort(field: string, text: string, defaultPort: number): { host: string; port: number } {
  let parsed: { host: string; port: number };
  try {
    parsed = splitHostPort(text, defaultPort);
  } catch (err) {
    throw new TypeError(`Invalid option "${field}": ${err instanceof Error ? err.message : err}`);
  }
  if (parseIP(parsed.host) === null) {
    throw new TypeError(
      `Invalid option "${field}": expected an IP address and port such as "127.0.0.1:7373", got "${text}"`,
    );
  }
  return parsed;
}

function decodeBase64Key(field: string, text: string): Uint8Array {
  try {
    return Uint8Array.from(atob(text.trim()), (c) => c.charCodeAt(0));
  } catch {
    throw new TypeError(`Invalid option "${field}": not base64`);
  }
}

async function readKeyring(path: string): Promise<Uint8Array[] | null> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (err) {
    if ((err as { code?: string }).code === "ENOENT") return null;
    throw new Error(`Cannot read keyring file "${path}": ${err instanceof Error ? err.message : err}`, {
      cause: err,
    });
  }
  let keys: unknown;
  try {
    keys = JSON.parse(text);
  } catch (err) {
    throw new SyntaxError(`Cannot parse keyring file "${path}": not JSON`, { cause: err });
  }
  if (!Array.isArray(keys) || keys.length === 0 || !keys.every((k) => typeof k === "string")) {
    throw new TypeError(`Cannot use keyring file "${path}": expected a non-empty JSON array of base64 keys`);
  }
  return keys.map((k: string, i) => decodeBase64Key(`keyringFile[${i}]`, k));
}

async function writeKeyring(path: string, keyring: Keyring): Promise<void> {
  const b64 = (k: Uint8Array) => btoa(String.fromCharCode(...k));
  const primary = keyring.getPrimaryKey();
  const keys = keyring.getKeys();
  // The primary key first, as serf writes it.
  const ordered = primary == null ? keys : [primary, ...keys.filter((k) => b64(k) !== b64(primary))];
  const tmp = `${path}.tmp`;
  await writeFile(tmp, `${JSON.stringify(ordered.map(b64), null, 2)}\n`, { mode: 0o600 });
  await rename(tmp, path);
}

/**
 * Starts an agent.
 *
 * @param options The agent's settings.
 * @returns The running agent.
 * @throws {TypeError} When an option is malformed.
 * @throws {JoinError} When `join` was given and no address answered.
 *
 * @example Usage
 * ```ts
 * import { startAgent } from "@gossip/memberlist/agent";
 * import assert from "node:assert/strict";
 *
 * const lines: string[] = [];
 * const a = await startAgent({ name: "a", bind: "127.0.0.1:0", rpcAddr: "127.0.0.1:0", profile: "local", handleSignals: false, write: (l) => lines.push(l) });
 * const b = await startAgent({
 *   name: "b", bind: "127.0.0.1:0", rpcAddr: "127.0.0.1:0", profile: "local", handleSignals: false, write: () => {},
 *   join: [a.memberlist.localNode().address], tags: { role: "web" },
 * });
 * const { members } = await (await fetch(`${a.rpc.url}/v1/members`)).json();
 * assert.deepEqual(members.map((m: { name: string; tags?: object }) => [m.name, m.tags]), [["a", {}], ["b", { role: "web" }]]);
 * await b.leave();
 * await a.leave();
 * assert.ok(lines.some((l) => l.includes("EventMemberJoin: b")));
 * ```
 */
export async function startAgent(options: AgentOptions = {}): Promise<Agent> {
  const write = options.write ?? ((line: string) => globalThis.console.log(line));
  const level = options.logLevel ?? "info";
  if (!(level in LEVELS)) {
    throw new TypeError(`Invalid option "logLevel": expected debug, info, warn or error, got "${level}"`);
  }
  const min = LEVELS[level];
  const json = options.logJson ?? false;
  const bind = hostPort("bind", options.bind ?? "0.0.0.0:7946", 7946);
  const advertise = options.advertise === undefined
    ? null
    : hostPort("advertise", options.advertise, bind.port);
  const rpcAddr = hostPort("rpcAddr", options.rpcAddr ?? "127.0.0.1:7373", 7373);
  const rpcIP = parseIP(rpcAddr.host)!;
  const loopback = (rpcIP.length === 4 && rpcIP[0] === 127) ||
    (rpcIP.length === 16 && rpcIP.every((b, i) => b === (i === 15 ? 1 : 0)));
  if (!loopback) {
    throw new RangeError(
      `Invalid option "rpcAddr": expected a loopback address (it serves keyring changes), got "${options.rpcAddr}": use "httpAddr" for a listener other hosts may reach (read-only)`,
    );
  }
  const httpAddr = options.httpAddr === undefined ? null : hostPort("httpAddr", options.httpAddr, 7374);
  const profile = options.profile ?? "lan";
  const base = profile === "wan"
    ? defaultWANConfig()
    : profile === "local"
    ? defaultLocalConfig()
    : profile === "lan"
    ? defaultLANConfig()
    : null;
  if (base === null) {
    throw new TypeError(`Invalid option "profile": expected lan, wan or local, got "${profile}"`);
  }

  // Logs: to the console (text like serf's, or JSON lines) and to the feed `monitor` follows.
  const stamp = () => new Date().toISOString();
  const line = (lvl: LogLevel) => (message: string, fields?: LogFields) => {
    if (LEVELS[lvl] < min) return;
    if (json) {
      write(
        JSON.stringify({
          time: stamp(),
          level: lvl,
          message,
          ...(fields === undefined ? {} : { fields: plain(fields) }),
        }),
      );
    } else {write(
        `${stamp()} ${PREFIX[lvl]} memberlist: ${message}${fields === undefined ? "" : formatFields(fields)}`,
      );}
  };
  const toConsole: Logger = {
    debug: line("debug"),
    info: line("info"),
    warn: line("warn"),
    error: line("error"),
  };
  const logs = new LogFeed(toConsole);
  const metrics = new PrometheusMetrics();

  // Keys: the keyring file wins; `encrypt` creates it (or is added to it as primary).
  let keyring: Keyring | null = null;
  const fileKeys = options.keyringFile === undefined ? null : await readKeyring(options.keyringFile);
  const given = options.encrypt === undefined ? null : decodeBase64Key("encrypt", options.encrypt);
  if (fileKeys !== null) keyring = Keyring.create(fileKeys.slice(1), fileKeys[0]!);
  if (given !== null) {
    if (keyring === null) keyring = Keyring.create([], given);
    else if (
      fileKeys === null ||
      !fileKeys.some((k) => k.length === given.length && k.every((b, i) => b === given[i]))
    ) {
      keyring.addKey(given);
    }
  }
  if (keyring !== null && options.keyringFile !== undefined && fileKeys === null) {
    await writeKeyring(options.keyringFile, keyring);
  }

  const tags = options.tags ?? {};
  const config: Partial<Config> = {
    ...base,
    ...(options.name === undefined ? {} : { name: options.name }),
    bindAddr: bind.host,
    bindPort: bind.port,
    ...(advertise === null ? {} : { advertiseAddr: advertise.host, advertisePort: advertise.port }),
    ...(options.label === undefined ? {} : { label: options.label }),
    keyring,
    delegate: { nodeMeta: () => encodeTags(tags) },
    logger: logs,
    metrics,
    ...options.config,
  };
  const ml = await Memberlist.create(config);
  const name = ml.localNode().name;

  // Events, as serf's agent prints them.
  const event = (label: string) => (e: { node: Parameters<typeof memberJSON>[0] }) => {
    if (json) write(JSON.stringify({ time: stamp(), event: label, node: memberJSON(e.node) }));
    else write(`${stamp()} [INFO] agent: ${label}: ${e.node.name} ${e.node.address}`);
  };
  ml.addEventListener("join", event("EventMemberJoin"));
  ml.addEventListener(
    "leave",
    (e) => event(e.node.state === 3 ? "EventMemberLeave" : "EventMemberFailed")(e),
  );
  ml.addEventListener("update", event("EventMemberUpdate"));
  ml.addEventListener("suspect", event("EventMemberSuspect"));

  let resolveStopped!: () => void;
  const stopped = new Promise<void>((r) => (resolveStopped = r));
  let rpc: HttpServer | null = null;
  let http: HttpServer | null = null;
  let removeSignals = () => {};
  let stopping: Promise<void> | null = null;
  /** Settles when the graceful leave is over (the leave request answers then). */
  let left: Promise<void> = Promise.resolve();
  const stop = (graceful: boolean): Promise<void> =>
    stopping ??= (async () => {
      retry.abort();
      if (graceful) {
        logs.info("Leaving the cluster", { node: name });
        left = ml.leave(options.leaveTimeout ?? 5000).catch((err) => {
          logs.error("Failed to leave gracefully", { error: err });
        });
        await left;
      }
      // Let the HTTP reply to a leave request go out before the listener closes.
      await new Promise((r) => setTimeout(r, 50));
      await Promise.allSettled([rpc?.close(), http?.close()]);
      await ml.shutdown();
      logs.info("Agent stopped", { node: name });
      removeSignals();
      resolveStopped();
    })();

  const retry = new AbortController();
  try {
    const control = {
      leave: () => {
        // Answer once the leave has gone out; the listener closes a moment later.
        void stop(true);
        return left;
      },
      ...(options.keyringFile === undefined
        ? {}
        : { keyringChanged: (k: Keyring) => writeKeyring(options.keyringFile!, k) }),
    };
    rpc = await serve(apiHandler(ml, { metrics, logs, keepAlive: 5000 }, control), {
      hostname: rpcAddr.host,
      port: rpcAddr.port,
    });
    if (httpAddr !== null) {
      http = await serve(apiHandler(ml, { metrics, logs, keepAlive: 5000 }, null), {
        hostname: httpAddr.host,
        port: httpAddr.port,
      });
    }
    logs.info("Agent started", {
      node: name,
      gossip: ml.localNode().address,
      rpc: rpc.url,
      ...(http === null ? {} : { http: http.url }),
      encrypted: keyring !== null,
    });
    if (options.join !== undefined && options.join.length > 0) {
      const n = await ml.join(options.join);
      logs.info("Joined", { nodes: n });
    }
  } catch (err) {
    await Promise.allSettled([rpc?.close(), http?.close()]);
    await ml.shutdown();
    throw err;
  }
  if (options.retryJoin !== undefined && options.retryJoin.length > 0) {
    void retryJoin(
      ml,
      options.retryJoin,
      options.retryInterval ?? 30_000,
      options.retryMax ?? 0,
      logs,
      retry.signal,
    );
  }
  if (options.handleSignals ?? true) {
    // First signal: leave gracefully and stop. A second one while leaving: exit at once.
    removeSignals = onStopSignals(["SIGTERM", "SIGINT"], (signal) => {
      if (stopping !== null) {
        logs.warn(`${signal} again: exiting without waiting for the leave`);
        exitProcess(signal === "SIGINT" ? 130 : 143);
        return;
      }
      logs.info(`Caught ${signal}: leaving`);
      void stop(true);
    });
  }
  return {
    memberlist: ml,
    rpc: rpc!,
    http,
    metrics,
    logs,
    stopped,
    leave: () => stop(true),
    shutdown: () => stop(false),
  };
}

async function retryJoin(
  ml: Memberlist,
  addresses: readonly string[],
  interval: number,
  max: number,
  logs: Logger,
  signal: AbortSignal,
): Promise<void> {
  for (let attempt = 1; !signal.aborted; attempt++) {
    try {
      const n = await ml.join(addresses, { signal });
      logs.info("Join completed", { nodes: n, attempt });
      return;
    } catch (err) {
      if (signal.aborted) return;
      logs.warn("Join failed", { attempt, error: err });
      if (max > 0 && attempt >= max) {
        logs.error("Giving up joining", { attempts: attempt });
        return;
      }
    }
    await new Promise<void>((resolve) => {
      const t = setTimeout(resolve, interval);
      signal.addEventListener("abort", () => (clearTimeout(t), resolve()), { once: true });
    });
  }
}

function plain(fields: LogFields): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(fields)) {
    out[k] = v instanceof Error
      ? v.message
      : v instanceof Uint8Array
      ? `0x${[...v].map((b) => b.toString(16).padStart(2, "0")).join("")}`
      : v;
  }
  return out;
}
