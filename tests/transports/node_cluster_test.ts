// Copyright (c) memberlist-ts authors. SPDX-License-Identifier: MPL-2.0
// Memberlist clusters on real sockets with the node:dgram/node:net backend (on Deno,
// Bun and Node alike), and the default transport that the package entry point installs.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { defaultLocalConfig, Memberlist } from "../../mod.ts";
import { createNetTransport } from "../../transports/node/mod.ts";
import { clusterOverSockets, FAST_LOCAL } from "./_cluster_over_sockets.ts";
import { waitFor } from "./_compliance.ts";

clusterOverSockets("Memberlist over the Node backend", createNetTransport);

describe("The default transport (mod.ts)", () => {
  it("Memberlist.create() without a transport binds UDP and TCP, and port 0 is the advertised port", async () => {
    const base = { ...defaultLocalConfig(), ...FAST_LOCAL, bindAddr: "127.0.0.1", bindPort: 0 };
    const a = await Memberlist.create({ ...base, name: "a" });
    // With bindPort 0, Go advertises the chosen port even when an advertise address is given.
    const b = await Memberlist.create({ ...base, name: "b", advertiseAddr: "127.0.0.1", advertisePort: 1 });
    try {
      assert.match(a.localNode().address, /^127\.0\.0\.1:\d+$/);
      assert.notEqual(b.localNode().port, 1);
      assert.equal(await b.join([a.localNode().address]), 1);
      await waitFor(() => a.numMembers() === 2 && b.numMembers() === 2, {
        what: "a and b to see each other",
      });
    } finally {
      await Promise.all([a.shutdown(), b.shutdown()]);
    }
  });
});
