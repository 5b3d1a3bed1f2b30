// Helpers for protocol tests: clusters of real Memberlist instances on the
// in-memory network and a virtual clock, so every run is deterministic.
import { setImmediate } from "node:timers";
import { VirtualClock } from "../lib/clock.ts";
import { type Config, defaultLocalConfig } from "../lib/config.ts";
import type { LogFields, Logger } from "../lib/logging.ts";
import { Memberlist } from "../lib/memberlist.ts";
import { createSeededRandom } from "../lib/random.ts";
import { MockNetwork, type MockNetworkOptions, type MockTransport } from "../transports/mock.ts";

/** A fast macrotask yield for the virtual clock. */
export const yieldImmediate = (): Promise<void> => new Promise((r) => setImmediate(r));

/** A logger that keeps what it is told (and prints nothing). */
export class RecordingLogger implements Logger {
  lines: { level: string; message: string; fields: LogFields | undefined }[] = [];
  debug(message: string, fields?: LogFields): void {
    this.lines.push({ level: "debug", message, fields });
  }
  info(message: string, fields?: LogFields): void {
    this.lines.push({ level: "info", message, fields });
  }
  warn(message: string, fields?: LogFields): void {
    this.lines.push({ level: "warn", message, fields });
  }
  error(message: string, fields?: LogFields): void {
    this.lines.push({ level: "error", message, fields });
  }
  /** Lines at `level` whose message contains `text`. */
  find(level: string, text: string): number {
    return this.lines.filter((l) => l.level === level && l.message.includes(text)).length;
  }
}

/** One node of a test cluster. */
export interface TestNode {
  ml: Memberlist;
  transport: MockTransport;
  logger: RecordingLogger;
  name: string;
}

/** A cluster on one mock network and one virtual clock. */
export class TestCluster {
  readonly clock: VirtualClock;
  readonly net: MockNetwork;
  readonly nodes: TestNode[] = [];
  #seed: number;

  constructor(options: { seed?: number; net?: Omit<MockNetworkOptions, "clock" | "random"> } = {}) {
    this.#seed = options.seed ?? 1;
    this.clock = new VirtualClock({ yield: yieldImmediate });
    this.net = new MockNetwork({ ...options.net, clock: this.clock, random: createSeededRandom(this.#seed) });
  }

  /** Creates a node named `name` with the local profile plus `overrides`. */
  async add(name: string, overrides: Partial<Config> = {}): Promise<TestNode> {
    const transport = this.net.newTransport(name);
    const logger = new RecordingLogger();
    const ml = await Memberlist.create({
      ...defaultLocalConfig(),
      name,
      transport,
      clock: this.clock,
      random: createSeededRandom(this.#seed * 1000 + this.nodes.length),
      logger,
      ...overrides,
    });
    const node = { ml, transport, logger, name };
    this.nodes.push(node);
    return node;
  }

  /** Creates `n` nodes named `prefix0`… and joins each to the first. */
  async start(n: number, overrides: Partial<Config> = {}, prefix = "node-"): Promise<TestNode[]> {
    const created: TestNode[] = [];
    for (let i = 0; i < n; i++) created.push(await this.add(`${prefix}${i}`, overrides));
    const seed = created[0]!.ml.localNode().address;
    await this.settle(Promise.all(created.slice(1).map((node) => node.ml.join([seed]))));
    return created;
  }

  /**
   * Advances virtual time until `promise` settles (the network only moves when
   * the clock does), then returns its result or throws its error.
   */
  async settle<T>(promise: Promise<T>, timeoutMs = 60_000, step = 1): Promise<T> {
    let done = false;
    const watched = promise.finally(() => (done = true));
    watched.catch(() => {});
    const start = this.clock.now();
    while (!done) {
      if (this.clock.now() - start >= timeoutMs) throw new Error(`Promise not settled within ${timeoutMs} ms of virtual time`);
      await this.clock.advance(step);
    }
    return await watched;
  }

  /** Advances virtual time. */
  advance(ms: number): Promise<void> {
    return this.clock.advance(ms);
  }

  /** Advances virtual time in steps until `predicate` holds; throws after `timeoutMs`. */
  async waitFor(predicate: () => boolean, timeoutMs: number, step = 50): Promise<number> {
    const start = this.clock.now();
    while (!predicate()) {
      if (this.clock.now() - start >= timeoutMs) throw new Error(`Condition not met within ${timeoutMs} ms of virtual time`);
      await this.clock.advance(step);
    }
    return this.clock.now() - start;
  }

  /** Shuts every node down and checks that no timer is left behind. */
  async shutdown(): Promise<void> {
    await this.settle(Promise.all(this.nodes.map((n) => n.ml.shutdown())));
    await this.clock.advance(1);
  }
}

/** State of `name` as seen by `observer` (undefined when not a member). */
export function stateOf(observer: Memberlist, name: string): number | undefined {
  return observer.members().find((n) => n.name === name)?.state;
}
