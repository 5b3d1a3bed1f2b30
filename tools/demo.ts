// Copyright (c) memberlist-ts authors. SPDX-License-Identifier: MPL-2.0
//
// The demo: a live cluster on loopback, real UDP and TCP, encrypted. Nodes join, one
// changes its metadata, one is killed and the others suspect it and declare it dead,
// one leaves gracefully. Prints a timeline of who saw what, and when.
//
//   npm run demo [-- --runtime deno|bun|node] [--nodes N] [--web [--port P] [--pause MS]]
//
// --web serves node-0's status page and API (127.0.0.1, port 8080 or --port) while the demo runs,
// slows the steps down (up to --pause MS between them, default 3000) so a person can follow them
// there, and keeps serving at the end until
// Ctrl-C (which leaves gracefully).
//
// (tools/demo.mjs installs what is missing and picks the runtime; this file is the demo.)
import { leaveOnSignals } from "../agent/signals.ts";
import { type HttpServer, serve } from "../agent/serve.ts";
import { createHandler } from "../lib/http.ts";
import { defaultLocalConfig, encodeTags, Keyring, Memberlist, type Node, NodeState, PrometheusMetrics } from "../mod.ts";
import { detectRuntime } from "../lib/_runtime.ts";
import { formatFields, type LogFields, type Logger } from "../lib/logging.ts";

const args = globalThis.process?.argv.slice(2) ?? [];
const count = Math.max(3, Math.min(64, Number(args[args.indexOf("--nodes") + 1] ?? 5) || 5));
const web = args.includes("--web");
const webPort = args.includes("--port") ? Number(args[args.indexOf("--port") + 1]) : 8080;
/** With --web, a pause between the steps, so that they can be followed on the page. */
const pauseScale = args.includes("--pause") ? Number(args[args.indexOf("--pause") + 1]) / 3000 : 1;
const pause = (ms: number) => (web ? new Promise((r) => setTimeout(r, ms * pauseScale)) : Promise.resolve());
const start = performance.now();
const elapsed = () => ((performance.now() - start) / 1000).toFixed(3).padStart(7) + "s";
const say = (who: string, what: string) => console.log(`${elapsed()}  ${who.padEnd(8)} ${what}`);
const stateName = ["alive", "suspect", "dead", "left"];

async function waitFor(what: string, predicate: () => boolean, timeoutMs: number): Promise<number> {
  const t0 = performance.now();
  while (!predicate()) {
    if (performance.now() - t0 > timeoutMs) throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
  return performance.now() - t0;
}

/** Warnings and errors of a node go into the timeline, under its name. */
function timelineLogger(name: string): Logger {
  const line = (level: string) => (message: string, fields?: LogFields) =>
    say(name, `[${level}] ${message}${fields === undefined ? "" : formatFields(fields)}`);
  return { debug() {}, info() {}, warn: line("WARN"), error: line("ERR") };
}

const key = crypto.getRandomValues(new Uint8Array(32));
const keyring = Keyring.create([key]);
const runtime = detectRuntime();
const version = globalThis.process?.versions?.[runtime === "node" ? "node" : runtime] ?? "";
console.log(`memberlist-ts demo: ${count} nodes on 127.0.0.1, real UDP/TCP, AES-256-GCM, on ${runtime} ${version}\n`);

// --------------------------------------------------------------------------- start
const nodes: Memberlist[] = [];
const meta = new Map<string, string>();
for (let i = 0; i < count; i++) {
  const name = `node-${i}`;
  meta.set(name, "role=web");
  const ml = await Memberlist.create({
    ...defaultLocalConfig(),
    name,
    bindAddr: "127.0.0.1",
    bindPort: 0,
    keyring,
    // Metadata as serf-style tags, so the status page shows them as key=value.
    delegate: { nodeMeta: () => encodeTags(Object.fromEntries(meta.get(name)!.split(";").map((kv) => kv.split("=") as [string, string]))) },
    logger: timelineLogger(name),
    ...(i === 0 ? { metrics: new PrometheusMetrics() } : {}),
  });
  nodes.push(ml);
  say(name, `up at ${ml.localNode().address}`);
}
const names = nodes.map((n) => n.localNode().name);

// Watch every node's view: events, plus alive/suspect transitions (which raise no event) by polling.
const seen = new Map<string, number>(); // "observer/node" → state
const deadAt = new Map<string, number[]>(); // node → ms after its kill, per observer
let killedAt = 0;
let victim = "";
for (const ml of nodes) {
  const observer = ml.localNode().name;
  ml.addEventListener("join", (e) => {
    if (e.node.name !== observer) say(observer, `sees ${e.node.name} join`);
    seen.set(`${observer}/${e.node.name}`, NodeState.Alive);
  });
  ml.addEventListener("update", (e) => {
    if (e.node.name !== observer) say(observer, `sees ${e.node.name} update its metadata to "${meta.get(e.node.name)}"`);
  });
  ml.addEventListener("leave", (e) => {
    seen.set(`${observer}/${e.node.name}`, e.node.state);
    if (e.node.state === NodeState.Left) {
      if (e.node.name !== observer) say(observer, `sees ${e.node.name} leave`);
    }
    else {
      const after = performance.now() - killedAt;
      (deadAt.get(e.node.name) ?? deadAt.set(e.node.name, []).get(e.node.name)!).push(after);
      say(observer, `declares ${e.node.name} dead (${(after / 1000).toFixed(2)} s after it was killed)`);
    }
  });
}
let watching = true;
const poll = (async () => {
  while (watching) {
    for (const ml of nodes) {
      let self: Node;
      try {
        self = ml.localNode();
      } catch {
        continue;
      }
      for (const n of ml.members()) {
        const k = `${self.name}/${n.name}`;
        const before = seen.get(k);
        if (before !== undefined && before !== n.state && n.state === NodeState.Suspect) {
          say(self.name, `suspects ${n.name}`);
        } else if (before === NodeState.Suspect && n.state === NodeState.Alive) {
          say(self.name, `sees ${n.name} alive again`);
        }
        seen.set(k, n.state);
      }
    }
    await new Promise((r) => setTimeout(r, 25));
  }
})();

let server: HttpServer | null = null;
if (web) {
  server = await serve(createHandler(nodes[0]!), { hostname: "127.0.0.1", port: webPort });
  console.log(`\nstatus page of ${names[0]}: ${server.url}/  (API: ${server.url}/v1/members, metrics: ${server.url}/metrics)`);
  await pause(3000);
}

// --------------------------------------------------------------------------- join
console.log("");
say("demo", `${names.slice(1).join(", ")} join ${names[0]}`);
await Promise.all(nodes.slice(1).map((ml) => ml.join([nodes[0]!.localNode().address])));
const converged = await waitFor("convergence", () => nodes.every((ml) => ml.numMembers() === count), 15_000);
say("demo", `converged: every node sees ${count} members (${Math.round(converged)} ms after the joins)`);

// --------------------------------------------------------------------------- metadata
console.log("");
const updater = nodes[1]!;
meta.set(names[1]!, "role=web;version=2");
say(names[1]!, `updates its metadata`);
await pause(2000);
await updater.updateNode(5000);
await waitFor("the update", () => nodes.every((ml) => ml.members().find((n) => n.name === names[1])!.meta.length === updater.localNode().meta.length), 10_000);

// --------------------------------------------------------------------------- failure
console.log("");
await pause(3000);
const victimIndex = count - 1;
victim = names[victimIndex]!;
say("demo", `kills ${victim} (no goodbye: its sockets just close)`);
killedAt = performance.now();
await nodes[victimIndex]!.shutdown();
const survivors = nodes.filter((_, i) => i !== victimIndex);
await waitFor(`everyone to declare ${victim} dead`, () => survivors.every((ml) => !ml.members().some((n) => n.name === victim)), 30_000);
const times = (deadAt.get(victim) ?? []).sort((a, b) => a - b);
const median = times[Math.floor((times.length - 1) / 2)] ?? 0;
say("demo", `detection of ${victim}: first ${(times[0]! / 1000).toFixed(2)} s, median ${(median / 1000).toFixed(2)} s, last ${(times[times.length - 1]! / 1000).toFixed(2)} s`);

// --------------------------------------------------------------------------- leave
console.log("");
await pause(3000);
const leaverIndex = count - 2;
const leaver = names[leaverIndex]!;
say(leaver, "leaves gracefully");
const leaveStart = performance.now();
await nodes[leaverIndex]!.leave(5000);
const stayers = survivors.filter((ml) => ml !== nodes[leaverIndex]);
await waitFor(`everyone to see ${leaver} leave`, () => stayers.every((ml) => !ml.members().some((n) => n.name === leaver)), 10_000);
say("demo", `${leaver}'s leave reached everyone in ${Math.round(performance.now() - leaveStart)} ms, without suspicion`);
await nodes[leaverIndex]!.shutdown();

// --------------------------------------------------------------------------- end
watching = false;
await poll;
console.log("");
for (const ml of stayers) {
  say(ml.localNode().name, `members: ${ml.members().map((n) => `${n.name} (${stateName[n.state]})`).join(", ")}`);
}
if (server !== null) {
  console.log(`\nthe cluster keeps running: ${server.url}/  (Ctrl-C leaves gracefully and stops)`);
  leaveOnSignals(stayers, { beforeShutdown: () => server!.close(), log: (m) => say("demo", m) });
} else {
  await Promise.all(stayers.map((ml) => ml.shutdown()));
  console.log(`\ndone in ${elapsed().trim()}: everything shut down, the process exits by itself.`);
}
