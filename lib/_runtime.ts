// Copyright (c) memberlist-ts authors. SPDX-License-Identifier: MPL-2.0
/**
 * Runtime detection and access to built-in modules. This is the only file in
 * `lib/` that looks at runtime globals (`Deno`, `Bun`, `process`); everything
 * else asks it. Private to the package.
 *
 * Nothing here runs at import time, so loading the module has no side effects.
 *
 * @module
 */

/** The JavaScript runtime the code is running on. */
export type RuntimeName = "deno" | "bun" | "node" | "unknown";

/** The globals this file reads, typed locally (no Deno or Bun type packages). */
interface RuntimeGlobals {
  Deno?: unknown;
  Bun?: unknown;
  process?: {
    versions?: { node?: string };
    getBuiltinModule?: (specifier: string) => unknown;
  };
}

function runtimeGlobals(): RuntimeGlobals {
  return globalThis as unknown as RuntimeGlobals;
}

/**
 * Names the runtime. Deno and Bun both define `process` as well, so they are
 * checked first: `globalThis.Deno`, then `globalThis.Bun`, then
 * `process.versions.node`.
 *
 * @returns The runtime name, or "unknown" (a browser, a worker, another engine).
 */
export function detectRuntime(): RuntimeName {
  const g = runtimeGlobals();
  if (g.Deno !== undefined) return "deno";
  if (g.Bun !== undefined) return "bun";
  if (typeof g.process?.versions?.node === "string") return "node";
  return "unknown";
}

/**
 * Loads a built-in module synchronously through `process.getBuiltinModule`,
 * which exists on Node 20.16 and later, Deno 2.9 and Bun 1.4. No static
 * `node:` import is involved, so `lib/` still loads where none exists.
 *
 * The caller names the shape it expects with `T`; nothing checks it, so test
 * the members before use.
 *
 * @typeParam T The expected shape of the module.
 * @param specifier A built-in module specifier such as "node:crypto".
 * @returns The module, or `undefined` when the runtime has no such function or
 * it throws (unknown module, or a runtime that refuses).
 */
export function getBuiltinModule<T>(specifier: string): T | undefined {
  const proc = runtimeGlobals().process;
  if (typeof proc?.getBuiltinModule !== "function") return undefined;
  try {
    const mod = proc.getBuiltinModule(specifier);
    return mod === undefined || mod === null ? undefined : (mod as T);
  } catch {
    return undefined;
  }
}
