// Copyright (c) memberlist-ts authors. SPDX-License-Identifier: MPL-2.0
// The node:dgram/node:net backend against the transport compliance suite. Deno and
// Bun implement both modules, so this same file runs under `deno test`, `bun test`
// and Node (from build/): the Node backend is checked on all three runtimes.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createNetTransport } from "../../transports/node/mod.ts";
import * as nodeBackend from "../../transports/node/mod.ts";
import * as picked from "../../transports/mod.ts";
import { transportCompliance } from "./_compliance.ts";

transportCompliance(
  "Node backend (node:dgram, node:net)",
  () => Promise.resolve({ create: createNetTransport }),
);

// The runtime running this file, and how to run a script with it.
function runtimeCommand(script: string): [string, string[]] {
  const g = globalThis as { Deno?: unknown; Bun?: unknown; process: { execPath: string } };
  if (g.Deno !== undefined) return [g.process.execPath, ["run", "-A", script]];
  return [g.process.execPath, [script]];
}

describe("Node backend", () => {
  it("exports everything transports/mod.ts exports (npm export conditions map one to the other)", () => {
    const missing = Object.keys(picked).filter((name) => !(name in nodeBackend));
    assert.deepEqual(missing, []);
  });

  it("leaves nothing behind after shutdown(): a process holding only a shut-down transport exits by itself", async () => {
    // The module as this runtime loads it: the .ts source (Deno, Bun) or the compiled .js (Node).
    const ext = import.meta.url.endsWith(".js") ? ".js" : ".ts";
    const backend = new URL(`../../transports/node/mod${ext}`, import.meta.url).href;
    const dir = mkdtempSync(join(tmpdir(), "memberlist-exit-"));
    const script = join(dir, "child.mjs");
    writeFileSync(
      script,
      `
const { createNetTransport } = await import(${JSON.stringify(backend)});
const a = await createNetTransport({ bindAddrs: ["127.0.0.1"], bindPort: 0, logger: { debug() {}, info() {}, warn() {}, error() {} } });
const b = await createNetTransport({ bindAddrs: ["127.0.0.1"], bindPort: 0 });
let got = 0;
const accepted = [];
b.setHandlers({ packet() { got++; }, stream(c) { accepted.push(c); c.setDeadline(60000); c.read(); } });
a.setHandlers({ packet() {}, stream(c) { c.close(); } });
a.writeTo(new Uint8Array([1]), { addr: "127.0.0.1:" + b.port, name: "b" });
a.writeTo(new Uint8Array([1]), { addr: "127.0.0.1:1", name: "dead" });
const conn = await a.dialTimeout({ addr: "127.0.0.1:" + b.port, name: "b" }, 1000);
conn.setDeadline(60000);
const pending = conn.read();
while (got === 0 || accepted.length === 0) await new Promise((r) => setTimeout(r, 5));
await Promise.all([a.shutdown(), b.shutdown()]);
console.log("shut down", await pending);
`,
    );
    try {
      const [cmd, args] = runtimeCommand(script);
      const child = spawn(cmd, args, {
        stdio: ["ignore", "pipe", "pipe"],
        env: { ...process.env, NO_COLOR: "1" },
      });
      let out = "";
      child.stdout!.on("data", (d: Uint8Array) => (out += String(d)));
      child.stderr!.on("data", (d: Uint8Array) => (out += String(d)));
      const start = Date.now();
      const code = await new Promise<number | null>((resolve) => {
        const timer = setTimeout(() => {
          child.kill();
          resolve(null);
        }, 20_000);
        child.on("exit", (c) => {
          clearTimeout(timer);
          resolve(c);
        });
      });
      assert.equal(
        code,
        0,
        `child did not exit cleanly (${code === null ? "still running after 20 s" : `code ${code}`}): ${out}`,
      );
      assert.match(out, /shut down null/);
      assert.ok(Date.now() - start < 20_000);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
