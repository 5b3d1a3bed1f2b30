// Unit tests of the typed msgpack codec: the spec's vectors (§6.1, made by Go
// memberlist 0.2.2 / go-msgpack 0.5.5) and Go's lenient decoding rules (§4.3).
// The full set of vectors captured from real Go lives in go_vectors_test.ts.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { fromHex, Reader, toHex, Writer } from "../lib/_bytes.ts";
import {
  type Alive,
  decodeMessage,
  decodePushNodeState,
  decodePushPullBody,
  decodeUserStreamBody,
  encodeMessage,
  encodePushNodeState,
  encodePushPull,
  encodeUserStreamMessage,
  MessageType,
  type PushNodeState,
} from "../lib/codec.ts";
import { DecodeError } from "../lib/errors.ts";
import { valueEnd } from "../lib/_msgpack.ts";

const ip = (s: string) => new Uint8Array(s.split(".").map(Number));
const vsn = fromHex("010502000000");

const aliveA: Alive = { incarnation: 1, node: "a", addr: ip("127.0.0.1"), port: 7946, meta: null, vsn };
const aliveHex =
  "0486a441646472a47f000001ab496e6361726e6174696f6e01a44d657461c0a44e6f6465a161a4506f7274cd1f0aa356736ea6010502000000";

describe("encodeMessage()", () => {
  it("writes the spec's alive byte for byte", () => {
    assert.equal(toHex(encodeMessage(MessageType.Alive, aliveA)), aliveHex);
    assert.equal(
      toHex(encodeMessage(MessageType.Alive, { ...aliveA, meta: new Uint8Array() })),
      aliveHex.replace("4d657461c0", "4d657461a0"),
    );
  });

  it("writes every single-struct message of spec §6.1 byte for byte", () => {
    const cases: [Uint8Array, string][] = [
      [encodeMessage(0, { seqNo: 1, node: "b", sourceAddr: null, sourcePort: 0, sourceNode: "" }),
        "0082a44e6f6465a162a55365714e6f01"],
      [encodeMessage(0, { seqNo: 300, node: "b", sourceAddr: ip("127.0.0.1"), sourcePort: 7946, sourceNode: "a" }),
        "0085a44e6f6465a162a55365714e6fcd012caa536f7572636541646472a47f000001aa536f757263654e6f6465a161aa536f75726365506f7274cd1f0a"],
      [encodeMessage(1, {
        seqNo: 7, target: ip("10.0.0.2"), port: 7946, node: "c", nack: true,
        sourceAddr: ip("127.0.0.1"), sourcePort: 7946, sourceNode: "a",
      }),
        "0188a44e61636bc3a44e6f6465a163a4506f7274cd1f0aa55365714e6f07aa536f7572636541646472a47f000001aa536f757263654e6f6465a161aa536f75726365506f7274cd1f0aa6546172676574a40a000002"],
      [encodeMessage(2, { seqNo: 1, payload: null }), "0282a75061796c6f6164c0a55365714e6f01"],
      [encodeMessage(2, { seqNo: 70000, payload: fromHex("6869") }),
        "0282a75061796c6f6164a26869a55365714e6fce00011170"],
      [encodeMessage(11, { seqNo: 9 }), "0b81a55365714e6f09"],
      [encodeMessage(13, { error: "boom" }), "0d81a54572726f72a4626f6f6d"],
      [encodeMessage(3, { incarnation: 5, node: "b", from: "a" }),
        "0383a446726f6da161ab496e6361726e6174696f6e05a44e6f6465a162"],
      [encodeMessage(5, { incarnation: 5, node: "a", from: "a" }),
        "0583a446726f6da161ab496e6361726e6174696f6e05a44e6f6465a161"],
      [encodeMessage(9, { algo: 0, buf: fromHex("010203") }), "0982a4416c676f00a3427566a3010203"],
    ];
    for (const [got, want] of cases) assert.equal(toHex(got), want);
  });

  it("uses str16 and str32 for long strings, never str8", () => {
    for (const [len, prefix] of [[31, "bf"], [32, "da0020"], [255, "da00ff"], [65535, "daffff"], [65536, "db00010000"]] as const) {
      const hex = toHex(encodeMessage(13, { error: "x".repeat(len) }));
      assert.equal(hex.slice(16, 16 + prefix.length), prefix, `length ${len}`);
    }
  });

  it("writes non-ASCII names as UTF-8", () => {
    const out = encodeMessage(3, { incarnation: 1, node: "nœud-ü😀", from: "a" });
    const back = decodeMessage(out);
    assert.equal(back.type, 3);
    assert.equal((back.body as { node: string }).node, "nœud-ü😀");
  });

  it("rejects values outside the Go field's range", () => {
    assert.throws(() => encodeMessage(4, { ...aliveA, port: 70000 }), RangeError);
    assert.throws(() => encodeMessage(4, { ...aliveA, incarnation: -1 }), RangeError);
    assert.throws(() => encodeMessage(4, { ...aliveA, incarnation: 2 ** 32 }), RangeError);
  });
});

describe("decodeMessage()", () => {
  it("reads the spec's alive", () => {
    const m = decodeMessage(fromHex(aliveHex));
    assert.equal(m.type, MessageType.Alive);
    assert.deepEqual(m.body, aliveA);
  });

  it("accepts keys in any order, unknown keys, bin bytes, str8 and signed integers", () => {
    // {Vsn: bin8[6], Extra: [1,{}], Port: int16 7946, Node: str8 "a", Incarnation: int32 1, Addr: bin 4, Meta: nil}
    const hex = "04" + "87" +
      "a356736e" + "c406010502000000" +
      "a54578747261" + "9201" + "80" +
      "a4506f7274" + "d11f0a" +
      "a44e6f6465" + "d90161" +
      "ab496e6361726e6174696f6e" + "d200000001" +
      "a441646472" + "c4047f000001" +
      "a44d657461" + "c0";
    assert.deepEqual(decodeMessage(fromHex(hex)).body, aliveA);
  });

  it("accepts a struct written as an array in Go declaration order", () => {
    // alive{Incarnation, Node, Addr, Port, Meta, Vsn}
    const hex = "04" + "96" + "01" + "a161" + "a47f000001" + "cd1f0a" + "c0" + "96010502000000";
    assert.deepEqual(decodeMessage(fromHex(hex)).body, aliveA);
  });

  it("ignores keys that differ only in case, as Go does", () => {
    // ackResp {seqNo: 5, Payload: nil}: "seqNo" is not "SeqNo".
    const m = decodeMessage(fromHex("0282a57365714e6f05a75061796c6f6164c0"));
    assert.deepEqual(m, { type: 2, body: { seqNo: 0, payload: null } });
  });

  it("range-checks integers against the Go field", () => {
    // ackResp SeqNo as uint64 2^32 → out of uint32.
    assert.throws(() => decodeMessage(fromHex("0281a55365714e6fcf0000000100000000")), DecodeError);
    // Negative into uint32.
    assert.throws(() => decodeMessage(fromHex("0281a55365714e6fff")), DecodeError);
    // Port 70000 into uint16.
    assert.throws(() => decodeMessage(fromHex("0481a4506f7274ce00011170")), DecodeError);
    // A float where an integer belongs.
    assert.throws(() => decodeMessage(fromHex("0281a55365714e6fca3f800000")), DecodeError);
  });

  it("throws DecodeError on truncated and oversized input", () => {
    const full = fromHex(aliveHex);
    for (let n = 0; n < full.length; n++) {
      assert.throws(() => decodeMessage(full.subarray(0, n)), DecodeError, `prefix of ${n} bytes`);
    }
    // map32 announcing 4 billion entries.
    assert.throws(() => decodeMessage(fromHex("04dfffffffff")), DecodeError);
    // str32 announcing 4 GiB.
    assert.throws(() => decodeMessage(fromHex("0481a44e6f6465dbffffffff")), DecodeError);
    // An unknown key whose value nests 100 arrays deep.
    assert.throws(() => decodeMessage(fromHex("0481a1" + "78" + "91".repeat(100) + "00")), DecodeError);
    assert.throws(() => decodeMessage(new Uint8Array([7, 1])), DecodeError);
  });

  it("returns a packet user message's raw payload", () => {
    const m = decodeMessage(fromHex("0868656c6c6f"));
    assert.equal(m.type, 8);
    assert.equal(toHex(m.body as Uint8Array), "68656c6c6f");
  });
});

describe("encodePushPull()", () => {
  const node: PushNodeState = { name: "a", addr: ip("127.0.0.1"), port: 7946, meta: null, incarnation: 1, state: 0, vsn };

  it("writes the spec's push/pull with one node and user state", () => {
    const hex = toHex(encodePushPull({ join: false, nodes: [node], userState: fromHex("616263") }));
    assert.equal(
      hex,
      "0683a44a6f696ec2a54e6f64657301ac5573657253746174654c656e03" +
        "87a441646472a47f000001ab496e6361726e6174696f6e01a44d657461c0a44e616d65a161a4506f7274cd1f0aa5537461746500a356736ea6010502000000" +
        "616263",
    );
  });

  it("writes go-msgpack 0.5's unsigned forms for int fields of 128 and more", () => {
    const w = new Writer();
    encodePushNodeState(w, node);
    const nodes = Array.from({ length: 200 }, () => node);
    const hex = toHex(encodePushPull({ join: false, nodes, userState: new Uint8Array(70000) }));
    assert.ok(hex.startsWith("0683a44a6f696ec2a54e6f646573ccc8ac5573657253746174654c656ece00011170"));
  });

  it("round-trips through decodePushPullBody()", () => {
    const nodes = Array.from({ length: 50 }, (_, i) => ({ ...node, name: `node-${i}`, incarnation: i + 1, state: i % 4 }));
    const buf = encodePushPull({ join: true, nodes, userState: fromHex("00ff") });
    const back = decodePushPullBody(new Reader(buf, 1));
    assert.deepEqual(back, { join: true, nodes, userState: fromHex("00ff") });
  });

  it("rejects counts and lengths beyond the limits or the input", () => {
    const header = (nodes: string, len: string) => fromHex("0683a44a6f696ec2a54e6f646573" + nodes + "ac5573657253746174654c656e" + len);
    assert.throws(() => decodePushPullBody(new Reader(header("ce00100001", "00"), 1)), DecodeError);
    assert.throws(() => decodePushPullBody(new Reader(header("ff", "00"), 1)), DecodeError);
    assert.throws(() => decodePushPullBody(new Reader(header("00", "ce01400001"), 1)), DecodeError);
    assert.throws(() => decodePushPullBody(new Reader(header("cd1000", "00"), 1)), DecodeError);
    assert.throws(() => decodePushPullBody(new Reader(header("00", "05"), 1)), DecodeError);
  });

  it("decodes a node record without a type byte", () => {
    const w = new Writer();
    encodePushNodeState(w, node);
    assert.deepEqual(decodePushNodeState(new Reader(w.finish())), node);
  });
});

describe("encodeUserStreamMessage()", () => {
  it("writes the spec's stream user message and reads it back", () => {
    const buf = encodeUserStreamMessage(fromHex("68656c6c6f"));
    assert.equal(toHex(buf), "0881aa557365724d73674c656e0568656c6c6f");
    assert.equal(toHex(decodeUserStreamBody(new Reader(buf, 1))), "68656c6c6f");
    assert.throws(() => decodeUserStreamBody(new Reader(fromHex("0881aa557365724d73674c656e0568"), 1)), DecodeError);
  });
});

describe("valueEnd()", () => {
  it("finds the end of complete values and reports incomplete ones", () => {
    const alive = fromHex(aliveHex).subarray(1);
    assert.equal(valueEnd(alive, 0), alive.length);
    for (let n = 0; n < alive.length; n++) assert.equal(valueEnd(alive.subarray(0, n), 0), -1);
    assert.equal(valueEnd(fromHex("92c0cb000000000000000001"), 0), 11);
    assert.throws(() => valueEnd(fromHex("c1"), 0), DecodeError);
  });
});
