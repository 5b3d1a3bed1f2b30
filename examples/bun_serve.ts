// The HTTP API and status page in Bun.serve, leaving gracefully on SIGTERM/SIGINT.
//   bun examples/bun_serve.ts            then open http://127.0.0.1:8000/
//   PORT=8001 GOSSIP_PORT=7947 JOIN=127.0.0.1:7946 NODE_NAME=web-2 bun examples/bun_serve.ts
import { Memberlist, PrometheusMetrics } from "@gossip/memberlist";
import { leaveOnSignals } from "@gossip/memberlist/agent";
import { createHandler } from "@gossip/memberlist/http";

const env = process.env;

// `bun --hot` runs this module again on every reload, in the same process: keep the node on
// globalThis and reuse it, or the new one finds its port taken.
const g = globalThis as typeof globalThis & { ml?: Memberlist };
g.ml ??= await Memberlist.create({
  name: env.NODE_NAME ?? "web-1",
  bindAddr: "127.0.0.1",
  bindPort: Number(env.GOSSIP_PORT ?? 7946),
  metrics: new PrometheusMetrics(),
});
const ml = g.ml;
if (env.JOIN) await ml.join(env.JOIN.split(","));

const server = Bun.serve({
  hostname: "127.0.0.1",
  port: Number(env.PORT ?? 8000),
  idleTimeout: 0, // the event stream (/v1/events) stays open
  fetch: createHandler(ml),
});
console.log(`listening on ${server.url}`);

leaveOnSignals(ml, { beforeShutdown: () => server.stop(true) });
