// Copyright (c) memberlist-ts authors. SPDX-License-Identifier: MPL-2.0
// The native Bun backend (Bun.udpSocket, Bun.listen; node:net dials) against the transport
// compliance suite and the cluster scenarios, plus the Bun traps it guards against.
// Bun only: under Deno and Node every suite here skips itself, saying so.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { detectRuntime } from "../../lib/_runtime.ts";
import { silentLogger } from "../../lib/logging.ts";
import type { Packet } from "../../lib/transport.ts";
import { createNetTransport } from "../../transports/bun/mod.ts";
import * as bunBackend from "../../transports/bun/mod.ts";
import * as picked from "../../transports/mod.ts";
import { exitsByItselfScript, hasPython, runChild, unacceptingListener } from "./_children.ts";
import { clusterOverSockets } from "./_cluster_over_sockets.ts";
import { transportCompliance, waitFor } from "./_compliance.ts";

const runtime = detectRuntime();
const skip = runtime === "bun" ? false : `the Bun backend runs only on Bun, not on ${runtime}`;

transportCompliance(
  "Bun backend (Bun.udpSocket, Bun.listen; dials through node:net)",
  () => Promise.resolve({ create: createNetTransport }),
  { skip },
);

clusterOverSockets("Memberlist over the Bun backend", createNetTransport, { skip });

describe("Bun backend", { skip }, () => {
  it("exports everything transports/mod.ts exports (npm export conditions map one to the other)", () => {
    const missing = Object.keys(picked).filter((name) => !(name in bunBackend));
    assert.deepEqual(missing, []);
  });

  it("is the backend transports/mod.ts picks on Bun", () => {
    assert.equal(picked.createNetTransport, createNetTransport);
  });

  it("leaves nothing behind after shutdown(), not even a dial that timed out: the process exits by itself", async () => {
    const backend = new URL("../../transports/bun/mod.ts", import.meta.url).href;
    // A listener that never accepts: once one connection waits in its queue, further dials
    // hang until they time out. Bun.connect could not cancel those.
    const blackHole = hasPython ? await unacceptingListener() : null;
    const { code, out } = await runChild(process.execPath, ["child.ts"], exitsByItselfScript(backend, blackHole?.port ?? 0), 20_000)
      .finally(() => blackHole?.close());
    assert.equal(code, 0, `child did not exit cleanly (${code ?? "still running after 20 s"}): ${out}`);
    assert.match(out, /shut down null/);
  });

  it("timers still fire while packet handlers answer every datagram at once (Bun's receive-callback starvation)", async () => {
    const options = { bindAddrs: ["127.0.0.1"], bindPort: 0, logger: silentLogger };
    const a = await createNetTransport(options);
    const b = await createNetTransport(options);
    let running = true;
    let bounced = 0;
    // Each side sends every datagram straight back from inside its packet handler.
    const echo = (self: typeof a) => ({
      packet: (p: Packet) => {
        bounced++;
        if (running) self.writeTo(p.buf, { addr: p.from, name: "" });
      },
      stream: (c: { close(): void }) => c.close(),
    });
    a.setHandlers(echo(a));
    b.setHandlers(echo(b));
    try {
      for (let i = 0; i < 32; i++) a.writeTo(Uint8Array.of(i), { addr: `127.0.0.1:${b.port}`, name: "b" });
      await waitFor(() => bounced > 100, { what: "the ping-pong to start" });
      const start = Date.now();
      await new Promise<void>((resolve) => setTimeout(resolve, 50));
      const late = Date.now() - start - 50;
      assert.ok(late < 500, `a 50 ms timer fired ${late} ms late`);
      assert.ok(bounced > 200, `the ping-pong kept going (${bounced} datagrams)`);
    } finally {
      running = false;
      await Promise.all([a.shutdown(), b.shutdown()]);
    }
  });

  it("when send() returns false (full socket buffer), datagrams wait in order for drain", async () => {
    // Bun.udpSocket wrapped so its sockets report a full buffer until the test says otherwise.
    interface UdpSocketLike {
      port: number;
      send(d: Uint8Array, port: number, host: string): boolean;
      close(): void;
    }
    type UdpSocketFn = (o: { socket: { drain(s: unknown): void } }) => Promise<UdpSocketLike>;
    const bun = (globalThis as unknown as { Bun: { udpSocket: UdpSocketFn } }).Bun;
    const original = bun.udpSocket;
    let full = true;
    let attempts = 0;
    let drain: (() => void) | null = null;
    bun.udpSocket = async (o) => {
      const real = await original.call(bun, o);
      const wrapped: UdpSocketLike = {
        get port() {
          return real.port;
        },
        send(d, port, host) {
          attempts++;
          return full ? false : real.send(d, port, host);
        },
        close: () => real.close(),
      };
      drain = () => o.socket.drain(wrapped);
      return wrapped;
    };
    const options = { bindAddrs: ["127.0.0.1"], bindPort: 0, logger: silentLogger };
    let a;
    try {
      a = await createNetTransport(options);
    } finally {
      bun.udpSocket = original;
    }
    const b = await createNetTransport(options);
    const got: number[] = [];
    b.setHandlers({ packet: (p) => void got.push(p.buf[0]!), stream: (c) => c.close() });
    try {
      for (let i = 1; i <= 5; i++) a.writeTo(Uint8Array.of(i), { addr: `127.0.0.1:${b.port}`, name: "b" });
      assert.equal(attempts, 1, "later datagrams queue behind the refused one without being tried");
      await new Promise<void>((resolve) => setTimeout(resolve, 30));
      assert.deepEqual(got, []);
      full = false;
      drain!();
      await waitFor(() => got.length === 5, { what: "the queued datagrams" });
      assert.deepEqual(got, [1, 2, 3, 4, 5]);
      a.writeTo(Uint8Array.of(6), { addr: `127.0.0.1:${b.port}`, name: "b" });
      await waitFor(() => got.length === 6, { what: "a datagram after the queue emptied" });
    } finally {
      await Promise.all([a.shutdown(), b.shutdown()]);
    }
  });

  it("a burst of datagrams larger than the socket buffer is delivered in order or dropped, never thrown", async () => {
    const options = { bindAddrs: ["127.0.0.1"], bindPort: 0, logger: silentLogger };
    const a = await createNetTransport(options);
    const b = await createNetTransport(options);
    const got: number[] = [];
    b.setHandlers({ packet: (p) => void got.push(p.buf[0]! | (p.buf[1]! << 8)), stream: (c) => c.close() });
    try {
      const n = 2000;
      for (let i = 0; i < n; i++) {
        const d = new Uint8Array(32 * 1024);
        d[0] = i & 0xff;
        d[1] = i >> 8;
        a.writeTo(d, { addr: `127.0.0.1:${b.port}`, name: "b" });
      }
      // The kernel may drop some (they overflow the receiver's buffer): wait until no more come.
      let seen = -1;
      while (got.length !== seen && got.length < n) {
        seen = got.length;
        await new Promise<void>((resolve) => setTimeout(resolve, 100));
      }
      assert.ok(got.length > 0);
      for (let i = 1; i < got.length; i++) assert.ok(got[i]! > got[i - 1]!, "datagrams arrive in order");
    } finally {
      await Promise.all([a.shutdown(), b.shutdown()]);
    }
  });
});
