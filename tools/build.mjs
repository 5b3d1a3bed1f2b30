#!/usr/bin/env node
// Copyright (c) memberlist-ts authors. SPDX-License-Identifier: MPL-2.0
//
// `npm run build`: the npm compatibility build. JSR gets the TypeScript sources; npm gets
// this: ESM JavaScript plus .d.ts for every entry point, compiled by tsc with
// tsconfig.build.json (relative ".ts" imports rewritten to ".js"), in dist/, which is
// itself the package to publish (`cd dist && npm publish`).
//
//   dist/package.json     written here, from package.json and jsr.json
//   dist/mod.js|.d.ts     "."
//   dist/transports/...   "./transports" (with runtime conditions) and one subpath per backend
//   dist/lib/...          internals
//   dist/agent/cli.js     the `memberlist` bin
//   dist/README.md, dist/CHANGELOG.md, dist/LICENSE
//   *.js.map              source maps, with the TypeScript sources inlined
//
// Exports mirror jsr.json's exports, subpath for subpath (tests/npm_package_test.ts checks
// it). "./transports" also gets export conditions that take each runtime straight to its
// backend: "types" first, then "deno" and "bun" (both match "node" too, so they must come
// before it), then "node", then "default" (the run-time pick of transports/mod.js). A
// runtime whose backend does not exist yet gets no condition and falls through to "node".
// Every condition points at compiled .js: Deno refuses .ts files inside node_modules.
//
// "sideEffects": mod.js has exactly one: it installs the default transport factory
// (setDefaultTransportFactory), which lib/ cannot do itself. With "sideEffects": false, a
// bundler could skip mod.js's body when an import only needs re-exported names, and
// Memberlist.create() without a transport would then fail. So the field lists mod.js
// and declares every other file free of side effects.
//
//   node tools/build.mjs [--out <dir>]

import { spawnSync } from "node:child_process";
import { chmodSync, copyFileSync, existsSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
const outArg = process.argv.indexOf("--out");
const out = outArg > 0 ? process.argv[outArg + 1] : `${root}dist`;

const pkg = JSON.parse(readFileSync(`${root}package.json`, "utf8"));
const jsr = JSON.parse(readFileSync(`${root}jsr.json`, "utf8"));

rmSync(out, { recursive: true, force: true });
const tsc = spawnSync(`${root}node_modules/.bin/tsc`, ["-p", `${root}tsconfig.build.json`, "--outDir", out], {
  cwd: root,
  stdio: "inherit",
});
if (tsc.status !== 0) {
  console.error("build: tsc failed");
  process.exit(1);
}

/** "./transports/node/mod.ts" → { types: "./transports/node/mod.d.ts", default: "./transports/node/mod.js" } */
function entry(tsPath) {
  const base = tsPath.replace(/\.ts$/, "");
  return { types: `${base}.d.ts`, default: `${base}.js` };
}

const exports = {};
for (const [subpath, tsPath] of Object.entries(jsr.exports)) {
  const plain = entry(tsPath);
  if (subpath !== "./transports") {
    exports[subpath] = plain;
    continue;
  }
  const conditions = { types: plain.types };
  for (const runtime of ["deno", "bun", "node"]) {
    if (existsSync(`${root}transports/${runtime}/mod.ts`)) {
      conditions[runtime] = entry(`./transports/${runtime}/mod.ts`).default;
    }
  }
  conditions.default = plain.default;
  exports[subpath] = conditions;
}

// TypeScript with `moduleResolution: "node"` (node10) ignores "exports": it reads the
// top-level "types" for the root and "typesVersions" for each subpath.
const typesVersions = {};
for (const [subpath, target] of Object.entries(exports)) {
  if (subpath !== ".") typesVersions[subpath.slice(2)] = [target.types];
}

const manifest = {
  name: pkg.name,
  version: pkg.version,
  description: pkg.description,
  license: pkg.license,
  type: "module",
  // The agent's `bin` has a side effect of its own (it runs the command line).
  sideEffects: ["./mod.js", "./agent/cli.js"],
  engines: pkg.engines,
  main: "./mod.js",
  types: "./mod.d.ts",
  typesVersions: { "*": typesVersions },
  exports,
  bin: pkg.bin,
  dependencies: pkg.dependencies,
};
for (const field of ["keywords", "repository", "homepage", "bugs", "author"]) {
  if (pkg[field] !== undefined) manifest[field] = pkg[field];
}
for (const file of Object.values(pkg.bin ?? {})) {
  if (!existsSync(`${out}/${file}`)) {
    console.error(`build: bin ${file} was not emitted`);
    process.exit(1);
  }
  if (!readFileSync(`${out}/${file}`, "utf8").startsWith("#!/usr/bin/env node\n")) {
    console.error(`build: bin ${file} lacks its #!/usr/bin/env node line`);
    process.exit(1);
  }
  chmodSync(`${out}/${file}`, 0o755);
}

for (const [subpath, target] of Object.entries(exports)) {
  for (const file of Object.values(target)) {
    if (!existsSync(`${out}/${file}`)) {
      console.error(`build: export "${subpath}" points at ${file}, which was not emitted`);
      process.exit(1);
    }
  }
}

writeFileSync(`${out}/package.json`, `${JSON.stringify(manifest, null, 2)}\n`);
for (const file of ["README.md", "CHANGELOG.md", "LICENSE"]) copyFileSync(`${root}${file}`, `${out}/${file}`);
console.log(`build: ${pkg.name}@${pkg.version} in ${out} (${Object.keys(exports).join(", ")})`);
