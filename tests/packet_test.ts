// Packet framing: compound, compression, CRC, encryption and label, in Go's
// order (spec §2), checked against the spec's vectors (§6.2, made by Go).
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { fromHex, toHex } from "../lib/_bytes.ts";
import { encodeMessage } from "../lib/codec.ts";
import { DecodeError, DecryptError, LabelMismatchError } from "../lib/errors.ts";
import { Keyring } from "../lib/keyring.ts";
import { encodeLabel } from "../lib/label.ts";
import {
  addCrcHeader,
  compressPayload,
  decodeCompoundMessage,
  decompressPayload,
  makeCompoundMessage,
  makeCompoundMessages,
  MAX_COMPOUND_PARTS,
  openPacket,
  packetOverhead,
  sealPacket,
  unpackMessages,

} from "../lib/packet.ts";
import { wireOptions } from "./_wire.ts";

const ping = fromHex("0082a44e6f6465a162a55365714e6f01");
const suspect = fromHex("0383a446726f6da161ab496e6361726e6174696f6e05a44e6f6465a162");
const alive = fromHex(
  "0486a441646472a47f000001ab496e6361726e6174696f6e01a44d657461c0a44e6f6465a161a4506f7274cd1f0aa356736ea6010502000000",
);
const key16 = fromHex("000102030405060708090a0b0c0d0e0f");

describe("makeCompoundMessage()", () => {
  it("writes the spec's compound of a ping and a suspect", () => {
    assert.equal(
      toHex(makeCompoundMessage([ping, suspect])),
      "07020010001d" + toHex(ping) + toHex(suspect),
    );
  });

  it("refuses empty parts, parts over 65535 bytes and more than 255 parts", () => {
    assert.throws(() => makeCompoundMessage([ping, new Uint8Array()]), RangeError);
    assert.throws(() => makeCompoundMessage([new Uint8Array(65536)]), RangeError);
    assert.throws(() => makeCompoundMessage(Array.from({ length: 256 }, () => ping)), RangeError);
  });

  it("makeCompoundMessages() splits into compounds Go 0.2 can read", () => {
    const msgs = Array.from({ length: 300 }, (_, i) => new Uint8Array([8, i & 0xff]));
    const compounds = makeCompoundMessages(msgs);
    assert.equal(compounds.length, Math.ceil(300 / MAX_COMPOUND_PARTS));
    const back = compounds.flatMap((c) => decodeCompoundMessage(c.subarray(1)).parts);
    assert.deepEqual(back, msgs);
  });
});

describe("decodeCompoundMessage()", () => {
  it("splits parts, counts truncated ones and ignores trailing bytes", () => {
    const c = makeCompoundMessage([ping, suspect, alive]);
    assert.deepEqual(decodeCompoundMessage(c.subarray(1)), { parts: [ping, suspect, alive], truncated: 0 });
    const withTail = new Uint8Array([...c, 1, 2, 3]);
    assert.equal(decodeCompoundMessage(withTail.subarray(1)).parts.length, 3);
    const cut = c.subarray(1, c.length - 1);
    assert.deepEqual(decodeCompoundMessage(cut), { parts: [ping, suspect], truncated: 1 });
  });

  it("reads a compound of 255 parts (more than Go 0.2 reads correctly)", () => {
    const parts = Array.from({ length: 255 }, (_, i) => new Uint8Array([8, i]));
    const c = makeCompoundMessage(parts);
    assert.deepEqual(decodeCompoundMessage(c.subarray(1)).parts, parts);
  });

  it("throws DecodeError when the count or the length table is missing", () => {
    assert.throws(() => decodeCompoundMessage(new Uint8Array()), DecodeError);
    assert.throws(() => decodeCompoundMessage(fromHex("020010")), DecodeError);
  });
});

describe("compressPayload()", () => {
  it("wraps the spec's ping exactly as Go does", () => {
    assert.equal(
      toHex(compressPayload(ping)),
      "0982a4416c676f00a3427566b400010822e5e40d9932a1c4949a52264ec1000101",
    );
  });

  it("round-trips through decompressPayload() and rejects unknown algorithms", () => {
    const big = new Uint8Array(5000).map((_, i) => i % 7);
    const c = compressPayload(big);
    assert.ok(c.length < big.length);
    assert.deepEqual(decompressPayload(c.subarray(1)), big);
    assert.throws(() => decompressPayload(c.subarray(1), 100), DecodeError);
    const otherAlgo = fromHex("0982a4416c676f01a3427566a3010203");
    assert.throws(() => decompressPayload(otherAlgo.subarray(1)), DecodeError);
  });
});

describe("addCrcHeader()", () => {
  it("writes the spec's CRC for the alive message", () => {
    assert.equal(toHex(addCrcHeader(alive).subarray(0, 5)), "0c29ae395e");
  });
});

describe("openPacket()", () => {
  const keyring = Keyring.create([key16]);

  it("opens the spec's encrypted packets (v1, v0, with and without label)", () => {
    const v1 = fromHex("01101112131415161718191a1bc4aca7e1602bd34e75780e90b669843f277fe12a58cc13a2266c985a11a0af4e");
    assert.deepEqual(openPacket(v1, wireOptions({ keyring })), ping);
    const v0 = fromHex(
      "00101112131415161718191a1bc4aca7e1602bd34e75780e90b669843f2aac649726e47baf95db3901771501bd4f82e3adc2fcc8c4f5670cca94946fb0",
    );
    assert.deepEqual(openPacket(v0, wireOptions({ keyring })), ping);
    const labelled = fromHex(
      "f4036c626c01101112131415161718191a1bc4aca7e1602bd34e75780e90b669843fecf69ce869be1e3f2ed33e19c0cc15bc",
    );
    assert.deepEqual(openPacket(labelled, wireOptions({ keyring, label: encodeLabel("lbl") })), ping);
    // The label is authenticated: the same envelope under another label fails to decrypt.
    const relabelled = new Uint8Array([0xf4, 3, 0x61, 0x62, 0x63, ...labelled.subarray(5)]);
    assert.throws(() => openPacket(relabelled, wireOptions({ keyring, label: encodeLabel("abc") })), DecryptError);
  });

  it("applies the label policy", () => {
    const labelled = sealPacket(ping, wireOptions({ label: encodeLabel("a") }), false);
    assert.throws(() => openPacket(labelled, wireOptions()), LabelMismatchError);
    assert.throws(() => openPacket(ping, wireOptions({ label: encodeLabel("a") })), LabelMismatchError);
    assert.deepEqual(openPacket(labelled, wireOptions({ label: encodeLabel("a") })), ping);
    // skipInboundLabelCheck: unlabelled input passes as if labelled; labelled input is refused.
    const skip = wireOptions({ label: encodeLabel("a"), skipInboundLabelCheck: true });
    assert.deepEqual(openPacket(ping, skip), ping);
    assert.throws(() => openPacket(labelled, skip), LabelMismatchError);
  });

  it("takes undecryptable packets as plaintext only when incoming verification is off", () => {
    assert.throws(() => openPacket(ping, wireOptions({ keyring })), DecryptError);
    assert.deepEqual(openPacket(ping, wireOptions({ keyring, gossipVerifyIncoming: false })), ping);
  });

  it("verifies and strips the CRC header, dropping corrupt packets", () => {
    const withCrc = addCrcHeader(alive);
    assert.deepEqual(openPacket(withCrc, wireOptions()), alive);
    const corrupt = withCrc.slice();
    corrupt[20]! ^= 1;
    assert.throws(() => openPacket(corrupt, wireOptions()), DecodeError);
    assert.throws(() => openPacket(new Uint8Array(), wireOptions()), DecodeError);
  });
});

describe("sealPacket()", () => {
  it("compresses only when that makes the packet shorter", () => {
    assert.deepEqual(sealPacket(ping, wireOptions(), false), ping);
    const batch = makeCompoundMessage([alive, alive, alive, alive]);
    const sealed = sealPacket(batch, wireOptions(), false);
    assert.equal(sealed[0], 9);
    assert.ok(sealed.length < batch.length);
    assert.deepEqual(sealPacket(batch, wireOptions({ enableCompression: false }), false), batch);
  });

  it("round-trips every combination of layers through openPacket() and unpackMessages()", () => {
    const keyring = Keyring.create([new Uint8Array(32).fill(7), key16]);
    const batch = makeCompoundMessage([ping, suspect, alive, alive]);
    for (const enableCompression of [false, true]) {
      for (const crc of [false, true]) {
        for (const encrypted of [false, true]) {
          for (const encryptionVersion of [0, 1] as const) {
            for (const label of ["", "prod"]) {
              const opts = wireOptions({ enableCompression, keyring: encrypted ? keyring : null, encryptionVersion, label: encodeLabel(label) });
              const datagram = sealPacket(batch, opts, crc);
              const { messages, errors } = unpackMessages(openPacket(datagram, opts));
              assert.deepEqual(errors, []);
              assert.deepEqual(messages, [ping, suspect, alive, alive]);
            }
          }
        }
      }
    }
  });

  it("packetOverhead() counts label and encryption as Go's budgets do", () => {
    const keyring = Keyring.create([key16]);
    assert.equal(packetOverhead(wireOptions(), true), 0);
    assert.equal(packetOverhead(wireOptions({ label: encodeLabel("prod") }), false), 6);
    assert.equal(packetOverhead(wireOptions({ keyring }), false), 29);
    assert.equal(packetOverhead(wireOptions({ keyring, encryptionVersion: 0 }), false), 45);
    assert.equal(packetOverhead(wireOptions({ keyring, gossipVerifyOutgoing: false }), false), 0);
    assert.equal(packetOverhead(wireOptions({ keyring, gossipVerifyOutgoing: false }), true), 29);
  });
});

describe("unpackMessages()", () => {
  it("flattens nested compound and compress messages in order", () => {
    const inner = compressPayload(makeCompoundMessage([suspect, alive]));
    const outer = makeCompoundMessage([ping, inner, encodeMessage(11, { seqNo: 9 })]);
    const { messages, errors } = unpackMessages(outer);
    assert.deepEqual(errors, []);
    assert.deepEqual(messages.map((m) => m[0]), [0, 3, 4, 11]);
  });

  it("keeps the good parts of a compound and reports the bad ones", () => {
    const badCompress = fromHex("0982a4416c676f00a3427566a3010203");
    const truncatedInner = makeCompoundMessage([ping, suspect]).subarray(0, 6 + ping.length + 3);
    const { messages, errors } = unpackMessages(makeCompoundMessage([ping, badCompress, truncatedInner, alive]));
    assert.deepEqual(messages, [ping, ping, alive]);
    assert.equal(errors.length, 2);
    assert.ok(errors.every((e) => e instanceof DecodeError));
  });

  it("bounds nesting depth and decompressed size", () => {
    let msg = ping;
    for (let i = 0; i < 20; i++) msg = makeCompoundMessage([msg]);
    const deep = unpackMessages(msg);
    assert.equal(deep.messages.length, 0);
    assert.equal(deep.errors.length, 1);
    // Many copies of a compressible 60 KB payload: the total is capped.
    const bomb = compressPayload(makeCompoundMessage([new Uint8Array(60000).fill(8)]));
    const many = makeCompoundMessage(Array.from({ length: 100 }, () => bomb));
    const { messages, errors } = unpackMessages(many);
    assert.ok(messages.length < 100 && messages.length > 0);
    assert.ok(errors.length > 0);
  });
});
