// Accounting of refused input: counters per reason and log lines at a bounded rate.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { DropLog, UDP_DROPPED } from "../lib/_drops.ts";
import { VirtualClock } from "../lib/clock.ts";
import { RecordingLogger } from "./_helpers.ts";
import { RecordingMetrics } from "./_protocol.ts";

function setup(labels = [{ name: "cluster", value: "blue" }]) {
  const clock = new VirtualClock();
  const logger = new RecordingLogger();
  const metrics = new RecordingMetrics();
  const drops = new DropLog({ clock, logger, metrics, labels, interval: 1000 });
  return { clock, logger, metrics, drops };
}

describe("DropLog", () => {
  it("drop() counts every refusal under its reason, with the metric labels", () => {
    const { metrics, drops } = setup();
    drops.drop(UDP_DROPPED, "crc", "warn", "Dropped packet: CRC mismatch");
    drops.drop(UDP_DROPPED, "crc", "warn", "Dropped packet: CRC mismatch", {}, 4);
    drops.drop(UDP_DROPPED, "label", "warn", "Dropped packet: label");
    assert.equal(metrics.counter("memberlist.udp.dropped", { cluster: "blue", reason: "crc" }), 5);
    assert.equal(metrics.counter("memberlist.udp.dropped", { cluster: "blue", reason: "label" }), 1);
  });

  it("drop() logs the first refusal of a kind, then one summary per interval while they go on", async () => {
    const { clock, logger, drops } = setup([]);
    for (let i = 0; i < 10_000; i++) drops.drop(UDP_DROPPED, "malformed", "warn", "Dropped packet: bad", { from: "x" });
    drops.drop(UDP_DROPPED, "type", "error", "Message type (200) not supported");
    assert.deepEqual(logger.lines.map((l) => l.message), ["Dropped packet: bad", "Message type (200) not supported"]);
    await clock.advance(1000);
    assert.equal(logger.find("warn", "Suppressed 9999 more log lines of refused input in the last 1 s"), 1);
    // Still going: one more summary after the next interval, none when it stopped.
    drops.drop(UDP_DROPPED, "malformed", "warn", "Dropped packet: bad");
    await clock.advance(1000);
    assert.equal(logger.find("warn", "Suppressed 1 more"), 1);
    await clock.advance(5000);
    assert.equal(logger.lines.length, 4);
    // A quiet interval later, the next refusal is logged in full again.
    drops.drop(UDP_DROPPED, "malformed", "warn", "Dropped packet: bad again");
    assert.equal(logger.find("warn", "Dropped packet: bad again"), 1);
  });

  it("close() stops the timers and reports what was suppressed", async () => {
    const { clock, logger, drops } = setup([]);
    drops.drop(UDP_DROPPED, "crc", "warn", "Dropped packet: CRC");
    drops.drop(UDP_DROPPED, "crc", "warn", "Dropped packet: CRC");
    drops.close();
    assert.equal(logger.find("warn", "Suppressed 1 more"), 1);
    assert.equal(clock.pending, 0);
    drops.drop(UDP_DROPPED, "crc", "warn", "Dropped packet: CRC");
    assert.equal(logger.lines.length, 2);
  });

  it("a throwing logger or metrics sink does not break the caller", () => {
    const clock = new VirtualClock();
    const boom = () => {
      throw new Error("boom");
    };
    const drops = new DropLog({
      clock,
      logger: { debug: boom, info: boom, warn: boom, error: boom },
      metrics: { incrCounter: boom, setGauge: boom, addSample: boom, measureSince: boom },
      labels: [],
    });
    drops.drop(UDP_DROPPED, "crc", "warn", "x");
    drops.close();
  });
});
