// Copyright (c) memberlist-ts authors. SPDX-License-Identifier: MPL-2.0
// Errors that tell a user what to do: a taken port names the server frameworks that run a
// module twice (`deno serve --parallel`, `bun --hot`) and the fix; on Deno without --allow-sys,
// the missing host name and the unlistable interfaces say so, also when the config spreads a
// profile (`{ ...defaultLANConfig() }`, whose name is then "").
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { defaultLocalConfig, Memberlist } from "../mod.ts";
import { bin, nodeOnly, root, run } from "./_processes.ts";

describe("error hints", () => {
  it("a taken port explains deno serve --parallel and bun --hot, with the fix", async () => {
    const first = await Memberlist.create({ ...defaultLocalConfig(), name: "a", bindAddr: "127.0.0.1", bindPort: 0 });
    try {
      await assert.rejects(
        Memberlist.create({ ...defaultLocalConfig(), name: "b", bindAddr: "127.0.0.1", bindPort: first.localNode().port }),
        (err: Error) => {
          assert.equal(err.name, "AddressInUseError");
          assert.match(err.message, /address in use: another node holds the port/);
          assert.match(err.message, /"deno serve --parallel" runs it in every worker \(start the node in one process only, or run without --parallel\)/);
          assert.match(err.message, /"bun --hot" runs it again on each reload .*globalThis\.ml \?\?= await Memberlist\.create/);
          return true;
        },
      );
    } finally {
      await first.shutdown();
    }
  });

  it("Deno without --allow-sys: the name and advertise-address errors say so", { skip: nodeOnly }, async () => {
    // Under build/ (ignored by git), so that Deno finds the repository's deno.json and node_modules.
    const dir = join(root, "build", "hints");
    mkdirSync(dir, { recursive: true });
    const file = join(dir, "no_allow_sys.ts");
    writeFileSync(file, `
import { defaultLANConfig, Memberlist } from "../../mod.ts";
for (const config of [{ ...defaultLANConfig(), bindPort: 0 }, { bindPort: 0 }, { ...defaultLANConfig(), name: "n", bindPort: 0 }]) {
  try {
    const ml = await Memberlist.create(config);
    await ml.shutdown();
    console.log("created");
  } catch (err) {
    console.log((err as Error).message);
  }
}
`);
    try {
      const r = await run(bin("deno"), ["run", "--allow-net", "--allow-read", file]);
      assert.equal(r.code, 0, r.out);
      const lines = r.out.trim().split("\n").filter((l) => !l.startsWith("Warning"));
      const name = 'Invalid config "name": expected a non-empty string, got "": the host name is unavailable (on Deno, run with --allow-sys): set "name"';
      assert.equal(lines[0], name);
      assert.equal(lines[1], name);
      assert.match(lines[2]!, /^Cannot pick an address to advertise: the network interfaces cannot be listed \(.*--allow-sys.*\): set "advertiseAddr" or bind a specific address$/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
