#!/usr/bin/env node
// Copyright (c) memberlist-ts authors. SPDX-License-Identifier: MPL-2.0
/**
 * The `memberlist` command: run an agent, and talk to a running one. Serf's
 * CLI is the model (command names, flags, output); `memberlist --help` lists
 * where it differs.
 *
 * ```sh
 * memberlist agent --node web-1 --bind 0.0.0.0:7946 --join 10.0.0.2 --tag role=web --encrypt <base64 key>
 * memberlist members [--json] [--status alive] [--name REGEX]
 * memberlist keys list | install KEY | use KEY | remove KEY
 * memberlist monitor [--log-level debug]
 * memberlist join ADDRESS...
 * memberlist leave
 * ```
 *
 * On Deno: `deno run -A jsr:@gossip/memberlist/cli agent ...`; from npm:
 * `npx -p @gossip/memberlist memberlist ...` or `bunx -p @gossip/memberlist memberlist ...`.
 *
 * @module
 */

import type { MemberJSON } from "../lib/_http_api.ts";
import { type AgentOptions, type LogLevel, startAgent } from "./agent.ts";
import { exitProcess } from "./signals.ts";

const HELP = `Usage: memberlist <command> [options]

Commands:
  agent     Run a memberlist agent (a cluster node) in the foreground
  members   List the members the local agent knows
  keys      Manage the local agent's keyring: list, install KEY, use KEY, remove KEY
  monitor   Stream the local agent's events and logs
  join      Tell the local agent to join more nodes
  leave     Make the local agent leave the cluster gracefully and stop
  keygen    Print a new random 32-byte key, base64

Agent options:
  --node NAME              node name (default: the host name)
  --bind ADDR:PORT         gossip address (default 0.0.0.0:7946)
  --advertise ADDR:PORT    address to advertise (NAT)
  --join ADDR              join at start; repeatable; the agent exits if none answers
  --retry-join ADDR        keep trying to join in the background; repeatable
  --retry-interval SECONDS wait between retries (default 30)
  --retry-max N            most retries, 0 forever (default 0)
  --encrypt KEY            base64 encryption key (16, 24 or 32 bytes)
  --keyring-file PATH      JSON array of base64 keys, primary first (written on changes)
  --label LABEL            cluster label
  --tag KEY=VALUE          tag gossiped as metadata (serf's format); repeatable
  --profile lan|wan|local  timing profile (default lan)
  --log-level LEVEL        debug, info, warn or error (default info)
  --log-json               events and logs as JSON lines
  --rpc-addr ADDR:PORT     loopback API listener (default 127.0.0.1:7373; env MEMBERLIST_RPC_ADDR)
  --http-addr ADDR:PORT    read-only HTTP listener (status page, members, metrics) for other hosts

Client options (members, keys, monitor, join, leave):
  --rpc-addr ADDR:PORT     the agent's RPC address (default 127.0.0.1:7373; env MEMBERLIST_RPC_ADDR)
  --json                   members: JSON output (serf: -format json)
  --status STATE           members: only alive, suspect, dead or left
  --name REGEX             members: only names matching
  --log-level LEVEL        monitor: least severe log level (default info)

Where this differs from serf:
  - The API is HTTP + JSON (GET /v1/members, /metrics, server-sent events), not serf's msgpack RPC;
    the RPC listener must be loopback (it serves keyring changes); --http-addr is read-only.
  - keys changes only the local agent's keyring (memberlist has no cluster-wide queries): rotate
    by running install on every agent, then use, then remove. keys list shows the local keyring.
  - members shows suspect nodes as "suspect" (serf shows them alive) and failed ones as "dead"
    (serf: "failed"). There are no user events, queries, snapshots or event handlers.
  - Flags take one or two dashes (-node or --node).
`;

/** Parsed flags: repeatable ones collect into arrays. */
interface Flags {
  positional: string[];
  values: Map<string, string[]>;
  bools: Set<string>;
}

const BOOLEAN_FLAGS = new Set(["json", "log-json", "help", "detailed"]);
const REPEATABLE = new Set(["join", "retry-join", "tag"]);

function parseFlags(argv: readonly string[]): Flags {
  const flags: Flags = { positional: [], values: new Map(), bools: new Set() };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (!arg.startsWith("-") || arg === "-") {
      flags.positional.push(arg);
      continue;
    }
    let name = arg.replace(/^--?/, "");
    let value: string | undefined;
    const eq = name.indexOf("=");
    if (eq >= 0) {
      value = name.slice(eq + 1);
      name = name.slice(0, eq);
    }
    if (name === "format") {
      // serf: -format json
      const v = value ?? argv[++i];
      if (v === "json") flags.bools.add("json");
      else if (v !== "text") throw new UsageError(`Invalid flag "-format": expected text or json, got "${v}"`);
      continue;
    }
    if (BOOLEAN_FLAGS.has(name) && value === undefined) {
      flags.bools.add(name);
      continue;
    }
    if (value === undefined) {
      value = argv[++i];
      if (value === undefined) throw new UsageError(`Invalid flag "--${name}": expected a value`);
    }
    const list = flags.values.get(name) ?? [];
    if (list.length > 0 && !REPEATABLE.has(name)) throw new UsageError(`Invalid flag "--${name}": given twice`);
    list.push(value);
    flags.values.set(name, list);
  }
  return flags;
}

class UsageError extends Error {
  override name = "UsageError";
}

function one(flags: Flags, name: string): string | undefined {
  return flags.values.get(name)?.[0];
}

function checkFlags(flags: Flags, allowed: readonly string[]): void {
  for (const name of [...flags.values.keys(), ...flags.bools]) {
    if (name !== "help" && !allowed.includes(name)) throw new UsageError(`Unknown flag "--${name}" (see memberlist --help)`);
  }
}

function env(name: string): string | undefined {
  const g = globalThis as unknown as { Deno?: { env: { get(n: string): string | undefined } }; process?: { env: Record<string, string | undefined> } };
  try {
    return g.Deno?.env.get(name) ?? g.process?.env[name];
  } catch {
    return undefined; // Deno without --allow-env
  }
}

function rpcBase(flags: Flags): string {
  const addr = one(flags, "rpc-addr") ?? env("MEMBERLIST_RPC_ADDR") ?? "127.0.0.1:7373";
  return `http://${addr}`;
}

async function call(flags: Flags, path: string, body?: unknown): Promise<unknown> {
  const url = `${rpcBase(flags)}${path}`;
  let res: Response;
  try {
    res = await fetch(url, body === undefined ? {} : {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(body),
    });
  } catch (err) {
    throw new Error(`Cannot reach the agent at ${rpcBase(flags)}: ${err instanceof Error ? (err.cause as Error)?.message ?? err.message : err} (is "memberlist agent" running? set --rpc-addr)`);
  }
  const data = await res.json().catch(() => null) as { error?: string } | null;
  if (!res.ok) throw new Error(`Agent answered ${res.status}: ${data?.error ?? res.statusText}`);
  return data;
}

type Member = MemberJSON;

function columns(rows: string[][]): string {
  const widths = rows.reduce((w, r) => r.map((c, i) => Math.max(w[i] ?? 0, c.length)), [] as number[]);
  return rows.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join("  ").trimEnd()).join("\n");
}

async function members(flags: Flags, out: (s: string) => void): Promise<void> {
  checkFlags(flags, ["rpc-addr", "json", "status", "name", "detailed"]);
  const { members } = await call(flags, "/v1/members") as { members: Member[] };
  const status = one(flags, "status");
  const nameRe = one(flags, "name");
  const re = nameRe === undefined ? null : new RegExp(nameRe);
  const shown = members.filter((m) => (status === undefined || m.state === status) && (re === null || re.test(m.name)));
  if (flags.bools.has("json")) {
    out(JSON.stringify({ members: shown }, null, 2));
    return;
  }
  const meta = (m: Member) =>
    m.tags !== undefined
      ? Object.entries(m.tags).map(([k, v]) => `${k}=${v}`).join(",")
      : m.metaText ?? (m.meta === "" ? "" : `base64:${m.meta}`);
  const rows = shown.map((m) => {
    const row = [m.name, m.address, m.state, meta(m)];
    if (flags.bools.has("detailed")) row.push(`protocol=${m.pCur} (${m.pMin}-${m.pMax}) delegate=${m.dCur} (${m.dMin}-${m.dMax})`);
    return row;
  });
  if (rows.length > 0) out(columns(rows));
}

async function keys(flags: Flags, out: (s: string) => void): Promise<void> {
  checkFlags(flags, ["rpc-addr", "json", "install", "use", "remove", "list"]);
  // serf: keys -install=KEY | -use=KEY | -remove=KEY | -list; ours also: keys install KEY ...
  let op = flags.positional[0];
  let key = flags.positional[1];
  for (const name of ["install", "use", "remove"]) {
    const v = one(flags, name);
    if (v !== undefined) [op, key] = [name, v];
  }
  if (op === undefined && flags.values.has("list")) op = "list";
  op ??= "list";
  if (op === "list") {
    const r = await call(flags, "/v1/keys") as { keys: string[]; primary: string | null };
    if (flags.bools.has("json")) out(JSON.stringify(r, null, 2));
    else out(r.keys.length === 0 ? "Encryption is not enabled" : columns(r.keys.map((k) => [k, k === r.primary ? "primary" : ""])));
    return;
  }
  if (!["install", "use", "remove"].includes(op)) throw new UsageError(`Unknown keys operation "${op}": expected list, install, use or remove`);
  if (key === undefined) throw new UsageError(`keys ${op}: expected a base64 key`);
  const verb = { install: "Installing key", use: "Changing primary key", remove: "Removing key" }[op as "install" | "use" | "remove"];
  const r = await call(flags, `/v1/keys/${op}`, { key }) as { keys: string[] };
  out(`${verb}... done (${r.keys.length} key${r.keys.length === 1 ? "" : "s"} installed)`);
}

async function monitor(flags: Flags, out: (s: string) => void): Promise<void> {
  checkFlags(flags, ["rpc-addr", "log-level", "json"]);
  const level = one(flags, "log-level") ?? "info";
  const res = await fetch(`${rpcBase(flags)}/v1/events?logs=${encodeURIComponent(level)}`).catch((err) => {
    throw new Error(`Cannot reach the agent at ${rpcBase(flags)}: ${err instanceof Error ? err.message : err}`);
  });
  if (!res.ok || res.body === null) {
    const data = await res.json().catch(() => null) as { error?: string } | null;
    throw new Error(`Agent answered ${res.status}: ${data?.error ?? res.statusText}`);
  }
  const decoder = new TextDecoder();
  let buffer = "";
  for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
    buffer += decoder.decode(chunk, { stream: true });
    let end: number;
    while ((end = buffer.indexOf("\n\n")) >= 0) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      let type = "message";
      let data = "";
      for (const line of block.split("\n")) {
        if (line.startsWith("event: ")) type = line.slice(7);
        else if (line.startsWith("data: ")) data += line.slice(6);
      }
      if (data === "") continue;
      if (flags.bools.has("json")) {
        out(data);
        continue;
      }
      const e = JSON.parse(data);
      if (type === "log") {
        const fields = Object.entries(e.fields as Record<string, unknown>).map(([k, v]) => ` ${k}=${typeof v === "string" ? v : JSON.stringify(v)}`).join("");
        out(`${e.time} [${String(e.level).toUpperCase()}] memberlist: ${e.message}${fields}`);
      } else {
        out(`${e.time} [EVENT] ${type}: ${e.node.name} ${e.node.address} ${e.node.state}`);
      }
    }
  }
}

function agentOptions(flags: Flags): AgentOptions {
  checkFlags(flags, [
    "node", "bind", "advertise", "join", "retry-join", "retry-interval", "retry-max", "encrypt", "keyring-file",
    "label", "tag", "profile", "log-level", "log-json", "rpc-addr", "http-addr", "leave-timeout",
  ]);
  const num = (name: string, min: number): number | undefined => {
    const v = one(flags, name);
    if (v === undefined) return undefined;
    const n = Number(v);
    if (!Number.isFinite(n) || n < min) throw new UsageError(`Invalid flag "--${name}": expected a number of at least ${min}, got "${v}"`);
    return n;
  };
  const tags: Record<string, string> = {};
  for (const t of flags.values.get("tag") ?? []) {
    const eq = t.indexOf("=");
    if (eq <= 0) throw new UsageError(`Invalid flag "--tag": expected KEY=VALUE, got "${t}"`);
    tags[t.slice(0, eq)] = t.slice(eq + 1);
  }
  const o: AgentOptions = { tags };
  const set = <K extends keyof AgentOptions>(key: K, value: AgentOptions[K] | undefined) => {
    if (value !== undefined) o[key] = value;
  };
  set("name", one(flags, "node"));
  set("bind", one(flags, "bind"));
  set("advertise", one(flags, "advertise"));
  set("join", flags.values.get("join"));
  set("retryJoin", flags.values.get("retry-join"));
  const ri = num("retry-interval", 0.001);
  set("retryInterval", ri === undefined ? undefined : ri * 1000);
  set("retryMax", num("retry-max", 0));
  set("encrypt", one(flags, "encrypt"));
  set("keyringFile", one(flags, "keyring-file"));
  set("label", one(flags, "label"));
  set("profile", one(flags, "profile") as AgentOptions["profile"]);
  set("logLevel", one(flags, "log-level") as LogLevel | undefined);
  set("logJson", flags.bools.has("log-json") || undefined);
  set("rpcAddr", one(flags, "rpc-addr") ?? env("MEMBERLIST_RPC_ADDR"));
  set("httpAddr", one(flags, "http-addr"));
  const lt = num("leave-timeout", 0);
  set("leaveTimeout", lt === undefined ? undefined : lt * 1000);
  return o;
}

/**
 * Runs the command line `argv` (without the program name).
 *
 * @param argv The arguments.
 * @returns The exit code.
 */
export async function main(argv: readonly string[]): Promise<number> {
  const out = (s: string) => console.log(s);
  const [command, ...rest] = argv;
  try {
    if (command === undefined || command === "help" || command === "--help" || command === "-h") {
      out(HELP);
      return command === undefined ? 1 : 0;
    }
    const flags = parseFlags(rest);
    if (flags.bools.has("help")) {
      out(HELP);
      return 0;
    }
    switch (command) {
      case "agent": {
        const agent = await startAgent(agentOptions(flags));
        await agent.stopped;
        return 0;
      }
      case "members":
        await members(flags, out);
        return 0;
      case "keys":
        await keys(flags, out);
        return 0;
      case "monitor":
        await monitor(flags, out);
        return 0;
      case "join": {
        checkFlags(flags, ["rpc-addr"]);
        if (flags.positional.length === 0) throw new UsageError("join: expected at least one address");
        const r = await call(flags, "/v1/join", { addresses: flags.positional }) as { joined: number };
        out(`Successfully joined cluster by contacting ${r.joined} nodes.`);
        return 0;
      }
      case "leave":
        checkFlags(flags, ["rpc-addr"]);
        await call(flags, "/v1/leave", {});
        out("Graceful leave complete");
        return 0;
      case "keygen":
        out(btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(32)))));
        return 0;
      default:
        throw new UsageError(`Unknown command "${command}" (see memberlist --help)`);
    }
  } catch (err) {
    console.error(`Error: ${err instanceof Error ? err.message : err}`);
    return err instanceof UsageError ? 2 : 1;
  }
}

function args(): string[] {
  const g = globalThis as unknown as { Deno?: { args: string[] }; process?: { argv: string[] } };
  return g.Deno?.args ?? g.process?.argv.slice(2) ?? [];
}

exitProcess(await main(args()));
