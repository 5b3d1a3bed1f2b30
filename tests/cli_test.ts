// Copyright (c) memberlist-ts authors. SPDX-License-Identifier: MPL-2.0
// The `memberlist` command end to end, on real sockets: two agents on different runtimes (Deno
// from the sources, Node on the compiled build), `members --json`, a key rotation across both
// agents through the CLI (Bun), `monitor` following events, SIGTERM leaving gracefully (the
// other agent sees "left"), and `leave`. Runs under Node (it spawns every runtime itself).
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { command, eventually, nodeOnly, Proc, run } from "./_processes.ts";

const CLI = "agent/cli.ts";

/** A free TCP+UDP port pair is not guaranteed; ports from a range the other tests do not use. */
function ports(): { gossipA: number; gossipB: number; rpcA: number; rpcB: number } {
  const base = 21_000 + Math.floor(Math.random() * 4000) * 2;
  return { gossipA: base, gossipB: base + 1, rpcA: base + 8000, rpcB: base + 8001 };
}

async function cli(runtime: "deno" | "bun" | "node", ...args: string[]): Promise<string> {
  const [cmd, argv] = command(runtime, CLI, args);
  const r = await run(cmd, argv);
  assert.equal(r.code, 0, `memberlist ${args.join(" ")} (${runtime}) failed:\n${r.out}`);
  return r.out;
}

interface MemberOut {
  name: string;
  state: string;
  tags?: Record<string, string>;
}

describe("memberlist CLI", { skip: nodeOnly }, () => {
  let tmp = "";
  let a: Proc;
  let b: Proc;
  const p = ports();
  const rpcA = `127.0.0.1:${p.rpcA}`;
  const rpcB = `127.0.0.1:${p.rpcB}`;
  let key1 = "";

  before(async () => {
    tmp = mkdtempSync(join(tmpdir(), "memberlist-cli-"));
    key1 = (await cli("node", "keygen")).trim();
    const [ca, aa] = command("deno", CLI, [
      "agent", "--node", "agent-a", "--bind", `127.0.0.1:${p.gossipA}`, "--rpc-addr", rpcA, "--profile", "local",
      "--encrypt", key1, "--keyring-file", join(tmp, "a.keyring"), "--tag", "role=db", "--tag", "dc=lab",
    ]);
    a = new Proc("agent-a (deno)", ca, aa);
    await a.waitFor(/Agent started/);
    const [cb, ab] = command("node", CLI, [
      "agent", "-node=agent-b", "-bind", `127.0.0.1:${p.gossipB}`, "-rpc-addr", rpcB, "-profile", "local",
      "-encrypt", key1, "-join", `127.0.0.1:${p.gossipA}`, "-log-json",
    ]);
    b = new Proc("agent-b (node)", cb, ab);
    await b.waitFor(/"message":"Joined"/);
  });

  after(async () => {
    await Promise.all([a?.stop("SIGKILL"), b?.stop("SIGKILL")]);
    if (tmp !== "") rmSync(tmp, { recursive: true, force: true });
  });

  it("members --json: both agents, alive, with their serf-format tags", async () => {
    await eventually("both agents to list each other", async () => {
      const { members } = JSON.parse(await cli("bun", "members", "--json", "--rpc-addr", rpcA)) as { members: MemberOut[] };
      return members.length === 2;
    });
    const { members } = JSON.parse(await cli("node", "members", "--json", "--rpc-addr", rpcB)) as { members: MemberOut[] };
    assert.deepEqual(
      members.map((m) => [m.name, m.state, m.tags]),
      [["agent-a", "alive", { dc: "lab", role: "db" }], ["agent-b", "alive", {}]],
    );
    // The text form, serf's columns.
    const text = await cli("deno", "members", "--rpc-addr", rpcA, "--status", "alive");
    assert.match(text, /^agent-a +127\.0\.0\.1:\d+ +alive +dc=lab,role=db$/m);
    assert.match(text, /^agent-b +127\.0\.0\.1:\d+ +alive$/m);
  });

  it("keys: rotating to a new key across both agents keeps them talking", async () => {
    const key2 = (await cli("deno", "keygen")).trim();
    assert.notEqual(key2, key1);
    for (const rpc of [rpcA, rpcB]) assert.match(await cli("bun", "keys", "install", key2, "--rpc-addr", rpc), /2 keys installed/);
    for (const rpc of [rpcA, rpcB]) await cli("node", "keys", "-use", key2, "--rpc-addr", rpc);
    for (const rpc of [rpcA, rpcB]) assert.match(await cli("deno", "keys", "remove", key1, "--rpc-addr", rpc), /1 key installed/);
    for (const rpc of [rpcA, rpcB]) {
      const listed = JSON.parse(await cli("node", "keys", "list", "--json", "--rpc-addr", rpc));
      assert.deepEqual(listed, { keys: [key2], primary: key2 });
    }
    // Agent A's keyring file follows the changes (serf's format: a JSON array, primary first).
    assert.deepEqual(JSON.parse(readFileSync(join(tmp, "a.keyring"), "utf8")), [key2]);
    // Only key2 is left on both sides: a fresh push/pull succeeds only if both use it.
    assert.match(await cli("bun", "join", `127.0.0.1:${p.gossipA}`, "--rpc-addr", rpcB), /joined cluster by contacting 1 nodes/);
    // Removing the primary key is refused, and the error reaches the command line.
    const [cmd, argv] = command("node", CLI, ["keys", "remove", key2, "--rpc-addr", rpcA]);
    const refused = await run(cmd, argv);
    assert.equal(refused.code, 1);
    assert.match(refused.out, /Error: Agent answered 400: .*primary/i);
  });

  it("SIGTERM: the agent leaves gracefully and exits 0; monitor and the other agent see it left", async () => {
    const [cm, am] = command("bun", CLI, ["monitor", "--rpc-addr", rpcA, "--log-level", "info"]);
    const monitor = new Proc("monitor (bun)", cm, am);
    try {
      // The stream is open once the agent has answered; give it the event.
      await eventually("monitor to connect", () => monitor.child.pid !== undefined);
      await new Promise((r) => setTimeout(r, 1500));
      assert.equal(await b.stop("SIGTERM"), 0, `agent-b exit code; output:\n${b.out}`);
      assert.match(b.out, /Caught SIGTERM: leaving/);
      assert.match(b.out, /"message":"Agent stopped"/);
      await monitor.waitFor(/\[EVENT\] leave: agent-b 127\.0\.0\.1:\d+ left/);
      const { members } = JSON.parse(await cli("node", "members", "--json", "--rpc-addr", rpcA)) as { members: MemberOut[] };
      assert.deepEqual(members.map((m) => [m.name, m.state]), [["agent-a", "alive"], ["agent-b", "left"]]);
      assert.match(a.out, /EventMemberLeave: agent-b/);
    } finally {
      await monitor.stop("SIGTERM");
    }
  });

  it("leave: the agent leaves and stops; a command for a stopped agent says how to reach one", async () => {
    assert.match(await cli("deno", "leave", "--rpc-addr", rpcA), /Graceful leave complete/);
    assert.equal(await a.exited, 0);
    const [cmd, argv] = command("node", CLI, ["members", "--rpc-addr", rpcA]);
    const r = await run(cmd, argv);
    assert.equal(r.code, 1);
    assert.match(r.out, /Cannot reach the agent at http:\/\/127\.0\.0\.1:\d+.*is "memberlist agent" running/);
  });

  it("refuses a non-loopback RPC address, unknown flags and commands, with the fix in the message", async () => {
    const [cmd, argv] = command("node", CLI, ["agent", "--rpc-addr", "0.0.0.0:7373", "--bind", "127.0.0.1:0"]);
    const r = await run(cmd, argv);
    assert.equal(r.code, 1);
    assert.match(r.out, /Invalid option "rpcAddr": expected a loopback address .*use "httpAddr"/);
    const [c2, a2] = command("node", CLI, ["members", "--colour", "red"]);
    const r2 = await run(c2, a2);
    assert.equal(r2.code, 2);
    assert.match(r2.out, /Unknown flag "--colour"/);
    const [c3, a3] = command("node", CLI, ["memebrs"]);
    assert.equal((await run(c3, a3)).code, 2);
  });
});
