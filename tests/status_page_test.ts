// Copyright (c) memberlist-ts authors. SPDX-License-Identifier: MPL-2.0
// The live status page (GET / of the HTTP API) in headless Chromium: four nodes on real loopback
// sockets, the page served by node-0. Checked in the DOM and in screenshots (pixels of the state
// colours): every member alive and green with its tags; then node-3 is killed without a word and
// the page, without a reload, shows it suspect and then dead in red, with both events listed;
// node-2 leaves and turns grey. The screenshots are kept in build/screenshots/ to look at.
// Runs under Node (npm test's node step), which drives Chromium over --remote-debugging-pipe.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { serve } from "../agent/serve.ts";
import { createHandler } from "../lib/http.ts";
import { silentLogger } from "../lib/logging.ts";
import { PrometheusMetrics } from "../lib/prometheus.ts";
import { encodeTags } from "../lib/tags.ts";
import { defaultLocalConfig, Memberlist } from "../mod.ts";
import { Browser, chromiumMissing, countColour, decodePng } from "./_browser.ts";
import { nodeOnly, root } from "./_processes.ts";

const missing = chromiumMissing();
if (missing !== null && process.env["CI"] !== undefined && !nodeOnly) throw new Error(missing);
const skip = nodeOnly || (missing ?? false);

const GREEN = "#1a9b4b";
const RED = "#d93025";
const GREY = "#8a8f98";

describe("status page in headless Chromium", { skip, timeout: 120_000 }, () => {
  const nodes: Memberlist[] = [];
  let server: Awaited<ReturnType<typeof serve>>;
  let browser: Browser;
  const shots = join(root, "build", "screenshots");

  before(async () => {
    mkdirSync(shots, { recursive: true });
    const roles = ["api", "web", "web", "db"];
    for (let i = 0; i < 4; i++) {
      nodes.push(
        await Memberlist.create({
          ...defaultLocalConfig(),
          name: `node-${i}`,
          bindAddr: "127.0.0.1",
          bindPort: 0,
          // Quick, but not so quick that a loaded 2-core machine (the suite runs files in parallel,
          // Chromium beside them) makes a healthy node miss its acks.
          probeInterval: 500,
          probeTimeout: 1000,
          gossipInterval: 100,
          suspicionMult: 2,
          suspicionMaxTimeoutMult: 2,
          pushPullInterval: 5000,
          logger: silentLogger,
          metrics: new PrometheusMetrics(),
          delegate: { nodeMeta: () => encodeTags({ role: roles[i]!, zone: `z${i % 2}` }) },
        }),
      );
    }
    await Promise.all(nodes.slice(1).map((n) => n.join([nodes[0]!.localNode().address])));
    server = await serve(createHandler(nodes[0]!), { hostname: "127.0.0.1", port: 0 });
    browser = await Browser.open(`${server.url}/`);
  });

  after(async () => {
    await browser?.close();
    await server?.close();
    await Promise.all(nodes.map((n) => n.shutdown()));
  });

  const snap = async (name: string) => {
    const png = await browser.screenshot();
    writeFileSync(join(shots, name), png);
    return decodePng(png);
  };

  it("shows every member alive, in green, with its tags, the local node and its health", async () => {
    await browser.waitFor("four alive members and a live event stream", `document.querySelectorAll('#members tr[data-state="alive"]').length === 4 && document.getElementById("conn").className === "live"`);
    // Read the table and the ring at the same moment (one evaluation: no re-render in between).
    const { rows, circles } = await browser.evaluate<{ rows: string[][]; circles: number }>(
      `({ rows: [...document.querySelectorAll("#members tr")].map((tr) => [...tr.cells].map((c) => c.innerText)), circles: document.querySelectorAll("#ring .node.alive circle").length })`,
    );
    assert.equal(circles, 4);
    assert.deepEqual(rows.map((r) => [r[0], r[2], r[3]]), [
      ["node-0 (this node)", "alive", "role=apizone=z0"],
      ["node-1", "alive", "role=webzone=z1"],
      ["node-2", "alive", "role=webzone=z0"],
      ["node-3", "alive", "role=dbzone=z1"],
    ]);
    assert.equal(await browser.evaluate<string>(`document.getElementById("title").textContent`), "node-0");
    assert.equal(await browser.evaluate<string>(`document.getElementById("n-alive").textContent`), "4");
    assert.equal(await browser.evaluate<string>(`document.getElementById("score-text").textContent`), "healthy");
    const img = await snap("1-all-alive.png");
    assert.ok(img.width === 1280 && img.height === 900, `${img.width}x${img.height}`);
    assert.ok(countColour(img, GREEN) > 3000, `green pixels: ${countColour(img, GREEN)}`);
    assert.ok(countColour(img, RED) < 300, `red pixels before any failure: ${countColour(img, RED)}`);
  });

  it("updates without a reload when a node dies: suspect, then dead in red, both events listed", async () => {
    await nodes[3]!.shutdown(); // no leave: the others must detect it
    await browser.waitFor("node-3 suspect or dead", `document.querySelector('#members tr[data-node="node-3"]').dataset.state !== "alive"`);
    await browser.waitFor("node-3 dead", `document.querySelector('#members tr[data-node="node-3"]').dataset.state === "dead"`, 30_000);
    await browser.waitFor("the failure in the event list", `document.querySelector('#events li[data-type="leave"]')`);
    const events = await browser.evaluate<string[]>(`[...document.querySelectorAll("#events li")].map((li) => li.innerText)`);
    assert.ok(events.some((e) => /node-3 failed \(dead\) dead$/.test(e)), events.join("\n"));
    assert.ok(events.some((e) => /node-3 is suspect suspect$/.test(e)), `suspicion shown as it happened:\n${events.join("\n")}`);
    assert.equal(await browser.evaluate<string>(`document.getElementById("n-dead").textContent`), "1");
    assert.equal(await browser.evaluate<number>(`document.querySelectorAll("#ring .node.dead circle").length`), 1);
    const img = await snap("2-node-3-dead.png");
    assert.ok(countColour(img, RED) > 1000, `red pixels after the failure: ${countColour(img, RED)}`);
  });

  it("shows a graceful leave in grey", async () => {
    await nodes[2]!.leave(5000);
    await browser.waitFor(
      "node-2 left, in the table and the ring",
      `document.querySelector('#members tr[data-node="node-2"]').dataset.state === "left" && document.querySelectorAll("#ring .node.left circle").length === 1`,
    );
    const img = await snap("3-node-2-left.png");
    assert.ok(countColour(img, GREY, 10) > 1000, `grey pixels after the leave: ${countColour(img, GREY, 10)}`);
  });
});
