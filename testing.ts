// Copyright (c) memberlist-ts authors. SPDX-License-Identifier: MPL-2.0
/**
 * Helpers for testing code built on memberlist deterministically: a virtual
 * clock that moves only when told, a seeded random source, and the hook that
 * changes the transport `Memberlist.create()` binds by default. With the
 * in-memory network of `@gossip/memberlist/transports/mock`, a whole cluster
 * runs without sockets or sleeps and replays exactly from its seed.
 *
 * @example Usage
 * ```ts
 * import { defaultLocalConfig, Memberlist } from "@gossip/memberlist";
 * import { createSeededRandom, VirtualClock } from "@gossip/memberlist/testing";
 * import { MockNetwork } from "@gossip/memberlist/transports/mock";
 * import assert from "node:assert/strict";
 *
 * const clock = new VirtualClock();
 * const net = new MockNetwork({ clock, random: createSeededRandom(1) });
 * const config = { ...defaultLocalConfig(), clock, random: createSeededRandom(2) };
 * const a = await Memberlist.create({ ...config, name: "a", transport: net.newTransport("a") });
 * const b = await Memberlist.create({ ...config, name: "b", transport: net.newTransport("b") });
 * const joined = b.join([a.localNode().address]);
 * await clock.advance(100);
 * assert.equal(await joined, 1);
 *
 * // b dies without a word: a suspects it, then declares it dead, all in virtual time.
 * net.kill(b.localNode().address);
 * await clock.advance(30_000);
 * assert.deepEqual(a.members().map((n) => n.name), ["a"]);
 * await Promise.all([a.shutdown(), b.shutdown()]);
 * ```
 *
 * @module
 */
export { sleep, VirtualClock, type VirtualClockOptions } from "./lib/clock.ts";
export { createSeededRandom } from "./lib/random.ts";
export { setDefaultTransportFactory, type TransportFactory } from "./lib/memberlist.ts";
