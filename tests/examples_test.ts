// Copyright (c) memberlist-ts authors. SPDX-License-Identifier: MPL-2.0
// examples/ and the README run as a user runs them, on real sockets. The README's TypeScript
// blocks are the example files (checked here, so they cannot drift apart). The usage example runs
// on Deno, Bun and Node; each server example (Deno.serve, `deno serve`, Bun.serve, node:http on
// all three runtimes) joins a peer, serves the API, and on SIGTERM leaves gracefully and exits 0
// while the peer sees it "left"; the serf example joins a real serf agent on all three runtimes
// and serf lists it with its tags. Runs under Node (it spawns every runtime itself).
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { requireSerfOrSkip, SerfAgent } from "./interop/_serf.ts";
import { bin, command, compiled, eventually, nodeOnly, Proc, root } from "./_processes.ts";

type Runtime = "deno" | "bun" | "node";
const RUNTIMES: Runtime[] = ["deno", "bun", "node"];

/** Gossip and HTTP ports from a range the other tests do not use. */
let nextPort = 26_000 + Math.floor(Math.random() * 1000) * 4;
const port = () => nextPort++;

/** The README's ```ts blocks, without those marked `ignore`. */
function readmeBlocks(): string[] {
  const text = readFileSync(join(root, "README.md"), "utf8");
  return [...text.matchAll(/```ts( ignore)?\n([\s\S]*?)```/g)].filter((m) => m[1] === undefined).map((m) => m[2]!);
}

describe("README", { skip: nodeOnly }, () => {
  it("has its TypeScript blocks in examples/, verbatim, so running the examples runs the README", () => {
    const examples = readdirSync(join(root, "examples")).filter((f) => f.endsWith(".ts"));
    const bodies = new Map(examples.map((f) => [f, readFileSync(join(root, "examples", f), "utf8")]));
    const blocks = readmeBlocks();
    assert.ok(blocks.length >= 3, `README has ${blocks.length} runnable blocks`);
    for (const block of blocks) {
      const found = [...bodies].find(([, body]) => body.includes(block.trim()));
      assert.ok(found !== undefined, `README block not found in any examples/ file:\n${block}`);
    }
  });

  it("links only absolute URLs (it is the package page on both registries), install first", () => {
    const text = readFileSync(join(root, "README.md"), "utf8");
    const links = [...text.matchAll(/\]\(([^)]+)\)/g)].map((m) => m[1]!);
    assert.deepEqual(links.filter((l) => !/^https:\/\//.test(l)), []);
    const pkg = JSON.parse(readFileSync(join(root, "package.json"), "utf8"));
    const repo = (pkg.repository.url as string).replace(/^git\+/, "").replace(/\.git$/, "");
    for (const l of links.filter((l) => l.includes("/blob/") || l.includes("/tree/"))) assert.ok(l.startsWith(repo), l);
    const headings = [...text.matchAll(/^## (.+)$/gm)].map((m) => m[1]);
    assert.equal(headings[0], "Install");
    assert.ok(headings.includes("Development"));
    const dev = text.slice(text.indexOf("## Development"));
    assert.match(dev, /npm run demo/);
    assert.match(dev, /npm test/);
  });
});

describe("examples/usage.ts (the README's Usage)", { skip: nodeOnly }, () => {
  for (const runtime of RUNTIMES) {
    it(`runs on ${runtime}`, async () => {
      const [cmd, args] = command(runtime, "examples/usage.ts");
      const p = new Proc(`usage (${runtime})`, cmd, args);
      assert.equal(await p.exited, 0, p.out);
      const lines = p.out.trim().split("\n").sort();
      assert.deepEqual(lines, [
        '["seed"]',
        '[["web-1","alive"],["seed","alive"]]',
        "seed sees join: web-1",
        "seed sees update: web-1 role=api",
        "web-1 got: over TCP",
        "web-1 got: over UDP",
      ].sort().map((l) => (l.startsWith("[[") ? lines.find((x) => x.startsWith("[["))! : l)));
      assert.deepEqual(JSON.parse(lines.find((l) => l.startsWith("[["))!).sort(), [["seed", "alive"], ["web-1", "alive"]]);
    });
  }
});

interface ServerCase {
  name: string;
  runtime: Runtime;
  start(env: Record<string, string>): Proc;
  /** The API's base URL, from the output. */
  base(out: RegExpMatchArray): string;
  listening: RegExp;
}

const cases: ServerCase[] = [
  {
    name: "examples/deno_serve.ts (Deno.serve)",
    runtime: "deno",
    start: (env) => new Proc("deno_serve", bin("deno"), ["run", "-A", join(root, "examples/deno_serve.ts")], env),
    listening: /Listening on (http:\/\/127\.0\.0\.1:\d+)\//,
    base: (m) => `${m[1]}/cluster`,
  },
  {
    name: "examples/deno_serve_default.ts (deno serve)",
    runtime: "deno",
    start: (env) =>
      new Proc("deno serve", bin("deno"), ["serve", "-A", "--host", "127.0.0.1", "--port", env["PORT"]!, join(root, "examples/deno_serve_default.ts")], env),
    listening: /Listening on (http:\/\/127\.0\.0\.1:\d+)\//,
    base: (m) => m[1]!,
  },
  {
    name: "examples/bun_serve.ts (Bun.serve)",
    runtime: "bun",
    start: (env) => new Proc("bun_serve", bin("bun"), [join(root, "examples/bun_serve.ts")], env),
    listening: /listening on (http:\/\/127\.0\.0\.1:\d+)\//,
    base: (m) => m[1]!,
  },
  ...RUNTIMES.map((runtime): ServerCase => ({
    name: `examples/node_http.ts (node:http) on ${runtime}`,
    runtime,
    start: (env) => {
      const [cmd, args] = command(runtime, "examples/node_http.ts");
      return new Proc(`node_http (${runtime})`, cmd, args, env);
    },
    listening: /listening on (http:\/\/127\.0\.0\.1:\d+\/cluster)\//,
    base: (m) => m[1]!,
  })),
];

describe("server examples: API up, SIGTERM leaves gracefully, the peer sees left", { skip: nodeOnly }, () => {
  let peer: Proc;
  let peerApi = "";
  let peerGossip = 0;

  before(async () => {
    peerGossip = port();
    const [cmd, args] = command("node", "examples/node_http.ts");
    peer = new Proc("peer", cmd, args, { NODE_NAME: "peer", GOSSIP_PORT: String(peerGossip), PORT: "0" });
    peerApi = (await peer.waitFor(/listening on (http:\/\/127\.0\.0\.1:\d+\/cluster)\//))[1]!;
  });

  after(async () => {
    await peer?.stop("SIGKILL");
  });

  const stateAtPeer = async (name: string): Promise<string | undefined> => {
    const { members } = await (await fetch(`${peerApi}/v1/members`)).json() as { members: { name: string; state: string }[] };
    return members.find((m) => m.name === name)?.state;
  };

  for (const c of cases) {
    it(c.name, async () => {
      const name = `ex-${c.runtime}-${nextPort}`;
      const env = { NODE_NAME: name, GOSSIP_PORT: String(port()), PORT: String(port()), JOIN: `127.0.0.1:${peerGossip}` };
      const p = c.start(env);
      try {
        const base = c.base(await p.waitFor(c.listening));
        const { members } = await (await fetch(`${base}/v1/members`)).json() as { members: { name: string; state: string }[] };
        assert.deepEqual(members.map((m) => [m.name, m.state]).sort(), [[name, "alive"], ["peer", "alive"]].sort());
        const page = await fetch(`${base}/`);
        assert.match(await page.text(), new RegExp(`<title>${name} · memberlist</title>`));
        await eventually(`the peer to see ${name}`, async () => (await stateAtPeer(name)) === "alive");
        assert.equal(await p.stop("SIGTERM"), 0, `exit code after SIGTERM; output:\n${p.out}`);
        assert.match(p.out, /memberlist: SIGTERM: leaving the cluster\nmemberlist: left gracefully/);
        assert.equal(await stateAtPeer(name), "left");
      } finally {
        await p.stop("SIGKILL");
      }
    });
  }

  it("metrics of the Bun.serve example are Prometheus text", async () => {
    const env = { NODE_NAME: "metrics", GOSSIP_PORT: String(port()), PORT: String(port()), JOIN: `127.0.0.1:${peerGossip}` };
    const p = cases[2]!.start(env);
    try {
      const base = cases[2]!.base(await p.waitFor(cases[2]!.listening));
      const res = await fetch(`${base}/metrics`);
      assert.equal(res.headers.get("content-type"), "text/plain; version=0.0.4; charset=utf-8");
      assert.match(await res.text(), /^# TYPE memberlist_pushPullNode summary$/m);
    } finally {
      await p.stop("SIGTERM");
    }
  });
});

describe("npm run demo -- --web", { skip: nodeOnly }, () => {
  it("serves the demo cluster's status page and API while it runs, and leaves gracefully on Ctrl-C", async () => {
    const p = new Proc("demo --web", bin("deno"), ["run", "-A", join(root, "tools/demo.ts"), "--nodes", "3", "--web", "--port", String(port()), "--pause", "300"]);
    try {
      const base = (await p.waitFor(/status page of node-0: (http:\/\/127\.0\.0\.1:\d+)\//))[1]!;
      assert.match(await (await fetch(`${base}/`)).text(), /<title>node-0 · memberlist<\/title>/);
      await p.waitFor(/the cluster keeps running/, 60_000);
      const { members } = await (await fetch(`${base}/v1/members`)).json() as { members: { name: string; state: string; tags: object }[] };
      assert.deepEqual(members.map((m) => [m.name, m.state]), [["node-0", "alive"], ["node-1", "left"], ["node-2", "dead"]]);
      assert.deepEqual(members[0]!.tags, { role: "web" });
      assert.match(await (await fetch(`${base}/metrics`)).text(), /^memberlist_msg_dead /m);
      assert.equal(await p.stop("SIGINT"), 0, p.out);
      assert.match(p.out, /left gracefully/);
    } finally {
      await p.stop("SIGKILL");
    }
  });
});

const serfSkip = nodeOnly || requireSerfOrSkip();

describe("examples/serf_join.ts", { skip: serfSkip }, () => {
  let serf: SerfAgent;

  before(async () => {
    serf = await SerfAgent.start({ name: "serf-1", flags: ["-tag=dc=lab"] });
  });

  after(async () => {
    await serf?.kill();
  });

  for (const runtime of RUNTIMES) {
    it(`joins a serf agent on ${runtime}: each side lists the other's tags`, async () => {
      const [cmd, args] = command(runtime, "examples/serf_join.ts");
      const name = `ts-${runtime}`;
      const p = new Proc(`serf_join (${runtime})`, cmd, args, { SERF_JOIN: serf.address, SERF_PROFILE: "local", NODE_NAME: name, STAY_MS: "30000" });
      try {
        await p.waitFor(new RegExp(`^serf-1 +127\\.0\\.0\\.1:\\d+ +dc=lab$`, "m"));
        await eventually(`serf to list ${name} with its tags`, async () => {
          const m = (await serf.members()).find((x) => x.name === name);
          return m?.status === "alive" && m.tags["role"] === "ts" && m.tags["runtime"] === runtime;
        });
      } finally {
        await p.stop("SIGKILL");
      }
    });
  }
});

// Keep `compiled` referenced for readers: command("node", ...) runs compiled(file).
void compiled;
