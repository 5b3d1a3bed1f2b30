// Helpers shared by the memberlist_*_test.ts files (the ports of Go's
// memberlist_test.go and transport_test.go): nodes at chosen addresses, a
// transport that records what it sends, a metrics sink that keeps samples, and
// a peer that accepts streams and never answers.
import type { Config } from "../lib/config.ts";
import type { Metrics } from "../lib/metrics.ts";
import { Memberlist } from "../lib/memberlist.ts";
import { createSeededRandom } from "../lib/random.ts";
import type { Address, Conn, Transport } from "../lib/transport.ts";
import type { MockTransport } from "../transports/mock.ts";
import { defaultLocalConfig } from "../lib/config.ts";
import { RecordingLogger, type TestCluster, type TestNode } from "./_helpers.ts";

/** A small deterministic seed from a name. */
function seedOf(text: string): number {
  let h = 2166136261;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 16777619) >>> 0;
  return h % 1_000_000 + 1;
}

/**
 * Creates a node named `name` on `c`'s network at `addr` ("ip:port"), like
 * `c.add()`, which always picks 127.0.0.1 and a fresh port. Go's tests run
 * every node on its own loopback IP with one shared port; this does the same.
 * `wrap` may put a transport of its own around the mock one. The node is
 * shut down by `c.shutdown()`.
 */
export async function addAt(
  c: TestCluster,
  name: string,
  addr: string,
  overrides: Partial<Config> = {},
  wrap?: (transport: MockTransport) => Transport,
): Promise<TestNode> {
  const transport = c.net.newTransport(name, { addr });
  const logger = new RecordingLogger();
  let ml: Memberlist;
  try {
    ml = await Memberlist.create({
      ...defaultLocalConfig(),
      name,
      transport: wrap === undefined ? transport : wrap(transport),
      clock: c.clock,
      random: createSeededRandom(seedOf(`${name}@${addr}#${c.nodes.length}`)),
      logger,
      ...overrides,
    });
  } catch (err) {
    await transport.shutdown();
    throw err;
  }
  const node = { ml, transport, logger, name };
  c.nodes.push(node);
  return node;
}

/** What a {@linkcode recordingTransport} saw. */
export interface TransportLog {
  /** Every datagram sent: when, and to where. */
  writes: { at: number; to: Address }[];
  /** Every dial attempted. */
  dials: Address[];
}

/** Wraps `inner` so that every datagram sent and every dial is recorded in `log`. */
export function recordingTransport(inner: MockTransport, now: () => number, log: TransportLog): Transport {
  return {
    finalAdvertiseAddr: (ip, port) => inner.finalAdvertiseAddr(ip, port),
    setHandlers: (handlers) => inner.setHandlers(handlers),
    writeTo: (b, to) => {
      log.writes.push({ at: now(), to: { ...to } });
      return inner.writeTo(b, to);
    },
    dialTimeout: (to, timeoutMs) => {
      log.dials.push({ ...to });
      return inner.dialTimeout(to, timeoutMs);
    },
    shutdown: () => inner.shutdown(),
  };
}

/** A metrics sink that keeps every call. */
export class RecordingMetrics implements Metrics {
  samples: { key: string; value: number }[] = [];
  counters: Map<string, number> = new Map();
  gauges: Map<string, number> = new Map();
  incrCounter(key: readonly string[], value: number): void {
    const k = key.join(".");
    this.counters.set(k, (this.counters.get(k) ?? 0) + value);
  }
  setGauge(key: readonly string[], value: number): void {
    this.gauges.set(key.join("."), value);
  }
  addSample(key: readonly string[], value: number): void {
    this.samples.push({ key: key.join("."), value });
  }
  measureSince(): void {}
}

/**
 * A peer at `addr` that accepts every stream and never writes a byte or
 * closes it (Go's TestMemberlist_Join_DeadNode listener). Shut it down with
 * the returned transport.
 */
export function silentPeer(c: TestCluster, addr: string): { transport: MockTransport; accepted: Conn[] } {
  const transport = c.net.newTransport("silent", { addr });
  const accepted: Conn[] = [];
  transport.setHandlers({ packet() {}, stream: (conn) => void accepted.push(conn) });
  return { transport, accepted };
}

/** Member names as `observer` sees them, sorted. */
export function memberNames(observer: Memberlist): string[] {
  return observer.members().map((n) => n.name).sort();
}

/** UTF-8 bytes. */
export function utf8(text: string): Uint8Array {
  return new TextEncoder().encode(text);
}

/** UTF-8 text. */
export function text(bytes: Uint8Array): string {
  return new TextDecoder().decode(bytes);
}
