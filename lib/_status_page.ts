// Copyright (c) memberlist-ts authors. SPDX-License-Identifier: MPL-2.0
// The live status page served at "/" by the HTTP handler (lib/http.ts): one self-contained
// HTML document (no external assets, works offline). It reads v1/local and v1/members
// (relative URLs, so it works under any mount path), follows v1/events as server-sent
// events, and re-reads the members every 2 s (a refuted suspicion raises no event).

/** The page. `{{TITLE}}` is replaced with the local node's name, HTML-escaped. */
export const STATUS_PAGE: string = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{TITLE}} · memberlist</title>
<style>
  :root { --alive: #1a9b4b; --suspect: #e69500; --dead: #d93025; --left: #8a8f98; --bg: #f7f8fa; --fg: #1d2330; --muted: #5f6672; --card: #fff; --line: #e3e6ea; }
  * { box-sizing: border-box; }
  body { margin: 0; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; background: var(--bg); color: var(--fg); }
  header { display: flex; flex-wrap: wrap; align-items: baseline; gap: 8px 24px; padding: 16px 24px; background: var(--card); border-bottom: 1px solid var(--line); }
  header h1 { margin: 0; font-size: 20px; }
  header .sub { color: var(--muted); }
  #conn { margin-left: auto; font-size: 12px; color: var(--muted); }
  #conn.live::before { content: "●"; color: var(--alive); margin-right: 4px; }
  #conn.down::before { content: "●"; color: var(--dead); margin-right: 4px; }
  main { display: grid; grid-template-columns: minmax(320px, 420px) 1fr; gap: 16px; padding: 16px 24px; }
  @media (max-width: 900px) { main { grid-template-columns: 1fr; } }
  .card { background: var(--card); border: 1px solid var(--line); border-radius: 8px; padding: 12px 16px; }
  .card h2 { margin: 0 0 8px; font-size: 13px; text-transform: uppercase; letter-spacing: .05em; color: var(--muted); }
  .counts { display: flex; gap: 16px; margin: 4px 0 8px; }
  .count b { font-size: 22px; display: block; }
  .count.alive b { color: var(--alive); } .count.suspect b { color: var(--suspect); }
  .count.dead b { color: var(--dead); } .count.left b { color: var(--left); }
  svg { width: 100%; height: auto; display: block; }
  .node circle { stroke: #fff; stroke-width: 2; }
  .node.alive circle { fill: var(--alive); } .node.suspect circle { fill: var(--suspect); }
  .node.dead circle { fill: var(--dead); } .node.left circle { fill: var(--left); }
  .node.self circle { stroke: var(--fg); stroke-width: 3; }
  .node.suspect circle { animation: pulse 1s ease-in-out infinite; }
  @keyframes pulse { 50% { opacity: .45; } }
  .node text { font-size: 11px; fill: var(--fg); text-anchor: middle; }
  table { width: 100%; border-collapse: collapse; }
  th, td { text-align: left; padding: 6px 8px; border-bottom: 1px solid var(--line); vertical-align: top; }
  th { font-size: 12px; color: var(--muted); font-weight: 600; }
  td.mono, .mono { font-family: ui-monospace, SFMono-Regular, Menlo, monospace; font-size: 12px; }
  .state { display: inline-block; padding: 1px 8px; border-radius: 10px; color: #fff; font-size: 12px; font-weight: 600; }
  .state.alive { background: var(--alive); } .state.suspect { background: var(--suspect); }
  .state.dead { background: var(--dead); } .state.left { background: var(--left); }
  .tag { display: inline-block; background: #eef1f5; border-radius: 4px; padding: 0 6px; margin: 1px 2px 1px 0; font-size: 12px; }
  #health .score { font-size: 22px; font-weight: 700; }
  #health .bar { height: 8px; background: #eef1f5; border-radius: 4px; overflow: hidden; margin-top: 6px; }
  #health .bar div { height: 100%; background: var(--alive); width: 0; transition: width .3s; }
  #events { list-style: none; margin: 0; padding: 0; max-height: 360px; overflow-y: auto; }
  #events li { padding: 4px 0; border-bottom: 1px solid var(--line); }
  #events time { color: var(--muted); font-size: 12px; margin-right: 6px; }
  .empty { color: var(--muted); }
</style>
</head>
<body>
<header>
  <h1 id="title">memberlist</h1>
  <span class="sub" id="local"></span>
  <span id="conn" class="down">connecting…</span>
</header>
<main>
  <section>
    <div class="card">
      <h2>Cluster</h2>
      <div class="counts">
        <div class="count alive"><b id="n-alive">0</b>alive</div>
        <div class="count suspect"><b id="n-suspect">0</b>suspect</div>
        <div class="count dead"><b id="n-dead">0</b>dead</div>
        <div class="count left"><b id="n-left">0</b>left</div>
      </div>
      <svg id="ring" viewBox="0 0 400 400" role="img" aria-label="cluster members by state"></svg>
    </div>
    <div class="card" id="health" style="margin-top:16px">
      <h2>Local health</h2>
      <span class="score" id="score">–</span> <span class="sub" id="score-text"></span>
      <div class="bar"><div id="score-bar"></div></div>
    </div>
  </section>
  <section>
    <div class="card">
      <h2>Members</h2>
      <table>
        <thead><tr><th>Name</th><th>Address</th><th>State</th><th>Metadata</th><th>Protocol</th></tr></thead>
        <tbody id="members"><tr><td colspan="5" class="empty">loading…</td></tr></tbody>
      </table>
    </div>
    <div class="card" style="margin-top:16px">
      <h2>Events</h2>
      <ul id="events"><li class="empty" id="no-events">none yet</li></ul>
    </div>
  </section>
</main>
<script>
"use strict";
const $ = (id) => document.getElementById(id);
const esc = (s) => String(s).replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]);
const members = new Map();
let self = "";
let maxScore = 8;

function metaCell(n) {
  if (n.tags) return Object.entries(n.tags).map(([k, v]) => '<span class="tag">' + esc(k) + "=" + esc(v) + "</span>").join("");
  if (n.metaText !== undefined) return n.metaText === "" ? "" : '<span class="mono">' + esc(n.metaText) + "</span>";
  return n.meta === "" ? "" : '<span class="mono">base64:' + esc(n.meta) + "</span>";
}

function render() {
  const list = [...members.values()].sort((a, b) => a.name.localeCompare(b.name));
  const counts = { alive: 0, suspect: 0, dead: 0, left: 0 };
  for (const n of list) counts[n.state]++;
  for (const k in counts) $("n-" + k).textContent = counts[k];
  $("members").innerHTML = list.length === 0 ? '<tr><td colspan="5" class="empty">no members</td></tr>' : list.map((n) =>
    '<tr data-node="' + esc(n.name) + '" data-state="' + n.state + '"><td>' + esc(n.name) + (n.name === self ? " (this node)" : "") +
    '</td><td class="mono">' + esc(n.address) + '</td><td><span class="state ' + n.state + '">' + n.state +
    "</span></td><td>" + metaCell(n) + '</td><td class="mono">' + n.pCur + " (" + n.pMin + "–" + n.pMax + ")</td></tr>").join("");
  const svg = $("ring");
  const r = list.length <= 1 ? 0 : Math.min(150, 40 + list.length * 12);
  const dot = Math.max(8, Math.min(22, 160 / Math.max(1, list.length)));
  svg.innerHTML = list.map((n, i) => {
    const a = (2 * Math.PI * i) / Math.max(1, list.length) - Math.PI / 2;
    const x = 200 + r * Math.cos(a), y = 190 + r * Math.sin(a);
    const label = list.length <= 24 ? '<text x="' + x.toFixed(1) + '" y="' + (y + dot + 13).toFixed(1) + '">' + esc(n.name) + "</text>" : "";
    return '<g class="node ' + n.state + (n.name === self ? " self" : "") + '" data-node="' + esc(n.name) + '"><title>' + esc(n.name) + ": " + n.state +
      '</title><circle cx="' + x.toFixed(1) + '" cy="' + y.toFixed(1) + '" r="' + dot.toFixed(1) + '"></circle>' + label + "</g>";
  }).join("");
}

function addEvent(e) {
  $("no-events")?.remove();
  const li = document.createElement("li");
  const t = new Date(e.time);
  const verb = { join: "joined", leave: e.node.state === "left" ? "left" : "failed (dead)", update: "updated its metadata", suspect: "is suspect" }[e.type] || e.type;
  li.dataset.type = e.type;
  li.innerHTML = "<time>" + t.toLocaleTimeString() + "</time><b>" + esc(e.node.name) + "</b> " + esc(verb) +
    ' <span class="state ' + e.node.state + '">' + e.node.state + "</span>";
  $("events").prepend(li);
  while ($("events").children.length > 200) $("events").lastChild.remove();
}

async function refresh() {
  try {
    const [local, list] = await Promise.all([fetch("v1/local").then((r) => r.json()), fetch("v1/members").then((r) => r.json())]);
    self = local.node.name;
    maxScore = local.health.max;
    document.title = self + " · memberlist";
    $("title").textContent = self;
    $("local").textContent = local.node.address + " · protocol " + local.protocolVersion + " · " + local.members + " members";
    const s = local.health.score;
    $("score").textContent = s;
    $("score-text").textContent = s === 0 ? "healthy" : "degraded: probing more slowly (Lifeguard)";
    const bar = $("score-bar");
    bar.style.width = Math.max(4, (100 * (s + 1)) / maxScore) + "%";
    bar.style.background = s === 0 ? "var(--alive)" : s < maxScore / 2 ? "var(--suspect)" : "var(--dead)";
    members.clear();
    for (const n of list.members) members.set(n.name, n);
    render();
  } catch (err) {
    $("conn").className = "down";
    $("conn").textContent = "disconnected";
  }
}

function follow() {
  const es = new EventSource("v1/events");
  es.onopen = () => { $("conn").className = "live"; $("conn").textContent = "live"; refresh(); };
  es.onerror = () => { $("conn").className = "down"; $("conn").textContent = "reconnecting…"; };
  for (const type of ["join", "leave", "update", "suspect"]) {
    es.addEventListener(type, (m) => {
      const e = JSON.parse(m.data);
      members.set(e.node.name, e.node);
      render();
      addEvent(e);
    });
  }
}

refresh();
follow();
setInterval(refresh, 2000);
</script>
</body>
</html>
`;
