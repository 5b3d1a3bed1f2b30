// Packet framing: compound, compression, CRC, encryption and label, in Go's
// order (spec §2), checked against the spec's vectors (§6.2, made by Go).
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { fromHex, toHex } from "../lib/_bytes.ts";
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
  MAX_PACKET_DECOMPRESSED_BYTES,
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
              const { messages, drops } = unpackMessages(openPacket(datagram, opts));
              assert.deepEqual(drops, []);
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

/** A compound of any parts, empty ones included (makeCompoundMessage refuses those). */
function rawCompound(parts: Uint8Array[]): Uint8Array {
  const head = [7, parts.length, ...parts.flatMap((p) => [p.length >> 8, p.length & 0xff])];
  const out = new Uint8Array(head.length + parts.reduce((n, p) => n + p.length, 0));
  out.set(head);
  let off = head.length;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}

describe("unpackMessages()", () => {
  const reasons = (drops: { error: DecodeError; count: number }[]) => drops.map((d) => [d.error.reason, d.count]);

  it("opens the shapes a Go sender builds: a leaf, a compound, either compressed", () => {
    const compound = makeCompoundMessage([ping, suspect, alive]);
    for (const msg of [compound, compressPayload(compound)]) {
      const { messages, drops } = unpackMessages(msg);
      assert.deepEqual(drops, []);
      assert.deepEqual(messages, [ping, suspect, alive]);
    }
    assert.deepEqual(unpackMessages(compressPayload(ping)).messages, [ping]);
    assert.deepEqual(unpackMessages(ping).messages, [ping]);
  });

  it("keeps the good parts of a compound and counts the bad ones per reason", () => {
    const badCompress = fromHex("0982a4416c676f00a3427566a3010203");
    const inner = makeCompoundMessage([ping, suspect]);
    const parts = [ping, new Uint8Array(0), badCompress, inner, new Uint8Array(0), alive];
    const { messages, drops } = unpackMessages(rawCompound(parts));
    assert.deepEqual(messages, [ping, alive]);
    assert.deepEqual(reasons(drops), [["malformed", 2], ["nesting", 2]]);
    assert.ok(drops.every((d) => d.error instanceof DecodeError));
  });

  it("counts truncated parts once, however many there are", () => {
    const compound = makeCompoundMessage([ping, suspect, alive, alive]);
    const { messages, drops } = unpackMessages(compound.subarray(0, 2 + 8 + ping.length + 3));
    assert.deepEqual(messages, [ping]);
    assert.deepEqual(reasons(drops), [["malformed", 3]]);
  });

  it("inflates at most once, to at most 64 KiB", () => {
    // Compress inside compress, and compress inside a compound part: Go never builds either.
    assert.deepEqual(reasons(unpackMessages(compressPayload(compressPayload(ping))).drops), [["nesting", 1]]);
    const nested = makeCompoundMessage([compressPayload(ping), ping]);
    assert.deepEqual(unpackMessages(nested).messages, [ping]);
    assert.deepEqual(reasons(unpackMessages(nested).drops), [["nesting", 1]]);
    // A compound nested in a compound is refused whole.
    let deep = ping;
    for (let i = 0; i < 20; i++) deep = makeCompoundMessage([deep]);
    assert.deepEqual(unpackMessages(deep).messages, []);
    // One datagram's worth of output is fine; a byte more is a bomb.
    const user = new Uint8Array(MAX_PACKET_DECOMPRESSED_BYTES).fill(8);
    assert.equal(unpackMessages(compressPayload(user)).messages[0]!.length, MAX_PACKET_DECOMPRESSED_BYTES);
    const bomb = unpackMessages(compressPayload(new Uint8Array(MAX_PACKET_DECOMPRESSED_BYTES + 1).fill(8)));
    assert.deepEqual(bomb.messages, []);
    assert.deepEqual(reasons(bomb.drops), [["compress", 1]]);
  });

  it("refuses the issue's bomb of nested empty parts with one count, not millions of errors", () => {
    // A compound of 255 empty parts, compressed: every part is refused, counted once.
    const empties = new Uint8Array(2 + 2 * 255);
    empties[0] = 7;
    empties[1] = 255;
    const { messages, drops } = unpackMessages(compressPayload(empties));
    assert.deepEqual(messages, []);
    assert.deepEqual(reasons(drops), [["malformed", 255]]);
  });
});
