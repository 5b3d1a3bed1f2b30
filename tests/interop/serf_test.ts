// Copyright (c) memberlist-ts authors. SPDX-License-Identifier: MPL-2.0

// A TS Memberlist in a cluster of real `serf agent` processes (Debian's serf 0.9.4 on memberlist 0.2.2),
// plain and encrypted. Our node is no serf implementation: it carries no serf tags and ignores serf's user
// messages and push/pull state, but it must be a well-behaved memberlist member. Serf lists it alive (with
// the `role=""` tag serf derives from empty metadata), probes it, answers its push/pulls, and reports it
// failed once it dies without leaving; our node lists the agents alive.
//
// What has to match serf (docs/interop.md): serf sets memberlist's delegate protocol versions from its own
// protocol (`DelegateProtocolMin/Max` = 2/5, `DelegateProtocolVersion` = the agent's protocol, 5 for the
// agent, 4 for the library default), and push/pull refuses a node whose delegate version range does not
// overlap, so ours is 4 in [2, 5]; the key; and, for consistent failure detection, the timing profile
// (`serf agent -profile=local` is Go's DefaultLocalConfig, our defaultLocalConfig()).

import { afterEach, describe, it } from "node:test";
import assert from "node:assert/strict";
import { type Config, defaultLocalConfig, JoinError, Memberlist, NodeState } from "../../mod.ts";
import { RecordingLogger } from "../_helpers.ts";
import { requireSerfOrSkip, SerfAgent, serfKeygen, type SerfMember, serfVersion } from "./_serf.ts";

const skip = requireSerfOrSkip();

/** Serf's delegate protocol range (serf/config.go ProtocolVersionMin/Max) and the library default version. */
const SERF_DELEGATE: Pick<Config, "delegateProtocolVersion" | "delegateProtocolMin" | "delegateProtocolMax"> =
  {
    delegateProtocolVersion: 4,
    delegateProtocolMin: 2,
    delegateProtocolMax: 5,
  };

/** How long serf may take to report our dead node failed: suspicion of 3 s, up to 18 s unconfirmed. */
const FAILED_WITHIN_MS = 30_000;

async function eventually(
  check: () => Promise<boolean> | boolean,
  options: { timeout: number; what: string; detail?: () => Promise<string> | string },
): Promise<void> {
  const start = Date.now();
  for (;;) {
    let ok = false;
    try {
      ok = await check();
    } catch {
      // An RPC that failed once (the agent busy): ask again.
    }
    if (ok) return;
    if (Date.now() - start > options.timeout) {
      const detail = options.detail === undefined ? "" : `\n${await options.detail()}`;
      throw new Error(`Timed out after ${options.timeout} ms waiting for ${options.what}${detail}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

function fromBase64(text: string): Uint8Array {
  return Uint8Array.from(atob(text), (c) => c.charCodeAt(0));
}

/** How `agent` lists `name`, or undefined. */
async function memberIn(agent: SerfAgent, name: string): Promise<SerfMember | undefined> {
  return (await agent.members()).find((m) => m.name === name);
}

describe(`serf agents (serf ${serfVersion() ?? "missing"}, memberlist 0.2.2 inside)`, { skip }, () => {
  const agents: SerfAgent[] = [];
  const nodes: Memberlist[] = [];

  afterEach(async () => {
    await Promise.all(nodes.splice(0).map((n) => n.shutdown()));
    await Promise.all(agents.splice(0).map((a) => a.kill()));
  });

  async function agentLogs(): Promise<string> {
    const parts: string[] = [];
    for (const a of agents) {
      let members = "";
      try {
        members = JSON.stringify((await a.members()).map((m) => [m.name, m.status]));
      } catch (err) {
        members = String(err);
      }
      parts.push(`--- ${a.name} members: ${members}\n${a.log.slice(-3000)}`);
    }
    return parts.join("\n");
  }

  async function startCluster(key: string | undefined): Promise<[SerfAgent, SerfAgent]> {
    const encrypt = key === undefined ? {} : { encrypt: key };
    const s1 = await SerfAgent.start({ name: "serf-1", ...encrypt });
    agents.push(s1);
    const s2 = await SerfAgent.start({ name: "serf-2", join: [s1.address], ...encrypt });
    agents.push(s2);
    return [s1, s2];
  }

  async function startNode(name: string, overrides: Partial<Config>): Promise<[Memberlist, RecordingLogger]> {
    const logger = new RecordingLogger();
    const ml = await Memberlist.create({
      ...defaultLocalConfig(),
      ...SERF_DELEGATE,
      name,
      bindAddr: "127.0.0.1",
      bindPort: 0,
      logger,
      ...overrides,
    });
    nodes.push(ml);
    return [ml, logger];
  }

  for (const encrypted of [false, true]) {
    const how = encrypted ? ", encrypted with a key from serf keygen" : "";
    it(
      `a TS node joins two serf agents${how}: serf lists it alive, answers its push/pull, and reports it failed after it dies`,
      {
        timeout: 90_000,
      },
      async () => {
        const key = encrypted ? await serfKeygen() : undefined;
        if (key !== undefined) assert.equal(fromBase64(key).length, 32, "serf keygen makes AES-256 keys");
        const [s1, s2] = await startCluster(key);
        const [ts, logger] = await startNode(
          "ts-serf",
          key === undefined ? {} : { secretKey: fromBase64(key) },
        );
        const tsAddress = ts.localNode().address;

        assert.equal(await ts.join([s1.address]), 1);
        const everyone = ["serf-1", "serf-2", "ts-serf"];
        await eventually(async () => {
          const ours = ts.members().filter((m) => m.state === NodeState.Alive).map((m) => m.name).sort();
          if (ours.join() !== everyone.join()) return false;
          for (const a of [s1, s2]) {
            const listed = (await a.members()).filter((m) => m.status === "alive").map((m) => m.name).sort();
            if (listed.join() !== everyone.join()) return false;
          }
          return true;
        }, { timeout: 15_000, what: "serf and the TS node to list each other alive", detail: agentLogs });

        // What serf shows for us: our address, serf's "role" tag made from our empty metadata (serf's
        // backwards-compatible tag decoding), and our delegate versions as serf's protocol.
        for (const a of [s1, s2]) {
          const me = (await memberIn(a, "ts-serf"))!;
          assert.equal(me.status, "alive");
          assert.equal(me.addr, tsAddress);
          assert.equal(me.port, ts.localNode().port);
          assert.deepEqual(me.tags, { role: "" });
          assert.deepEqual(me.protocol, { min: 2, max: 5, version: 4 });
        }
        // And what we show for serf: its tag encoding (magic byte 0xff + msgpack map) as opaque metadata, and
        // the agent's delegate protocol 5 in [2, 5].
        for (const m of ts.members().filter((m) => m.name !== "ts-serf")) {
          assert.equal(m.meta[0], 0xff, `${m.name} meta starts with serf's tag magic byte`);
          assert.deepEqual([m.pMin, m.pMax, m.pCur, m.dMin, m.dMax, m.dCur], [1, 5, 2, 2, 5, 5], m.name);
        }

        // serf-2 pushes and pulls state with us (serf join): we answer without any serf user state.
        assert.match(await s2.rpc("join", [tsAddress]), /Successfully joined cluster by contacting 1 nodes/);

        // We die without leaving: both agents report us failed.
        const since = Date.now();
        await ts.shutdown();
        await eventually(async () => {
          for (const a of [s1, s2]) if ((await memberIn(a, "ts-serf"))?.status !== "failed") return false;
          return true;
        }, {
          timeout: FAILED_WITHIN_MS,
          what: "both serf agents to report ts-serf failed",
          detail: agentLogs,
        });
        const tookMs = Date.now() - since;
        assert.ok(tookMs < FAILED_WITHIN_MS);
        for (const a of [s1, s2]) {
          assert.ok(!a.exited, `${a.name} is still running`);
          assert.doesNotMatch(a.log, /panic|\[ERR\] memberlist/, `${a.name} logged no memberlist error`);
          assert.match(a.log, /EventMemberFailed: ts-serf/);
          assert.deepEqual(
            (await a.members()).filter((m) => m.status === "alive").map((m) => m.name).sort(),
            ["serf-1", "serf-2"],
          );
        }
        // Our side took serf's traffic without complaint (user messages and push/pull state are ignored
        // without a delegate).
        const complaints = logger.lines.filter((l) => l.level === "error" || l.level === "warn");
        assert.deepEqual(complaints.map((l) => l.message), []);
      },
    );
  }

  it("a graceful leave() shows as failed in serf (serf calls a node left only after its own leave intent)", {
    timeout: 60_000,
  }, async () => {
    const [s1, s2] = await startCluster(undefined);
    const [ts, logger] = await startNode("ts-leaver", {});
    assert.equal(await ts.join([s1.address]), 1);
    await eventually(async () => (await memberIn(s2, "ts-leaver"))?.status === "alive", {
      timeout: 15_000,
      what: "serf-2 to list ts-leaver alive",
      detail: agentLogs,
    });
    // memberlist's leave (a dead message about ourselves) arrives, and memberlist marks us left; but serf only
    // turns a node it sees as alive into "left" after a serf leave intent (a serf user message), which we
    // do not send, so it reports us failed at once instead of after a probe timeout.
    await ts.leave(5000);
    await eventually(async () => {
      for (const a of [s1, s2]) if ((await memberIn(a, "ts-leaver"))?.status !== "failed") return false;
      return true;
    }, { timeout: 10_000, what: "both serf agents to report ts-leaver failed", detail: agentLogs });
    for (const a of [s1, s2]) assert.match(a.log, /EventMemberFailed: ts-leaver/);
    // And we saw no complaint while leaving.
    assert.deepEqual(
      logger.lines.filter((l) => l.level === "error" || l.level === "warn").map((l) => l.message),
      [],
    );
    // `serf force-leave` moves it to left.
    await s1.rpc("force-leave", ["ts-leaver"]);
    await eventually(async () => (await memberIn(s2, "ts-leaver"))?.status === "left", {
      timeout: 10_000,
      what: "serf-2 to list ts-leaver left after force-leave",
      detail: agentLogs,
    });
  });

  it("a TS node with memberlist's default delegate versions (0 in [0, 0]) cannot join serf", {
    timeout: 60_000,
  }, async () => {
    const [s1, s2] = await startCluster(undefined);
    const [ts] = await startNode("ts-no-versions", {
      delegateProtocolVersion: 0,
      delegateProtocolMin: 0,
      delegateProtocolMax: 0,
    });
    // Push/pull's version check (spec §7.4): serf's nodes speak 5, outside our [0, 0], and we speak 0,
    // outside serf's [2, 5]; both sides refuse the merge.
    await assert.rejects(ts.join([s1.address]), (err: unknown) => {
      assert.ok(err instanceof JoinError);
      assert.match(String(err.errors[0]), /version/i);
      return true;
    });
    for (const a of [s1, s2]) {
      assert.deepEqual((await a.members()).map((m) => m.name).sort(), ["serf-1", "serf-2"]);
    }
  });

  it("keys: a TS node with another key or none cannot join an encrypted serf cluster; 16-byte keys work", {
    timeout: 60_000,
  }, async () => {
    const key = await serfKeygen();
    const [s1, s2] = await startCluster(key);
    const other = fromBase64(key).map((b) => b ^ 0x5a);
    const [wrongKey] = await startNode("ts-wrong-key", { secretKey: other });
    await assert.rejects(wrongKey.join([s1.address]), JoinError);
    const [noKey] = await startNode("ts-no-key", {});
    await assert.rejects(noKey.join([s1.address]), JoinError);
    for (const a of [s1, s2]) {
      assert.deepEqual((await a.members()).map((m) => m.name).sort(), ["serf-1", "serf-2"]);
      assert.ok(!a.exited);
    }

    // serf's help asks for 32 bytes, but it hands the key to memberlist, which takes 16, 24 or 32.
    const key16 = new Uint8Array(16).map((_, i) => (i * 37 + 11) & 0xff);
    const s3 = await SerfAgent.start({ name: "serf-16", encrypt: btoa(String.fromCharCode(...key16)) });
    agents.push(s3);
    const [ts] = await startNode("ts-16", { secretKey: key16 });
    assert.equal(await ts.join([s3.address]), 1);
    await eventually(async () => (await memberIn(s3, "ts-16"))?.status === "alive" && ts.numMembers() === 2, {
      timeout: 10_000,
      what: "serf-16 and ts-16 to list each other",
      detail: agentLogs,
    });
  });
});
