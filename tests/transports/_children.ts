// Copyright (c) memberlist-ts authors. SPDX-License-Identifier: MPL-2.0
// Child processes for the socket tests: a TCP listener that never accepts (python3), a runner
// for a throwaway script in a fresh directory, and the script that checks a backend leaves
// nothing behind after shutdown (the child must exit by itself).
import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** Whether python3 runs here (for {@linkcode unacceptingListener}). */
export const hasPython: boolean = (() => {
  try {
    return spawnSync("python3", ["-c", "pass"], { stdio: "ignore" }).status === 0;
  } catch {
    return false;
  }
})();

/**
 * A TCP listener (in a python3 child) that never accepts, with a backlog of 0:
 * once one connection waits in its queue, further SYNs are dropped, so dials
 * hang until they time out. Black-hole addresses are no good here: sandboxes
 * and proxies answer them.
 */
export async function unacceptingListener(): Promise<{ port: number; close(): void }> {
  const child = spawn("python3", [
    "-c",
    "import socket,sys\ns=socket.socket()\ns.bind(('127.0.0.1',0))\ns.listen(0)\nprint(s.getsockname()[1],flush=True)\nsys.stdin.read()",
  ], { stdio: ["pipe", "pipe", "ignore"] });
  const port = await new Promise<number>((resolve, reject) => {
    child.once("error", reject);
    child.stdout!.once("data", (d: Uint8Array) => resolve(Number(String(d).trim())));
  });
  return {
    port,
    close: () => {
      child.stdin!.end();
      child.kill();
    },
  };
}

/**
 * Writes `script` to `file` in a fresh directory (no deno.json, no
 * package.json) and runs `command args` there, `file` being among `args`.
 *
 * @returns The exit code (null when killed after `timeoutMs`) and stdout, with
 * stderr appended unless the child exited with 0.
 */
export async function runChild(
  command: string,
  args: readonly string[],
  script: string,
  timeoutMs: number,
  file = "child.ts",
): Promise<{ code: number | null; out: string }> {
  const dir = mkdtempSync(join(tmpdir(), "memberlist-child-"));
  try {
    writeFileSync(join(dir, file), script);
    const child = spawn(command, args, {
      cwd: dir,
      stdio: ["ignore", "pipe", "pipe"],
      env: { ...process.env, NO_COLOR: "1", DENO_NO_UPDATE_CHECK: "1" },
    });
    let out = "";
    let err = "";
    child.stdout!.on("data", (d: Uint8Array) => (out += String(d)));
    child.stderr!.on("data", (d: Uint8Array) => (err += String(d)));
    const code = await new Promise<number | null>((resolve) => {
      const timer = setTimeout(() => {
        child.kill();
        resolve(null);
      }, timeoutMs);
      child.on("exit", (c) => {
        clearTimeout(timer);
        resolve(c);
      });
    });
    return { code, out: code === 0 ? out : `${out}\n${err}` };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * The child script of "the process exits by itself after shutdown()": two
 * transports of the backend at `backend` (a module URL) exchange a datagram
 * and a stream, send to and dial a dead port, leave a read pending, time out
 * a dial to `blackHolePort` (an {@linkcode unacceptingListener}; 0 skips it),
 * then shut down and print `shut down <the pending read's result>`. Plain
 * JavaScript, so that Node runs it too (as a `.mjs` file).
 *
 * @param prelude Lines run first, after the import (e.g. a check of the runtime).
 */
export function exitsByItselfScript(backend: string, blackHolePort: number, prelude = ""): string {
  return `
const { createNetTransport } = await import(${JSON.stringify(backend)});
${prelude}
const quiet = { debug() {}, info() {}, warn() {}, error() {} };
const a = await createNetTransport({ bindAddrs: ["127.0.0.1"], bindPort: 0, logger: quiet });
const b = await createNetTransport({ bindAddrs: ["127.0.0.1", "::1"], bindPort: 0, logger: quiet });
let got = 0;
const accepted = [];
b.setHandlers({ packet() { got++; }, stream(c) { accepted.push(c); c.setDeadline(60000); c.read(); } });
a.setHandlers({ packet() {}, stream(c) { c.close(); } });
a.writeTo(new Uint8Array([1]), { addr: "127.0.0.1:" + b.port, name: "b" });
a.writeTo(new Uint8Array([1]), { addr: "127.0.0.1:1", name: "dead" });
const conn = await a.dialTimeout({ addr: "127.0.0.1:" + b.port, name: "b" }, 1000);
conn.setDeadline(60000);
const pending = conn.read();
await a.dialTimeout({ addr: "127.0.0.1:1", name: "dead" }, 1000).catch(() => {});
const blackHole = ${blackHolePort};
if (blackHole !== 0) {
  const filler = await a.dialTimeout({ addr: "127.0.0.1:" + blackHole, name: "" }, 2000);
  const timedOut = await a.dialTimeout({ addr: "127.0.0.1:" + blackHole, name: "" }, 100).catch((e) => e.name);
  if (timedOut !== "TimeoutError") throw new Error("expected a timeout, got " + timedOut);
  filler.close();
}
while (got === 0 || accepted.length === 0) await new Promise((r) => setTimeout(r, 5));
await Promise.all([a.shutdown(), b.shutdown()]);
console.log("shut down", await pending);
`;
}
