// Stream framing: label, encryption with its length header, compression, and
// incremental reading of msgpack values (spec §3), against the spec's vectors.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { concat, fromHex, toHex } from "../lib/_bytes.ts";
import { encodeMessage, encodePushPull, encodeUserStreamMessage, type PushNodeState } from "../lib/codec.ts";
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
