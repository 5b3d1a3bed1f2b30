// Copyright (c) memberlist-ts authors. SPDX-License-Identifier: MPL-2.0
// The native Deno backend (Deno.listenDatagram, Deno.listen, Deno.connect) against the
// transport compliance suite and the cluster scenarios, and its fallback to the
// node:dgram/node:net backend when Deno runs without --unstable-net. Deno only: under
// Bun and Node every suite here skips itself, saying so.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { detectRuntime } from "../../lib/_runtime.ts";
import { type Logger, silentLogger } from "../../lib/logging.ts";
import type { Packet } from "../../lib/transport.ts";
import { createNetTransport } from "../../transports/deno/mod.ts";
import * as denoBackend from "../../transports/deno/mod.ts";
import * as picked from "../../transports/mod.ts";
import { exitsByItselfScript, hasPython, runChild, unacceptingListener } from "./_children.ts";
import { clusterOverSockets } from "./_cluster_over_sockets.ts";
import { transportCompliance, waitFor } from "./_compliance.ts";

const runtime = detectRuntime();
const skip = runtime === "deno" ? false : `the Deno backend runs only on Deno, not on ${runtime}`;

transportCompliance(
  "Deno backend (Deno.listenDatagram, Deno.listen, Deno.connect)",
  () => Promise.resolve({ create: createNetTransport }),
  { skip },
);

clusterOverSockets("Memberlist over the Deno backend", createNetTransport, { skip });

describe("Deno backend", { skip }, () => {
  it("exports everything transports/mod.ts exports (npm export conditions map one to the other)", () => {
    const missing = Object.keys(picked).filter((name) => !(name in denoBackend));
    assert.deepEqual(missing, []);
  });

  it("is the backend transports/mod.ts picks on Deno", () => {
    assert.equal(picked.createNetTransport, createNetTransport);
  });

  it("uses the native sockets here (deno.json enables --unstable-net): no warning is logged", async () => {
    const listenDatagram = (globalThis as { Deno?: { listenDatagram?: unknown } }).Deno?.listenDatagram;
    assert.equal(typeof listenDatagram, "function");
    const warnings: string[] = [];
    const logger: Logger = { debug() {}, info() {}, warn: (m) => void warnings.push(m), error() {} };
    const t = await createNetTransport({ bindAddrs: ["127.0.0.1"], bindPort: 0, logger });
    await t.shutdown();
    assert.deepEqual(warnings, []);
  });

  it("a reply sent from a packet handler leaves at once, not on a >= 1 ms timer: 500 ping-pong hops take well under 500 ms", async () => {
    const options = { bindAddrs: ["127.0.0.1"], bindPort: 0, logger: silentLogger };
    const a = await createNetTransport(options);
    const b = await createNetTransport(options);
    let hops = 0;
    const echo = (self: typeof a) => ({
      packet: (p: Packet) => {
        if (++hops < 500) self.writeTo(p.buf, { addr: p.from, name: "" });
      },
      stream: (c: { close(): void }) => c.close(),
    });
    a.setHandlers(echo(a));
    b.setHandlers(echo(b));
    try {
      const start = Date.now();
      a.writeTo(Uint8Array.of(1), { addr: `127.0.0.1:${b.port}`, name: "b" });
      await waitFor(() => hops >= 500, { what: "500 hops" });
      const took = Date.now() - start;
      assert.ok(took < 250, `500 hops took ${took} ms`);
    } finally {
      await Promise.all([a.shutdown(), b.shutdown()]);
    }
  });

  it("without --unstable-net falls back to node:dgram/node:net and warns once, saying how to enable it", async () => {
    // A child `deno run` in a directory with no deno.json, so nothing turns the flag on.
    const { code, out } = await runDeno(
      [],
      `
const { createNetTransport } = await import(${JSON.stringify(BACKEND)});
const warnings: string[] = [];
const logger = { debug() {}, info() {}, error() {}, warn(m: string) { warnings.push(m); } };
const native = typeof (globalThis as any).Deno.listenDatagram === "function";
const a = await createNetTransport({ bindAddrs: ["127.0.0.1"], bindPort: 0, logger });
const b = await createNetTransport({ bindAddrs: ["127.0.0.1"], bindPort: 0, logger });
const got = new Promise<string>((resolve) =>
  a.setHandlers({ packet: (p: { buf: Uint8Array }) => resolve(new TextDecoder().decode(p.buf)), stream: (c: { close(): void }) => c.close() })
);
a.writeTo(new TextEncoder().encode("to myself"), { addr: "127.0.0.1:" + a.port, name: "a" });
const received = await got;
// 3000 datagrams bounced between a and b from their packet handlers.
let hops = 0;
let done: () => void;
const finished = new Promise<void>((resolve) => (done = resolve));
const echo = (self: any) => ({
  packet: (p: { buf: Uint8Array; from: string }) => {
    if (++hops === 3000) done();
    else self.writeTo(p.buf, { addr: p.from, name: "" });
  },
  stream: (c: { close(): void }) => c.close(),
});
a.setHandlers(echo(a));
b.setHandlers(echo(b));
const start = performance.now();
a.writeTo(new Uint8Array(64), { addr: "127.0.0.1:" + b.port, name: "b" });
await finished;
const hopsMs = Math.round(performance.now() - start);
await Promise.all([a.shutdown(), b.shutdown()]);
console.log(JSON.stringify({ native, received, warnings, hopsMs }));
`,
    );
    assert.equal(code, 0, `child failed (${code}): ${out}`);
    const lines = out.trim().split("\n");
    assert.equal(lines.length, 1, `the child prints one line: ${out}`);
    const result = JSON.parse(lines[0]!) as {
      native: boolean;
      received: string;
      warnings: string[];
      hopsMs: number;
    };
    assert.equal(result.native, false, "the child runs without Deno.listenDatagram");
    assert.equal(result.received, "to myself");
    assert.equal(result.warnings.length, 1, `one warning for two transports: ${result.warnings.join(" | ")}`);
    assert.match(result.warnings[0]!, /--unstable-net/);
    assert.match(result.warnings[0]!, /"unstable": \["net"\] to your deno\.json/);
    // Deno's node:dgram allocates its read buffer per datagram at the requested receive
    // buffer size: with the default 2 MiB request this took over a second.
    assert.ok(result.hopsMs < 650, `3000 datagrams through the fallback took ${result.hopsMs} ms`);
  });

  it("leaves nothing behind after shutdown(), not even a dial that timed out: the process exits by itself", async () => {
    // A listener that never accepts (backlog 0): once one connection waits in its queue,
    // further dials hang until they time out (and are aborted through their signal).
    const blackHole = hasPython ? await unacceptingListener() : null;
    const { code, out } = await runDeno(
      ["--unstable-net"],
      exitsByItselfScript(
        BACKEND,
        blackHole?.port ?? 0,
        `if (typeof globalThis.Deno.listenDatagram !== "function") throw new Error("not native");`,
      ),
    ).finally(() => blackHole?.close());
    assert.equal(code, 0, `child did not exit cleanly (${code ?? "still running after 30 s"}): ${out}`);
    assert.match(out, /shut down null/);
  });
});

// The backend module, for children to import by absolute URL.
const BACKEND = new URL("../../transports/deno/mod.ts", import.meta.url).href;

/** Runs `script` with `deno run -A <flags>` in a fresh directory (no deno.json); 30 s at most. */
function runDeno(flags: string[], script: string): Promise<{ code: number | null; out: string }> {
  return runChild(process.execPath, ["run", "-A", ...flags, "child.ts"], script, 30_000);
}
