// Copyright (c) memberlist-ts authors. SPDX-License-Identifier: MPL-2.0
/**
 * Leaving gracefully when the process is told to stop (SIGTERM from a
 * service manager or `docker stop`, SIGINT from Ctrl-C), the same way on
 * Deno, Bun and Node, `deno serve` included.
 *
 * @module
 */

import type { Memberlist } from "../lib/memberlist.ts";
import { detectRuntime } from "../lib/_runtime.ts";

/** The signals {@linkcode leaveOnSignals} handles. */
export type StopSignal = "SIGTERM" | "SIGINT";

/** Options of {@linkcode leaveOnSignals}. */
export interface LeaveOnSignalsOptions {
  /** The signals to handle. @default {["SIGTERM", "SIGINT"]} */
  signals?: readonly StopSignal[];
  /** Longest wait for the leave to be gossiped, in ms. @default {5000} */
  timeout?: number;
  /**
   * Runs after the leave and before the shutdown (closing your HTTP server,
   * flushing logs). Its errors are reported, not thrown.
   */
  beforeShutdown?: (signal: StopSignal) => void | Promise<void>;
  /**
   * Exits the process once the node has shut down: with 0 after a graceful
   * leave, 1 when the leave failed. A second signal while leaving exits at once
   * (130 for SIGINT, 143 for SIGTERM). Set false to keep the process, for
   * example when something else owns its exit.
   *
   * @default {true}
   */
  exit?: boolean;
  /** Reports progress and failures. @default {console.error} */
  log?: (message: string) => void;
}

interface DenoSignals {
  addSignalListener(signal: StopSignal, handler: () => void): void;
  removeSignalListener(signal: StopSignal, handler: () => void): void;
  exit(code: number): never;
}
interface NodeProcess {
  on(signal: StopSignal, handler: () => void): void;
  off(signal: StopSignal, handler: () => void): void;
  exit(code: number): never;
}

/**
 * On SIGTERM or SIGINT: leave the cluster (so the others see `left`, not a
 * failure), run `beforeShutdown`, shut the node down and exit. Works the same
 * on Deno (`Deno.addSignalListener`, also under `deno serve`, whose own
 * SIGTERM handling would otherwise wait for the node's sockets and end in a
 * SIGKILL), Bun and Node (`process.on`).
 *
 * @param ml The node, or several.
 * @param options Signals, leave timeout, a hook, whether to exit.
 * @returns Removes the handlers.
 *
 * @example Usage
 * ```ts
 * import { defaultLocalConfig, Memberlist } from "@gossip/memberlist";
 * import { leaveOnSignals } from "@gossip/memberlist/agent";
 * import { MockNetwork } from "@gossip/memberlist/transports/mock";
 *
 * const ml = await Memberlist.create({ ...defaultLocalConfig(), name: "a", transport: new MockNetwork().newTransport("a") });
 * const stop = leaveOnSignals(ml, { timeout: 5000 });
 * // ... serve requests; `kill -TERM <pid>` now leaves gracefully and exits 0.
 * stop();
 * await ml.shutdown();
 * ```
 */
export function leaveOnSignals(
  ml: Memberlist | readonly Memberlist[],
  options: LeaveOnSignalsOptions = {},
): () => void {
  const nodes = Array.isArray(ml) ? [...ml] : [ml as Memberlist];
  const signals = options.signals ?? ["SIGTERM", "SIGINT"];
  const timeout = options.timeout ?? 5000;
  const exitWhenDone = options.exit ?? true;
  const log = options.log ?? ((m: string) => console.error(m));
  const g = globalThis as unknown as { Deno?: DenoSignals; process?: NodeProcess };
  const deno = detectRuntime() === "deno" ? g.Deno : undefined;
  const proc = g.process;
  const exit = (code: number): void => {
    if (!exitWhenDone) return;
    if (deno !== undefined) deno.exit(code);
    else proc?.exit(code);
  };
  let leaving = false;
  return onStopSignals(signals, (signal) => {
    if (leaving) {
      log(`memberlist: ${signal} again: exiting without waiting for the leave`);
      exit(signal === "SIGINT" ? 130 : 143);
      return;
    }
    leaving = true;
    log(`memberlist: ${signal}: leaving the cluster`);
    void (async () => {
      let code = 0;
      // One after the other: nodes leaving at once would each wait for a leave broadcast that no
      // one alive is left to take.
      for (const n of nodes) {
        try {
          await n.leave(timeout);
        } catch (err) {
          code = 1;
          log(`memberlist: leave failed: ${err instanceof Error ? err.message : err}`);
        }
      }
      try {
        await options.beforeShutdown?.(signal);
      } catch (err) {
        log(`memberlist: beforeShutdown failed: ${err instanceof Error ? err.message : err}`);
      }
      await Promise.allSettled(nodes.map((n) => n.shutdown()));
      log(`memberlist: ${code === 0 ? "left gracefully" : "shut down"}`);
      exit(code);
    })();
  });
}

/**
 * Calls `handler` on each of `signals`, through `Deno.addSignalListener` on
 * Deno and `process.on` elsewhere. Internal (the agent uses it).
 *
 * @returns Removes the handlers.
 */
export function onStopSignals(
  signals: readonly StopSignal[],
  handler: (signal: StopSignal) => void,
): () => void {
  const g = globalThis as unknown as { Deno?: DenoSignals; process?: NodeProcess };
  const deno = detectRuntime() === "deno" ? g.Deno : undefined;
  const proc = g.process;
  const handlers = new Map<StopSignal, () => void>();
  for (const signal of signals) {
    const h = () => handler(signal);
    handlers.set(signal, h);
    if (deno !== undefined) deno.addSignalListener(signal, h);
    else proc?.on(signal, h);
  }
  return () => {
    for (const [signal, h] of handlers) {
      if (deno !== undefined) deno.removeSignalListener(signal, h);
      else proc?.off(signal, h);
    }
    handlers.clear();
  };
}

/** Exits the process with `code` (Deno.exit or process.exit). Internal. */
export function exitProcess(code: number): void {
  const g = globalThis as unknown as { Deno?: DenoSignals; process?: NodeProcess };
  if (detectRuntime() === "deno" && g.Deno !== undefined) g.Deno.exit(code);
  else g.process?.exit(code);
}
