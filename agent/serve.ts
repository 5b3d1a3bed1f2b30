// Copyright (c) memberlist-ts authors. SPDX-License-Identifier: MPL-2.0
/**
 * Serving a web-standard `(Request) => Response` handler on the running
 * runtime's own HTTP server (`Deno.serve`, `Bun.serve`, `node:http`), and the
 * adapter a Node server needs for such a handler.
 *
 * @module
 */

import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { Readable } from "node:stream";
import { detectRuntime } from "../lib/_runtime.ts";

/** A fetch-style handler, as `createHandler()` returns. */
export type FetchHandler = (request: Request) => Response | Promise<Response>;

/** Options of {@linkcode serve}. */
export interface ServeOptions {
  /** The address to listen on. @default {"127.0.0.1"} */
  hostname?: string;
  /** The port; 0 picks a free one. @default {0} */
  port?: number;
}

/** A running server. */
export interface HttpServer {
  /** The address it listens on. */
  readonly hostname: string;
  /** The port it listens on. */
  readonly port: number;
  /** `http://hostname:port` (IPv6 in brackets). */
  readonly url: string;
  /** Stops accepting and closes open connections (event streams included). */
  close(): Promise<void>;
}

interface DenoServer {
  addr: { hostname: string; port: number };
  shutdown(): Promise<void>;
  finished: Promise<void>;
}
interface DenoServe {
  serve(
    options: { hostname: string; port: number; onListen(): void; signal: AbortSignal },
    handler: FetchHandler,
  ): DenoServer;
}
interface BunServer {
  port: number;
  hostname: string;
  stop(closeActive?: boolean): Promise<void> | void;
}
interface BunServe {
  serve(options: { hostname: string; port: number; idleTimeout: number; fetch: FetchHandler }): BunServer;
}

/**
 * Serves `handler` on the runtime's native HTTP server: `Deno.serve` on Deno,
 * `Bun.serve` on Bun (with no idle timeout, so event streams stay open), and
 * `node:http` on Node.
 *
 * @param handler The handler.
 * @param options Where to listen.
 * @returns The running server.
 *
 * @example Usage
 * ```ts
 * import { defaultLocalConfig, Memberlist } from "@gossip/memberlist";
 * import { serve } from "@gossip/memberlist/agent";
 * import { createHandler } from "@gossip/memberlist/http";
 * import { MockNetwork } from "@gossip/memberlist/transports/mock";
 * import assert from "node:assert/strict";
 *
 * const ml = await Memberlist.create({ ...defaultLocalConfig(), name: "a", transport: new MockNetwork().newTransport("a") });
 * const server = await serve(createHandler(ml), { hostname: "127.0.0.1", port: 0 });
 * const health = await (await fetch(`${server.url}/v1/health`)).json();
 * assert.equal(health.status, "ok");
 * await server.close();
 * await ml.shutdown();
 * ```
 */
export async function serve(handler: FetchHandler, options: ServeOptions = {}): Promise<HttpServer> {
  const hostname = options.hostname ?? "127.0.0.1";
  const port = options.port ?? 0;
  const url = (h: string, p: number) => `http://${h.includes(":") ? `[${h}]` : h}:${p}`;
  const runtime = detectRuntime();
  const g = globalThis as unknown as { Deno?: DenoServe; Bun?: BunServe };
  if (runtime === "deno" && g.Deno !== undefined) {
    const abort = new AbortController();
    let listening!: () => void;
    const listened = new Promise<void>((r) => (listening = r));
    const server = g.Deno.serve({ hostname, port, signal: abort.signal, onListen: () => listening() }, handler);
    await listened;
    return {
      hostname,
      port: server.addr.port,
      url: url(hostname, server.addr.port),
      close: async () => {
        abort.abort();
        await server.finished;
      },
    };
  }
  if (runtime === "bun" && g.Bun !== undefined) {
    const server = g.Bun.serve({ hostname, port, idleTimeout: 0, fetch: handler });
    return {
      hostname,
      port: server.port,
      url: url(hostname, server.port),
      close: async () => {
        await server.stop(true);
      },
    };
  }
  const server = createServer(toNodeListener(handler));
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, hostname, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const bound = (server.address() as { port: number }).port;
  return {
    hostname,
    port: bound,
    url: url(hostname, bound),
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/**
 * Adapts a fetch-style handler to `node:http`: `http.createServer(toNodeListener(handler))`.
 * The request's `signal` aborts when the client goes away (an event stream
 * then ends), and response bodies are streamed with back-pressure.
 *
 * @param handler The handler.
 * @returns A `node:http` request listener.
 *
 * @example Usage
 * ```ts
 * import { toNodeListener } from "@gossip/memberlist/agent";
 * import { createServer } from "node:http";
 * import assert from "node:assert/strict";
 *
 * const server = createServer(toNodeListener(() => Response.json({ ok: true })));
 * await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
 * const { port } = server.address() as { port: number };
 * assert.deepEqual(await (await fetch(`http://127.0.0.1:${port}/`)).json(), { ok: true });
 * await new Promise((resolve) => server.close(resolve));
 * ```
 */
export function toNodeListener(handler: FetchHandler): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    void respond(handler, req, res).catch((err) => {
      if (!res.headersSent) {
        res.writeHead(500, { "content-type": "application/json" });
        res.end(JSON.stringify({ error: err instanceof Error ? err.message : String(err) }));
      } else res.destroy();
    });
  };
}

async function respond(handler: FetchHandler, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const abort = new AbortController();
  res.on("close", () => abort.abort());
  const headers = new Headers();
  for (const [k, v] of Object.entries(req.headers)) {
    if (Array.isArray(v)) { for (const x of v) headers.append(k, x); }
    else if (v !== undefined) headers.set(k, v);
  }
  const host = req.headers.host ?? "localhost";
  const method = req.method ?? "GET";
  const init: RequestInit & { duplex?: "half" } = { method, headers, signal: abort.signal };
  if (method !== "GET" && method !== "HEAD") {
    init.body = Readable.toWeb(req) as unknown as ReadableStream<Uint8Array>;
    init.duplex = "half";
  }
  const response = await handler(new Request(`http://${host}${req.url ?? "/"}`, init));
  const out: Record<string, string | string[]> = {};
  response.headers.forEach((value, key) => {
    const prev = out[key];
    out[key] = prev === undefined ? value : Array.isArray(prev) ? [...prev, value] : [prev, value];
  });
  res.writeHead(response.status, out);
  if (response.body === null || method === "HEAD") {
    res.end();
    return;
  }
  res.flushHeaders();
  const reader = response.body.getReader();
  abort.signal.addEventListener("abort", () => void reader.cancel().catch(() => {}), { once: true });
  for (;;) {
    const { done, value } = await reader.read();
    if (done || abort.signal.aborted) break;
    if (!res.write(value)) {
      await new Promise<void>((resolve) => res.once("drain", resolve).once("close", resolve));
    }
  }
  res.end();
}
