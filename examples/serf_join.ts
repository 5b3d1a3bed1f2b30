// Joining a serf cluster: serf's protocol versions, metadata as serf tags (so `serf members` shows
// ours), serf's tags read back, and a graceful leave.
//   SERF_JOIN=127.0.0.1:7946 [SERF_KEY=<serf keygen output>] bun examples/serf_join.ts
// (serf agent -profile=lan, the default; with -profile=local use defaultLocalConfig())
import { decodeTags, defaultLANConfig, defaultLocalConfig, encodeTags, Memberlist } from "@gossip/memberlist";

const env = process.env;
const ml = await Memberlist.create({
  ...(env.SERF_PROFILE === "local" ? defaultLocalConfig() : defaultLANConfig()),
  name: env.NODE_NAME ?? "ts-node",
  bindAddr: "127.0.0.1",
  bindPort: Number(env.GOSSIP_PORT ?? 0),
  // serf's delegate protocol range: serf refuses push/pulls from nodes outside it.
  delegateProtocolMin: 2,
  delegateProtocolMax: 5,
  delegateProtocolVersion: 4,
  delegate: { nodeMeta: () => encodeTags({ role: "ts", runtime: runtime() }) },
  ...(env.SERF_KEY ? { secretKey: Uint8Array.from(atob(env.SERF_KEY), (c) => c.charCodeAt(0)) } : {}),
});

function runtime(): string {
  const versions = process.versions as Record<string, string | undefined>;
  return versions.deno !== undefined ? "deno" : versions.bun !== undefined ? "bun" : "node";
}

await ml.join((env.SERF_JOIN ?? "127.0.0.1:7946").split(","));
for (const n of ml.members()) {
  const tags = decodeTags(n.meta) ?? {};
  console.log(`${n.name}  ${n.address}  ${Object.entries(tags).map(([k, v]) => `${k}=${v}`).join(",")}`);
}

// serf shows a node that left without serf's own leave intent as "failed"; `serf force-leave` then
// lists it as left (docs/interop.md).
await new Promise((r) => setTimeout(r, Number(env.STAY_MS ?? 0)));
await ml.leave(5000);
await ml.shutdown();
