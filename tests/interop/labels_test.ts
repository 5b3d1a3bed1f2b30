// Copyright (c) memberlist-ts authors. SPDX-License-Identifier: MPL-2.0

// Cluster labels (spec §2.2, §3.2) between TS nodes over real UDP/TCP sockets on 127.0.0.1. Labels are newer
// than memberlist 0.2.2 (they came in 0.3.0), so there is no Go peer for them here: the Go side is covered by
// the spec's vectors (tests/packet_test.ts, tests/stream_test.ts, tests/security_test.ts), and this file
// checks that a running labelled node puts exactly that framing on the wire.
//
// - Two clusters with different labels on one network never merge: joins across fail with JoinError, and
//   their packets and streams (user messages, probes of a reused address) are dropped and logged.
// - The same label joins, probes and delivers user messages, with and without encryption (the label is
//   authenticated as additional data).
// - skipInboundLabelCheck takes unlabelled input as labelled and refuses labelled input. It is one-way: the
//   node still labels what it sends, which unlabelled nodes refuse (Go's intent: a transport that checks and
//   strips the label itself).
// - Bytes captured from a labelled, encrypted node's sockets: the `f4 03 "lbl"` header, the encryption
//   envelope, decryption with the label as additional data (node:crypto and our stack), and a responder's
//   stream reply without a label header.

import { afterEach, describe, it } from "node:test";
import assert from "node:assert/strict";
import { createDecipheriv, type DecipherGCM } from "node:crypto";
import * as dgram from "node:dgram";
import * as net from "node:net";
import { concat, fromHex, toHex } from "../../lib/_bytes.ts";
import { decodeAckResp, encodeMessage, MessageType } from "../../lib/codec.ts";
import { memberlistState } from "../../lib/memberlist.ts";
import { openPacket, unpackMessages, type WireOptions } from "../../lib/packet.ts";
import {
  encodeStreamMessage,
  readPushPull,
  readStreamLabel,
  readStreamMessage,
  streamLabelHeader,
  StreamReader,
} from "../../lib/stream.ts";
import {
  type Config,
  defaultLocalConfig,
  JoinError,
  Keyring,
  Memberlist,
  type Node,
  NodeState,
} from "../../mod.ts";
import { encodeLabel } from "../../wire.ts";
import { RecordingLogger } from "../_helpers.ts";

/** The local profile sped up for loopback, as in tests/transports/_cluster_over_sockets.ts. */
const FAST: Partial<Config> = {
  probeInterval: 200,
  probeTimeout: 100,
  gossipInterval: 50,
  suspicionMult: 2,
  suspicionMaxTimeoutMult: 2,
  tcpTimeout: 500,
  pushPullInterval: 2000,
};

/** The spec's AES-128 key (§6.2). */
const SPEC_KEY = fromHex("000102030405060708090a0b0c0d0e0f");
const OTHER_KEY = new Uint8Array(32).fill(0x42);
const utf8 = new TextEncoder();
const text = new TextDecoder();

async function eventually(
  check: () => boolean,
  options: { timeout?: number; what: string; detail?: () => string },
): Promise<void> {
  const timeout = options.timeout ?? 8000;
  const start = Date.now();
  while (!check()) {
    if (Date.now() - start > timeout) {
      const detail = options.detail === undefined ? "" : `\n${options.detail()}`;
      throw new Error(`Timed out after ${timeout} ms waiting for ${options.what}${detail}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

interface TsNode {
  ml: Memberlist;
  logger: RecordingLogger;
  got: string[];
  name: string;
}

/** True when `logger` has a warning `Dropped <what>` about a label, from `from` when given. */
function droppedLabel(
  logger: RecordingLogger,
  what: "packet" | "stream",
  label: RegExp,
  from?: string,
): boolean {
  return logger.lines.some((l) =>
    l.level === "warn" && l.message.startsWith(`Dropped ${what}:`) && label.test(l.message) &&
    (from === undefined || l.fields?.["from"] === from)
  );
}

function names(n: TsNode): string[] {
  return n.ml.members().map((m) => m.name).sort();
}

/** Every name in `n`'s node table, in any state. */
function known(n: TsNode): string[] {
  return [...memberlistState(n.ml).nodeMap.keys()].sort();
}

describe("labels over real sockets (TS to TS)", () => {
  const running: Memberlist[] = [];
  const closers: (() => Promise<void>)[] = [];

  afterEach(async () => {
    await Promise.all(running.splice(0).map((ml) => ml.shutdown()));
    await Promise.all(closers.splice(0).map((close) => close()));
  });

  async function start(name: string, overrides: Partial<Config> = {}): Promise<TsNode> {
    const logger = new RecordingLogger();
    const got: string[] = [];
    const ml = await Memberlist.create({
      ...defaultLocalConfig(),
      ...FAST,
      name,
      bindAddr: "127.0.0.1",
      bindPort: 0,
      logger,
      delegate: { notifyMsg: (msg: Uint8Array) => void got.push(text.decode(msg)) },
      ...overrides,
    });
    running.push(ml);
    return { ml, logger, got, name };
  }

  /** Starts a node on `port`, polling while the port is still held (a node that just shut down). */
  async function startOnPort(name: string, port: number, overrides: Partial<Config>): Promise<TsNode> {
    const deadline = Date.now() + 5000;
    for (;;) {
      try {
        return await start(name, { ...overrides, bindPort: port });
      } catch (err) {
        if (Date.now() > deadline) throw err;
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    }
  }

  async function converge(nodes: readonly TsNode[], what: string): Promise<void> {
    const all = nodes.map((n) => n.name).sort().join();
    await eventually(() => nodes.every((n) => names(n).join() === all), {
      what,
      detail: () => nodes.map((n) => `${n.name}: ${names(n)}`).join("\n"),
    });
  }

  it(
    "clusters with different labels never merge: joins fail, their packets and streams are dropped and logged",
    {
      timeout: 60_000,
    },
    async () => {
      const a1 = await start("a1", { label: "alpha" });
      const a2 = await start("a2", { label: "alpha" });
      const b1 = await start("b1", { label: "beta" });
      const b2 = await start("b2", { label: "beta" });
      assert.equal(await a2.ml.join([a1.ml.localNode().address]), 1);
      assert.equal(await b2.ml.join([b1.ml.localNode().address]), 1);
      await converge([a1, a2], "alpha to converge");
      await converge([b1, b2], "beta to converge");

      // Joins across labels: the responder drops the labelled stream unread and closes it.
      await assert.rejects(b1.ml.join([a1.ml.localNode().address]), JoinError);
      await assert.rejects(a2.ml.join([b2.ml.localNode().address]), JoinError);
      assert.ok(droppedLabel(a1.logger, "stream", /label "beta" does not match "alpha"/));
      assert.ok(droppedLabel(b2.logger, "stream", /label "alpha" does not match "beta"/));

      // User messages across labels, best effort (UDP) and reliable (TCP): dropped and logged, never delivered.
      const a1Address = a1.ml.localNode().address;
      await a1.ml.sendToAddress({ addr: b1.ml.localNode().address, name: "b1" }, utf8.encode("over udp"));
      // The write may fail or not, depending on when b1 closes the connection; either way nothing arrives.
      await a1.ml.sendReliable(b1.ml.localNode(), utf8.encode("over tcp")).catch(() => {});
      await eventually(
        () =>
          droppedLabel(b1.logger, "packet", /label "alpha" does not match "beta"/, a1Address) &&
          droppedLabel(b1.logger, "stream", /label "alpha" does not match "beta"/),
        { what: "b1 to log both dropped user messages" },
      );
      assert.deepEqual(b1.got, []);

      // An address reused across clusters: a2 dies and a beta node takes its port. a1 still probes that address;
      // b3 drops those probes, and a1 declares a2 dead instead of meeting b3.
      const port = a2.ml.localNode().port;
      await a2.ml.shutdown();
      const b3 = await startOnPort("b3", port, { label: "beta" });
      assert.equal(b3.ml.localNode().address, `127.0.0.1:${port}`);
      assert.equal(await b3.ml.join([b1.ml.localNode().address]), 1);
      await eventually(
        () =>
          memberlistState(a1.ml).nodeMap.get("a2")?.state === NodeState.Dead &&
          droppedLabel(b3.logger, "packet", /label "alpha" does not match "beta"/, a1Address),
        { what: "a1 to declare a2 dead while b3 drops a1's probes" },
      );
      await converge([b1, b2, b3], "beta to take in b3");
      assert.deepEqual(known(a1), ["a1", "a2"]);
      assert.deepEqual(names(a1), ["a1"]);
      for (const b of [b1, b2, b3]) assert.deepEqual(known(b), ["b1", "b2", "b3"], b.name);
    },
  );

  for (const secretKey of [null, SPEC_KEY]) {
    const how = secretKey === null ? "" : ", encrypted (the label authenticated as additional data)";
    it(
      `nodes with the same label join, ping and exchange user messages${how}`,
      { timeout: 60_000 },
      async () => {
        const p1 = await start("p1", { label: "prod", secretKey });
        const p2 = await start("p2", { label: "prod", secretKey });
        assert.equal(await p2.ml.join([p1.ml.localNode().address]), 1);
        const p3 = await start("p3", { label: "prod", secretKey });
        assert.equal(await p3.ml.join([p2.ml.localNode().address]), 1);
        await converge([p1, p2, p3], "p1, p2 and p3 to converge");

        assert.equal(typeof await p1.ml.ping("p2", p2.ml.localNode().address), "number");
        const p2Node = p1.ml.members().find((m: Node) => m.name === "p2")!;
        await p1.ml.sendBestEffort(p2Node, utf8.encode("over udp"));
        await p1.ml.sendReliable(p2Node, utf8.encode("over tcp"));
        await eventually(() => p2.got.length === 2, { what: "both user messages at p2" });
        assert.deepEqual(p2.got.sort(), ["over tcp", "over udp"]);

        // Unlabelled, or labelled with another key: refused.
        const unlabelled = await start("unlabelled", { secretKey });
        await assert.rejects(unlabelled.ml.join([p1.ml.localNode().address]), JoinError);
        if (secretKey !== null) {
          const otherKey = await start("other-key", { label: "prod", secretKey: OTHER_KEY });
          await assert.rejects(otherKey.ml.join([p1.ml.localNode().address]), JoinError);
        }
        for (const p of [p1, p2, p3]) {
          assert.deepEqual(names(p), ["p1", "p2", "p3"]);
        }
      },
    );
  }

  it(
    "skipInboundLabelCheck lets an unlabelled node join a labelled one, one way; a labelled joiner is refused",
    {
      timeout: 60_000,
    },
    async () => {
      const seed = await start("seed", { label: "blah", skipInboundLabelCheck: true });
      const unlabelled = await start("unlabelled");
      assert.equal(await unlabelled.ml.join([seed.ml.localNode().address]), 1);
      await eventually(() => names(seed).join() === "seed,unlabelled" && names(unlabelled).includes("seed"), {
        what: "the seed to take in the unlabelled node",
      });

      // The seed still labels its own output, which the unlabelled node refuses: this is no two-way rollout
      // switch (Go's intent: a transport that checks and strips the label itself).
      const seedAddress = seed.ml.localNode().address;
      await eventually(
        () => droppedLabel(unlabelled.logger, "packet", /label "blah" does not match ""/, seedAddress),
        {
          what: "the unlabelled node to drop the seed's labelled probes",
        },
      );

      // Labelled input is refused ("unexpected double label" in Go).
      const labelled = await start("labelled", { label: "blah" });
      await assert.rejects(labelled.ml.join([seedAddress]), JoinError);
      assert.ok(droppedLabel(seed.logger, "stream", /unexpected label "blah"/));
      assert.ok(!known(seed).includes("labelled"));
    },
  );

  it(
    "a labelled encrypted node's packets and streams carry f4 03 'lbl' and decrypt with the label as additional data",
    {
      timeout: 60_000,
    },
    async () => {
      const label = "lbl";
      const ts = await start("ts-lbl", { label, secretKey: SPEC_KEY });
      const wire: WireOptions = {
        label: encodeLabel(label),
        skipInboundLabelCheck: false,
        keyring: Keyring.create([SPEC_KEY]),
        encryptionVersion: 1,
        gossipVerifyIncoming: true,
        gossipVerifyOutgoing: true,
        enableCompression: true,
      };
      const sniffer = await listenBoth();
      closers.push(() => sniffer.close());

      // A packet: a user message sent to the sniffer's address.
      await ts.ml.sendToAddress({ addr: sniffer.address, name: "sniffer" }, utf8.encode("hello"));
      const datagram = await sniffer.nextDatagram(5000);
      assert.equal(toHex(datagram.subarray(0, 5)), "f4036c626c", "the label header of §6.2");
      assert.equal(datagram[5], 1, "encryption version 1");
      const plain = gcmOpen(SPEC_KEY, datagram.subarray(5), utf8.encode(label));
      assert.equal(datagram.length, 5 + 1 + 12 + plain.length + 16);
      // A user message to an unknown node: no piggyback, no CRC, too small to compress.
      assert.equal(toHex(plain), "08" + toHex(utf8.encode("hello")));
      assert.deepEqual(openPacket(datagram, wire), plain);
      assert.throws(
        () => gcmOpen(SPEC_KEY, datagram.subarray(5), new Uint8Array()),
        "the label is authenticated",
      );
      const { messages } = unpackMessages(openPacket(datagram, wire));
      assert.deepEqual(messages.map(toHex), [toHex(plain)]);

      // A stream: a join's push/pull dialled to the sniffer, which reads it and hangs up.
      const joinFails = assert.rejects(ts.ml.join([sniffer.address]), JoinError);
      const stream = await sniffer.nextStream(5000);
      await joinFails;
      assert.equal(toHex(stream.subarray(0, 5)), "f4036c626c", "the dialer writes the label header first");
      assert.equal(stream[5], MessageType.Encrypt);
      const length = new DataView(stream.buffer, stream.byteOffset).getUint32(6);
      assert.equal(stream.length, 10 + length);
      const aad = concat([stream.subarray(5, 10), utf8.encode(label)]);
      const pushPull = gcmOpen(SPEC_KEY, stream.subarray(10), aad);
      assert.equal(pushPull[0], MessageType.Compress, "streams are always compressed when compression is on");
      assert.throws(
        () => gcmOpen(SPEC_KEY, stream.subarray(10), stream.subarray(5, 10)),
        "the label is in the AAD",
      );
      // Our stack reads both the captured bytes and the decrypted message.
      for (
        const [bytes, opts] of [[stream, wire], [pushPull, {
          ...wire,
          keyring: null,
          label: new Uint8Array(),
        }]] as const
      ) {
        const sr = new StreamReader(bytes);
        const streamLabel = opts.keyring === null ? opts.label : await readStreamLabel(sr, opts);
        const msg = (await readStreamMessage(sr, opts, streamLabel))!;
        assert.equal(msg.type, MessageType.PushPull);
        const state = await readPushPull(msg.body);
        assert.equal(state.join, true);
        assert.deepEqual(state.nodes.map((n) => n.name), ["ts-lbl"]);
      }

      // A responder's reply: the sniffer sends a labelled, encrypted TCP ping; the ack comes back without a
      // label header, authenticated with the 5 header bytes and the stream's label.
      const ping = encodeMessage(MessageType.Ping, {
        seqNo: 77,
        node: "ts-lbl",
        sourceAddr: null,
        sourcePort: 0,
        sourceNode: "",
      });
      const request = concat([streamLabelHeader(wire.label), encodeStreamMessage(ping, wire, wire.label)]);
      const reply = await exchange(ts.ml.localNode().port, request, 5000);
      assert.equal(reply[0], MessageType.Encrypt, "no label header on the reply");
      const replyLength = new DataView(reply.buffer, reply.byteOffset).getUint32(1);
      const ack = gcmOpen(
        SPEC_KEY,
        reply.subarray(5, 5 + replyLength),
        concat([reply.subarray(0, 5), wire.label]),
      );
      const ackPlain =
        (await readStreamMessage(new StreamReader(ack), { ...wire, keyring: null }, wire.label))!;
      assert.equal(ackPlain.type, MessageType.AckResp);
      assert.equal(decodeAckResp(await ackPlain.body.readValue()).seqNo, 77);
    },
  );
});

/** Opens an encryption envelope (version 1) with node:crypto alone, independent of lib/security.ts. */
function gcmOpen(key: Uint8Array, envelope: Uint8Array, aad: Uint8Array): Uint8Array {
  assert.equal(envelope[0], 1, "encryption version 1");
  const nonce = envelope.subarray(1, 13);
  const tag = envelope.subarray(envelope.length - 16);
  const decipher = createDecipheriv(`aes-${key.length * 8}-gcm`, key, nonce) as DecipherGCM;
  decipher.setAAD(aad);
  decipher.setAuthTag(tag);
  const out = concat([decipher.update(envelope.subarray(13, envelope.length - 16)), decipher.final()]);
  return new Uint8Array(out);
}

/** A UDP socket and a TCP listener on one loopback port, recording what arrives. */
interface Sniffer {
  address: string;
  nextDatagram(timeoutMs: number): Promise<Uint8Array>;
  /** The bytes of the next accepted connection's first message (label, encrypt header, envelope). */
  nextStream(timeoutMs: number): Promise<Uint8Array>;
  close(): Promise<void>;
}

async function listenBoth(): Promise<Sniffer> {
  for (let attempt = 0;; attempt++) {
    const server = net.createServer();
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen({ port: 0, host: "127.0.0.1", exclusive: true }, () => resolve());
    });
    const port = (server.address() as net.AddressInfo).port;
    const udp = dgram.createSocket("udp4");
    const bound = await new Promise<boolean>((resolve) => {
      udp.once("error", () => resolve(false));
      udp.bind(port, "127.0.0.1", () => resolve(true));
    });
    if (!bound) {
      udp.close();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      if (attempt > 20) throw new Error("Cannot bind UDP and TCP on one loopback port");
      continue;
    }
    const datagrams: Uint8Array[] = [];
    const streams: Uint8Array[] = [];
    const sockets = new Set<net.Socket>();
    udp.on("message", (msg) => datagrams.push(new Uint8Array(msg)));
    server.on("connection", (socket) => {
      sockets.add(socket);
      socket.on("error", () => {});
      socket.on("close", () => sockets.delete(socket));
      let buf: Uint8Array = new Uint8Array(0);
      socket.on("data", (chunk: Uint8Array) => {
        buf = concat([buf, new Uint8Array(chunk)]);
        // label header (2 + label), then 0a + uint32 length + envelope
        if (buf.length < 2 || buf.length < 2 + buf[1]! + 5) return;
        const at = 2 + buf[1]!;
        const need = at + 5 + new DataView(buf.buffer, buf.byteOffset).getUint32(at + 1);
        if (buf.length >= need) {
          streams.push(buf.slice(0, need));
          socket.destroy();
        }
      });
    });
    const take = async (list: Uint8Array[], what: string, timeoutMs: number) => {
      await eventually(() => list.length > 0, { timeout: timeoutMs, what });
      return list.shift()!;
    };
    return {
      address: `127.0.0.1:${port}`,
      nextDatagram: (timeoutMs) => take(datagrams, "a datagram at the sniffer", timeoutMs),
      nextStream: (timeoutMs) => take(streams, "a stream message at the sniffer", timeoutMs),
      close: async () => {
        for (const s of sockets) s.destroy();
        await Promise.all([
          new Promise<void>((resolve) => server.close(() => resolve())),
          new Promise<void>((resolve) => udp.close(() => resolve())),
        ]);
      },
    };
  }
}

/** Dials 127.0.0.1:`port`, writes `request`, and returns everything read until the peer closes. */
function exchange(port: number, request: Uint8Array, timeoutMs: number): Promise<Uint8Array> {
  return new Promise((resolve, reject) => {
    const chunks: Uint8Array[] = [];
    const socket = net.connect({ port, host: "127.0.0.1" }, () => socket.write(request));
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`No reply within ${timeoutMs} ms`));
    }, timeoutMs);
    socket.on("data", (chunk: Uint8Array) => chunks.push(new Uint8Array(chunk)));
    socket.on("error", (err) => {
      clearTimeout(timer);
      reject(err);
    });
    socket.on("close", () => {
      clearTimeout(timer);
      resolve(concat(chunks));
    });
  });
}
