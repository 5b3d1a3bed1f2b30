// Property tests (fast-check): random messages round-trip through encode and
// decode, and through every framing combination of packets and streams.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { concat, Reader, Writer } from "../lib/_bytes.ts";
import { lzwCompress, lzwDecompress } from "../lib/_lzw.ts";
import {
  decodeMessage,
  decodePushNodeState,
  decodePushPullBody,
  encodeMessage,
  encodePushNodeState,
  encodePushPull,
  type PushNodeState,
} from "../lib/codec.ts";
import { Keyring } from "../lib/keyring.ts";
import { encodeLabel } from "../lib/label.ts";
import { makeCompoundMessage, openPacket, sealPacket, unpackMessages, type WireOptions } from "../lib/packet.ts";
import { type ByteSource, encodeStreamMessage, readPushPull, readStreamLabel, readStreamMessage, StreamReader, streamLabelHeader } from "../lib/stream.ts";

const RUNS = 300;
// Plain objects, as the decoders build them (deepStrictEqual compares prototypes).
const NO_NULL_PROTO = { noNullPrototype: true } as const;

const u32 = fc.integer({ min: 0, max: 0xffffffff });
const u16 = fc.integer({ min: 0, max: 0xffff });
const name = fc.oneof(fc.string({ maxLength: 40 }), fc.string({ unit: "grapheme", maxLength: 10 }), fc.constant("x".repeat(70)));
const addr = fc.oneof(fc.uint8Array({ minLength: 4, maxLength: 4 }), fc.uint8Array({ minLength: 16, maxLength: 16 }));
const bytesOrNull = fc.option(fc.uint8Array({ maxLength: 600 }), { nil: null });
const vsn = fc.uint8Array({ minLength: 6, maxLength: 6 });

const ping = fc.record({ seqNo: u32, node: name, sourceAddr: fc.option(addr, { nil: null }), sourcePort: u16, sourceNode: name }, NO_NULL_PROTO);
const indirect = fc.record({ seqNo: u32, target: addr, port: u16, node: name, nack: fc.boolean(), sourceAddr: fc.option(addr, { nil: null }), sourcePort: u16, sourceNode: name }, NO_NULL_PROTO);
const ack = fc.record({ seqNo: u32, payload: bytesOrNull }, NO_NULL_PROTO);
const suspect = fc.record({ incarnation: u32, node: name, from: name }, NO_NULL_PROTO);
const alive = fc.record({ incarnation: u32, node: name, addr, port: u16, meta: bytesOrNull, vsn }, NO_NULL_PROTO);
const nodeState: fc.Arbitrary<PushNodeState> = fc.record({ name, addr, port: u16, meta: bytesOrNull, incarnation: u32, state: fc.integer({ min: 0, max: 3 }), vsn }, NO_NULL_PROTO);

/** Any single-struct message as [type, body]. */
const message = fc.oneof(
  ping.map((b) => [0, b] as const),
  indirect.map((b) => [1, b] as const),
  ack.map((b) => [2, b] as const),
  suspect.map((b) => [3, b] as const),
  alive.map((b) => [4, b] as const),
  suspect.map((b) => [5, b] as const),
  u32.map((seqNo) => [11, { seqNo }] as const),
  fc.string().map((error) => [13, { error }] as const),
);

/** An empty sourceAddr encodes like null (Go's omitempty); normalise before comparing. */
function expected(type: number, body: object): object {
  if ((type === 0 || type === 1) && "sourceAddr" in body && (body.sourceAddr as Uint8Array | null)?.length === 0) {
    return { ...body, sourceAddr: null };
  }
  return body;
}

const options: fc.Arbitrary<WireOptions> = fc.record({
  label: fc.oneof(fc.constant(""), fc.string({ minLength: 1, maxLength: 20 })).map(encodeLabel),
  skipInboundLabelCheck: fc.constant(false),
  keyring: fc.option(fc.array(fc.constantFrom(16, 24, 32), { minLength: 1, maxLength: 3 }).map((sizes) =>
    Keyring.create(sizes.map((n, i) => new Uint8Array(n).fill(i + 1)))
  ), { nil: null }),
  encryptionVersion: fc.constantFrom(0 as const, 1 as const),
  gossipVerifyIncoming: fc.constant(true),
  gossipVerifyOutgoing: fc.constant(true),
  enableCompression: fc.boolean(),
}, NO_NULL_PROTO);

describe("codec properties", () => {
  it("every single-struct message round-trips through encodeMessage() and decodeMessage()", () => {
    fc.assert(fc.property(message, ([type, body]) => {
      const decoded = decodeMessage(encodeMessage(type, body as never));
      assert.equal(decoded.type, type);
      assert.deepEqual(decoded.body, expected(type, body));
    }), { numRuns: RUNS * 3 });
  });

  it("push/pull messages round-trip through encodePushPull() and decodePushPullBody()", () => {
    fc.assert(fc.property(fc.array(nodeState, { maxLength: 30 }), fc.boolean(), fc.uint8Array({ maxLength: 300 }), (nodes, join, userState) => {
      const buf = encodePushPull({ join, nodes, userState });
      assert.deepEqual(decodePushPullBody(new Reader(buf, 1)), { join, nodes, userState });
    }), { numRuns: RUNS });
  });

  it("node records decode from any byte offset of a larger buffer", () => {
    fc.assert(fc.property(nodeState, fc.uint8Array({ maxLength: 20 }), (node, prefix) => {
      const w = new Writer(1);
      w.bytes(prefix);
      encodePushNodeState(w, node);
      assert.deepEqual(decodePushNodeState(new Reader(w.finish(), prefix.length)), node);
    }), { numRuns: RUNS });
  });

  it("LZW round-trips any input", () => {
    fc.assert(fc.property(fc.oneof(fc.uint8Array({ maxLength: 9000 }), fc.array(fc.constantFrom(0, 1, 2, 97), { maxLength: 20000 }).map((a) => new Uint8Array(a))), (input) => {
      assert.deepEqual(lzwDecompress(lzwCompress(input), input.length), input);
    }), { numRuns: RUNS });
  });
});

describe("framing properties", () => {
  it("a batch of messages survives every packet framing: compound, compression, CRC, encryption, label", () => {
    fc.assert(fc.property(fc.array(message, { minLength: 1, maxLength: 20 }), options, fc.boolean(), (msgs, opts, crc) => {
      const encoded = msgs.map(([type, body]) => encodeMessage(type, body as never));
      const packet = encoded.length === 1 ? encoded[0]! : makeCompoundMessage(encoded);
      const { messages, drops } = unpackMessages(openPacket(sealPacket(packet, opts, crc), opts));
      assert.deepEqual(drops, []);
      assert.deepEqual(messages, encoded);
    }), { numRuns: RUNS });
  });

  it("a push/pull survives every stream framing, read in chunks of any size", async () => {
    await fc.assert(fc.asyncProperty(
      fc.array(nodeState, { maxLength: 20 }),
      fc.uint8Array({ maxLength: 200 }),
      options,
      fc.integer({ min: 1, max: 200 }),
      async (nodes, userState, opts, chunk) => {
        const wire = concat([streamLabelHeader(opts.label), encodeStreamMessage(encodePushPull({ join: true, nodes, userState }), opts, opts.label)]);
        let pos = 0;
        const source: ByteSource = {
          read: () => Promise.resolve(pos >= wire.length ? null : wire.slice(pos, (pos += chunk))),
        };
        const sr = new StreamReader(source);
        const msg = await readStreamMessage(sr, opts, await readStreamLabel(sr, opts));
        assert.equal(msg?.type, 6);
        assert.deepEqual(await readPushPull(msg!.body), { join: true, nodes, userState });
      },
    ), { numRuns: RUNS / 3 });
  });
});
