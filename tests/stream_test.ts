// Stream framing: label, encryption with its length header, compression, and
// incremental reading of msgpack values (spec §3), against the spec's vectors.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { concat, fromHex, toHex, Writer } from "../lib/_bytes.ts";
import {
  encodeMessage,
  encodePushPull,
  encodePushPullHeader,
  encodeUserMsgHeader,
  encodeUserStreamMessage,
  type PushNodeState,
} from "../lib/codec.ts";
import { compressPayload, unpackMessages } from "../lib/packet.ts";
import { DecodeError, DecryptError, LabelMismatchError } from "../lib/errors.ts";
import { Keyring } from "../lib/keyring.ts";
import { encodeLabel } from "../lib/label.ts";
import {
  type ByteSource,
  encodeStreamMessage,
  readPushPull,
  readStreamLabel,
  readStreamMessage,
  readUserMsg,
  StreamReader,
  streamLabelHeader,
} from "../lib/stream.ts";
import { decodePing } from "../lib/codec.ts";
import { scanValue, type ValueScan } from "../lib/_msgpack.ts";
import { wireOptions } from "./_wire.ts";

const ping = fromHex("0082a44e6f6465a162a55365714e6f01");
const key16 = fromHex("000102030405060708090a0b0c0d0e0f");

/** A source that hands out `bytes` in chunks of `size` (1 = byte by byte). */
function chunked(bytes: Uint8Array, size: number): ByteSource & { reads: number } {
  let pos = 0;
  return {
    reads: 0,
    read() {
      this.reads++;
      if (pos >= bytes.length) return Promise.resolve(null);
      const chunk = bytes.slice(pos, pos + size);
      pos += size;
      return Promise.resolve(chunk);
    },
  };
}

const node = (i: number): PushNodeState => ({
  name: `node-${i}`,
  addr: new Uint8Array([10, 0, i >> 8, i & 0xff]),
  port: 7946,
  meta: i % 2 ? new Uint8Array([i & 0xff]) : null,
  incarnation: i + 1,
  state: i % 4,
  vsn: fromHex("010502000000"),
});

describe("readStreamMessage()", () => {
  it("opens the spec's encrypted stream messages, with and without label", async () => {
    const keyring = Keyring.create([key16]);
    const plain = fromHex(
      "0a0000002d01101112131415161718191a1bc4aca7e1602bd34e75780e90b669843f592bdd6908cd2f1e22728d261a1c58a3",
    );
    const m = await readStreamMessage(new StreamReader(plain), wireOptions({ keyring }), new Uint8Array());
    assert.equal(m?.type, 0);
    assert.deepEqual(decodePing(await m!.body.readValue()), { seqNo: 1, node: "b", sourceAddr: null, sourcePort: 0, sourceNode: "" });

    const labelled = fromHex(
      "f4036c626c0a0000002d01101112131415161718191a1bc4aca7e1602bd34e75780e90b669843f251c346a56fc63e278c169321a444a5a",
    );
    const sr = new StreamReader(chunked(labelled, 3));
    const policy = wireOptions({ keyring, label: encodeLabel("lbl") });
    const label = await readStreamLabel(sr, policy);
    const lm = await readStreamMessage(sr, policy, label);
    assert.equal(lm?.type, 0);
    // Without the label as additional data the tag does not verify.
    const sr2 = new StreamReader(labelled.subarray(5));
    await assert.rejects(readStreamMessage(sr2, wireOptions({ keyring }), new Uint8Array()), DecryptError);
  });

  it("round-trips push/pull, user and ping messages through every layer, byte by byte", async () => {
    const keyring = Keyring.create([new Uint8Array(24).fill(3)]);
    const pushPull = { join: true, nodes: Array.from({ length: 40 }, (_, i) => node(i)), userState: fromHex("cafe") };
    for (const enableCompression of [false, true]) {
      for (const encrypted of [false, true]) {
        for (const encryptionVersion of [0, 1] as const) {
          for (const labelText of ["", "lbl"]) {
            const opts = wireOptions({ enableCompression, keyring: encrypted ? keyring : null, encryptionVersion, label: encodeLabel(labelText) });
            const label = encodeLabel(labelText);
            const wire = concat([
              streamLabelHeader(label),
              encodeStreamMessage(encodePushPull(pushPull), opts, label),
            ]);
            for (const size of [1, 7, 4096]) {
              const sr = new StreamReader(chunked(wire, size));
              const got = await readStreamMessage(sr, opts, await readStreamLabel(sr, opts));
              assert.equal(got?.type, 6);
              assert.deepEqual(await readPushPull(got!.body), pushPull);
              assert.equal(await readStreamMessage(sr, opts, label), null, "nothing after the message");
            }
            const user = encodeStreamMessage(encodeUserStreamMessage(fromHex("68656c6c6f")), opts, label);
            const um = await readStreamMessage(new StreamReader(chunked(user, 2)), opts, label);
            assert.equal(um?.type, 8);
            assert.equal(toHex(await readUserMsg(um!.body)), "68656c6c6f");
          }
        }
      }
    }
  });

  it("reads a plain message without waiting for the end of the stream", async () => {
    // The dialer keeps the connection open for the reply: the reader must stop
    // exactly at the end of the message and never ask for more.
    const msg = encodePushPull({ join: false, nodes: [node(1), node(2)], userState: fromHex("0102") });
    let served = false;
    const source: ByteSource = {
      read() {
        if (served) return new Promise(() => {}); // would hang forever
        served = true;
        return Promise.resolve(msg);
      },
    };
    const sr = new StreamReader(source);
    const m = await readStreamMessage(sr, wireOptions({ enableCompression: false }), new Uint8Array());
    const state = await readPushPull(m!.body);
    assert.equal(state.nodes.length, 2);
    assert.equal(sr.buffered, 0);
  });

  it("refuses encrypted input without a key and plain input when encryption is required", async () => {
    const keyring = Keyring.create([key16]);
    const encrypted = encodeStreamMessage(ping, wireOptions({ keyring }), new Uint8Array());
    await assert.rejects(readStreamMessage(new StreamReader(encrypted), wireOptions(), new Uint8Array()), DecodeError);
    await assert.rejects(readStreamMessage(new StreamReader(ping), wireOptions({ keyring }), new Uint8Array()), DecodeError);
    const lax = wireOptions({ keyring, gossipVerifyIncoming: false });
    assert.equal((await readStreamMessage(new StreamReader(ping), lax, new Uint8Array()))?.type, 0);
  });

  it("enforces the size limits before reading", async () => {
    const keyring = Keyring.create([key16]);
    // Encrypted length of 20 MiB + 1.
    const huge = fromHex("0a01400001");
    await assert.rejects(readStreamMessage(new StreamReader(huge), wireOptions({ keyring }), new Uint8Array()), DecodeError);
    // A source that never stops sending is cut off at the reader's limit.
    const endless: ByteSource = { read: () => Promise.resolve(new Uint8Array(1 << 16).fill(0xa0)) };
    const sr = new StreamReader(endless, 1 << 20);
    await assert.rejects(sr.readExact(2 << 20), DecodeError);
    await assert.rejects(new StreamReader(endless, 1 << 20).readExact(1 << 20 + 1), DecodeError);
    // A user message announcing 30 MiB.
    const user = fromHex("0881aa557365724d73674c656ece01e00000");
    const um = await readStreamMessage(new StreamReader(user), wireOptions(), new Uint8Array());
    await assert.rejects(readUserMsg(um!.body), DecodeError);
    // A stream that ends in the middle of a value.
    const cut = encodePushPull({ join: false, nodes: [node(1)], userState: new Uint8Array() }).subarray(0, 40);
    const cm = await readStreamMessage(new StreamReader(chunked(cut, 5)), wireOptions(), new Uint8Array());
    await assert.rejects(readPushPull(cm!.body), DecodeError);
  });

  it("returns null for a stream closed before its first byte", async () => {
    assert.equal(await readStreamMessage(new StreamReader(new Uint8Array()), wireOptions(), new Uint8Array()), null);
  });
});

describe("readStreamLabel()", () => {
  it("checks the dialer's label header", async () => {
    const policy = wireOptions({ label: encodeLabel("prod") });
    const good = concat([streamLabelHeader(encodeLabel("prod")), encodeMessage(0, { seqNo: 1, node: "", sourceAddr: null, sourcePort: 0, sourceNode: "" })]);
    assert.equal(toHex(await readStreamLabel(new StreamReader(good), policy)), toHex(encodeLabel("prod")));
    const other = concat([streamLabelHeader(encodeLabel("dev")), ping]);
    await assert.rejects(readStreamLabel(new StreamReader(other), policy), LabelMismatchError);
    await assert.rejects(readStreamLabel(new StreamReader(ping), policy), LabelMismatchError);
    await assert.rejects(readStreamLabel(new StreamReader(fromHex("f400")), policy), DecodeError);
    await assert.rejects(readStreamLabel(new StreamReader(fromHex("f405616263")), policy), DecodeError);
  });
});

describe("StreamReader under hostile input", () => {
  /** A push/pull header whose one value is a huge array of small integers: every byte must be scanned. */
  function hugeHeader(items: number): Uint8Array {
    // {"X": [0, 0, … items zeros]}: array32, then one byte per item.
    const head = Uint8Array.of(0x81, 0xa1, 0x58, 0xdd, items >>> 24, (items >>> 16) & 0xff, (items >>> 8) & 0xff, items & 0xff);
    const all = new Uint8Array(head.length + items);
    all.set(head);
    return all;
  }

  /** Counts how many bytes the reader's scans looked at, through the chunks' reads. */
  function counting(bytes: Uint8Array, size: number): ByteSource & { bytes: number } {
    let pos = 0;
    return {
      bytes: 0,
      read() {
        if (pos >= bytes.length) return Promise.resolve(null);
        const chunk = bytes.slice(pos, pos + size);
        pos += size;
        this.bytes += chunk.length;
        return Promise.resolve(chunk);
      },
    };
  }

  it("scanValue() resumes where it stopped, so a value in many chunks is scanned once", () => {
    // 64 KiB of small integers in 1 KiB steps: every call starts at the previous call's position.
    const value = hugeHeader(64 * 1024);
    const scan: ValueScan = { pos: 0, pending: 1 };
    let looked = 0;
    for (let end = 1024; ; end = Math.min(end + 1024, value.length)) {
      const from = scan.pos;
      const done = scanValue(value, scan, end);
      assert.ok(scan.pos >= from && scan.pos <= end);
      looked += scan.pos - from;
      if (done) break;
    }
    assert.equal(scan.pos, value.length);
    assert.equal(looked, value.length);
  });

  it("readValue() finds the end of a value spread over many chunks", async () => {
    const value = hugeHeader(1024 * 1024);
    const sr = new StreamReader(counting(value, 1024));
    const r = await sr.readValue();
    assert.equal(r.end - r.pos, value.length);
    assert.equal(sr.consumed, value.length);
  });

  it("readValue() resumes a length prefix cut between two chunks", async () => {
    const str = new Uint8Array(3 + 300);
    str.set([0xda, 0x01, 0x2c]);
    for (let size = 1; size <= 4; size++) {
      const r = await new StreamReader(chunked(concat([str, ping]), size)).readValue();
      assert.equal(r.end - r.pos, str.length, `chunks of ${size}`);
    }
  });

  it("readPushPull() refuses a header or record larger than any Go writes as soon as its size shows", async () => {
    // A header whose one value claims a 40 MiB string: refused after its length prefix, long before 40 MiB arrive.
    const head = Uint8Array.of(0x81, 0xa1, 0x58, 0xdb, 0x02, 0x80, 0x00, 0x00);
    const source = counting(concat([head, new Uint8Array(1 << 20)]), 4096);
    await assert.rejects(readPushPull(new StreamReader(source)), (err: DecodeError) => err.reason === "too_large");
    assert.ok(source.bytes <= 4096, `${source.bytes} bytes read`);
    // A record of 100 KiB (its metadata): refused; one with 64,000 bytes of metadata (the largest metaMaxSize) is read.
    for (const [size, ok] of [[100 * 1024, false], [64_000, true]] as const) {
      const rec = { ...node(1), meta: new Uint8Array(size) };
      const msg = encodePushPull({ join: false, nodes: [rec], userState: new Uint8Array(0) });
      const read = readPushPull(new StreamReader(chunked(msg.subarray(1), 1000)));
      if (ok) assert.equal((await read).nodes[0]!.meta!.length, size);
      else await assert.rejects(read, (err: DecodeError) => err.reason === "too_large");
    }
  });

  it("readExact() allocates nothing for bytes that never arrive", async () => {
    // A header claiming 20 MiB, then a trickle, then the end: the reader fails having held only what came.
    const trickle = new Uint8Array(1000);
    const sr = new StreamReader(chunked(trickle, 10));
    await assert.rejects(sr.readExact(20 * 1024 * 1024), DecodeError);
    assert.equal(sr.consumed, 1000);
  });

  it("readExact() returns memory of its own, never a view into shared memory", async () => {
    const bytes = Uint8Array.from({ length: 64 }, (_, i) => i);
    for (const source of [bytes, chunked(bytes, 7)]) {
      const sr = new StreamReader(source);
      await sr.readByte();
      const out = await sr.readExact(32);
      assert.equal(out.byteOffset, 0);
      assert.equal(out.buffer.byteLength, 32);
      assert.deepEqual([...out], Array.from({ length: 32 }, (_, i) => i + 1));
    }
  });

  it("readPushPull() refuses a header announcing more than maxNodes records before reading them", async () => {
    const msg = encodePushPull({ join: false, nodes: [node(1), node(2), node(3)], userState: new Uint8Array(0) });
    const source = counting(msg.subarray(1), 8);
    await assert.rejects(readPushPull(new StreamReader(source), { maxNodes: 2 }), (err: DecodeError) => {
      assert.equal(err.reason, "too_many_nodes");
      return true;
    });
    assert.ok(source.bytes < 40, `${source.bytes} bytes read`);
    const ok = await readPushPull(new StreamReader(msg.subarray(1)), { maxNodes: 3 });
    assert.equal(ok.nodes.length, 3);
  });

  it("readPushPull() pauses between slices of records", async () => {
    const nodes = Array.from({ length: 2500 }, (_, i) => node(i));
    const msg = encodePushPull({ join: false, nodes, userState: Uint8Array.of(1, 2, 3) });
    let pauses = 0;
    const got = await readPushPull(new StreamReader(chunked(msg.subarray(1), 4096)), {
      pause: () => {
        pauses++;
        return Promise.resolve();
      },
    });
    assert.equal(got.nodes.length, 2500);
    assert.equal(pauses, 2);
    assert.deepEqual(got.userState, Uint8Array.of(1, 2, 3));
    assert.equal(got.userState.buffer.byteLength, 3);
  });
});

// Go's receiver caps, added in v0.6.0 (#357) and on its master branch since (#361, #363, #368, #369),
// each checked the way Go's change checks it.
describe("Go's receiver caps", () => {
  const pushPullHeader = (nodes: number, userStateLen: number) => {
    const w = new Writer(32);
    w.u8(6);
    encodePushPullHeader(w, { nodes, userStateLen, join: false });
    return w.finish();
  };

  it("#357: a push/pull header with a node count or user state length out of range is refused before anything is read", async () => {
    for (const [nodes, len] of [[1024 * 1024 + 1, 0], [0, 20 * 1024 * 1024 + 1]]) {
      const msg = await readStreamMessage(new StreamReader(pushPullHeader(nodes!, len!)), wireOptions(), new Uint8Array());
      await assert.rejects(readPushPull(msg!.body), (err: DecodeError) => err.reason === "too_large");
    }
    // At Go's bounds, the header passes; the stream then ends where records should be.
    const atBound = await readStreamMessage(new StreamReader(pushPullHeader(1024 * 1024, 0)), wireOptions(), new Uint8Array());
    await assert.rejects(readPushPull(atBound!.body), (err: DecodeError) => err.reason === "malformed");
  });

  it("#361: a stream user message longer than 20 MiB is refused before its bytes are read", async () => {
    const w = new Writer(32);
    w.u8(8);
    encodeUserMsgHeader(w, { userMsgLen: 20 * 1024 * 1024 + 1 });
    const msg = await readStreamMessage(new StreamReader(w.finish()), wireOptions(), new Uint8Array());
    await assert.rejects(readUserMsg(msg!.body), (err: DecodeError) => err.reason === "too_large");
  });

  it("#363: a compressed stream message inflates to at most 40 MiB; a packet to at most 64 KiB", async () => {
    const bomb = compressPayload(new Uint8Array(40 * 1024 * 1024 + 1).fill(8));
    await assert.rejects(
      readStreamMessage(new StreamReader(bomb), wireOptions(), new Uint8Array()),
      (err: DecodeError) => err.reason === "compress",
    );
    assert.equal(unpackMessages(compressPayload(new Uint8Array(65537).fill(8))).drops[0]!.error.reason, "compress");
  });

  it("#369: a compressed stream message that inflates to nothing is refused", async () => {
    const empty = compressPayload(new Uint8Array(0));
    await assert.rejects(
      readStreamMessage(new StreamReader(empty), wireOptions(), new Uint8Array()),
      (err: DecodeError) => err.reason === "compress" && /empty/.test(err.message),
    );
  });
});
