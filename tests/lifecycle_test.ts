// Create/join/shutdown cycles on real sockets leave nothing behind (bench/lifecycle.ts, run in a
// child process of this runtime): the same open file descriptors and active resources (sockets,
// timers; Bun reports none) as before, and the process exits by itself once the last node is shut
// down. Memory is the benchmark's business (`npm run bench -- --suite lifecycle`).
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { detectRuntime } from "../lib/_runtime.ts";

const here = fileURLToPath(new URL(".", import.meta.url));
const root = here.includes("/build/") ? here.slice(0, here.indexOf("/build/") + 1) : fileURLToPath(new URL("..", import.meta.url));

function command(): [string, string[]] | null {
  const rt = detectRuntime();
  const args = ["--cycles", "100", "--warmup", "5"];
  if (rt === "deno") return [`${root}node_modules/.bin/deno`, ["run", "-A", `${root}bench/lifecycle.ts`, ...args]];
  if (rt === "bun") return [`${root}node_modules/.bin/bun`, [`${root}bench/lifecycle.ts`, ...args]];
  const compiled = `${root}build/bench/lifecycle.js`;
  return existsSync(compiled) ? [process.execPath, [compiled, ...args]] : null;
}

describe("lifecycle", () => {
  it("100 create/join/shutdown cycles leave no file descriptor, socket or timer behind, and the process exits by itself", {
    timeout: 120_000,
  }, async () => {
    const cmd = command();
    assert.ok(cmd !== null, "the compiled benchmark is there (npm test builds it)");
    const child = spawn(cmd[0], cmd[1], { cwd: root, stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, NO_COLOR: "1" } });
    let out = "";
    let err = "";
    let printedAt = 0;
    child.stdout!.on("data", (d: Uint8Array) => {
      out += String(d);
      if (printedAt === 0 && out.includes("\n")) printedAt = Date.now();
    });
    child.stderr!.on("data", (d: Uint8Array) => (err += String(d)));
    const code = await new Promise<number | null>((resolve) => {
      const timer = setTimeout(() => {
        child.kill();
        resolve(null);
      }, 110_000);
      child.on("exit", (c) => {
        clearTimeout(timer);
        resolve(c);
      });
    });
    assert.equal(code, 0, `exit ${code}: ${err}`);
    const r = JSON.parse(out.trim().split("\n")[0]!) as { delta: { fds: number; resources: number }; after: { resources: Record<string, number> } };
    assert.equal(r.delta.fds, 0, out);
    assert.equal(r.delta.resources, 0, out);
    // Exiting by itself (no timer, no socket left) takes a moment; a left-over timer would hold it for
    // probeInterval or longer, a socket for ever.
    assert.ok(Date.now() - printedAt < 3000, `exited ${Date.now() - printedAt} ms after its report`);
  });
});
