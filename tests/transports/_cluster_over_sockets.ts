// Copyright (c) memberlist-ts authors. SPDX-License-Identifier: MPL-2.0
// The core's cluster scenarios once more, on real UDP/TCP sockets on 127.0.0.1 and
// in real time: join, convergence, failure detection of a node killed without a
// leave, and a graceful leave. Each backend's `<runtime>_cluster_test.ts` calls
// `clusterOverSockets()` with its `createNetTransport`.
import { afterEach, describe, it } from "node:test";
import assert from "node:assert/strict";
import { type Config, defaultLocalConfig } from "../../lib/config.ts";
import { silentLogger } from "../../lib/logging.ts";
import { Memberlist, memberlistState } from "../../lib/memberlist.ts";
import { NodeState } from "../../lib/node.ts";
import type { CreateNetTransport } from "../../transports/_net_transport.ts";
import { waitFor } from "./_compliance.ts";

/**
 * The local profile sped up for loopback so a failure is detected in about a
 * second: probe every 200 ms with a 100 ms ack timeout, and a suspicion timeout
 * of 2 × 200 ms, at most doubled while confirmations are missing.
 */
export const FAST_LOCAL: Partial<Config> = {
  probeInterval: 200,
  probeTimeout: 100,
  gossipInterval: 50,
  suspicionMult: 2,
  suspicionMaxTimeoutMult: 2,
  tcpTimeout: 500,
  pushPullInterval: 2000,
  logger: silentLogger,
};

/** What `node` knows of `name`: its state, or undefined when it has no record. */
export function stateIn(node: Memberlist, name: string): number | undefined {
  return memberlistState(node).nodeMap.get(name)?.state;
}

/**
 * Runs the cluster scenarios over one backend's sockets.
 *
 * @param name The suite's name.
 * @param create The backend's `createNetTransport`.
 * @param options `skip` to skip with a reason.
 */
export function clusterOverSockets(
  name: string,
  create: CreateNetTransport,
  options: { skip?: string | false } = {},
): void {
  describe(name, { skip: options.skip ?? false }, () => {
    const running: Memberlist[] = [];

    async function start(nodeName: string, overrides: Partial<Config> = {}): Promise<Memberlist> {
      const transport = await create({ bindAddrs: ["127.0.0.1"], bindPort: 0, logger: silentLogger });
      const ml = await Memberlist.create({
        ...defaultLocalConfig(),
        ...FAST_LOCAL,
        name: nodeName,
        transport,
        ...overrides,
      });
      running.push(ml);
      return ml;
    }

    afterEach(async () => {
      await Promise.all(running.splice(0).map((ml) => ml.shutdown()));
    });

    it("four nodes join and converge, detect a node killed without leaving, and see a leave", async () => {
      const nodes = [await start("n0"), await start("n1"), await start("n2"), await start("n3")];
      const seed = nodes[0]!.localNode().address;
      assert.match(seed, /^127\.0\.0\.1:\d+$/);
      const joined = await Promise.all(nodes.slice(1).map((n) => n.join([seed])));
      assert.deepEqual(joined, [1, 1, 1]);
      await waitFor(() => nodes.every((n) => n.numMembers() === 4), {
        timeout: 5000,
        what: "all four to know each other",
      });
      for (const n of nodes) {
        assert.deepEqual(n.members().map((m) => m.name).sort(), ["n0", "n1", "n2", "n3"]);
      }

      // n3 dies: its sockets close with no leave message.
      const victim = nodes[3]!;
      await victim.shutdown();
      const survivors = nodes.slice(0, 3);
      const started = Date.now();
      await waitFor(() => survivors.every((n) => stateIn(n, "n3") === NodeState.Dead), {
        timeout: 8000,
        what: "the survivors to declare n3 dead",
      });
      assert.ok(Date.now() - started >= 100, "death needs a failed probe and a suspicion timeout");
      for (const n of survivors) assert.equal(n.numMembers(), 3);

      // n2 leaves gracefully: the others mark it left, not dead.
      await survivors[2]!.leave(2000);
      await waitFor(() => survivors.slice(0, 2).every((n) => stateIn(n, "n2") === NodeState.Left), {
        timeout: 5000,
        what: "n0 and n1 to see n2 leave",
      });
      for (const n of survivors.slice(0, 2)) {
        assert.deepEqual(n.members().map((m) => m.name).sort(), ["n0", "n1"]);
      }
    });

    it("a user message sent reliably (TCP) and best effort (UDP) arrives", async () => {
      const got: string[] = [];
      const dec = new TextDecoder();
      const a = await start("a");
      const b = await start("b", {
        delegate: { notifyMsg: (msg: Uint8Array) => void got.push(dec.decode(msg)) },
      });
      assert.equal(await a.join([b.localNode().address]), 1);
      await waitFor(() => a.numMembers() === 2 && b.numMembers() === 2);
      const target = a.members().find((m) => m.name === "b")!;
      await a.sendReliable(target, new TextEncoder().encode("over tcp"));
      await a.sendBestEffort(target, new TextEncoder().encode("over udp"));
      await waitFor(() => got.length === 2, { what: "both user messages" });
      assert.deepEqual(got.sort(), ["over tcp", "over udp"]);
    });
  });
}
