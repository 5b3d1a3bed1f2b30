// Copyright (c) memberlist-ts authors. SPDX-License-Identifier: MPL-2.0

/**
 * The driver of the Go peer (`tests/interop/go/peer`): real memberlist 0.2.2 nodes on real loopback sockets
 * in one Go process, driven by JSON lines. The interop tests use it for mixed Go and TypeScript clusters, the
 * cluster benchmarks to run many Go nodes beside ours. Uses only `node:` modules, so it runs the same on
 * Deno, Bun and Node.
 *
 * The process never outlives its driver: {@linkcode GoPeer.close} ends stdin (the peer then shuts its nodes
 * down and exits) and kills it after a grace period; the peer also exits on its own when our end of its
 * stdin closes, so a crashed test process leaves nothing behind; and a process `exit` hook kills whatever is
 * still running. The child and its pipes are unref'd: an unclosed peer does not keep a test process alive
 * (pending commands and waits hold timers that do).
 *
 * @example Usage
 * ```ts ignore
 * const peer = await GoPeer.start({ nodes: 3, profile: "local" });
 * try {
 *   await peer.join("all");                      // every node joins go-0
 *   await peer.waitForEvent((e) => e.event === "join" && e.observer === "go-0" && e.node === "go-2");
 *   const members = await peer.members(0);       // [{ name, addr, port, meta, state, incarnation, ... }]
 * } finally {
 *   await peer.close();
 * }
 * ```
 *
 * @module
 */

import { type ChildProcess, spawn } from "node:child_process";
import process from "node:process";
import { buildGoProgram } from "./_go.ts";

/** Where the peer's sources live, relative to the repository root. */
export const GO_PEER_PROGRAM = "tests/interop/go/peer";

/**
 * Builds the Go peer (or returns the cached binary). Slow the first time (tens of seconds): call it while a
 * test file loads, outside any per-test timeout, and pass the result as {@linkcode GoPeerOptions.binary}.
 *
 * @returns the absolute path of the binary
 * @throws {Error} when Go is missing or the build fails
 */
export function buildGoPeer(): string {
  return buildGoProgram(GO_PEER_PROGRAM);
}

/** A node's state as the peer names it. */
export type GoNodeState = "alive" | "suspect" | "dead" | "left" | "unknown";

/** Selects a node of the peer: its index or its name. Some commands also take `"all"`. */
export type GoNodeRef = number | string;

/** One of the peer's nodes, as it reported itself when ready. */
export interface GoPeerNode {
  /** The node's name (`go-0` …). */
  readonly name: string;
  /** The advertised IP. */
  readonly addr: string;
  /** The advertised (and bound) port, the same for UDP and TCP. */
  readonly port: number;
  /** `addr:port` (`[addr]:port` for IPv6), ready for a join. */
  readonly address: string;
}

/** Join, leave (dead or left) and meta updates, as an EventDelegate of one node (`observer`) saw them. */
export interface GoNodeEvent {
  readonly event: "join" | "leave" | "update";
  /** The node whose delegate fired. */
  readonly observer: string;
  /** The node the event is about. */
  readonly node: string;
  readonly addr: string;
  readonly port: number;
  /** Node meta in hex. */
  readonly meta: string;
  /** The state of the record when the event fired (`dead` or `left` for a leave). */
  readonly state: GoNodeState;
  /** The record's incarnation; absent for a node's own join while it starts. */
  readonly incarnation?: number;
  /** Wall-clock time in ms since the Unix epoch (microsecond resolution). */
  readonly t: number;
}

/** A user message received by `observer` (Delegate.NotifyMsg), over UDP or TCP. */
export interface GoMsgEvent {
  readonly event: "msg";
  readonly observer: string;
  /** The message in hex. */
  readonly data: string;
  readonly t: number;
}

/** Remote user state received in a push/pull (Delegate.MergeRemoteState). */
export interface GoMergeEvent {
  readonly event: "merge";
  readonly observer: string;
  /** The state in hex. */
  readonly data: string;
  /** Whether the push/pull was part of a join. */
  readonly join: boolean;
  readonly t: number;
}

/** An event line that the peer could not encode (should never happen). */
export interface GoErrorEvent {
  readonly event: "error";
  readonly error: string;
}

/** Every event the peer reports, besides command results. */
export type GoPeerEvent = GoNodeEvent | GoMsgEvent | GoMergeEvent | GoErrorEvent;

/** The event kinds the peer can be told to report (`--events`). */
export type GoEventKind = "join" | "leave" | "update" | "msg" | "merge";

/** The reply to one command. */
export interface GoResult {
  readonly event: "result";
  readonly id?: number;
  readonly ok: boolean;
  /** Why the command failed (with `ok: false`). */
  readonly error?: string;
  /** Command-specific fields. */
  readonly [field: string]: unknown;
}

/** One record in a node's member list. */
export interface GoMember {
  readonly name: string;
  readonly addr: string;
  readonly port: number;
  /** Meta in hex. */
  readonly meta: string;
  /** The real state of the record (0.2.2's `Node.State` is never set; the peer reads the record). */
  readonly state: GoNodeState;
  readonly incarnation: number;
  /** When the state last changed, ms since the Unix epoch. */
  readonly stateChange: number;
  /** The protocol versions the record holds: `[pMin, pMax, pCur, dMin, dMax, dCur]`. */
  readonly vsn: readonly number[];
}

/** Bytes that crossed one node's sockets (see `tests/interop/go/peer/transport.go`). */
export interface GoNodeTraffic {
  readonly name: string;
  readonly udpIn: number;
  readonly udpOut: number;
  readonly tcpIn: number;
  readonly tcpOut: number;
}

/** Resource use of the whole peer process. */
export interface GoPeerStats {
  /** getrusage(RUSAGE_SELF) user time, ms. */
  readonly cpuUserMs: number;
  /** getrusage(RUSAGE_SELF) system time, ms. */
  readonly cpuSystemMs: number;
  /** Peak resident set size, bytes. */
  readonly maxRssBytes: number;
  /** Resident set size now (`/proc/self/statm`), bytes; -1 where unknown. */
  readonly rssBytes: number;
  /** Go heap in use (`runtime.MemStats.HeapAlloc`), bytes. */
  readonly heapBytes: number;
  readonly goroutines: number;
  readonly perNode: readonly GoNodeTraffic[];
}

/** Options of {@linkcode GoPeer.start}. */
export interface GoPeerOptions {
  /** Number of nodes, named `<namePrefix>0` … @default {1} */
  readonly nodes?: number;
  /** Explicit node names (instead of `nodes` and `namePrefix`). */
  readonly names?: readonly string[];
  /** @default {"go-"} */
  readonly namePrefix?: string;
  /** Go's base config: `DefaultLANConfig`, `DefaultWANConfig` or `DefaultLocalConfig`. @default {"lan"} */
  readonly profile?: "lan" | "wan" | "local";
  /** More command-line flags, passed as they are (`["--probe-interval-ms", "200", "--key", hex]`). */
  readonly flags?: readonly string[];
  /** Which events the peer reports. @default {"all"} */
  readonly events?: "all" | "none" | readonly GoEventKind[];
  /** Keep every event for {@linkcode GoPeer.history} and for waits that look back. @default {true} */
  readonly history?: boolean;
  /** memberlist logs to stderr (`--log`); stderr is kept (its tail shows in errors). @default {false} */
  readonly log?: boolean;
  /** Keep go-metrics counters for {@linkcode GoPeer.counters} (`--metrics`). @default {false} */
  readonly metrics?: boolean;
  /** Called with every chunk of the peer's stderr, e.g. to forward it. */
  readonly onStderr?: (text: string) => void;
  /** A binary from {@linkcode buildGoPeer}; built (or taken from the cache) when absent. */
  readonly binary?: string;
  /** How long to wait for the ready line, ms. @default {30000} */
  readonly readyTimeoutMs?: number;
  /** Default timeout of commands, ms. @default {30000} */
  readonly commandTimeoutMs?: number;
}

/** Options of {@linkcode GoPeer.waitForEvent}. */
export interface WaitForEventOptions {
  /** @default {10000} */
  readonly timeoutMs?: number;
  /**
   * Look at kept events from this index of {@linkcode GoPeer.history} on (0: all of them) before waiting
   * for new ones; `eventCount` taken before an action waits only for what follows it.
   * @default {0}
   */
  readonly since?: number;
  /** Describes the event in the timeout error. */
  readonly what?: string;
}

/** Bytes to hex, for command payloads. */
export function toHex(bytes: Uint8Array | string): string {
  const b = typeof bytes === "string" ? new TextEncoder().encode(bytes) : bytes;
  let s = "";
  for (const x of b) s += x.toString(16).padStart(2, "0");
  return s;
}

/** Hex (as in events) to bytes. */
export function fromHex(hex: string): Uint8Array {
  if (hex.length % 2 !== 0 || !/^[0-9a-f]*$/i.test(hex)) throw new SyntaxError(`Cannot parse hex "${hex}"`);
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(hex.slice(2 * i, 2 * i + 2), 16);
  return out;
}

const STDERR_KEEP = 16 * 1024;

/** Peers still running, killed when this process exits. */
const live = new Set<ChildProcess>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on("exit", () => {
    for (const child of live) {
      try {
        child.kill("SIGKILL");
      } catch {
        // already gone
      }
    }
  });
}

interface Pending {
  resolve(r: GoResult): void;
  reject(e: Error): void;
  timer: ReturnType<typeof setTimeout>;
}

interface Waiter {
  check(e: GoPeerEvent): void;
  fail(e: Error): void;
}

/** A running Go peer process. Start one with {@linkcode GoPeer.start}; always {@linkcode GoPeer.close} it. */
export class GoPeer {
  /** The nodes, in index order. */
  readonly nodes: readonly GoPeerNode[];
  /** The process id. */
  readonly pid: number;

  readonly #child: ChildProcess;
  readonly #commandTimeoutMs: number;
  readonly #keepHistory: boolean;
  readonly #history: GoPeerEvent[] = [];
  readonly #listeners = new Set<(e: GoPeerEvent) => void>();
  readonly #waiters = new Set<Waiter>();
  readonly #pending = new Map<number, Pending>();
  #nextId = 1;
  #stderr = "";
  #exited: { code: number | null; signal: string | null } | undefined;
  readonly #exitPromise: Promise<void>;
  #closing = false;

  private constructor(
    child: ChildProcess,
    closed: Promise<void>,
    nodes: readonly GoPeerNode[],
    pid: number,
    options: { commandTimeoutMs: number; keepHistory: boolean },
  ) {
    this.#child = child;
    this.#exitPromise = closed;
    this.nodes = nodes;
    this.pid = pid;
    this.#commandTimeoutMs = options.commandTimeoutMs;
    this.#keepHistory = options.keepHistory;
  }

  /**
   * Builds (cached) and spawns the peer, and waits until every node is up.
   *
   * @param options nodes, config profile, extra flags, …
   * @returns the running peer
   * @throws {Error} when the build fails, the peer exits early (its stderr is in the message) or is not
   *   ready in time
   */
  static async start(options: GoPeerOptions = {}): Promise<GoPeer> {
    const bin = options.binary ?? buildGoPeer();
    const args: string[] = [];
    if (options.names !== undefined) args.push("--names", options.names.join(","));
    else if (options.nodes !== undefined) args.push("--nodes", String(options.nodes));
    if (options.namePrefix !== undefined) args.push("--name-prefix", options.namePrefix);
    if (options.profile !== undefined) args.push("--profile", options.profile);
    if (options.events !== undefined) {
      args.push("--events", typeof options.events === "string" ? options.events : options.events.join(","));
    }
    if (options.log) args.push("--log");
    if (options.metrics) args.push("--metrics");
    args.push(...(options.flags ?? []));

    installExitHook();
    const child = spawn(bin, args, { stdio: ["pipe", "pipe", "pipe"] });
    live.add(child);
    child.once("exit", () => live.delete(child));
    // Without these, a write after the peer died would throw asynchronously.
    child.stdin!.on("error", () => {});
    child.on("error", () => {});

    let peer: GoPeer | undefined;
    let stderr = "";
    const early: GoPeerEvent[] = [];
    let lineBuf = "";
    const readyTimeout = options.readyTimeoutMs ?? 30_000;
    let onReady: ((v: { nodes: GoPeerNode[]; pid: number }) => void) | undefined;
    let onFail: ((e: Error) => void) | undefined;
    const ready = new Promise<{ nodes: GoPeerNode[]; pid: number }>((resolve, reject) => {
      onReady = resolve;
      onFail = reject;
    });
    const failStart = (why: string): void => {
      onFail?.(new Error(`Cannot start the Go peer: ${why}${stderrTail(stderr)}`));
    };

    child.stderr!.setEncoding("utf8");
    child.stderr!.on("data", (text: string) => {
      options.onStderr?.(text);
      if (peer) peer.#appendStderr(text);
      else stderr = (stderr + text).slice(-STDERR_KEEP);
    });
    child.stdout!.setEncoding("utf8");
    child.stdout!.on("data", (text: string) => {
      lineBuf += text;
      let nl: number;
      while ((nl = lineBuf.indexOf("\n")) >= 0) {
        const line = lineBuf.slice(0, nl);
        lineBuf = lineBuf.slice(nl + 1);
        if (line.trim() === "") continue;
        let msg: { event?: unknown } & Record<string, unknown>;
        try {
          msg = JSON.parse(line) as typeof msg;
        } catch {
          const e: GoErrorEvent = { event: "error", error: `Cannot parse a line from the Go peer: ${line}` };
          if (peer) peer.#dispatch(e);
          else early.push(e);
          continue;
        }
        if (peer) {
          peer.#onLine(msg);
        } else if (msg.event === "ready") {
          const nodes = (msg["nodes"] as { name: string; addr: string; port: number }[]).map((n) =>
            Object.freeze({ ...n, address: n.addr.includes(":") ? `[${n.addr}]:${n.port}` : `${n.addr}:${n.port}` })
          );
          onReady?.({ nodes, pid: msg["pid"] as number });
        } else {
          early.push(msg as unknown as GoPeerEvent);
        }
      }
    });
    child.once("error", (err) => failStart(`cannot spawn ${bin}: ${err.message}`));
    // "close" comes after the process exited and its output was all read, so no result is lost.
    const closed = new Promise<void>((resolve) => {
      child.once("close", (code: number | null, signal: string | null) => {
        if (peer) peer.#onExit(code, signal);
        else failStart(`it exited (code ${code}, signal ${signal}) before it was ready`);
        resolve();
      });
    });

    const timer = setTimeout(() => failStart(`not ready after ${readyTimeout} ms`), readyTimeout);
    let info: { nodes: GoPeerNode[]; pid: number };
    try {
      info = await ready;
    } catch (err) {
      live.delete(child);
      child.kill("SIGKILL");
      destroyStdio(child);
      throw err;
    } finally {
      clearTimeout(timer);
    }
    peer = new GoPeer(child, closed, Object.freeze(info.nodes), info.pid, {
      commandTimeoutMs: options.commandTimeoutMs ?? 30_000,
      keepHistory: options.history ?? true,
    });
    peer.#stderr = stderr;
    for (const e of early) peer.#dispatch(e);
    setRef(child, false);
    return peer;
  }

  /** The events kept so far (all of them unless `history: false`), oldest first. */
  get history(): readonly GoPeerEvent[] {
    return this.#history;
  }

  /** The number of events kept so far: pass it as `since` to wait only for later ones. */
  get eventCount(): number {
    return this.#history.length;
  }

  /** What the peer wrote on stderr (the last 16 KiB). */
  get stderr(): string {
    return this.#stderr;
  }

  /** Whether the process has exited. */
  get exited(): boolean {
    return this.#exited !== undefined;
  }

  /** The node at an index or with a name. */
  node(ref: number | string): GoPeerNode {
    const n = typeof ref === "number" ? this.nodes[ref] : this.nodes.find((x) => x.name === ref);
    if (n === undefined) throw new RangeError(`Cannot find Go node ${JSON.stringify(ref)}`);
    return n;
  }

  /**
   * Calls `listener` with every event from now on.
   *
   * @returns a function that removes the listener
   */
  on(listener: (event: GoPeerEvent) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /**
   * Waits for an event matching `predicate`, looking first at the kept events from `since` on.
   *
   * @param predicate the test
   * @param options a timeout in ms, or {@linkcode WaitForEventOptions}
   * @returns the first matching event
   * @throws {Error} on timeout, or when the peer exits first
   */
  waitForEvent<E extends GoPeerEvent = GoPeerEvent>(
    predicate: (event: GoPeerEvent) => boolean,
    options: number | WaitForEventOptions = {},
  ): Promise<E> {
    const opts = typeof options === "number" ? { timeoutMs: options } : options;
    for (let i = opts.since ?? 0; i < this.#history.length; i++) {
      const e = this.#history[i]!;
      if (predicate(e)) return Promise.resolve(e as E);
    }
    if (this.#exited) return Promise.reject(this.#exitError("waiting for an event"));
    const timeoutMs = opts.timeoutMs ?? 10_000;
    return new Promise<E>((resolve, reject) => {
      const waiter: Waiter = {
        check: (e) => {
          if (!predicate(e)) return;
          done();
          resolve(e as E);
        },
        fail: (err) => {
          done();
          reject(err);
        },
      };
      const timer = setTimeout(() => {
        done();
        reject(new Error(`Timed out after ${timeoutMs} ms waiting for ${opts.what ?? "an event"} from the Go peer`));
      }, timeoutMs);
      const done = (): void => {
        clearTimeout(timer);
        this.#waiters.delete(waiter);
      };
      this.#waiters.add(waiter);
    });
  }

  /**
   * Sends one command and waits for its result. Resolves with failed results too (`ok: false`); the
   * helpers below throw on them instead.
   *
   * @param cmd the command object, `{ cmd: "members", node: 0 }`; its `id` is replaced
   * @param timeoutMs how long to wait for the result
   * @returns the result line
   * @throws {Error} on timeout, or when the peer has exited
   */
  command(cmd: { readonly cmd: string; readonly [field: string]: unknown }, timeoutMs?: number): Promise<GoResult> {
    if (this.#exited || this.#closing) {
      return Promise.reject(this.#exitError(`sending ${cmd.cmd}`));
    }
    const id = this.#nextId++;
    const ms = timeoutMs ?? this.#commandTimeoutMs;
    return new Promise<GoResult>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(id);
        reject(new Error(`Timed out after ${ms} ms waiting for the Go peer to answer ${cmd.cmd}${stderrTail(this.#stderr)}`));
      }, ms);
      this.#pending.set(id, { resolve, reject, timer });
      this.#child.stdin!.write(`${JSON.stringify({ ...cmd, id })}\n`);
    });
  }

  async #ok(cmd: { readonly cmd: string; readonly [field: string]: unknown }, timeoutMs?: number): Promise<GoResult> {
    const r = await this.command(cmd, timeoutMs);
    if (!r.ok) throw new Error(`Go peer command ${cmd.cmd} failed: ${r.error ?? "no reason given"}`);
    return r;
  }

  /**
   * Has a node (or `"all"`) join the given addresses (`ip:port`), by default node 0's.
   *
   * @returns the number of successful contacts, summed over the joining nodes
   */
  async join(node: GoNodeRef, addrs?: readonly string[], timeoutMs?: number): Promise<number> {
    const r = await this.#ok({ cmd: "join", node, ...(addrs ? { addrs } : {}) }, timeoutMs);
    return r["joined"] as number;
  }

  /** A node's member list: alive and suspect records, and with `all` the dead and left ones too. */
  async members(node: GoNodeRef, options: { all?: boolean } = {}): Promise<GoMember[]> {
    const r = await this.#ok({ cmd: "members", node, all: options.all ?? false });
    return r["members"] as GoMember[];
  }

  /** Leave (broadcast a leave and wait up to `timeoutMs` for it to go out), then shut down unless told not to. */
  async leave(node: GoNodeRef, timeoutMs = 5000, options: { shutdown?: boolean } = {}): Promise<void> {
    await this.#ok({ cmd: "leave", node, timeoutMs, shutdown: options.shutdown ?? true }, timeoutMs + 10_000);
  }

  /** Shuts a node (or `"all"`) down without a leave: to the others it just dies. */
  async kill(node: GoNodeRef): Promise<void> {
    await this.#ok({ cmd: "shutdown", node });
  }

  /** Sets a node's meta and calls UpdateNode, waiting up to `timeoutMs` for the broadcast. */
  async updateMeta(node: GoNodeRef, meta: Uint8Array | string, timeoutMs = 5000): Promise<void> {
    await this.#ok({ cmd: "update-meta", node, meta: toHex(meta), timeoutMs }, timeoutMs + 10_000);
  }

  /** Sends a user message from a node to a member by name, over TCP (`reliable`) or UDP. */
  async send(node: GoNodeRef, to: string, data: Uint8Array | string, options: { reliable?: boolean } = {}): Promise<void> {
    await this.#ok({ cmd: "send", node, to, data: toHex(data), reliable: options.reliable ?? false });
  }

  /** Queues a user broadcast on a node (or `"all"`), piggybacked on its gossip. */
  async broadcast(node: GoNodeRef, data: Uint8Array | string): Promise<void> {
    await this.#ok({ cmd: "broadcast", node, data: toHex(data) });
  }

  /** Sets what a node (or `"all"`) sends as user state in push/pulls (Delegate.LocalState). */
  async setLocalState(node: GoNodeRef, data: Uint8Array | string): Promise<void> {
    await this.#ok({ cmd: "local-state", node, data: toHex(data) });
  }

  /** A node's Lifeguard health score (0 is healthy). */
  async health(node: GoNodeRef): Promise<number> {
    const r = await this.#ok({ cmd: "health", node });
    return r["score"] as number;
  }

  /**
   * Loses every datagram a node (or `"all"`) sends or receives, while `on`. With `addrs` (`"ip:port"`), only
   * the datagrams exchanged with those addresses: `on` adds them to the node's list, `!on` takes them off.
   */
  async dropUdp(node: GoNodeRef, on: boolean, options: { addrs?: readonly string[] } = {}): Promise<void> {
    await this.#ok({ cmd: "drop-udp", node, on, ...(options.addrs?.length ? { addrs: options.addrs } : {}) });
  }

  /**
   * Holds each datagram a node (or `"all"`) receives back for `delayMs` (0: off). With `streams`, inbound
   * connections too: otherwise memberlist's TCP fallback ping still reaches the node in time and it is never
   * suspected (unless the prober runs with `--disable-tcp-pings`).
   */
  async slow(node: GoNodeRef, delayMs: number, options: { streams?: boolean } = {}): Promise<void> {
    await this.#ok({ cmd: "slow", node, delayMs, streams: options.streams ?? false });
  }

  /**
   * Changes a node's (or every node's) keyring: install a key, make it the primary, remove it, or just list.
   *
   * @returns the keys (hex, primary first) and the primary after the change, as one node sees them
   */
  async keyring(
    node: GoNodeRef,
    op: "install" | "use" | "remove" | "list",
    key?: Uint8Array,
  ): Promise<{ keys: string[]; primary: string }> {
    const r = await this.#ok({ cmd: "keyring", node, op, ...(key ? { key: toHex(key) } : {}) });
    return { keys: r["keys"] as string[], primary: r["primary"] as string };
  }

  /**
   * The go-metrics counters of the whole process, summed over its nodes (memberlist 0.2.2 has no metric
   * labels): `memberlist.msg.suspect` counts every alive -> suspect transition any node made. Needs
   * `metrics: true`.
   *
   * @returns counter name (`memberlist.msg.suspect`) -> total; a counter never incremented is absent
   */
  async counters(): Promise<Record<string, number>> {
    const r = await this.#ok({ cmd: "counters" });
    return r["counters"] as Record<string, number>;
  }

  /** CPU time, heap and per-node socket traffic of the peer process. */
  async stats(): Promise<GoPeerStats> {
    const r = await this.#ok({ cmd: "stats" });
    return {
      cpuUserMs: r["cpuUserMs"] as number,
      cpuSystemMs: r["cpuSystemMs"] as number,
      maxRssBytes: r["maxRssBytes"] as number,
      rssBytes: (r["rssBytes"] as number | undefined) ?? -1,
      heapBytes: r["heapBytes"] as number,
      goroutines: r["goroutines"] as number,
      perNode: r["perNode"] as GoNodeTraffic[],
    };
  }

  /**
   * Stops the peer: ends its stdin (it lets running commands finish, shuts its nodes down without a leave
   * and exits), then kills it if it is still running after `graceMs`. Safe to call more than once.
   */
  async close(graceMs = 10_000): Promise<void> {
    this.#closing = true;
    if (!this.#exited) {
      // Keep this process alive until the peer is gone.
      setRef(this.#child, true);
      this.#child.stdin!.end();
      let timer: ReturnType<typeof setTimeout> | undefined;
      const killed = new Promise<void>((resolve) => {
        timer = setTimeout(() => {
          this.#child.kill("SIGKILL");
          resolve();
        }, graceMs);
      });
      await Promise.race([this.#exitPromise, killed]);
      clearTimeout(timer);
      await this.#exitPromise;
    }
    destroyStdio(this.#child);
  }

  #appendStderr(text: string): void {
    this.#stderr = (this.#stderr + text).slice(-STDERR_KEEP);
  }

  #onLine(msg: { event?: unknown } & Record<string, unknown>): void {
    if (msg.event === "result") {
      const id = msg["id"];
      const p = typeof id === "number" ? this.#pending.get(id) : undefined;
      if (p) {
        this.#pending.delete(id as number);
        clearTimeout(p.timer);
        p.resolve(msg as unknown as GoResult);
      }
      return;
    }
    this.#dispatch(msg as unknown as GoPeerEvent);
  }

  #dispatch(e: GoPeerEvent): void {
    if (this.#keepHistory) this.#history.push(e);
    for (const l of this.#listeners) l(e);
    for (const w of [...this.#waiters]) w.check(e);
  }

  #exitError(what: string): Error {
    const how = this.#exited
      ? `it exited (code ${this.#exited.code}, signal ${this.#exited.signal})`
      : "it is closing";
    return new Error(`Cannot go on ${what} with the Go peer: ${how}${stderrTail(this.#stderr)}`);
  }

  #onExit(code: number | null, signal: string | null): void {
    this.#exited = { code, signal };
    const err = this.#exitError("waiting for an answer");
    for (const [id, p] of this.#pending) {
      clearTimeout(p.timer);
      this.#pending.delete(id);
      p.reject(err);
    }
    for (const w of [...this.#waiters]) w.fail(err);
  }
}

function stderrTail(stderr: string): string {
  const tail = stderr.trim();
  if (tail === "") return "";
  return `\n--- Go peer stderr (tail) ---\n${tail.slice(-4000)}`;
}

/** Whether the child and its pipes keep this process's event loop alive. */
function setRef(child: ChildProcess, ref: boolean): void {
  if (ref) child.ref();
  else child.unref();
  for (const s of [child.stdin, child.stdout, child.stderr]) {
    const h = s as unknown as { ref?: () => void; unref?: () => void } | null;
    if (ref) h?.ref?.();
    else h?.unref?.();
  }
}

function destroyStdio(child: ChildProcess): void {
  child.stdin?.destroy();
  child.stdout?.destroy();
  child.stderr?.destroy();
}
