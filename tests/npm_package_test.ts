// Copyright (c) memberlist-ts authors. SPDX-License-Identifier: MPL-2.0
// The npm package as a user gets it: `npm run build`, `npm pack` in the build output,
// `npm install` of the tarball into a fresh project, then `import ... from
// "@gossip/memberlist"` there: type-checked against the shipped .d.ts, and run on Node,
// Deno and Bun (each picks its export condition; none may meet a .ts file). Also checks
// that dist/package.json exports exactly jsr.json's subpaths. Runs under Node only (it
// drives npm); `deno test` and `bun test` skip it.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync, type SpawnSyncReturns } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const g = globalThis as { Deno?: unknown; Bun?: unknown };
const skip = g.Deno !== undefined || g.Bun !== undefined
  ? "drives npm; runs under Node (npm test's node step)"
  : false;

// Tests run from tests/ or build/tests/: find the repository root either way.
const here = fileURLToPath(new URL(".", import.meta.url));
const root = here.includes("/build/")
  ? here.slice(0, here.indexOf("/build/") + 1)
  : fileURLToPath(new URL("..", import.meta.url));
const bin = (name: string): string => join(root, "node_modules", ".bin", name);

function run(cmd: string, args: string[], cwd: string): SpawnSyncReturns<string> {
  const r = spawnSync(cmd, args, {
    cwd,
    encoding: "utf8",
    env: { ...process.env, NO_COLOR: "1" },
    timeout: 120_000,
  });
  if (r.error) throw r.error;
  return r;
}

function ok(r: SpawnSyncReturns<string>, what: string): string {
  assert.equal(r.status, 0, `${what} failed (${r.status}):\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
}

// What a user writes: the entry point with the default transport, each subpath.
const APP = `
import { defaultLocalConfig, Memberlist, createNetTransport as fromRoot } from "@gossip/memberlist";
import { createNetTransport, TimeoutError } from "@gossip/memberlist/transports";
import { createNetTransport as nodeBackend } from "@gossip/memberlist/transports/node";
import { MockNetwork } from "@gossip/memberlist/transports/mock";

const config = { ...defaultLocalConfig(), name: "npm-user", bindAddr: "127.0.0.1", bindPort: 0 };
const ml = await Memberlist.create(config);
const address = ml.localNode().address;
await ml.shutdown();
const t = await createNetTransport({ bindAddrs: ["127.0.0.1"], bindPort: 0 });
await t.shutdown();
const mock = new MockNetwork().newTransport("m");
await mock.shutdown();
console.log(JSON.stringify({
  address,
  port: t.port,
  same: fromRoot === createNetTransport,
  node: typeof nodeBackend,
  timeout: new TimeoutError("x").code,
}));
`;

const APP_TS = `
import { type Config, defaultLocalConfig, Memberlist, type Node } from "@gossip/memberlist";
import { createNetTransport, type NetTransport, type NetTransportOptions } from "@gossip/memberlist/transports";
import { createNetTransport as nodeBackend } from "@gossip/memberlist/transports/node";
import { MockNetwork, type MockTransport } from "@gossip/memberlist/transports/mock";

const options: NetTransportOptions = { bindAddrs: ["127.0.0.1"], bindPort: 0 };
const config: Config = { ...defaultLocalConfig(), name: "typed", transport: null };
export async function main(): Promise<Node[]> {
  const t: NetTransport = await createNetTransport(options);
  const u: NetTransport = await nodeBackend(options);
  const m: MockTransport = new MockNetwork().newTransport("m");
  await Promise.all([t.shutdown(), u.shutdown(), m.shutdown()]);
  const ml = await Memberlist.create(config);
  const members = ml.members();
  await ml.shutdown();
  return members;
}
`;

describe("npm package", { skip }, () => {
  let tmp = "";
  let dist = "";
  let consumer = "";

  before(() => {
    tmp = mkdtempSync(join(tmpdir(), "memberlist-npm-"));
    dist = join(tmp, "package");
    consumer = join(tmp, "consumer");
    ok(run("npm", ["run", "build", "--silent", "--", "--out", dist], root), "npm run build");
    const packed = JSON.parse(
      ok(run("npm", ["pack", "--json", "--pack-destination", tmp], dist), "npm pack"),
    );
    const tgz = join(tmp, packed[0].filename as string);
    run("mkdir", ["-p", consumer], tmp);
    writeFileSync(
      join(consumer, "package.json"),
      JSON.stringify({ name: "consumer", private: true, type: "module" }),
    );
    ok(
      run(
        "npm",
        ["install", tgz, "--prefer-offline", "--no-audit", "--no-fund", "--loglevel=error"],
        consumer,
      ),
      "npm install of the tarball",
    );
    writeFileSync(join(consumer, "app.mjs"), APP);
  });

  after(() => {
    if (tmp !== "") rmSync(tmp, { recursive: true, force: true });
  });

  it("exports exactly jsr.json's subpaths, each to emitted .js and .d.ts files", () => {
    const jsr = JSON.parse(readFileSync(join(root, "jsr.json"), "utf8"));
    const pkg = JSON.parse(readFileSync(join(root, "package.json"), "utf8"));
    const manifest = JSON.parse(readFileSync(join(dist, "package.json"), "utf8"));
    assert.deepEqual(Object.keys(manifest.exports).sort(), Object.keys(jsr.exports).sort());
    assert.equal(manifest.name, jsr.name);
    assert.equal(manifest.version, jsr.version);
    assert.equal(manifest.version, pkg.version);
    assert.equal(manifest.type, "module");
    assert.deepEqual(manifest.dependencies, pkg.dependencies);
    assert.deepEqual(manifest.engines, { node: ">=20.19" });
    // mod.js installs the default transport: it must not be declared free of side effects.
    assert.deepEqual(manifest.sideEffects, ["./mod.js", "./agent/cli.js"]);
    assert.deepEqual(manifest.bin, { memberlist: "./agent/cli.js" });
    for (const field of ["repository", "homepage", "bugs"]) assert.deepEqual(manifest[field], pkg[field], field);
    // TypeScript with moduleResolution "node" reads these instead of "exports".
    assert.equal(manifest.types, "./mod.d.ts");
    assert.equal(manifest.main, "./mod.js");
    for (const subpath of Object.keys(jsr.exports).filter((k) => k !== ".")) {
      assert.deepEqual(manifest.typesVersions["*"][subpath.slice(2)], [manifest.exports[subpath].types], subpath);
    }
    for (
      const [subpath, target] of Object.entries(manifest.exports as Record<string, Record<string, string>>)
    ) {
      const conditions = Object.keys(target);
      assert.equal(conditions[0], "types", `${subpath}: "types" comes first`);
      assert.equal(conditions.at(-1), "default", `${subpath}: "default" comes last`);
      // Deno and Bun also match "node": their conditions must come before it.
      const order = conditions.filter((c) => ["deno", "bun", "node"].includes(c));
      assert.deepEqual(
        order,
        ["deno", "bun", "node"].filter((c) => order.includes(c)),
        `${subpath}: condition order`,
      );
      for (const [condition, file] of Object.entries(target)) {
        assert.match(file, condition === "types" ? /\.d\.ts$/ : /\.js$/, `${subpath} ${condition}`);
        assert.ok(existsSync(join(dist, file)), `${subpath} ${condition}: ${file} exists`);
      }
      assert.equal(target.default, (jsr.exports[subpath] as string).replace(/\.ts$/, ".js"));
    }
    assert.ok(existsSync(join(dist, "README.md")) && existsSync(join(dist, "LICENSE")));
  });

  it("ships no TypeScript sources and no tests; source maps with their sources inlined; README, CHANGELOG", () => {
    const listed = JSON.parse(ok(run("npm", ["pack", "--dry-run", "--json"], dist), "npm pack --dry-run"));
    const files = (listed[0].files as { path: string }[]).map((f) => f.path);
    assert.deepEqual(files.filter((f) => /(?<!\.d)\.ts$/.test(f) || /_test\./.test(f)), []);
    assert.ok(files.includes("mod.js") && files.includes("mod.d.ts") && files.includes("package.json"));
    assert.ok(files.includes("README.md") && files.includes("CHANGELOG.md") && files.includes("LICENSE"));
    for (const js of files.filter((f) => f.endsWith(".js"))) assert.ok(files.includes(`${js}.map`), `${js}.map`);
    const map = JSON.parse(readFileSync(join(dist, "lib", "memberlist.js.map"), "utf8"));
    assert.match(map.sourcesContent[0], /export class Memberlist/);
  });

  it("runs the memberlist bin through npx and bunx: --help, then an agent answering members --json", async () => {
    ok(run("npx", ["--no-install", "memberlist", "--help"], consumer), "npx memberlist --help");
    const help = ok(run(bin("bun"), ["x", "memberlist", "--help"], consumer), "bunx memberlist --help");
    assert.match(help, /Usage: memberlist <command>/);
    const gossip = 29_000 + Math.floor(Math.random() * 500) * 2;
    const rpc = `127.0.0.1:${gossip + 1}`;
    const agent = spawn("npx", ["--no-install", "memberlist", "agent", "--node", "npx-agent", "--bind", `127.0.0.1:${gossip}`, "--rpc-addr", rpc], {
      cwd: consumer,
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    agent.stdout!.on("data", (d: Uint8Array) => (out += String(d)));
    agent.stderr!.on("data", (d: Uint8Array) => (out += String(d)));
    try {
      for (let i = 0; i < 100 && !out.includes("Agent started"); i++) await new Promise((r) => setTimeout(r, 100));
      assert.match(out, /Agent started/);
      const members = JSON.parse(ok(run(bin("bun"), ["x", "memberlist", "members", "--json", "--rpc-addr", rpc], consumer), "bunx memberlist members"));
      assert.deepEqual(members.members.map((m: { name: string; state: string }) => [m.name, m.state]), [["npx-agent", "alive"]]);
      ok(run("npx", ["--no-install", "memberlist", "leave", "--rpc-addr", rpc], consumer), "npx memberlist leave");
      const code = await new Promise((r) => agent.once("exit", r));
      assert.equal(code, 0, out);
    } finally {
      agent.kill("SIGKILL");
    }
  });

  it("loads with require() (CommonJS) on Node", () => {
    writeFileSync(join(consumer, "app.cjs"), `
const { Memberlist, NodeState } = require("@gossip/memberlist");
const { createHandler } = require("@gossip/memberlist/http");
console.log(JSON.stringify({ ml: typeof Memberlist.create, left: NodeState.Left, handler: typeof createHandler }));
`);
    const out = JSON.parse(ok(run(process.execPath, ["app.cjs"], consumer), "node app.cjs").trim());
    assert.deepEqual(out, { ml: "function", left: 3, handler: "function" });
  });

  for (const resolution of ["node16", "node"] as const) {
    it(`type-checks with moduleResolution "${resolution}" (subpaths through ${resolution === "node" ? "typesVersions" : "exports"})`, () => {
      writeFileSync(join(consumer, `res-${resolution}.ts`), `
import { Memberlist, type Node, PrometheusMetrics } from "@gossip/memberlist";
import { createHandler } from "@gossip/memberlist/http";
import { leaveOnSignals } from "@gossip/memberlist/agent";
import { VirtualClock } from "@gossip/memberlist/testing";
export async function main(): Promise<Node[]> {
  const ml = await Memberlist.create({ name: "n", clock: new VirtualClock(), metrics: new PrometheusMetrics() });
  const handler: (r: Request) => Promise<Response> = createHandler(ml);
  void handler;
  leaveOnSignals(ml)();
  return ml.members();
}
`);
      writeFileSync(
        join(consumer, `tsconfig.${resolution}.json`),
        JSON.stringify({
          compilerOptions: {
            target: "es2022",
            lib: ["es2023", "dom"],
            module: resolution === "node" ? "commonjs" : "node16",
            moduleResolution: resolution === "node" ? "node10" : "node16",
            strict: true,
            noEmit: true,
            typeRoots: [join(root, "node_modules", "@types")],
            types: ["node"],
            skipLibCheck: true,
          },
          files: [`res-${resolution}.ts`],
        }),
      );
      // TypeScript 7 dropped moduleResolution "node" (node10); the users who still have it run 5.x.
      const tsc = resolution === "node" ? join(root, "node_modules", "typescript5", "bin", "tsc") : bin("tsc");
      ok(run(tsc, ["-p", join(consumer, `tsconfig.${resolution}.json`)], consumer), `tsc (${resolution})`);
    });
  }

  it("type-checks a user's TypeScript (with @types/node) against the shipped declarations", () => {
    writeFileSync(join(consumer, "app.ts"), APP_TS);
    writeFileSync(
      join(consumer, "tsconfig.json"),
      JSON.stringify({
        compilerOptions: {
          target: "es2022",
          lib: ["es2023"],
          module: "nodenext",
          moduleResolution: "nodenext",
          strict: true,
          exactOptionalPropertyTypes: true,
          noEmit: true,
          // The declarations use AbortSignal, Event and Symbol.asyncDispose: a Node user's
          // @types/node provides them (Deno's and Bun's own types do too).
          typeRoots: [join(root, "node_modules", "@types")],
          types: ["node"],
          skipLibCheck: false,
        },
        files: ["app.ts"],
      }),
    );
    ok(run(bin("tsc"), ["-p", join(consumer, "tsconfig.json")], consumer), "tsc on the consumer project");
  });

  for (const runtime of ["node", "deno", "bun"] as const) {
    it(`runs in the installed project on ${runtime}: Memberlist with the default transport, each subpath`, () => {
      const [cmd, args] = runtime === "node"
        ? [process.execPath, ["app.mjs"]]
        : runtime === "deno"
        ? [bin("deno"), ["run", "-A", "app.mjs"]]
        : [bin("bun"), ["app.mjs"]];
      const out = JSON.parse(ok(run(cmd, args, consumer), `${runtime} app.mjs`).trim().split("\n").at(-1)!);
      assert.match(out.address, /^127\.0\.0\.1:\d+$/);
      assert.ok(out.port > 0);
      assert.equal(out.same, true);
      assert.equal(out.node, "function");
      assert.equal(out.timeout, "ETIMEDOUT");
    });
  }
});
