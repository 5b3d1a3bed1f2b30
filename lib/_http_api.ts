// Copyright (c) memberlist-ts authors. SPDX-License-Identifier: MPL-2.0
// The HTTP API behind `createHandler` (lib/http.ts) and the agent's local listener
// (agent/agent.ts). Web-standard Request and Response only, so it runs unchanged in
// Deno.serve, Bun.serve, a Node server (through agent/serve.ts) or any fetch-style host.
//
// Read-only routes are in every handler. The control routes (keyring, join, leave) exist
// only in the handler the agent builds for its loopback listener: createHandler() cannot
// turn them on. Control requests must be JSON (`Content-Type: application/json`): a web
// page cannot send that cross-origin without a CORS preflight, which is never answered.

import type { Keyring } from "./keyring.ts";
import { validateKey } from "./keyring.ts";
import type { LogFields } from "./logging.ts";
import { Memberlist, memberlistState, type NodeEvent, type NodeEventType } from "./memberlist.ts";
import { base64, type Node, type NodeJSON, nodeToJSON } from "./node.ts";
import type { PrometheusMetrics } from "./prometheus.ts";
import { toNode } from "./state.ts";
import { STATUS_PAGE } from "./_status_page.ts";
import { decodeTags } from "./tags.ts";

/** A log line as the API streams it. */
export interface LogRecord {
  /** When it was logged (ISO 8601). */
  time: string;
  /** Its level. */
  level: "debug" | "info" | "warn" | "error";
  /** The message. */
  message: string;
  /** The fields, made JSON-safe (errors as their message, bytes as hex). */
  fields: Record<string, unknown>;
}

/** Something log lines can be followed on (see `LogFeed` in lib/http.ts). */
export interface LogSource {
  /** Calls `listener` with each new line until the returned function is called. */
  subscribe(listener: (record: LogRecord) => void): () => void;
}

/** A member as the API shows it: {@linkcode NodeJSON}, plus its metadata decoded when it can be. */
export interface MemberJSON extends NodeJSON {
  /** The metadata as serf tags, when it is in serf's format. */
  tags?: Record<string, string>;
  /** The metadata as text, when it is printable UTF-8 and not tags. */
  metaText?: string;
}

/** What the agent allows on its loopback listener. */
export interface ControlOptions {
  /** Leaves the cluster and stops the agent (POST /v1/leave). */
  leave(): Promise<void>;
  /** Writes the keyring file after a change, when the agent has one. */
  keyringChanged?(keyring: Keyring): Promise<void>;
}

/** Options common to every API handler. */
export interface ApiOptions {
  metrics?: PrometheusMetrics | undefined;
  logs?: LogSource | undefined;
  basePath?: string | undefined;
  /** Interval of the SSE keep-alive comment, ms. */
  keepAlive?: number | undefined;
}

const LEVELS = { debug: 0, info: 1, warn: 2, error: 3 } as const;
const EVENT_TYPES: readonly NodeEventType[] = ["join", "leave", "update", "suspect"];

/** A member with its metadata decoded where possible. */
export function memberJSON(node: Node): MemberJSON {
  const json: MemberJSON = nodeToJSON(node);
  const tags = decodeTags(node.meta);
  if (tags !== null) json.tags = tags;
  else if (node.meta.length > 0) {
    try {
      const text = new TextDecoder("utf-8", { fatal: true }).decode(node.meta);
      if (!/[\u0000-\u0008\u000e-\u001f\u007f]/.test(text)) json.metaText = text;
    } catch {
      // Binary metadata: base64 only.
    }
  }
  return json;
}

/** Every node in the table, dead and left ones included, sorted by name. */
export function allMembers(ml: Memberlist): MemberJSON[] {
  return memberlistState(ml).nodes.map((r) => memberJSON(toNode(r))).sort((a, b) => (a.name < b.name ? -1 : 1));
}

/** Makes log fields JSON-safe. */
export function jsonFields(fields: LogFields | undefined): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (fields === undefined) return out;
  for (const [k, v] of Object.entries(fields)) {
    if (v instanceof Error) out[k] = v.message;
    else if (v instanceof Uint8Array) out[k] = Array.from(v, (b) => b.toString(16).padStart(2, "0")).join("");
    else if (typeof v === "bigint") out[k] = String(v);
    else if (typeof v === "function" || typeof v === "symbol") out[k] = String(v);
    else out[k] = v;
  }
  return out;
}

function json(body: unknown, status = 200, headers: Record<string, string> = {}): Response {
  return new Response(`${JSON.stringify(body, null, 2)}\n`, {
    status,
    headers: { "content-type": "application/json; charset=utf-8", "cache-control": "no-store", ...headers },
  });
}

function problem(status: number, message: string, headers: Record<string, string> = {}): Response {
  return json({ error: message }, status, headers);
}

/**
 * Builds the API handler. `control` is null for every handler but the agent's
 * loopback listener.
 */
export function apiHandler(
  ml: Memberlist,
  options: ApiOptions,
  control: ControlOptions | null,
): (request: Request) => Promise<Response> {
  const base = (options.basePath ?? "").replace(/\/+$/, "");
  if (base !== "" && !base.startsWith("/")) {
    throw new TypeError(`Invalid option "basePath": expected a path starting with "/", got "${base}"`);
  }
  const metrics = options.metrics ?? promOf(ml);
  // Below Bun.serve's default idle timeout (10 s), so an event stream survives it there too.
  const keepAlive = options.keepAlive ?? 5_000;

  return async (request: Request): Promise<Response> => {
    const url = new URL(request.url);
    let path = url.pathname;
    if (base !== "") {
      if (path === base) return new Response(null, { status: 308, headers: { location: `${base}/${url.search}` } });
      if (!path.startsWith(`${base}/`)) return problem(404, `Not found: ${path}`);
      path = path.slice(base.length);
    }
    const method = request.method;
    const read = method === "GET" || method === "HEAD";
    try {
      if (read) {
        switch (path) {
          case "/":
            return page(ml);
          case "/v1/members":
            return json({ members: allMembers(ml) });
          case "/v1/local":
            return json(local(ml));
          case "/v1/health":
            return health(ml);
          case "/v1/events":
            return events(ml, url, options.logs, keepAlive);
          case "/metrics":
            if (metrics === undefined) {
              return problem(404, "No metrics: pass a PrometheusMetrics as config.metrics (or as the handler's metrics option)");
            }
            return new Response(metrics.render(), {
              headers: { "content-type": "text/plain; version=0.0.4; charset=utf-8", "cache-control": "no-store" },
            });
          case "/v1/keys":
            if (control === null) break;
            return keys(ml);
        }
      }
      if (method === "POST" && control !== null && path.startsWith("/v1/")) {
        return await controlRoute(ml, path, request, control);
      }
      const known = ["/", "/v1/members", "/v1/local", "/v1/health", "/v1/events", "/metrics"];
      if (known.includes(path)) return problem(405, `Method ${method} not allowed on ${path}`, { allow: "GET, HEAD" });
      if (control === null && (path.startsWith("/v1/keys") || path === "/v1/leave" || path === "/v1/join")) {
        return problem(403, `Forbidden: ${path} is served only on the agent's local listener`);
      }
      return problem(404, `Not found: ${path}`);
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      const status = err instanceof TypeError || err instanceof RangeError || err instanceof SyntaxError ? 400 : 500;
      return problem(status, message);
    }
  };
}

function promOf(ml: Memberlist): PrometheusMetrics | undefined {
  const m = memberlistState(ml).config.metrics as unknown as { render?: unknown };
  return typeof m.render === "function" ? (m as unknown as PrometheusMetrics) : undefined;
}

function page(ml: Memberlist): Response {
  const name = memberlistState(ml).config.name.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
  return new Response(STATUS_PAGE.replace("{{TITLE}}", name), {
    headers: { "content-type": "text/html; charset=utf-8", "cache-control": "no-store" },
  });
}

function local(ml: Memberlist): Record<string, unknown> {
  const m = memberlistState(ml);
  const self = m.nodeMap.get(m.config.name);
  return {
    node: self === undefined ? null : memberJSON(toNode(self)),
    health: { score: ml.getHealthScore(), max: m.config.awarenessMaxMultiplier },
    protocolVersion: ml.protocolVersion(),
    members: m.shutdown ? 0 : ml.numMembers(),
    encrypted: m.config.keyring !== null && m.config.keyring.size > 0,
    label: m.config.label,
    leaving: m.leaving,
    shutdown: m.shutdown,
  };
}

function health(ml: Memberlist): Response {
  const m = memberlistState(ml);
  const score = m.shutdown ? null : ml.getHealthScore();
  if (m.shutdown) return json({ status: "shutdown", score }, 503);
  if (m.leaving) return json({ status: "left", score }, 503);
  return json({ status: score === 0 ? "ok" : "degraded", score }, 200);
}

function keys(ml: Memberlist): Response {
  const keyring = ml.keyring();
  if (keyring === null) return json({ keys: [], primary: null });
  return json({ keys: keyring.getKeys().map(base64), primary: base64(keyring.getPrimaryKey()!) });
}

async function controlRoute(ml: Memberlist, path: string, request: Request, control: ControlOptions): Promise<Response> {
  const type = request.headers.get("content-type") ?? "";
  if (!type.toLowerCase().startsWith("application/json")) {
    return problem(415, "Control requests must be JSON (Content-Type: application/json)");
  }
  const text = await request.text();
  if (text.length > 65_536) return problem(413, "Request body too large");
  let body: Record<string, unknown>;
  try {
    body = text === "" ? {} : JSON.parse(text);
  } catch {
    return problem(400, "Cannot parse request body: not JSON");
  }
  if (typeof body !== "object" || body === null) return problem(400, "Cannot parse request body: expected an object");
  switch (path) {
    case "/v1/join": {
      const addresses = body.addresses;
      if (!Array.isArray(addresses) || !addresses.every((a) => typeof a === "string")) {
        return problem(400, `Invalid "addresses": expected an array of strings`);
      }
      const joined = await ml.join(addresses as string[]);
      return json({ joined });
    }
    case "/v1/leave":
      await control.leave();
      return json({ left: true });
    case "/v1/keys/install":
    case "/v1/keys/use":
    case "/v1/keys/remove": {
      const keyring = ml.keyring();
      if (keyring === null) return problem(400, "Cannot change keys: encryption is not enabled on this agent");
      const key = decodeKey(body.key);
      const op = path.slice("/v1/keys/".length);
      if (op === "install") keyring.addKey(key);
      else if (op === "use") keyring.useKey(key);
      else keyring.removeKey(key);
      await control.keyringChanged?.(keyring);
      return keys(ml);
    }
  }
  return problem(404, `Not found: ${path}`);
}

function decodeKey(value: unknown): Uint8Array {
  if (typeof value !== "string") throw new TypeError(`Invalid "key": expected a base64 string`);
  let bin: string;
  try {
    bin = atob(value);
  } catch {
    throw new TypeError(`Invalid "key": not base64`);
  }
  const key = Uint8Array.from(bin, (c) => c.charCodeAt(0));
  validateKey(key);
  return key;
}

// The stream ends when the client goes away (the runtime cancels the body), or at shutdown.
// request.signal is not used: Deno aborts it when any response completes ("legacy abort") and
// warns about listeners on it.
function events(ml: Memberlist, url: URL, logs: LogSource | undefined, keepAlive: number): Response {
  const wanted = url.searchParams.get("types");
  const types = wanted === null ? EVENT_TYPES : wanted.split(",").filter((t): t is NodeEventType => (EVENT_TYPES as string[]).includes(t));
  const logParam = url.searchParams.get("logs");
  const minLevel = logParam === null || logParam === "" ? null : LEVELS[logParam as keyof typeof LEVELS];
  if (logParam !== null && logParam !== "" && minLevel === undefined) {
    return problem(400, `Invalid "logs": expected debug, info, warn or error, got "${logParam}"`);
  }
  if (minLevel !== null && logs === undefined) return problem(404, "No log stream: this handler was given no logs");
  const enc = new TextEncoder();
  const stop = new AbortController();
  const done = stop.signal;
  let id = 0;
  let cleanup: (() => void)[] = [];
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      const send = (event: string, data: unknown) => {
        if (done.aborted) return;
        try {
          controller.enqueue(enc.encode(`id: ${++id}\nevent: ${event}\ndata: ${JSON.stringify(data)}\n\n`));
        } catch {
          stop.abort();
        }
      };
      controller.enqueue(enc.encode(`: memberlist events\nretry: 2000\n\n`));
      const onEvent = (e: NodeEvent) => send(e.type, { type: e.type, time: new Date().toISOString(), node: memberJSON(e.node) });
      for (const type of types) ml.addEventListener(type, onEvent, { signal: done });
      if (minLevel !== null && logs !== undefined) {
        cleanup.push(logs.subscribe((r) => {
          if (LEVELS[r.level] >= minLevel!) send("log", r);
        }));
      }
      const timer = setInterval(() => {
        try {
          controller.enqueue(enc.encode(`: keep-alive\n\n`));
        } catch {
          stop.abort();
        }
      }, keepAlive);
      cleanup.push(() => clearInterval(timer));
      const end = () => {
        for (const f of cleanup) f();
        cleanup = [];
        try {
          controller.close();
        } catch {
          // Already closed or cancelled.
        }
      };
      const stopped = memberlistState(ml).stopped.signal;
      if (stopped.aborted) end();
      stopped.addEventListener("abort", () => stop.abort(), { once: true, signal: done });
      done.addEventListener("abort", end, { once: true });
    },
    cancel() {
      stop.abort();
    },
  });
  return new Response(body, {
    headers: {
      "content-type": "text/event-stream; charset=utf-8",
      "cache-control": "no-store",
      "x-accel-buffering": "no",
    },
  });
}

/** True for `Memberlist` instances (the handler's argument check). */
export function isMemberlist(value: unknown): value is Memberlist {
  return value instanceof Memberlist;
}
