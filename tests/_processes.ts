// Copyright (c) memberlist-ts authors. SPDX-License-Identifier: MPL-2.0
// Child processes for the agent, CLI, example and browser tests: spawn one, wait for a line
// of its output, signal it, wait for its exit; and the repository layout those tests need
// (the root, the runtimes in node_modules/.bin, the compiled build).
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

// Tests run from tests/ (Deno, Bun) or build/tests/ (Node): find the repository root either way.
const here = fileURLToPath(new URL(".", import.meta.url));
/** The repository root, with a trailing slash. */
export const root: string = here.includes("/build/")
  ? here.slice(0, here.indexOf("/build/") + 1)
  : fileURLToPath(new URL("..", import.meta.url));

/** A tool from node_modules/.bin. */
export const bin = (name: string): string => join(root, "node_modules", ".bin", name);

/** The runner these tests drive everything from: Node (they spawn Deno and Bun themselves). */
export const nodeOnly: string | false = (globalThis as { Deno?: unknown; Bun?: unknown }).Deno !== undefined ||
    (globalThis as { Bun?: unknown }).Bun !== undefined
  ? "spawns Deno, Bun and Node itself; runs under Node (npm test's node step)"
  : false;

/** How to run a TypeScript entry of the repository on each runtime (Node: the compiled build). */
export function command(runtime: "deno" | "bun" | "node", file: string, args: readonly string[] = []): [string, string[]] {
  if (runtime === "deno") return [bin("deno"), ["run", "-A", join(root, file), ...args]];
  if (runtime === "bun") return [bin("bun"), [join(root, file), ...args]];
  return [process.execPath, [compiled(file), ...args]];
}

/**
 * The compiled JS of a repository file, runnable by Node: build/<file>.js, with the package's own
 * specifiers ("@gossip/memberlist/...") rewritten to relative paths (tsc keeps them as written;
 * Deno maps them through deno.json and Bun through tsconfig.json "paths").
 */
export function compiled(file: string): string {
  const js = join(root, "build", file.replace(/\.ts$/, ".js"));
  if (!existsSync(js)) throw new Error(`${js} is missing: the node step compiles it (tsc -p tsconfig.test.json)`);
  const text = readFileSync(js, "utf8");
  if (!text.includes("@gossip/memberlist")) return js;
  const jsr = JSON.parse(readFileSync(join(root, "jsr.json"), "utf8")) as { exports: Record<string, string> };
  const depth = file.split("/").length - 1;
  const up = depth === 0 ? "./" : "../".repeat(depth);
  const rewritten = text.replace(/(["'])@gossip\/memberlist(\/[\w/-]+)?\1/g, (all: string, q: string, sub: string | undefined): string => {
    const target = jsr.exports[`.${sub ?? ""}`];
    return target === undefined ? all : `${q}${up}${target.slice(2).replace(/\.ts$/, ".js")}${q}`;
  });
  const out = js.replace(/\.js$/, ".run.mjs");
  writeFileSync(out, rewritten);
  return out;
}

/** A running child with its output. */
export class Proc {
  readonly child: ChildProcess;
  readonly name: string;
  out = "";
  readonly exited: Promise<number | null>;
  #waiters: { re: RegExp; resolve: (m: RegExpMatchArray) => void }[] = [];

  constructor(name: string, cmd: string, args: readonly string[], env: Record<string, string> = {}, cwd: string = root) {
    this.name = name;
    this.child = spawn(cmd, args, {
      cwd,
      stdio: ["ignore", "pipe", "pipe"],
      env: { ...process.env, NO_COLOR: "1", DENO_NO_UPDATE_CHECK: "1", ...env },
    });
    const take = (d: Uint8Array) => {
      this.out += String(d);
      for (const w of [...this.#waiters]) {
        const m = this.out.match(w.re);
        if (m !== null) {
          this.#waiters.splice(this.#waiters.indexOf(w), 1);
          w.resolve(m);
        }
      }
    };
    this.child.stdout!.on("data", take);
    this.child.stderr!.on("data", take);
    this.exited = new Promise((resolve) => this.child.on("exit", (code, signal) => resolve(signal === null ? code : null)));
  }

  /** Waits until the output (stdout and stderr) matches `re`. */
  waitFor(re: RegExp, timeoutMs = 20_000): Promise<RegExpMatchArray> {
    const m = this.out.match(re);
    if (m !== null) return Promise.resolve(m);
    return new Promise((resolve, reject) => {
      const w = { re, resolve: (x: RegExpMatchArray) => (clearTimeout(timer), resolve(x)) };
      const timer = setTimeout(() => {
        this.#waiters.splice(this.#waiters.indexOf(w), 1);
        reject(new Error(`${this.name}: timed out after ${timeoutMs} ms waiting for ${re}; output:\n${this.out}`));
      }, timeoutMs);
      this.#waiters.push(w);
      void this.exited.then((code) => {
        if (this.#waiters.includes(w)) {
          clearTimeout(timer);
          this.#waiters.splice(this.#waiters.indexOf(w), 1);
          reject(new Error(`${this.name}: exited (${code}) before printing ${re}; output:\n${this.out}`));
        }
      });
    });
  }

  /** Sends a signal and waits for the exit, at most `timeoutMs` (then SIGKILL, and null). */
  async stop(signal: NodeJS.Signals = "SIGTERM", timeoutMs = 15_000): Promise<number | null> {
    if (this.child.exitCode !== null) return this.child.exitCode;
    this.child.kill(signal);
    const timer = setTimeout(() => this.child.kill("SIGKILL"), timeoutMs);
    const code = await this.exited;
    clearTimeout(timer);
    return code;
  }
}

/** Runs a command to completion. */
export async function run(
  cmd: string,
  args: readonly string[],
  env: Record<string, string> = {},
  timeoutMs = 60_000,
): Promise<{ code: number | null; out: string }> {
  const p = new Proc(cmd, cmd, args, env);
  const timer = setTimeout(() => p.child.kill("SIGKILL"), timeoutMs);
  const code = await p.exited;
  clearTimeout(timer);
  return { code, out: p.out };
}

/** Polls `check` every 100 ms until it returns true, at most `timeoutMs`. */
export async function eventually(what: string, check: () => Promise<boolean> | boolean, timeoutMs = 20_000): Promise<void> {
  const start = Date.now();
  for (;;) {
    try {
      if (await check()) return;
    } catch {
      // Not yet (a server still starting).
    }
    if (Date.now() - start > timeoutMs) throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
