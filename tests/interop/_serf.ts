// Copyright (c) memberlist-ts authors. SPDX-License-Identifier: MPL-2.0

/**
 * Runs real `serf agent` processes on loopback for the serf interop tests, and asks them who they see through
 * `serf members -format json`. Uses only `node:` modules, so it runs the same on Deno, Bun and Node.
 *
 * Needs the `serf` command on PATH (Debian's package `serf`: serf 0.9.4 built against memberlist 0.2.2; it
 * reports itself as "0.8.2-dev", agent protocol 5, understands back to 2). `MEMBERLIST_SERF` names another
 * binary.
 *
 * @module
 */

import { type ChildProcess, execFile, spawn, spawnSync } from "node:child_process";
import * as dgram from "node:dgram";
import * as net from "node:net";
import process from "node:process";

const SKIP_REASON = "serf interop tests (the serf command is missing)";

/** The serf binary. */
export const SERF: string = process.env["MEMBERLIST_SERF"] ?? "serf";

let serfVersionCache: string | null | undefined;

/**
 * The first line of `serf version` ("0.8.2-dev" for Debian's serf 0.9.4), or null when serf does not run.
 *
 * @returns the version line, or null
 */
export function serfVersion(): string | null {
  if (serfVersionCache === undefined) {
    const r = spawnSync(SERF, ["version"], { encoding: "utf8", timeout: 10_000 });
    serfVersionCache = r.status === 0 ? (r.stdout.split("\n")[0] ?? "").trim() : null;
  }
  return serfVersionCache;
}

let skipAnnounced = false;

/**
 * For tests: decides whether the serf interop tests run, as `requireGoOrSkip()` does for Go. Pass the result
 * as the `skip` option of `describe` or `it`.
 *
 * @returns false when serf runs; otherwise, outside CI, the skip reason (and one loud line on stderr)
 * @throws {Error} when serf is missing and the environment variable CI is set: missing serf fails CI
 */
export function requireSerfOrSkip(): string | false {
  if (serfVersion() !== null) return false;
  const ci = process.env["CI"];
  if (ci !== undefined && ci !== "" && ci !== "0" && ci !== "false") {
    throw new Error(`Cannot run the ${SKIP_REASON}: CI is set, so this is a failure`);
  }
  if (!skipAnnounced) {
    skipAnnounced = true;
    process.stderr.write(`SKIPPED: ${SKIP_REASON}\n`);
  }
  return SKIP_REASON;
}

function listenTcp(port: number): Promise<net.Server> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once("error", reject);
    server.listen({ port, host: "127.0.0.1", exclusive: true }, () => resolve(server));
  });
}

function bindUdp(port: number): Promise<dgram.Socket> {
  return new Promise((resolve, reject) => {
    const socket = dgram.createSocket("udp4");
    socket.once("error", (err) => {
      socket.close();
      reject(err);
    });
    socket.bind(port, "127.0.0.1", () => resolve(socket));
  });
}

/**
 * A port on 127.0.0.1 that was free for TCP and UDP a moment ago. Another process may still take it before
 * serf binds it, so {@linkcode SerfAgent.start} retries with new ports when the agent fails to start.
 *
 * @returns the port
 */
export async function freePort(): Promise<number> {
  for (let attempt = 0; attempt < 20; attempt++) {
    const server = await listenTcp(0);
    const port = (server.address() as net.AddressInfo).port;
    try {
      const udp = await bindUdp(port);
      await new Promise<void>((resolve) => udp.close(() => resolve()));
      return port;
    } catch {
      // UDP taken on this port: try another.
    } finally {
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  }
  throw new Error("Cannot find a free port on 127.0.0.1 for both TCP and UDP");
}

/**
 * A new key from `serf keygen` (base64 of 32 random bytes).
 *
 * @returns the base64 text
 */
export function serfKeygen(): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(SERF, ["keygen"], { encoding: "utf8", timeout: 10_000 }, (err, stdout) => {
      if (err) reject(err);
      else resolve(stdout.trim());
    });
  });
}

/** One entry of `serf members -format json`. */
export interface SerfMember {
  name: string;
  /** "127.0.0.1:7946" */
  addr: string;
  port: number;
  tags: Record<string, string>;
  /** "alive", "leaving", "left" or "failed" */
  status: string;
  /** serf's own (delegate) protocol versions of the member. */
  protocol: { min: number; max: number; version: number };
}

/** Options of {@linkcode SerfAgent.start}. */
export interface SerfAgentOptions {
  /** The node name (`-node`). */
  name: string;
  /** Addresses to join at start (`-join`, repeated). */
  join?: readonly string[];
  /** A base64 key (`-encrypt`). */
  encrypt?: string;
  /** `-profile`: "lan", "wan" or "local". @default {"local"} */
  profile?: string;
  /** More flags. */
  flags?: readonly string[];
  /** Milliseconds to wait for "Serf agent running!". @default {15000} */
  startTimeoutMs?: number;
}

/** The most log text kept per agent (the tail). */
const LOG_KEEP = 256 * 1024;

/** A `serf agent` child process on 127.0.0.1, killed by {@linkcode SerfAgent.kill}. */
export class SerfAgent {
  /** The node name. */
  readonly name: string;
  /** The gossip address, "127.0.0.1:port". */
  readonly address: string;
  /** The gossip port (TCP and UDP). */
  readonly port: number;
  /** The RPC address for the `serf` commands, "127.0.0.1:port". */
  readonly rpcAddress: string;
  #child: ChildProcess;
  #log = "";
  #exited: Promise<number | null>;
  #exitCode: number | null | undefined;

  private constructor(name: string, port: number, rpcPort: number, child: ChildProcess) {
    this.name = name;
    this.port = port;
    this.address = `127.0.0.1:${port}`;
    this.rpcAddress = `127.0.0.1:${rpcPort}`;
    this.#child = child;
    const append = (chunk: Buffer | string) => {
      this.#log += chunk.toString();
      if (this.#log.length > 2 * LOG_KEEP) this.#log = this.#log.slice(-LOG_KEEP);
    };
    child.stdout?.on("data", append);
    child.stderr?.on("data", append);
    this.#exited = new Promise((resolve) => {
      child.once("exit", (code) => {
        this.#exitCode = code;
        resolve(code);
      });
      child.once("error", (err) => {
        append(`\nspawn error: ${err.message}\n`);
        this.#exitCode = null;
        resolve(null);
      });
    });
  }

  /**
   * Starts an agent on free ports and waits until it says it is running. Retries on new ports (three tries)
   * when the agent exits first, as it does when another process took a port in the meantime.
   *
   * @param options name, joins, key, profile
   * @returns the running agent
   * @throws {Error} when no try started, with the agent's last output
   */
  static async start(options: SerfAgentOptions): Promise<SerfAgent> {
    let lastLog = "";
    for (let attempt = 0; attempt < 3; attempt++) {
      const port = await freePort();
      let rpcPort = await freePort();
      while (rpcPort === port) rpcPort = await freePort();
      const args = [
        "agent",
        `-node=${options.name}`,
        `-bind=127.0.0.1:${port}`,
        `-rpc-addr=127.0.0.1:${rpcPort}`,
        `-profile=${options.profile ?? "local"}`,
        "-log-level=debug",
        ...(options.encrypt === undefined ? [] : [`-encrypt=${options.encrypt}`]),
        ...(options.join ?? []).map((a) => `-join=${a}`),
        ...(options.flags ?? []),
      ];
      const child = spawn(SERF, args, { stdio: ["ignore", "pipe", "pipe"] });
      const agent = new SerfAgent(options.name, port, rpcPort, child);
      const running = await agent.#waitForLog("Serf agent running!", options.startTimeoutMs ?? 15_000);
      if (running) return agent;
      lastLog = agent.log;
      await agent.kill();
    }
    throw new Error(`Cannot start serf agent "${options.name}":\n${lastLog.slice(-4000)}`);
  }

  /** Everything the agent printed (the tail, when long). */
  get log(): string {
    return this.#log;
  }

  /** True once the process has exited. */
  get exited(): boolean {
    return this.#exitCode !== undefined;
  }

  async #waitForLog(text: string, timeoutMs: number): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (this.#log.includes(text)) return true;
      if (this.exited) return false;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    return false;
  }

  /**
   * Runs `serf <command> -rpc-addr=<this agent> ...args`.
   *
   * @param command the serf command ("members", "join", ...)
   * @param args its arguments
   * @returns what it printed on stdout
   * @throws {Error} when it fails or takes more than 10 s, with its output
   */
  rpc(command: string, args: readonly string[] = []): Promise<string> {
    return new Promise((resolve, reject) => {
      execFile(
        SERF,
        [command, `-rpc-addr=${this.rpcAddress}`, ...args],
        { encoding: "utf8", timeout: 10_000 },
        (err, stdout, stderr) => {
          if (err) {
            reject(new Error(`serf ${command} on ${this.name} failed: ${err.message}\n${stdout}${stderr}`));
          } else {
            resolve(stdout);
          }
        },
      );
    });
  }

  /**
   * The members this agent knows, in any state, from `serf members -format json`.
   *
   * @returns the members
   */
  async members(): Promise<SerfMember[]> {
    const out = await this.rpc("members", ["-format=json"]);
    return (JSON.parse(out) as { members: SerfMember[] }).members;
  }

  /**
   * Kills the agent (SIGKILL: no leave) and waits for it to exit. Safe to call twice.
   *
   * @returns when the process is gone
   */
  async kill(): Promise<void> {
    if (!this.exited) this.#child.kill("SIGKILL");
    await this.#exited;
  }
}
