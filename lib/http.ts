// Copyright (c) memberlist-ts authors. SPDX-License-Identifier: MPL-2.0
/**
 * An HTTP API and a live status page for a running node, as one web-standard
 * `(request: Request) => Promise<Response>` handler: mount it in `Deno.serve`,
 * `Bun.serve`, a Node server, or any router that speaks `Request`/`Response`.
 * The `memberlist agent` serves the same routes.
 *
 * | route | what |
 * | --- | --- |
 * | `GET /` | the status page: members by state in colour, local health, events as they happen |
 * | `GET /v1/members` | `{ members: MemberJSON[] }`: every node this one knows, dead and left ones included, with state names and metadata (base64, and decoded as serf tags or text when it is either) |
 * | `GET /v1/local` | `{ node, health: { score, max }, protocolVersion, members, encrypted, label, leaving, shutdown }` |
 * | `GET /v1/health` | 200 `{ status: "ok" \| "degraded", score }` while running, 503 once left or shut down |
 * | `GET /v1/events` | server-sent events `join`, `leave`, `update`, `suspect` (`?types=join,leave` to choose), and `log` lines with `?logs=debug\|info\|warn\|error` when given a {@linkcode LogFeed} |
 * | `GET /metrics` | Prometheus text format, from the `PrometheusMetrics` in `config.metrics` (or the `metrics` option) |
 *
 * Nothing here changes the node: keyring changes, join and leave are served
 * only by the agent on its loopback listener, never by this handler.
 *
 * @example Usage
 * ```ts
 * import { defaultLocalConfig, Memberlist, PrometheusMetrics } from "@gossip/memberlist";
 * import { createHandler } from "@gossip/memberlist/http";
 * import { MockNetwork } from "@gossip/memberlist/transports/mock";
 * import assert from "node:assert/strict";
 *
 * const ml = await Memberlist.create({
 *   ...defaultLocalConfig(),
 *   name: "web-1",
 *   transport: new MockNetwork().newTransport("web-1"),
 *   metrics: new PrometheusMetrics(),
 * });
 * const handler = createHandler(ml);
 * // In a server: Deno.serve(handler), Bun.serve({ fetch: handler }), or serveNode(handler) from "@gossip/memberlist/agent".
 * const res = await handler(new Request("http://localhost/v1/members"));
 * const { members } = await res.json();
 * assert.deepEqual(members.map((n: { name: string; state: string }) => [n.name, n.state]), [["web-1", "alive"]]);
 * assert.equal((await handler(new Request("http://localhost/v1/health"))).status, 200);
 * assert.equal((await handler(new Request("http://localhost/v1/keys/use", { method: "POST" }))).status, 403);
 * await ml.shutdown();
 * ```
 *
 * @module
 */

import { apiHandler, isMemberlist, jsonFields, type LogRecord, type LogSource } from "./_http_api.ts";
import { defaultLogger, type LogFields, type Logger } from "./logging.ts";
import type { Memberlist } from "./memberlist.ts";
import type { PrometheusMetrics } from "./prometheus.ts";

export type { LogRecord, LogSource, MemberJSON } from "./_http_api.ts";
export { decodeTags, encodeTags } from "./tags.ts";
export { PrometheusMetrics, type PrometheusMetricsOptions } from "./prometheus.ts";

/** Options of {@linkcode createHandler}. */
export interface HandlerOptions {
  /**
   * The metrics served at `/metrics`.
   *
   * @default {config.metrics, when it is a PrometheusMetrics}
   */
  metrics?: PrometheusMetrics;
  /** Log lines to stream at `/v1/events?logs=LEVEL`; pass the same {@linkcode LogFeed} as `config.logger`. */
  logs?: LogSource;
  /**
   * The path the handler is mounted under, when it is not the root: `"/cluster"`
   * serves `/cluster/`, `/cluster/v1/members`, ... (the status page uses
   * relative URLs).
   *
   * @default {""}
   */
  basePath?: string;
}

/**
 * Builds the handler for a node (see the module documentation for the
 * routes). Read-only: it never changes the node.
 *
 * @param ml The node.
 * @param options Metrics, logs and mount path.
 * @returns A `(Request) => Promise<Response>` handler.
 * @throws {TypeError} When `ml` is not a Memberlist or `basePath` does not start with "/".
 *
 * @example Mounted under a path in Deno.serve
 * ```ts ignore
 * import { Memberlist } from "@gossip/memberlist";
 * import { createHandler } from "@gossip/memberlist/http";
 *
 * const ml = await Memberlist.create({ name: "web-1" });
 * const cluster = createHandler(ml, { basePath: "/cluster" });
 * Deno.serve((req) => new URL(req.url).pathname.startsWith("/cluster") ? cluster(req) : new Response("app"));
 * ```
 */
export function createHandler(ml: Memberlist, options: HandlerOptions = {}): (request: Request) => Promise<Response> {
  if (!isMemberlist(ml)) throw new TypeError("Cannot create handler: expected a Memberlist");
  return apiHandler(ml, options, null);
}

/**
 * A {@linkcode Logger} that passes every line on to another logger and to
 * its subscribers: the HTTP API streams them as `log` events, and
 * `memberlist monitor` prints them.
 *
 * @example Usage
 * ```ts
 * import { silentLogger } from "@gossip/memberlist";
 * import { LogFeed } from "@gossip/memberlist/http";
 * import assert from "node:assert/strict";
 *
 * const feed = new LogFeed(silentLogger); // config.logger: feed
 * const seen: string[] = [];
 * const stop = feed.subscribe((r) => seen.push(`${r.level} ${r.message} ${JSON.stringify(r.fields)}`));
 * feed.warn("Failed to probe", { node: "b", error: new Error("timeout") });
 * stop();
 * feed.warn("not seen");
 * assert.deepEqual(seen, ['warn Failed to probe {"node":"b","error":"timeout"}']);
 * ```
 */
export class LogFeed implements Logger, LogSource {
  #next: Logger;
  #listeners = new Set<(record: LogRecord) => void>();

  /**
   * Creates a feed.
   *
   * @param next Where lines go besides the subscribers.
   */
  constructor(next: Logger = defaultLogger) {
    this.#next = next;
  }

  /**
   * Follows the lines.
   *
   * @param listener Called with each line; a listener that throws is removed.
   * @returns Stops following.
   */
  subscribe(listener: (record: LogRecord) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  #emit(level: LogRecord["level"], message: string, fields?: LogFields): void {
    if (fields === undefined) this.#next[level](message);
    else this.#next[level](message, fields);
    if (this.#listeners.size === 0) return;
    const record: LogRecord = { time: new Date().toISOString(), level, message, fields: jsonFields(fields) };
    for (const l of [...this.#listeners]) {
      try {
        l(record);
      } catch {
        this.#listeners.delete(l);
      }
    }
  }

  /**
   * Logs at debug level.
   *
   * @param message The message.
   * @param fields Context.
   */
  debug(message: string, fields?: LogFields): void {
    this.#emit("debug", message, fields);
  }

  /**
   * Logs at info level.
   *
   * @param message The message.
   * @param fields Context.
   */
  info(message: string, fields?: LogFields): void {
    this.#emit("info", message, fields);
  }

  /**
   * Logs at warn level.
   *
   * @param message The message.
   * @param fields Context.
   */
  warn(message: string, fields?: LogFields): void {
    this.#emit("warn", message, fields);
  }

  /**
   * Logs at error level.
   *
   * @param message The message.
   * @param fields Context.
   */
  error(message: string, fields?: LogFields): void {
    this.#emit("error", message, fields);
  }
}
