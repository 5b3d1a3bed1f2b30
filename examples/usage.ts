// The README's Usage: two nodes on loopback, encrypted, with metadata, user messages and events.
//   deno run -A examples/usage.ts  |  bun examples/usage.ts
import { defaultLocalConfig, Memberlist, type Node, nodeStateName } from "@gossip/memberlist";

const key = crypto.getRandomValues(new Uint8Array(32)); // share it with every node: AES-256-GCM
const text = new TextEncoder();
let role = "web";

const config = {
  ...defaultLocalConfig(), // loopback timings; defaultLANConfig() for a real network
  bindAddr: "127.0.0.1",
  bindPort: 0, // 0: any free port (use 7946 in production)
  secretKey: key,
};
await using seed = await Memberlist.create({ ...config, name: "seed" });
await using web = await Memberlist.create({
  ...config,
  name: "web-1",
  delegate: {
    nodeMeta: () => text.encode(`role=${role}`), // gossiped with this node, at most 512 bytes
    notifyMsg: (msg) => console.log("web-1 got:", new TextDecoder().decode(msg)),
  },
});

// Events: a listener, or an async iterator (stops when the signal aborts).
seed.addEventListener("join", (e) => console.log("seed sees join:", e.node.name));
const watching = new AbortController();
const updates = (async () => {
  for await (const e of seed.events({ types: ["update"], signal: watching.signal })) {
    console.log("seed sees update:", e.node.name, new TextDecoder().decode(e.node.meta));
  }
})();

await web.join([seed.localNode().address]); // host:port of any member(s)
console.log(JSON.stringify(seed.members().map((n) => [n.name, nodeStateName(n.state)]))); // [["seed","alive"],["web-1","alive"]]

const target: Node = seed.members().find((n) => n.name === "web-1")!;
await seed.sendReliable(target, text.encode("over TCP")); // a stream, up to 20 MiB
await seed.sendBestEffort(target, text.encode("over UDP")); // one packet, no delivery guarantee

role = "api";
await web.updateNode(); // re-reads nodeMeta() and gossips it

await web.leave(); // the others see it as "left", not failed
await new Promise((r) => setTimeout(r, 300));
console.log(JSON.stringify(seed.members().map((n) => n.name))); // ["seed"]
watching.abort();
await updates;
// `await using` shuts both nodes down here.
