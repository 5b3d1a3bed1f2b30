// Copyright (c) memberlist-ts authors. SPDX-License-Identifier: MPL-2.0
//
// `npm run sim -- ... --svg FILE`: a picture of one simulated run. Top: the share of live nodes
// that knew of the event, second by second after it (for `fail`, the share that had declared
// the node dead, with the first, median and last detection marked). Bottom: suspect and dead
// messages handled per simulated second by all nodes (suspicions spreading, and confirmations).
import type { SimReport, TraceSample } from "./sim.ts";

const W = 900;
const H = 600;
const LEFT = 70;
const RIGHT = 30;
const PLOT_W = W - LEFT - RIGHT;

function esc(s: string): string {
  return s.replace(/[&<>"]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" })[c]!);
}

function seconds(ms: number): string {
  return ms >= 10_000 ? `${Math.round(ms / 1000)} s` : `${(ms / 1000).toFixed(1)} s`;
}

/** Renders the run as a standalone SVG document. */
export function renderSimSvg(report: SimReport, trace: readonly TraceSample[]): string {
  const out: string[] = [];
  // The axis starts at the scenario's first event; a later one (a partition healing) is marked, and
  // the report's percentiles count from it.
  const events = [...new Set(trace.map((s) => s.event).filter((e) => e > 0))];
  const event = events[0] ?? 0;
  const last = events.at(-1) ?? 0;
  const after = trace.filter((s) => s.at >= event);
  // Zoom on the activity: up to a third past the last change of any curve (the run itself may go on quietly).
  let lastChange = 0;
  for (let i = 1; i < after.length; i++) {
    const a = after[i]!, b = after[i - 1]!;
    if (a.informed !== b.informed || a.suspect !== b.suspect || a.dead !== b.dead) lastChange = a.at - event;
  }
  const full = (after.at(-1)?.at ?? event + 1000) - event;
  const zoom = lastChange === 0 ? full : Math.max(5000, Math.ceil((lastChange * 4) / 3 / 1000) * 1000);
  const span = Math.max(1000, Math.min(full, zoom));
  const x = (ms: number) => LEFT + (ms / span) * PLOT_W;
  const title = `${report.scenario}: ${report.nodes} nodes, seed ${report.seed}, ${report.profile} profile` +
    `${report.lifeguard ? "" : ", no Lifeguard"}${report.reconnect ? "" : ", no reconnect"}` +
    `${report.loss > 0 ? `, loss ${report.loss}` : ""}`;
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="system-ui, sans-serif" font-size="12">`,
    `<rect width="${W}" height="${H}" fill="#fff"/>`,
    `<text x="${LEFT}" y="28" font-size="16" font-weight="600">${esc(title)}</text>`,
    `<text x="${LEFT}" y="46" fill="#5f6672">simulated (npm run sim, the same for the same seed): ${seconds(report.simulatedMs)} of virtual time in ${seconds(report.wallMs)}; ${seconds(span)} after the event shown, sampled each second</text>`,
  );

  // ---------------------------------------------------------------- informed share
  const top = 80, height = 250;
  const y = (share: number) => top + height - share * height;
  const what = report.scenario === "partition" ? "saw every node again" : report.scenario === "fail" ? "declared the failed node dead" : report.scenario === "join" ? "saw every node" : "knew of the event";
  out.push(`<text x="${LEFT}" y="${top - 10}" font-weight="600">Share of live nodes that ${esc(what)}</text>`);
  for (const share of [0, 0.5, 1]) {
    out.push(`<line x1="${LEFT}" x2="${LEFT + PLOT_W}" y1="${y(share)}" y2="${y(share)}" stroke="#e3e6ea"/>`);
    out.push(`<text x="${LEFT - 8}" y="${y(share) + 4}" text-anchor="end" fill="#5f6672">${share * 100}%</text>`);
  }
  let path = `M ${x(0)} ${y(0)}`;
  for (const s of after) {
    if (s.at - event > span) break;
    const share = s.of > 0 ? s.informed / s.of : 0;
    path += ` H ${x(s.at - event).toFixed(1)} V ${y(share).toFixed(1)}`;
  }
  out.push(`<path d="${path}" fill="none" stroke="#1a9b4b" stroke-width="2.5"/>`);
  const marks: [string, number | null, string][] = report.detection !== null
    ? [["first", report.detection.first, "#e69500"], ["median", report.detection.median, "#d93025"], ["last", report.detection.last, "#7a1c14"]]
    : [["p50", report.informed.p50, "#e69500"], ["p99", report.informed.p99, "#d93025"], ["p100", report.informed.p100, "#7a1c14"]];
  if (last !== event) {
    out.push(`<line x1="${x(last - event)}" x2="${x(last - event)}" y1="${top}" y2="${top + height}" stroke="#1d2330"/>`);
    out.push(`<text x="${x(last - event) + 4}" y="${top + height - 6}">${report.scenario === "partition" ? "healed" : "second event"}</text>`);
  }
  marks.forEach(([label, msAfterLast, colour], i) => {
    if (msAfterLast === null) return;
    const ms = msAfterLast + (last - event);
    out.push(`<line x1="${x(ms)}" x2="${x(ms)}" y1="${top}" y2="${top + height}" stroke="${colour}" stroke-dasharray="4 3"/>`);
    const right = x(ms) > LEFT + PLOT_W * 0.8;
    const since = last !== event ? ` after ${report.scenario === "partition" ? "healing" : "it"}` : "";
    out.push(
      `<text x="${x(ms) + (right ? -4 : 4)}" y="${top + 14 + i * 14}" text-anchor="${right ? "end" : "start"}" fill="${colour}">${label} ${seconds(msAfterLast)}${since}</text>`,
    );
  });
  const axis = (yy: number) => {
    const step = [1000, 2000, 5000, 10_000, 20_000, 30_000, 60_000, 120_000, 300_000].find((s) => span / s <= 10) ?? 600_000;
    for (let t = 0; t <= span; t += step) {
      out.push(`<line x1="${x(t)}" x2="${x(t)}" y1="${yy}" y2="${yy + 4}" stroke="#5f6672"/>`);
      out.push(`<text x="${x(t)}" y="${yy + 16}" text-anchor="middle" fill="#5f6672">${seconds(t)}</text>`);
    }
  };
  out.push(`<line x1="${LEFT}" x2="${LEFT + PLOT_W}" y1="${top + height}" y2="${top + height}" stroke="#5f6672"/>`);
  axis(top + height);
  out.push(`<text x="${LEFT + PLOT_W}" y="${top + height + 32}" text-anchor="end" fill="#5f6672">time after the event</text>`);

  // ---------------------------------------------------------------- suspicions per second
  const top2 = 400, height2 = 150;
  const per: { t: number; suspect: number; dead: number }[] = [];
  for (let i = 1; i < after.length; i++) {
    per.push({ t: after[i]!.at - event, suspect: after[i]!.suspect - after[i - 1]!.suspect, dead: after[i]!.dead - after[i - 1]!.dead });
  }
  const max = Math.max(1, ...per.map((p) => p.suspect + p.dead));
  const total = per.reduce((n, p) => n + p.suspect, 0);
  out.push(`<text x="${LEFT}" y="${top2 - 10}" font-weight="600">Suspect (amber) and dead (red) messages handled per second, all nodes: ${total} suspect after the event</text>`);
  const bw = Math.max(1, PLOT_W / Math.max(1, per.length) - 1);
  for (const p of per) {
    if (p.t > span) break;
    const hs = (p.suspect / max) * height2, hd = (p.dead / max) * height2;
    const bx = x(p.t) - bw;
    if (hs > 0) out.push(`<rect x="${bx.toFixed(1)}" y="${(top2 + height2 - hs).toFixed(1)}" width="${bw.toFixed(1)}" height="${hs.toFixed(1)}" fill="#e69500"/>`);
    if (hd > 0) out.push(`<rect x="${bx.toFixed(1)}" y="${(top2 + height2 - hs - hd).toFixed(1)}" width="${bw.toFixed(1)}" height="${hd.toFixed(1)}" fill="#d93025"/>`);
  }
  out.push(`<text x="${LEFT - 8}" y="${top2 + 4}" text-anchor="end" fill="#5f6672">${max}</text>`);
  out.push(`<text x="${LEFT - 8}" y="${top2 + height2 + 4}" text-anchor="end" fill="#5f6672">0</text>`);
  out.push(`<line x1="${LEFT}" x2="${LEFT + PLOT_W}" y1="${top2 + height2}" y2="${top2 + height2}" stroke="#5f6672"/>`);
  axis(top2 + height2);
  const fp = report.falsePositives;
  out.push(
    `<text x="${LEFT}" y="${H - 8}" fill="#5f6672">false positives: ${fp.suspectOfHealthy} suspicions and ${fp.deadOfHealthy} deaths of healthy nodes; ` +
      `${report.messages} packets, ${report.streams} streams; max health score ${report.health.maxScore}</text>`,
    `</svg>`,
  );
  return `${out.join("\n")}\n`;
}
