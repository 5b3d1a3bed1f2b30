// The HTTP API and status page in your own Deno.serve, next to your routes, leaving gracefully on
// SIGTERM/SIGINT.
//   deno run -A examples/deno_serve.ts            then open http://127.0.0.1:8000/cluster/
//   PORT=8001 GOSSIP_PORT=7947 JOIN=127.0.0.1:7946 NODE_NAME=web-2 deno run -A examples/deno_serve.ts
import { Memberlist, PrometheusMetrics } from "@gossip/memberlist";
import { leaveOnSignals } from "@gossip/memberlist/agent";
import { createHandler } from "@gossip/memberlist/http";

const env = (name: string, fallback: string) => Deno.env.get(name) ?? fallback;

const ml = await Memberlist.create({
  name: env("NODE_NAME", "web-1"),
  bindAddr: "127.0.0.1",
  bindPort: Number(env("GOSSIP_PORT", "7946")),
  metrics: new PrometheusMetrics(), // served at /cluster/metrics
});
if (Deno.env.get("JOIN")) await ml.join(env("JOIN", "").split(","));

const cluster = createHandler(ml, { basePath: "/cluster" });
const server = Deno.serve({ hostname: "127.0.0.1", port: Number(env("PORT", "8000")) }, (req) => {
  if (new URL(req.url).pathname.startsWith("/cluster")) return cluster(req);
  return new Response(`hello from ${ml.localNode().name}\n`);
});

// SIGTERM/SIGINT: leave (the others see "left"), stop the server, shut down, exit 0.
leaveOnSignals(ml, { beforeShutdown: () => server.shutdown() });
