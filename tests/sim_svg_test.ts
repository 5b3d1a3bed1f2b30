// Copyright (c) memberlist-ts authors. SPDX-License-Identifier: MPL-2.0
// `npm run sim -- --svg FILE` (tools/_sim_svg.ts): the picture follows the run it draws.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { renderSimSvg } from "../tools/_sim_svg.ts";
import { simulate, type SimOptions, type TraceSample } from "../tools/sim.ts";

const base: SimOptions = {
  nodes: 24,
  scenario: "fail",
  seed: 5,
  profile: "local",
  lifeguard: true,
  reconnect: true,
  loss: 0,
  slow: 0.1,
  churn: 0.2,
  userShare: 0.25,
  duration: 30,
  split: 20,
  latency: 1,
  verbose: false,
  seeds: 1,
  joinWindow: 100,
};

describe("renderSimSvg()", () => {
  it("draws the share that detected the failure, the detection times and the suspicions of a run", async () => {
    const trace: TraceSample[] = [];
    const report = await simulate({ ...base, trace: (s) => trace.push(s) });
    assert.ok(trace.length >= 30, `${trace.length} samples, one per simulated second`);
    const last = trace.at(-1)!;
    assert.equal(last.informed, 23);
    assert.equal(last.of, 23);
    assert.ok(last.suspect > 0 && last.dead > 0);
    const svg = renderSimSvg(report, trace);
    assert.match(svg, /^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg" width="900" height="600"/);
    assert.match(svg, /<\/svg>\n$/);
    assert.match(svg, /fail: 24 nodes, seed 5, local profile/);
    assert.match(svg, /Share of live nodes that declared the failed node dead/);
    const d = report.detection!;
    const s = (ms: number) => (ms >= 10_000 ? `${Math.round(ms / 1000)} s` : `${(ms / 1000).toFixed(1)} s`);
    assert.match(svg, new RegExp(`>first ${s(d.first!)}<`));
    assert.match(svg, new RegExp(`>median ${s(d.median!)}<`));
    assert.match(svg, new RegExp(`>last ${s(d.last!)}<`));
    // The curve ends at 100% (y = top of the plot), and suspicion bars are there.
    assert.match(svg, /<path d="M [^"]* V 80\.0"/);
    assert.match(svg, /fill="#e69500"\/>/);
    // Every element is closed: a crude well-formedness check (no XML parser in every runtime).
    const opened = (svg.match(/<(?!\/)(?![^>]*\/>)[a-z]+/g) ?? []).length;
    const closed = (svg.match(/<\/[a-z]+>/g) ?? []).length;
    assert.equal(opened, closed);
  });
});
