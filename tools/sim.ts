// Copyright (c) memberlist-ts authors. SPDX-License-Identifier: MPL-2.0
//
// The deterministic simulator: N full Memberlist instances (the real protocol core
// and codec) on the in-memory network and one virtual clock.
//
//   npm run sim -- --nodes N --scenario join|fail|disseminate|partition|loss|slow|broadcast|joins|restart|overflow|readdress --seed K
//                  [--profile lan|wan|local] [--no-lifeguard] [--no-reconnect] [--loss P] [--slow F]
//                  [--churn F] [--user-share S] [--go-rules] [--go-share F] [--joins K]
//                  [--restart F] [--restart-window SECONDS] [--reclaim SECONDS] [--downtime SECONDS]
//                  [--duration SECONDS] [--split SECONDS] [--latency MS] [--json] [--svg FILE]
//
// Prints one JSON object (see README "Simulator"). The same arguments give the
// same output, except for the wall-clock and heap figures.
import { setImmediate } from "node:timers";
import { sleep, VirtualClock } from "../lib/clock.ts";
import { type Config, defaultLANConfig, defaultLocalConfig, defaultWANConfig } from "../lib/config.ts";
import type { Delegate } from "../lib/delegate.ts";
import { silentLogger } from "../lib/logging.ts";
import { Memberlist, memberlistState } from "../lib/memberlist.ts";
import type { Metrics } from "../lib/metrics.ts";
import { encodeMessage, MessageType } from "../lib/codec.ts";
import { NodeState } from "../lib/node.ts";
import { createSeededRandom, type RandomSource, shuffle } from "../lib/random.ts";
import { TransmitLimitedQueue } from "../lib/queue.ts";
import { NodeRecord } from "../lib/state.ts";
import { MockNetwork, type MockTransport } from "../transports/mock.ts";

type Scenario =
  | "join"
  | "fail"
  | "disseminate"
  | "partition"
  | "loss"
  | "slow"
  | "broadcast"
  | "joins"
  | "restart"
  | "overflow"
  | "readdress";

const SCENARIOS: readonly Scenario[] = [
  "join",
  "fail",
  "disseminate",
  "partition",
  "loss",
  "slow",
  "broadcast",
  "joins",
  "restart",
  "overflow",
  "readdress",
];

/**
 * What a node runs with to behave like Go memberlist: every rule of ours that Go
 * does not have turned off (README, "Fields Go does not have").
 */
export const GO_RULES: Partial<Config> = {
  pushPullAfterJoin: 0,
  announceAfterJoin: false,
  repairAccusations: false,
  reconnectInterval: 0,
  userBroadcastShare: 0,
};

/** Simulation parameters. */
export interface SimOptions {
  nodes: number;
  scenario: Scenario;
  seed: number;
  profile: "lan" | "wan" | "local";
  lifeguard: boolean;
  /** Reconnect to failed nodes (`reconnectInterval`); off behaves like Go. */
  reconnect: boolean;
  loss: number;
  slow: number;
  /** broadcast: the share of nodes whose metadata changes at the moment of the user broadcast. */
  churn: number;
  /** `userBroadcastShare` of every node. */
  userShare: number;
  /** Simulated seconds after the scenario's event (0: the scenario's default). */
  duration: number;
  /** partition: how long the halves stay apart, in simulated seconds. */
  split: number;
  /** One-way network latency in ms (plus up to the same again as jitter). */
  latency: number;
  /** Print progress to stderr. */
  verbose: boolean;
  /** join: how many seeds, and the window (ms) over which the others join. */
  seeds: number;
  joinWindow: number;
  /** Every node runs {@linkcode GO_RULES}. */
  goRules: boolean;
  /** The share of the nodes (joins: of the members) that run {@linkcode GO_RULES}. */
  goShare: number;
  /** joins: how many nodes join, one after another. */
  joins: number;
  /** restart: the share of the nodes restarted, and the window (s) in which they go down. */
  restart: number;
  restartWindow: number;
  /** readdress: every node's `deadNodeReclaimTime` (s), and how long (s) the node is down before it comes back at a new address. */
  reclaim: number;
  downtime: number;
  /** Called each simulated second (for `--svg`): cumulative suspect and dead messages handled. */
  trace?: (sample: TraceSample) => void;
}

/** One simulated second, as `SimOptions.trace` gets it. */
export interface TraceSample {
  /** Virtual time, ms. */
  at: number;
  /** When the scenario's event happened (0 until it has). */
  event: number;
  /** Suspect and dead messages handled by all nodes so far (memberlist.msg.suspect / .dead). */
  suspect: number;
  dead: number;
  /** Live nodes that knew of the event so far, and of how many. */
  informed: number;
  of: number;
}

/** The simulator's report. */
export interface SimReport {
  scenario: Scenario;
  nodes: number;
  seed: number;
  profile: string;
  lifeguard: boolean;
  reconnect: boolean;
  loss: number;
  slow: number;
  churn: number;
  userShare: number;
  simulatedMs: number;
  wallMs: number;
  /** Virtual time over wall time. */
  speedup: number;
  /**
   * Heap in use with every node running, at the end of the run (after a full collection where the
   * runtime allows one: always on Bun, on Node and Deno with --expose-gc), in MB.
   */
  heapMB: number;
  /** Node records held by all the nodes' tables together at that moment. */
  records: number;
  /** That heap over the records, and over the nodes. */
  bytesPerRecord: number;
  bytesPerNode: number;
  messages: number;
  bytes: number;
  streams: number;
  /** Ms after the event until this share of live nodes knew of it (null: never within the run). */
  informed: { p50: number | null; p99: number | null; p9999: number | null; p100: number | null; count: number; of: number };
  /**
   * broadcast: ms after the event until that share of nodes knew every metadata update of the
   * churn (memberlist's own messages, which the user broadcast competes with); null otherwise.
   */
  updates: { p50: number | null; p100: number | null; count: number; of: number } | null;
  /** Ms after the failure at which live nodes marked the failed node dead. */
  detection: { first: number | null; median: number | null; last: number | null; count: number } | null;
  /**
   * Live nodes marked suspect or dead, counted per (observer, node) transition:
   * of healthy nodes, and of the nodes the `slow` scenario stalls.
   */
  falsePositives: { suspectOfHealthy: number; deadOfHealthy: number; suspectOfSlow: number; deadOfSlow: number };
  /** Largest local health score seen, and the node-seconds spent above 0. */
  health: { maxScore: number; degradedNodeSeconds: number };
  /** Nodes that ran {@linkcode GO_RULES}. */
  goNodes: number;
  /**
   * joins: per join, ms until every member listed the joiner: percentiles over
   * the joins, how many took longer than 5 s, and how many never completed
   * (within 30 s); null for other scenarios.
   */
  joins: { count: number; p50: number | null; p99: number | null; p100: number | null; over5s: number; incomplete: number } | null;
  /**
   * restart: per restarted node, ms from its new start until every live node
   * held it alive (sampled each simulated second): percentiles, and how many
   * never got there within the run; null for other scenarios.
   */
  restarts: { count: number; p50: number | null; p99: number | null; p100: number | null; never: number } | null;
  /**
   * overflow: after one forged suspect message at incarnation 2^32 − 1 about
   * a victim reaches one node: the victim's own incarnation at the end, the
   * fewest observers that held it alive at any second (of `of`), the
   * observer-seconds it was not alive, and the ms after the message from
   * which every observer held it alive to the end (null: not by the end).
   */
  overflow: { victimIncarnation: number; minAlive: number; of: number; downObserverSeconds: number; restoredMs: number | null } | null;
  /**
   * readdress: a node dies and comes back under its name at a new address
   * (a rescheduled pod). `conflicts`: conflict delegate calls while others
   * still held the old address; `dead`: ms after the kill until the last
   * observer held the old record dead; `takenBack`: ms after the new start
   * until observers held the name at the new address (p50, p100 of `of`),
   * null where it never happened within the run.
   */
  readdress: {
    reclaimMs: number;
    conflicts: number;
    dead: number | null;
    takenBack: { p50: number | null; p100: number | null; count: number; of: number };
  } | null;
}

const PROFILES = { lan: defaultLANConfig, wan: defaultWANConfig, local: defaultLocalConfig };

/** Counts suspicions and deaths as the core reports them (metrics counters). */
class SimMetrics implements Metrics {
  suspect = 0;
  dead = 0;
  incrCounter(key: readonly string[]): void {
    if (key[1] === "msg") {
      if (key[2] === "suspect") this.suspect++;
      else if (key[2] === "dead") this.dead++;
    }
  }
  setGauge(): void {}
  addSample(): void {}
  measureSince(): void {}
}

interface SimNode {
  name: string;
  ml: Memberlist;
  transport: MockTransport;
  alive: boolean;
}

/**
 * `count` distinct items drawn at random. A Fisher–Yates shuffle: sorting with a
 * random comparator depends on the engine's sort, so the same seed would pick
 * other nodes on Bun (JavaScriptCore) than on Deno and Node (V8).
 */
function pick<T>(random: RandomSource, items: readonly T[], count: number): T[] {
  const copy = items.slice();
  shuffle(random, copy);
  return copy.slice(0, count);
}

function percentile(sorted: readonly number[], total: number, share: number): number | null {
  // The time by which `share` of `total` nodes knew: the k-th smallest, k = ceil(share * total).
  const k = Math.max(1, Math.ceil(share * total - 1e-9));
  return k <= sorted.length ? sorted[k - 1]! : null;
}

/** Runs one simulation. */
export async function simulate(o: SimOptions): Promise<SimReport> {
  const wallStart = performance.now();
  const log = (msg: string) => o.verbose && console.error(`[sim ${((performance.now() - wallStart) / 1000).toFixed(1)}s] ${msg}`);
  const clock = new VirtualClock({ yield: () => new Promise<void>((r) => setImmediate(r)) });
  const random: RandomSource = createSeededRandom(o.seed);
  const net = new MockNetwork({ clock, random, latency: o.latency, jitter: o.latency });
  const metrics = new SimMetrics();
  const base = PROFILES[o.profile]();
  const config: Partial<Config> = {
    ...base,
    clock,
    logger: silentLogger,
    metrics,
    ...(o.lifeguard ? {} : { awarenessMaxMultiplier: 1, suspicionMaxTimeoutMult: 1 }),
    ...(o.reconnect ? {} : { reconnectInterval: 0 }),
    userBroadcastShare: o.userShare,
    ...(o.scenario === "readdress" ? { deadNodeReclaimTime: o.reclaim * 1000, conflict: { notifyConflict: () => void conflicts++ } } : {}),
  };
  let conflicts = 0;

  // ---------------------------------------------------------------- the cluster
  const nodes: SimNode[] = [];
  const metaOf = new Map<string, Uint8Array>();
  // broadcast: each node gossips user messages from a queue of its own and passes on what it hears
  // for the first time (as serf's user events do); `heard` is when each node first heard one.
  const userQueues = new Map<string, TransmitLimitedQueue>();
  const heard = new Map<string, number>();
  const delegateOf = (name: string): Delegate => {
    const nodeMeta = () => metaOf.get(name) ?? new Uint8Array();
    if (o.scenario !== "broadcast") return { nodeMeta };
    const queue = new TransmitLimitedQueue({ numNodes: () => nodes.length, retransmitMult: base.retransmitMult });
    userQueues.set(name, queue);
    return {
      nodeMeta,
      getBroadcasts: (overhead, limit) => queue.getBroadcasts(overhead, limit),
      notifyMsg: (msg) => {
        if (heard.has(name)) return;
        heard.set(name, clock.now());
        const copy = msg.slice();
        queue.queueBroadcast({ message: () => copy });
      },
    };
  };
  let spawned = 0;
  /** Creates a node (not added to `nodes`); `go` makes it run Go's rules. */
  const spawn = async (name: string, options: { go?: boolean; addr?: string } = {}): Promise<SimNode> => {
    const transport = net.newTransport(name, options.addr === undefined ? {} : { addr: options.addr });
    const ml = await Memberlist.create({
      ...config,
      ...(options.go === true || o.goRules ? GO_RULES : {}),
      name,
      transport,
      random: createSeededRandom(o.seed * 7919 + spawned++),
      delegate: delegateOf(name),
    });
    // Go's incarnation rule (no ceiling, refutations wrap), and no claims kept for a name that moved:
    // internal switches, for this comparison.
    if (options.go === true || o.goRules) {
      memberlistState(ml).incarnationCeiling = null;
      memberlistState(ml).keepClaims = false;
    }
    return { name, ml, transport, alive: true };
  };
  // joins: the cluster is the members plus one joiner at a time.
  const initial = o.scenario === "joins" ? o.nodes - 1 : o.nodes;
  const goCount = Math.round(o.goShare * initial);
  const goNames = new Set(goCount === 0 ? [] : pick(random, Array.from({ length: initial }, (_, i) => `node-${i}`), goCount));
  for (let i = 0; i < initial; i++) {
    const name = `node-${i}`;
    nodes.push(await spawn(name, { go: goNames.has(name) }));
  }
  log(`created ${initial} nodes`);

  // Health-score tracking (Lifeguard): sampled each simulated second.
  let maxScore = 0;
  let degradedNodeSeconds = 0;
  const sampleHealth = () => {
    for (const n of nodes) {
      if (!n.alive) continue;
      const s = n.ml.getHealthScore();
      if (s > maxScore) maxScore = s;
      if (s > 0) degradedNodeSeconds++;
    }
  };

  // A converged cluster without the traffic of getting there: every node's table
  // holds every node, alive, at incarnation 1, or at the one `incarnation` gives
  // (the byte arrays and strings are shared).
  const converge = (incarnation?: () => number) => {
    const states = nodes.map((n) => memberlistState(n.ml));
    if (incarnation !== undefined) {
      for (const m of states) m.incarnation = m.nodeMap.get(m.config.name)!.incarnation = incarnation();
    }
    const templates = states.map((m) => m.nodeMap.get(m.config.name)!);
    const slots = Math.max(...templates.map((t) => t.id.slot)) + 1;
    for (const m of states) {
      const self = m.nodeMap.get(m.config.name)!;
      // Arrays of the exact size: grown one record at a time they would keep up to half spare.
      const table: NodeRecord[] = new Array(templates.length);
      table[0] = self;
      m.nodeMap.reserve(slots);
      let k = 1;
      for (const t of templates) {
        if (t.name === self.name) continue;
        // The identity (name, address, metadata, versions) is shared by every view.
        const r = new NodeRecord(t.id, t.incarnation, t.state, clock.now());
        table[k++] = r;
        m.nodeMap.set(r.name, r);
      }
      shuffle(m.config.random, table);
      m.nodes = table;
      // The self-alive of creation is in each queue; it would go to everyone at once.
      m.broadcasts.reset();
    }
  };

  // False positives: a live node marked suspect or dead by anyone (each observer's transition counts once).
  const slowSet = new Set<string>();
  const fp = { suspectOfHealthy: 0, deadOfHealthy: 0, suspectOfSlow: 0, deadOfSlow: 0 };
  const aliveNames = () => new Set(nodes.filter((n) => n.alive).map((n) => n.name));
  let liveSet = aliveNames();
  let countFalsePositives = false;
  for (const n of nodes) {
    n.ml.addEventListener("leave", (e) => {
      if (!countFalsePositives || !liveSet.has(e.node.name) || e.node.state !== NodeState.Dead) return;
      if (slowSet.has(e.node.name)) fp.deadOfSlow++;
      else fp.deadOfHealthy++;
    });
    const st = memberlistState(n.ml);
    (st as { events: typeof st.events }).events = {
      ...st.events,
      suspect: (node) => {
        if (!countFalsePositives || !liveSet.has(node.name)) return;
        if (slowSet.has(node.name)) fp.suspectOfSlow++;
        else fp.suspectOfHealthy++;
      },
    };
  }

  let event = 0;
  let informedTimes: number[] = [];
  let informedOf = 0;
  let detection: number[] | null = null;
  let updateTimes: number[] | null = null;
  let joinFigures: SimReport["joins"] = null;
  let restartFigures: SimReport["restarts"] = null;
  let overflowFigures: SimReport["overflow"] = null;
  let readdressFigures: SimReport["readdress"] = null;
  let duration = o.duration * 1000;

  const settle = async <T>(p: Promise<T>): Promise<T> => {
    let done = false;
    const w = p.finally(() => (done = true));
    w.catch(() => {});
    while (!done) await clock.advance(10);
    return await w;
  };

  // Simulated time advances in 1 s steps so that the run can sample and report.
  const run = async (ms: number, each?: () => void) => {
    const end = clock.now() + ms;
    while (clock.now() < end) {
      await clock.advance(Math.min(1000, end - clock.now()));
      sampleHealth();
      if (o.trace !== undefined) {
        const informed = detection?.length ?? (o.scenario === "broadcast" ? Math.max(0, heard.size - 1) : informedTimes.length);
        o.trace({ at: clock.now(), event, suspect: metrics.suspect, dead: metrics.dead, informed, of: informedOf });
      }
      each?.();
      // Suspect states are sampled each second (a transition shorter than that is missed).
      if (o.verbose && Math.round(clock.now()) % 10000 < 1000) log(`t=${Math.round(clock.now() / 1000)}s`);
    }
  };

  switch (o.scenario) {
    case "join": {
      // A few seeds; everyone else joins one of them at a random moment of the join window.
      const seeds = nodes.slice(0, Math.min(o.seeds, nodes.length));
      for (const s of seeds.slice(1)) await settle(s.ml.join([seeds[0]!.ml.localNode().address]));
      event = clock.now();
      informedOf = nodes.length;
      const done = new Set<string>();
      const joiners = nodes.slice(seeds.length).map((n) => ({ n, at: event + Math.floor(random() * o.joinWindow) }));
      for (const j of joiners) {
        clock.setTimeout(() => {
          const seed = seeds[Math.floor(random() * seeds.length)]!;
          j.n.ml.join([seed.ml.localNode().address]).catch(() => {});
        }, j.at - clock.now());
      }
      duration ||= 60_000;
      await run(duration, () => {
        for (const n of nodes) {
          if (!done.has(n.name) && n.ml.numMembers() === nodes.length) {
            done.add(n.name);
            informedTimes.push(clock.now() - event);
          }
        }
      });
      break;
    }
    case "joins": {
      // A quiet cluster of N − 1 members; nodes join it one after another, each through a
      // random member, and leave again once every member lists them.
      converge();
      await run(5000);
      const times: number[] = [];
      let incomplete = 0;
      const members = nodes.slice();
      const lists = (observer: SimNode, name: string) => {
        const r = memberlistState(observer.ml).nodeMap.get(name);
        return r !== undefined && (r.state === NodeState.Alive || r.state === NodeState.Suspect);
      };
      for (let k = 0; k < o.joins; k++) {
        const seed = members[Math.floor(random() * members.length)]!;
        const joiner = await spawn(`joiner-${k}`);
        nodes.push(joiner);
        const started = clock.now();
        joiner.ml.join([seed.ml.localNode().address]).catch(() => {});
        let took: number | null = null;
        while (clock.now() - started < 30_000) {
          await clock.advance(50);
          if (members.every((m) => lists(m, joiner.name))) {
            took = clock.now() - started;
            break;
          }
        }
        if (took === null) incomplete++;
        else times.push(took);
        await settle(joiner.ml.leave(5000).catch(() => {}));
        await settle(joiner.ml.shutdown());
        joiner.alive = false;
        nodes.pop();
        await run(2000);
        if (o.verbose && k % 100 === 99) log(`${k + 1} joins`);
      }
      times.sort((a, b) => a - b);
      informedTimes = times;
      informedOf = o.joins;
      joinFigures = {
        count: o.joins,
        p50: percentile(times, o.joins, 0.5),
        p99: percentile(times, o.joins, 0.99),
        p100: percentile(times, o.joins, 1),
        over5s: times.filter((t) => t > 5000).length + incomplete,
        incomplete,
      };
      break;
    }
    case "restart": {
      // A long-lived cluster (incarnations 2–100 from refutations and updates); a share of the
      // nodes goes down at random moments of the window and comes back 1–30 s later as a new
      // process (incarnation 1) with the same name and address, while the others hold it suspect
      // or dead at its old incarnation. The first three back are the seeds the others rejoin
      // through (a rolling restart starts with them); having restarted, they hold no record of
      // nodes that were down when they joined, as in hashicorp/memberlist#311.
      converge(() => 2 + Math.floor(random() * 99));
      await run(5000);
      event = clock.now();
      const count = Math.max(1, Math.round(o.restart * nodes.length));
      const plan = pick(random, nodes, count).map((n) => ({
        n,
        down: event + Math.floor(random() * o.restartWindow * 1000),
        up: 0,
      }));
      for (const p of plan) p.up = p.down + 1000 + Math.floor(random() * 29_000);
      plan.sort((a, b) => a.up - b.up);
      const seeds = plan.slice(0, 3);
      const others = nodes.filter((n) => !plan.some((p) => p.n === n));
      const back = new Map<string, number>(); // name -> when its new process started
      const done = new Map<string, number>(); // name -> ms from start until alive everywhere
      for (const p of plan) {
        clock.setTimeout(() => {
          p.n.alive = false;
          net.kill(p.n.transport.addr);
          void p.n.ml.shutdown();
        }, p.down - clock.now());
        clock.setTimeout(() => {
          void (async () => {
            const addr = p.n.transport.addr;
            const fresh = await spawn(p.n.name, { addr });
            nodes[nodes.indexOf(p.n)] = fresh;
            p.n = fresh;
            back.set(fresh.name, clock.now());
            const isSeed = seeds.some((s) => s.n === fresh);
            // The first seed back rejoins through a node that stayed up; everyone else through
            // the seeds that are up, trying again each second until one answers.
            while (!memberlistState(fresh.ml).shutdown) {
              const targets = seeds.filter((s) => s.n !== fresh && s.n.alive && back.has(s.n.name))
                .map((s) => s.n.transport.addr);
              if (targets.length === 0 && isSeed) targets.push(others[Math.floor(random() * others.length)]!.transport.addr);
              if (targets.length > 0) {
                try {
                  await fresh.ml.join(targets);
                  return;
                } catch {
                  // retry
                }
              }
              await sleep(clock, 1000);
            }
          })();
        }, p.up - clock.now());
      }
      duration ||= 300_000;
      await run(duration, () => {
        const live = nodes.filter((n) => n.alive);
        for (const [name, at] of back) {
          if (done.has(name)) continue;
          const ok = live.every((n) => memberlistState(n.ml).nodeMap.get(name)?.state === NodeState.Alive);
          if (ok) done.set(name, clock.now() - at);
        }
      });
      const times = [...done.values()].sort((a, b) => a - b);
      informedTimes = times;
      informedOf = count;
      restartFigures = {
        count,
        p50: percentile(times, count, 0.5),
        p99: percentile(times, count, 0.99),
        p100: percentile(times, count, 1),
        never: count - times.length,
      };
      break;
    }
    case "overflow": {
      // One forged suspect message at the largest incarnation, about a random victim, reaches one
      // other node (hashicorp/memberlist#358).
      converge();
      await run(5000);
      event = clock.now();
      const victim = nodes[Math.floor(random() * nodes.length)]!;
      const others = nodes.filter((n) => n !== victim);
      const entry = others[Math.floor(random() * others.length)]!;
      const forger = net.newTransport("forger");
      forger.setHandlers({ packet() {}, stream: (conn) => conn.close() });
      const forged = encodeMessage(MessageType.Suspect, { incarnation: 0xffff_ffff, node: victim.name, from: "forger" });
      forger.writeTo(forged, { addr: entry.transport.addr, name: entry.name });
      let minAlive = others.length;
      let down = 0;
      let restoredMs: number | null = null;
      duration ||= 300_000;
      await run(duration, () => {
        let alive = 0;
        for (const n of others) if (memberlistState(n.ml).nodeMap.get(victim.name)?.state === NodeState.Alive) alive++;
        minAlive = Math.min(minAlive, alive);
        down += others.length - alive;
        if (alive < others.length) restoredMs = null;
        else restoredMs ??= clock.now() - event;
      });
      await forger.shutdown();
      overflowFigures = {
        victimIncarnation: memberlistState(victim.ml).incarnation,
        minAlive,
        of: others.length,
        downObserverSeconds: down,
        restoredMs,
      };
      break;
    }
    case "readdress": {
      // A node dies without leaving and comes back `downtime` later under its name at another IP,
      // joining through a random member; the others hold the old address until the old record is
      // dead for deadNodeReclaimTime (hashicorp/memberlist#157).
      converge();
      await run(5000);
      const victim = nodes[Math.floor(random() * nodes.length)]!;
      const others = nodes.filter((n) => n !== victim);
      const oldIp = memberlistState(victim.ml).advertiseIp;
      const killedAt = clock.now();
      victim.alive = false;
      net.kill(victim.transport.addr);
      await victim.ml.shutdown();
      let deadAll: number | null = null;
      await run(o.downtime * 1000);
      event = clock.now();
      const moved = await spawn(victim.name, { addr: "10.99.0.1:7946" });
      nodes.push(moved);
      const seed = others[Math.floor(random() * others.length)]!;
      moved.ml.join([seed.transport.addr]).catch(() => {});
      const taken = new Map<string, number>();
      duration ||= 180_000;
      await run(duration, () => {
        for (const n of others) {
          const r = memberlistState(n.ml).nodeMap.get(victim.name);
          if (!taken.has(n.name) && r?.state === NodeState.Alive && r.ip === "10.99.0.1") taken.set(n.name, clock.now() - event);
        }
        if (deadAll === null && others.every((n) => {
          const r = memberlistState(n.ml).nodeMap.get(victim.name);
          return r === undefined || r.ip !== oldIp || r.state === NodeState.Dead;
        })) deadAll = clock.now() - killedAt;
      });
      const times = [...taken.values()].sort((a, b) => a - b);
      informedTimes = times;
      informedOf = others.length;
      readdressFigures = {
        reclaimMs: o.reclaim * 1000,
        conflicts,
        dead: deadAll,
        takenBack: {
          p50: percentile(times, others.length, 0.5),
          p100: percentile(times, others.length, 1),
          count: times.length,
          of: others.length,
        },
      };
      break;
    }
    case "fail":
    case "disseminate":
    case "loss":
    case "slow":
    case "broadcast":
    case "partition": {
      converge();
      liveSet = aliveNames();
      countFalsePositives = true;
      // Let the schedules settle into their steady state first.
      await run(5000);
      event = clock.now();
      if (o.scenario === "fail") {
        const victim = nodes[Math.floor(random() * nodes.length)]!;
        victim.alive = false;
        liveSet = aliveNames();
        net.kill(victim.transport.addr);
        await victim.ml.shutdown();
        detection = [];
        informedOf = nodes.length - 1;
        for (const n of nodes) {
          if (!n.alive) continue;
          n.ml.addEventListener("leave", (e) => {
            if (e.node.name === victim.name) detection!.push(clock.now() - event);
          });
        }
        duration ||= 120_000;
        await run(duration);
        informedTimes = [...detection];
      } else if (o.scenario === "disseminate") {
        const source = nodes[Math.floor(random() * nodes.length)]!;
        const meta = new TextEncoder().encode("v=2");
        informedOf = nodes.length - 1;
        for (const n of nodes) {
          if (n === source) continue;
          n.ml.addEventListener("update", (e) => {
            if (e.node.name === source.name) informedTimes.push(clock.now() - event);
          });
        }
        metaOf.set(source.name, meta);
        source.ml.updateNode(0).catch(() => {});
        duration ||= 30_000;
        await run(duration);
      } else if (o.scenario === "broadcast") {
        // A burst of memberlist traffic (a share of the nodes change their metadata at once, as in a
        // rolling deploy) while one node sends a 200-byte user broadcast.
        const count = Math.max(1, Math.round(o.churn * nodes.length));
        const meta = new Uint8Array(64).fill(0x6d);
        const churned = pick(random, nodes, count);
        const churnedNames = new Set(churned.map((n) => n.name));
        updateTimes = [];
        for (const n of nodes) {
          // Every node but the churned one itself must see each update.
          let missing = churnedNames.has(n.name) ? count - 1 : count;
          n.ml.addEventListener("update", (e) => {
            if (churnedNames.has(e.node.name) && --missing === 0) updateTimes!.push(clock.now() - event);
          });
        }
        for (const n of churned) {
          metaOf.set(n.name, meta);
          n.ml.updateNode(0).catch(() => {});
        }
        const source = nodes[Math.floor(random() * nodes.length)]!;
        heard.set(source.name, event);
        userQueues.get(source.name)!.queueBroadcast({ message: () => new Uint8Array(200).fill(0x75) });
        informedOf = nodes.length - 1;
        duration ||= 60_000;
        await run(duration);
        for (const [name, at] of heard) if (name !== source.name) informedTimes.push(at - event);
      } else if (o.scenario === "loss") {
        net.setLoss(o.loss);
        duration ||= 120_000;
        await run(duration);
      } else if (o.scenario === "slow") {
        // A fraction of nodes is starved in bursts: input delayed by a few hundred ms to seconds.
        const count = Math.max(1, Math.round(o.slow * nodes.length));
        const slow = pick(random, nodes, count);
        for (const n of slow) slowSet.add(n.name);
        duration ||= 300_000;
        const burstEnd = clock.now() + duration;
        for (const n of slow) {
          const burst = () => {
            if (clock.now() >= burstEnd) return;
            // A stall: everything sent to the node waits 2 to 15 s (a GC pause, a starved CPU), for 5 to 30 s.
            const delayMs = 2000 + Math.floor(random() * 13_000);
            const length = 5000 + Math.floor(random() * 25_000);
            net.setSlow(n.transport.addr, { delayMs });
            clock.setTimeout(() => {
              net.setSlow(n.transport.addr, null);
              clock.setTimeout(burst, 5000 + Math.floor(random() * 20000));
            }, length);
          };
          clock.setTimeout(burst, Math.floor(random() * 10000));
        }
        await run(duration);
      } else {
        // Two halves split, then heal; the informed time is when everyone sees everyone again.
        const half = nodes.slice(0, Math.floor(nodes.length / 2)).map((n) => n.transport.addr);
        const other = nodes.slice(Math.floor(nodes.length / 2)).map((n) => n.transport.addr);
        net.partition(half, other);
        await run(o.split * 1000);
        net.heal();
        event = clock.now();
        informedOf = nodes.length;
        const done = new Set<string>();
        await run(duration || 60_000, () => {
          for (const n of nodes) {
            if (!done.has(n.name) && n.ml.numMembers() === nodes.length) {
              done.add(n.name);
              informedTimes.push(clock.now() - event);
            }
          }
        });
        // Deaths across the cut are expected, not false positives.
        fp.deadOfHealthy = 0;
        fp.suspectOfHealthy = 0;
      }
      break;
    }
  }

  const simulatedMs = clock.now();
  const { heapBytes, records } = measureHeap(nodes.filter((n) => n.alive).map((n) => n.ml));
  // Shut down everything and check nothing is left running.
  await settle(Promise.all(nodes.filter((n) => n.alive).map((n) => n.ml.shutdown())));
  const wallMs = Math.round(performance.now() - wallStart);
  informedTimes.sort((a, b) => a - b);
  const det = detection === null ? null : [...detection].sort((a, b) => a - b);
  return {
    scenario: o.scenario,
    nodes: o.nodes,
    seed: o.seed,
    profile: o.profile,
    lifeguard: o.lifeguard,
    reconnect: o.reconnect,
    loss: o.scenario === "loss" ? o.loss : 0,
    slow: o.scenario === "slow" ? o.slow : 0,
    churn: o.scenario === "broadcast" ? o.churn : 0,
    userShare: o.userShare,
    simulatedMs: Math.round(simulatedMs),
    wallMs,
    speedup: Math.round((simulatedMs / wallMs) * 10) / 10,
    heapMB: Math.round(heapBytes / 1048576),
    records,
    bytesPerRecord: records === 0 ? 0 : Math.round(heapBytes / records),
    bytesPerNode: Math.round(heapBytes / o.nodes),
    messages: net.stats.packets,
    bytes: net.stats.bytes + net.stats.streamBytes,
    streams: net.stats.streams,
    informed: {
      p50: percentile(informedTimes, informedOf, 0.5),
      p99: percentile(informedTimes, informedOf, 0.99),
      p9999: percentile(informedTimes, informedOf, 0.9999),
      p100: percentile(informedTimes, informedOf, 1),
      count: informedTimes.length,
      of: informedOf,
    },
    updates: updateTimes === null ? null : {
      p50: percentile(updateTimes.sort((a, b) => a - b), nodes.length, 0.5),
      p100: percentile(updateTimes, nodes.length, 1),
      count: updateTimes.length,
      of: nodes.length,
    },
    detection: det === null ? null : {
      first: det[0] ?? null,
      median: det.length > 0 ? det[Math.floor((det.length - 1) / 2)]! : null,
      last: det.length === informedOf ? det[det.length - 1]! : null,
      count: det.length,
    },
    falsePositives: fp,
    health: { maxScore, degradedNodeSeconds },
    goNodes: o.goRules ? spawned : goNames.size,
    joins: joinFigures,
    restarts: restartFigures,
    overflow: overflowFigures,
    readdress: readdressFigures,
  };
}

/** The heap in use after a full collection where one can be asked for, and the records held. */
function measureHeap(live: Memberlist[]): { heapBytes: number; records: number } {
  const g = globalThis as { gc?: (full?: boolean) => void; Bun?: { gc(full: boolean): void } };
  if (g.Bun !== undefined) g.Bun.gc(true);
  else g.gc?.();
  const heapBytes = globalThis.process?.memoryUsage?.().heapUsed ?? 0;
  let records = 0;
  for (const ml of live) records += memberlistState(ml).nodes.length;
  return { heapBytes, records };
}

/** Reads the command line (`--nodes N --scenario S …`) into options. */
export function parseSimArgs(argv: string[]): SimOptions & { json: boolean } {
  const get = (name: string): string | undefined => {
    const i = argv.indexOf(`--${name}`);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const num = (name: string, fallback: number, min: number, max: number): number => {
    const raw = get(name);
    if (raw === undefined) return fallback;
    const v = Number(raw);
    if (!Number.isFinite(v) || v < min || v > max) throw new RangeError(`Invalid option "--${name}": expected a number in [${min}, ${max}], got "${raw}"`);
    return v;
  };
  const scenario = (get("scenario") ?? "fail") as Scenario;
  if (!SCENARIOS.includes(scenario)) {
    throw new RangeError(`Invalid option "--scenario": expected one of ${SCENARIOS.join(", ")}, got "${scenario}"`);
  }
  const profile = (get("profile") ?? "lan") as SimOptions["profile"];
  if (!(profile in PROFILES)) throw new RangeError(`Invalid option "--profile": expected lan, wan or local, got "${profile}"`);
  return {
    nodes: num("nodes", 100, 2, 100_000),
    scenario,
    seed: num("seed", 1, 0, 2 ** 31),
    profile,
    lifeguard: !argv.includes("--no-lifeguard"),
    reconnect: !argv.includes("--no-reconnect"),
    loss: num("loss", 0.05, 0, 1),
    slow: num("slow", 0.1, 0, 1),
    churn: num("churn", 0.2, 0, 1),
    userShare: num("user-share", 0.25, 0, 0.9),
    duration: num("duration", 0, 0, 86_400),
    split: num("split", 20, 0, 86_400),
    latency: num("latency", 1, 0, 1000),
    verbose: argv.includes("--verbose"),
    seeds: num("seeds", 3, 1, 100),
    joinWindow: num("join-window", 5000, 0, 600_000),
    goRules: argv.includes("--go-rules"),
    goShare: num("go-share", 0, 0, 1),
    joins: num("joins", 1000, 1, 1_000_000),
    restart: num("restart", 0.25, 0, 1),
    restartWindow: num("restart-window", 30, 0, 3600),
    reclaim: num("reclaim", 30, 0, 86_400),
    downtime: num("downtime", 2, 0, 3600),
    json: argv.includes("--json"),
  };
}

const entry = globalThis.process?.argv[1] ?? "";
if ((import.meta as { main?: boolean }).main ?? (entry.endsWith("sim.ts") || entry.endsWith("sim.js"))) {
  const argv = globalThis.process?.argv.slice(2) ?? [];
  const opts = parseSimArgs(argv);
  const svgAt = argv.indexOf("--svg");
  const svgFile = svgAt >= 0 ? argv[svgAt + 1] : undefined;
  if (svgAt >= 0 && (svgFile === undefined || svgFile.startsWith("--"))) throw new RangeError(`Invalid option "--svg": expected a file name`);
  const trace: TraceSample[] = [];
  if (svgFile !== undefined) opts.trace = (s) => trace.push(s);
  const report = await simulate(opts);
  if (svgFile !== undefined) {
    const { writeFileSync } = await import("node:fs");
    const { renderSimSvg } = await import("./_sim_svg.ts");
    writeFileSync(svgFile, renderSimSvg(report, trace));
    console.error(`sim: wrote ${svgFile}`);
  }
  console.log(opts.json ? JSON.stringify(report) : JSON.stringify(report, null, 2));
}
