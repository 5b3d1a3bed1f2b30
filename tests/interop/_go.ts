// Copyright (c) memberlist-ts authors. SPDX-License-Identifier: MPL-2.0

/**
 * Builds our Go test programs against real hashicorp/memberlist 0.2.2 internals, for the interop tests and
 * the benchmarks. Uses only `node:` modules, so it runs the same on Deno, Bun and Node.
 *
 * memberlist's wire functions (encode, decode, makeCompoundMessage, compressPayload, encryptPayload, ...) are
 * unexported. We therefore build in GOPATH mode against an overlay GOPATH under `build/go/`: every entry of
 * Debian's `/usr/share/gocode/src` is symlinked, except `github.com/hashicorp/memberlist`, which is a copy of
 * the Debian sources (unmodified) plus our shim files from `tests/interop/go/shim/`. The shim, in package
 * memberlist, exports thin wrappers and aliases. Binaries are cached under `build/go/bin/` by a hash of every
 * Go input, so the three runtimes of one `npm test` build each program once.
 *
 * Needs `go` (1.19 or newer) on PATH and the Debian package golang-github-hashicorp-memberlist-dev (which
 * brings go-msgpack 0.5.5). `MEMBERLIST_GOCODE` overrides the GOPATH holding them (default
 * `/usr/share/gocode`).
 *
 * @module
 */

import { spawnSync } from "node:child_process";
import { createHash, type Hash } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";

const SKIP_REASON = "Go interop tests (go or golang-github-hashicorp-memberlist-dev missing)";

/** The GOPATH that holds Debian's Go sources (memberlist, go-msgpack and their dependencies). */
const GOCODE: string = process.env["MEMBERLIST_GOCODE"] ?? "/usr/share/gocode";
const MEMBERLIST_IMPORT = "github.com/hashicorp/memberlist";

function findRepoRoot(): string {
  // This file runs from tests/interop/ (Deno, Bun) or build/tests/interop/ (compiled for Node).
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (fs.existsSync(path.join(dir, "tests", "interop", "go", "shim"))) return dir;
    const parent = path.dirname(dir);
    if (parent === dir) {
      throw new Error("Cannot find the repository root: no tests/interop/go/shim above _go.ts");
    }
    dir = parent;
  }
}

/** Absolute path of the repository root (the directory holding package.json). */
export const repoRoot: string = findRepoRoot();

let goVersionCache: string | null | undefined;

function goVersion(): string | null {
  if (goVersionCache === undefined) {
    const r = spawnSync("go", ["version"], { encoding: "utf8", env: goEnv(null) });
    goVersionCache = r.status === 0 ? r.stdout.trim() : null;
  }
  return goVersionCache;
}

/**
 * Reports whether the Go interop tests can run here.
 *
 * @returns true when `go version` runs and the memberlist and go-msgpack sources exist under the GOPATH
 */
export function goAvailable(): boolean {
  return goVersion() !== null &&
    fs.existsSync(path.join(GOCODE, "src", MEMBERLIST_IMPORT, "net.go")) &&
    fs.existsSync(path.join(GOCODE, "src", "github.com", "hashicorp", "go-msgpack", "codec", "msgpack.go"));
}

let skipAnnounced = false;

/**
 * For tests: decides whether the Go interop tests run. Pass the result as the `skip` option of `describe` or
 * `it` (`describe("...", { skip: requireGoOrSkip() }, ...)`), which node:test, `deno test` and `bun test`
 * all honour.
 *
 * @returns false when Go is available; otherwise, outside CI, the skip reason (and one loud line on stderr)
 * @throws {Error} when Go is missing and the environment variable CI is set: missing Go fails CI
 */
export function requireGoOrSkip(): string | false {
  if (goAvailable()) return false;
  const ci = process.env["CI"];
  if (ci !== undefined && ci !== "" && ci !== "0" && ci !== "false") {
    throw new Error(`Cannot run the ${SKIP_REASON}: CI is set, so this is a failure`);
  }
  if (!skipAnnounced) {
    skipAnnounced = true;
    process.stderr.write(`SKIPPED: ${SKIP_REASON}\n`);
  }
  return SKIP_REASON;
}

function goEnv(gopath: string | null): Record<string, string | undefined> {
  const env: Record<string, string | undefined> = { ...process.env, GO111MODULE: "off", GOFLAGS: "" };
  if (gopath !== null) env["GOPATH"] = gopath;
  // Our programs need no C; without cgo no C compiler is needed either.
  env["CGO_ENABLED"] ??= "0";
  if (!env["GOCACHE"] && !env["XDG_CACHE_HOME"] && !env["HOME"]) {
    env["GOCACHE"] = path.join(repoRoot, "build", "go", "cache");
  }
  return env;
}

function hashFiles(hash: Hash, dir: string, exts: readonly string[]): void {
  const names = fs.readdirSync(dir).filter((n) => exts.some((e) => n.endsWith(e))).sort();
  for (const name of names) {
    const file = path.join(dir, name);
    if (!fs.statSync(file).isFile()) continue;
    hash.update(`${name}\0`);
    hash.update(fs.readFileSync(file));
    hash.update("\0");
  }
}

/** Moves a freshly built directory or file into place, unless another process got there first. */
function publish(tmp: string, final: string): void {
  try {
    fs.renameSync(tmp, final);
  } catch (err) {
    fs.rmSync(tmp, { recursive: true, force: true });
    if (!fs.existsSync(final)) throw err;
  }
}

/** Copies a directory tree, following symlinks. */
function copyDir(from: string, to: string): void {
  fs.mkdirSync(to, { recursive: true });
  for (const name of fs.readdirSync(from)) {
    const src = path.join(from, name);
    if (fs.statSync(src).isDirectory()) copyDir(src, path.join(to, name));
    else fs.copyFileSync(src, path.join(to, name));
  }
}

/** Creates (once) the overlay GOPATH and returns its path. */
function overlayGopath(): string {
  const shimDir = path.join(repoRoot, "tests", "interop", "go", "shim");
  const srcDir = path.join(GOCODE, "src", MEMBERLIST_IMPORT);
  const hash = createHash("sha256");
  hash.update(`${GOCODE}\0`);
  hashFiles(hash, shimDir, [".go"]);
  for (const name of fs.readdirSync(srcDir).sort()) {
    const st = fs.statSync(path.join(srcDir, name));
    // Whole seconds: runtimes differ in the sub-millisecond part of mtimeMs.
    hash.update(`${name}\0${st.size}\0${Math.trunc(st.mtimeMs / 1000)}\0`);
  }
  const gopath = path.join(repoRoot, "build", "go", `gopath-${hash.digest("hex").slice(0, 16)}`);
  if (fs.existsSync(gopath)) return gopath;

  fs.mkdirSync(path.join(repoRoot, "build", "go"), { recursive: true });
  const tmp = fs.mkdtempSync(path.join(repoRoot, "build", "go", ".gopath-"));
  // Mirror GOCODE/src with symlinks, descending only along the path to memberlist.
  const parts = MEMBERLIST_IMPORT.split("/");
  let from = path.join(GOCODE, "src");
  let to = path.join(tmp, "src");
  for (const part of parts) {
    fs.mkdirSync(to, { recursive: true });
    for (const name of fs.readdirSync(from)) {
      if (name !== part) fs.symlinkSync(path.join(from, name), path.join(to, name));
    }
    from = path.join(from, part);
    to = path.join(to, part);
  }
  copyDir(from, to);
  for (const name of fs.readdirSync(shimDir).filter((n) => n.endsWith(".go"))) {
    fs.copyFileSync(path.join(shimDir, name), path.join(to, name));
  }
  publish(tmp, gopath);
  return gopath;
}

/**
 * Builds a Go program of this repository against memberlist 0.2.2 plus our shim, or returns the cached
 * binary when no Go input changed.
 *
 * @param program the program's directory relative to the repository root (`tests/interop/go/wirevectors`,
 *   `bench/go/wirebench`), or a bare name for a directory under `tests/interop/go/`
 * @returns the absolute path of the binary
 * @throws {Error} when Go is not available or `go build` fails (the message holds the build output)
 */
export function buildGoProgram(program: string): string {
  const rel = program.includes("/") ? program : `tests/interop/go/${program}`;
  const dir = path.resolve(repoRoot, rel);
  if (!fs.existsSync(dir)) throw new Error(`Cannot build Go program "${program}": no directory ${dir}`);
  const version = goVersion();
  if (version === null || !goAvailable()) {
    throw new Error(`Cannot build Go program "${program}": ${SKIP_REASON}`);
  }

  const gopath = overlayGopath();
  const hash = createHash("sha256");
  hash.update(`${version}\0${path.basename(gopath)}\0${rel}\0`);
  hashFiles(hash, dir, [".go"]);
  const binDir = path.join(repoRoot, "build", "go", "bin");
  const bin = path.join(binDir, `${path.basename(dir)}-${hash.digest("hex").slice(0, 16)}`);
  if (fs.existsSync(bin)) return bin;

  fs.mkdirSync(binDir, { recursive: true });
  const tmp = `${bin}.tmp-${process.pid}-${Date.now()}`;
  const r = spawnSync("go", [
    "build",
    "-o",
    tmp,
    `./${path.relative(repoRoot, dir).split(path.sep).join("/")}`,
  ], {
    cwd: repoRoot,
    encoding: "utf8",
    env: goEnv(gopath),
  });
  if (r.status !== 0) {
    fs.rmSync(tmp, { force: true });
    const output = `${r.stdout ?? ""}${r.stderr ?? ""}${r.error ? String(r.error) : ""}`.trim();
    throw new Error(`Cannot build Go program "${program}": go build failed:\n${output}`);
  }
  publish(tmp, bin);
  return bin;
}
