// The same under `deno serve`, whose default export is the handler.
//   deno serve -A --port 8000 examples/deno_serve_default.ts
// `deno serve --parallel` runs this module in every worker, and each would bind the gossip port:
// run it without --parallel (one node per process), as the AddressInUseError explains.
import { Memberlist } from "@gossip/memberlist";
import { leaveOnSignals } from "@gossip/memberlist/agent";
import { createHandler } from "@gossip/memberlist/http";

const ml = await Memberlist.create({
  name: Deno.env.get("NODE_NAME") ?? "web-1",
  bindAddr: "127.0.0.1",
  bindPort: Number(Deno.env.get("GOSSIP_PORT") ?? "7946"),
});
if (Deno.env.get("JOIN")) await ml.join(Deno.env.get("JOIN")!.split(","));

// Without this, `deno serve` waits on SIGTERM for the node's sockets, and is killed: the others see
// a failure. With it, the node leaves, shuts down and the process exits at once.
leaveOnSignals(ml);

export default { fetch: createHandler(ml) } satisfies Deno.ServeDefaultExport;
