// Copyright (c) memberlist-ts authors. SPDX-License-Identifier: MPL-2.0
/**
 * Running memberlist as a service: the agent behind the `memberlist`
 * command, graceful leave on SIGTERM and SIGINT on every runtime, and serving
 * the HTTP API (`@gossip/memberlist/http`) on the runtime's own HTTP server or
 * in a Node server.
 *
 * ```sh
 * npx -p @gossip/memberlist memberlist agent --node web-1 --tag role=web --join 10.0.0.2:7946
 * deno run -A jsr:@gossip/memberlist/cli agent --node web-1
 * memberlist members        # from another shell: the agent's view of the cluster
 * ```
 *
 * @example Graceful leave in your own server (any runtime)
 * ```ts ignore
 * import { Memberlist } from "@gossip/memberlist";
 * import { leaveOnSignals } from "@gossip/memberlist/agent";
 *
 * const ml = await Memberlist.create({ name: "web-1" });
 * leaveOnSignals(ml); // SIGTERM/SIGINT: leave (peers see "left"), shut down, exit 0
 * ```
 *
 * @module
 */
export { type Agent, type AgentOptions, type LogLevel, startAgent } from "./agent.ts";
export { type FetchHandler, type HttpServer, serve, type ServeOptions, toNodeListener } from "./serve.ts";
export { leaveOnSignals, type LeaveOnSignalsOptions, type StopSignal } from "./signals.ts";
