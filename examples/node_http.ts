// The HTTP API and status page in a node:http server (runs on Deno and Bun too), leaving gracefully
// on SIGTERM/SIGINT.
//   node examples/node_http.js (compiled) | bun examples/node_http.ts | deno run -A examples/node_http.ts
import { createServer } from "node:http";
import { Memberlist, PrometheusMetrics } from "@gossip/memberlist";
import { leaveOnSignals, toNodeListener } from "@gossip/memberlist/agent";
import { createHandler } from "@gossip/memberlist/http";

const env = process.env;
const ml = await Memberlist.create({
  name: env.NODE_NAME ?? "web-1",
  bindAddr: "127.0.0.1",
  bindPort: Number(env.GOSSIP_PORT ?? 7946),
  metrics: new PrometheusMetrics(),
});
if (env.JOIN) await ml.join(env.JOIN.split(","));

const cluster = toNodeListener(createHandler(ml, { basePath: "/cluster" }));
const server = createServer((req, res) => {
  if (req.url?.startsWith("/cluster")) return cluster(req, res);
  res.end(`hello from ${ml.localNode().name}\n`);
});
server.listen(Number(env.PORT ?? 8000), "127.0.0.1", () => {
  const { port } = server.address() as { port: number };
  console.log(`listening on http://127.0.0.1:${port}/cluster/`);
});

leaveOnSignals(ml, {
  beforeShutdown: () => new Promise<void>((resolve) => (server.close(() => resolve()), server.closeAllConnections())),
});
