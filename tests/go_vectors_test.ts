// Our wire layer against every vector real Go memberlist 0.2.2 produced
// (tests/testdata/go_vectors.ts; see tests/testdata/README.md): we write the same
// bytes, and we read everything Go wrote, down to the leaf messages Go's own
// receive path found.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { concat, fromHex, toHex } from "../lib/_bytes.ts";
import { lzwCompress, lzwDecompress } from "../lib/_lzw.ts";
import { decodeErrResp, decodeAckResp, decodePing } from "../lib/codec.ts";
import { Keyring } from "../lib/keyring.ts";
import { encodeLabel } from "../lib/label.ts";
import {
  addCrcHeader,
  compressPayload,
  decodeCompoundMessage,
  decompressPayload,
  makeCompoundMessage,
  openPacket,
  unpackMessages,
  type WireOptions,
} from "../lib/packet.ts";
import { decryptPayload, encryptPayload } from "../lib/security.ts";
import { readPushPull, readStreamLabel, readStreamMessage, readUserMsg, StreamReader } from "../lib/stream.ts";
import { decodeVectorMessage, encodeVectorMessage, type Fields, leafToGo, normalise, toFields } from "./_go_fields.ts";
import { type GoVector, goVectors } from "./testdata/go_vectors.ts";

const of = <K extends GoVector["kind"]>(kind: K) => goVectors.filter((v): v is Extract<GoVector, { kind: K }> => v.kind === kind);

function wireFor(keys: readonly string[], label: string): WireOptions {
  return {
    label: encodeLabel(label),
    skipInboundLabelCheck: false,
    keyring: keys.length > 0 ? Keyring.create(keys.map(fromHex)) : null,
    encryptionVersion: 1,
    gossipVerifyIncoming: true,
    gossipVerifyOutgoing: true,
    enableCompression: true,
  };
}

describe("Go vectors", () => {
  it("cover every kind", () => {
    for (const kind of ["message", "lzw", "compress", "compound", "crc", "encrypt", "packet", "stream"] as const) {
      assert.ok(of(kind).length > 0, kind);
    }
  });

  it("message: we encode every struct byte for byte like Go and decode Go's bytes to the same fields", () => {
    for (const v of of("message")) {
      assert.equal(toHex(encodeVectorMessage(v.type, v.fields)), v.hex, v.name);
      const decoded = decodeVectorMessage(v.type, v.hex);
      assert.deepEqual(normalise(decoded), normalise(v.fields), v.name);
    }
  });

  it("lzw: compress/lzw output is reproduced exactly and decoded", () => {
    for (const v of of("lzw")) {
      assert.equal(toHex(lzwCompress(fromHex(v.input))), v.hex, v.name);
      assert.equal(toHex(lzwDecompress(fromHex(v.hex), 1 << 26)), v.input, v.name);
    }
  });

  it("compress: compressPayload output is reproduced exactly and decoded", () => {
    for (const v of of("compress")) {
      assert.equal(toHex(compressPayload(fromHex(v.input))), v.hex, v.name);
      assert.equal(toHex(decompressPayload(fromHex(v.hex).subarray(1))), v.input, v.name);
    }
  });

  it("compound: makeCompoundMessage output is reproduced and split back", () => {
    for (const v of of("compound")) {
      const parts = v.parts.map(fromHex);
      assert.equal(toHex(makeCompoundMessage(parts)), v.hex, v.name);
      assert.deepEqual(decodeCompoundMessage(fromHex(v.hex).subarray(1)).parts.map(toHex), v.parts, v.name);
    }
  });

  it("crc: the CRC header is reproduced", () => {
    for (const v of of("crc")) assert.equal(toHex(addCrcHeader(fromHex(v.input))), v.hex, v.name);
  });

  it("encrypt: Go's envelopes decrypt, and re-encrypting with Go's nonce gives Go's bytes", () => {
    for (const v of of("encrypt")) {
      const key = fromHex(v.key);
      const aad = fromHex(v.aad);
      const envelope = fromHex(v.hex);
      assert.equal(toHex(decryptPayload([key], envelope, aad)), v.plaintext, v.name);
      const nonce = envelope.subarray(1, 13);
      assert.equal(toHex(encryptPayload(v.version, key, fromHex(v.plaintext), aad, nonce)), v.hex, v.name);
    }
  });

  it("packet: every captured datagram opens to the leaf messages Go's receive path found", () => {
    for (const v of of("packet")) {
      const { messages, drops } = unpackMessages(openPacket(fromHex(v.hex), wireFor(v.keys, v.label)));
      assert.deepEqual(drops, [], v.name);
      const got = messages.map(leafToGo).map((m) => ({ type: m.type, fields: normalise(m.fields) }));
      const want = v.messages.map((m) => ({ type: m.type, fields: normalise(m.fields) }));
      assert.deepEqual(got, want, v.name);
    }
  });

  it("stream: every captured stream message reads like Go read it", async () => {
    for (const v of of("stream")) {
      const opts = wireFor(v.keys, v.label);
      const sr = new StreamReader(fromHex(v.hex));
      // A dialer's bytes start with the label header; a responder's reply is authenticated with the label alone.
      const label = fromHex(v.hex)[0] === 0xf4 ? await readStreamLabel(sr, opts) : opts.label;
      const msg = await readStreamMessage(sr, opts, label);
      assert.ok(msg !== null, v.name);
      const want = v.messages[0]!;
      assert.equal(msg.type, want.type, v.name);
      if (want.type === 6 && "header" in want) {
        const state = await readPushPull(msg.body);
        assert.deepEqual(normalise({ nodes: state.nodes.length, userStateLen: state.userState.length, join: state.join }), normalise(want.header as Fields), v.name);
        assert.deepEqual(state.nodes.map((n) => normalise(toFields(n))), want.nodes.map(normalise), v.name);
        assert.equal(toHex(state.userState), want.userState ?? "", v.name);
      } else if (want.type === 8 && "data" in want) {
        assert.equal(toHex(await readUserMsg(msg.body)), want.data, v.name);
      } else if ("fields" in want) {
        const value = await msg.body.readValue();
        const body = msg.type === 0 ? decodePing(value) : msg.type === 2 ? decodeAckResp(value) : decodeErrResp(value);
        assert.deepEqual(normalise(toFields(body)), normalise(want.fields), v.name);
      }
    }
  });

  it("packet: the labelled vectors are refused without the label and with another one", () => {
    const labelled = of("packet").filter((v) => v.label !== "");
    assert.ok(labelled.length > 0);
    for (const v of labelled) {
      assert.throws(() => openPacket(fromHex(v.hex), wireFor(v.keys, "")), v.name);
      assert.throws(() => openPacket(fromHex(v.hex), wireFor(v.keys, v.label + "x")), v.name);
    }
  });

  it("stream: a truncated capture is refused, never misread", async () => {
    for (const v of of("stream").slice(0, 30)) {
      const bytes = fromHex(v.hex);
      const cut = bytes.subarray(0, Math.max(1, bytes.length - 3));
      const opts = wireFor(v.keys, v.label);
      await assert.rejects(async () => {
        const sr = new StreamReader(concat([cut]));
        const label = cut[0] === 0xf4 ? await readStreamLabel(sr, opts) : opts.label;
        const msg = await readStreamMessage(sr, opts, label);
        if (msg?.type === 6) await readPushPull(msg.body);
        else if (msg?.type === 8) await readUserMsg(msg.body);
        else await msg?.body.readValue();
      }, v.name);
    }
  });
});
