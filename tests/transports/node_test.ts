// Copyright (c) memberlist-ts authors. SPDX-License-Identifier: MPL-2.0
// The node:dgram/node:net backend against the transport compliance suite. Deno and
// Bun implement both modules, so this same file runs under `deno test`, `bun test`
// and Node (from build/): the Node backend is checked on all three runtimes.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { createNetTransport } from "../../transports/node/mod.ts";
import * as nodeBackend from "../../transports/node/mod.ts";
import * as picked from "../../transports/mod.ts";
import { exitsByItselfScript, hasPython, runChild, unacceptingListener } from "./_children.ts";
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
    const blackHole = hasPython ? await unacceptingListener() : null;
    const [cmd, args] = runtimeCommand("child.mjs");
    const { code, out } = await runChild(cmd, args, exitsByItselfScript(backend, blackHole?.port ?? 0), 20_000, "child.mjs")
      .finally(() => blackHole?.close());
    assert.equal(code, 0, `child did not exit cleanly (${code === null ? "still running after 20 s" : `code ${code}`}): ${out}`);
    assert.match(out, /shut down null/);
  });
});
