// Copyright (c) memberlist-ts authors. SPDX-License-Identifier: MPL-2.0

// TS → Go: real Go memberlist 0.2.2 reads what we write. Random messages and
// framings made by our encoders go to `wirevectors verify`, which decodes each
// with memberlist's own functions, compares the fields, and re-encodes single
// messages to check they are byte-identical with ours.

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { concat, toHex, Writer } from "../../lib/_bytes.ts";
import { lzwCompress } from "../../lib/_lzw.ts";
import {
  type Alive,
  encodeMessage,
  encodePushNodeState,
  encodePushPull,
  encodePushPullHeader,
  encodeUserMsgHeader,
  encodeUserStreamMessage,
  type PushNodeState,
} from "../../lib/codec.ts";
import { Keyring } from "../../lib/keyring.ts";
import { encodeLabel } from "../../lib/label.ts";
import {
  addCrcHeader,
  compressPayload,
  makeCompoundMessage,
  MAX_COMPOUND_PARTS,
  sealPacket,

} from "../../lib/packet.ts";
import { createSeededRandom } from "../../lib/random.ts";
import { encryptPayload } from "../../lib/security.ts";
import { encodeStreamMessage, streamLabelHeader } from "../../lib/stream.ts";
import { leafToGo, toFields } from "../_go_fields.ts";
import { buildGoProgram, requireGoOrSkip } from "./_go.ts";
import { wireOptions } from "../_wire.ts";

const skip = requireGoOrSkip();
let bin = "";
let buildError: unknown;
if (!skip) {
  try {
    bin = buildGoProgram("tests/interop/go/wirevectors");
  } catch (err) {
    buildError = err;
  }
}

const random = createSeededRandom(7946);
const int = (n: number) => Math.floor(random() * n);
const bytes = (n: number) => new Uint8Array(n).map(() => int(256));
const pick = <T>(xs: readonly T[]) => xs[int(xs.length)]!;
const name = () => pick(["a", "node-1", "go-b", "x".repeat(31), "y".repeat(32), "ünïcødé-节点", "n".repeat(300)]);
const ip = () => pick([bytes(4), bytes(16), new Uint8Array([127, 0, 0, 1])]);
const u32 = () => pick([0, 1, 127, 128, 255, 256, 65535, 65536, 0xffffffff, int(0x100000000)]);
const u16 = () => pick([0, 1, 127, 128, 255, 256, 7946, 65535, int(65536)]);
const vsn = () => new Uint8Array([1, 5, 2, int(3), int(3) + 2, int(3)]);
const meta = () => pick([null, new Uint8Array(), bytes(int(40)), bytes(512)]);

function randomAlive(): Alive {
  return { incarnation: u32(), node: name(), addr: ip(), port: u16(), meta: meta(), vsn: vsn() };
}

function randomNode(): PushNodeState {
  return { name: name(), addr: ip(), port: u16(), meta: meta(), incarnation: u32(), state: int(4), vsn: vsn() };
}

/** One random single-struct message: [type, struct]. */
function randomMessage(): [number, object] {
  switch (int(9)) {
    case 0: {
      const withSource = random() < 0.7;
      return [0, { seqNo: u32(), node: name(), sourceAddr: withSource ? ip() : null, sourcePort: withSource ? u16() : 0, sourceNode: withSource ? name() : "" }];
    }
    case 1:
      return [1, { seqNo: u32(), target: ip(), port: u16(), node: name(), nack: random() < 0.5, sourceAddr: ip(), sourcePort: u16(), sourceNode: name() }];
    case 2:
      return [2, { seqNo: u32(), payload: pick([null, bytes(int(64))]) }];
    case 3:
      return [3, { incarnation: u32(), node: name(), from: name() }];
    case 4:
      return [4, randomAlive()];
    case 5:
      return [5, { incarnation: u32(), node: name(), from: name() }];
    case 6:
      return [11, { seqNo: u32() }];
    case 7:
      return [13, { error: pick(["boom", "x".repeat(70000)]) }];
    default:
      return [9, { algo: 0, buf: bytes(int(100)) }];
  }
}

/** Entries in the shapes `wirevectors verify` reads (those of tests/testdata/go_vectors.ts). */
function buildEntries(): unknown[] {
  const entries: unknown[] = [];
  for (let i = 0; i < 400; i++) {
    const [type, struct] = randomMessage();
    const hex = toHex(encodeMessage(type as 0, struct as never));
    entries.push({ kind: "message", name: `ts message #${i} (type ${type})`, type, fields: toFields(struct), hex });
  }
  for (let i = 0; i < 60; i++) {
    const node = randomNode();
    const w = new Writer();
    encodePushNodeState(w, node);
    entries.push({ kind: "message", name: `ts pushNodeState #${i}`, type: -1, fields: toFields(node), hex: toHex(w.finish()) });
    const header = { nodes: pick([0, 1, 127, 128, 200, 65536, int(1 << 20)]), userStateLen: pick([0, 5, 128, 70000]), join: random() < 0.5 };
    const hw = new Writer();
    hw.u8(6);
    encodePushPullHeader(hw, header);
    entries.push({ kind: "message", name: `ts pushPullHeader #${i}`, type: 6, fields: toFields(header), hex: toHex(hw.finish()) });
    const uw = new Writer();
    uw.u8(8);
    const user = { userMsgLen: pick([0, 5, 127, 128, 1000, 70000]) };
    encodeUserMsgHeader(uw, user);
    entries.push({ kind: "message", name: `ts userMsgHeader #${i}`, type: 8, fields: toFields(user), hex: toHex(uw.finish()) });
  }
  for (let i = 0; i < 20; i++) {
    const input = pick([bytes(int(3000)), new Uint8Array(int(20000)).fill(int(256)), encodePushPull({ join: false, nodes: [randomNode(), randomNode()], userState: bytes(10) })]);
    entries.push({ kind: "lzw", name: `ts lzw #${i}`, input: toHex(input), hex: toHex(lzwCompress(input)) });
    entries.push({ kind: "compress", name: `ts compress #${i}`, input: toHex(input), hex: toHex(compressPayload(input)) });
    entries.push({ kind: "crc", name: `ts crc #${i}`, input: toHex(input), hex: toHex(addCrcHeader(input)) });
  }
  for (const n of [1, 2, 50, MAX_COMPOUND_PARTS]) {
    const parts = Array.from({ length: n }, () => encodeMessage(3, { incarnation: u32(), node: name(), from: name() }));
    entries.push({ kind: "compound", name: `ts compound of ${n}`, parts: parts.map(toHex), hex: toHex(makeCompoundMessage(parts)) });
  }
  for (let i = 0; i < 48; i++) {
    const version = (i % 2) as 0 | 1;
    const key = bytes(pick([16, 24, 32]));
    const aad = pick([new Uint8Array(), encodeLabel("prod"), concat([new Uint8Array([10, 0, 0, 5, 0x78]), encodeLabel("prod")])]);
    const plaintext = bytes(pick([0, 1, 15, 16, 17, 1400]));
    entries.push({
      kind: "encrypt", name: `ts encrypt #${i} v${version}`, version, key: toHex(key), aad: toHex(aad),
      plaintext: toHex(plaintext), hex: toHex(encryptPayload(version, key, plaintext, aad)),
    });
  }
  // Whole packets: a compound of random messages through every layer combination Go 0.2.2 can read (no label).
  const keys = [bytes(32), bytes(16)];
  for (let i = 0; i < 40; i++) {
    const count = 1 + int(6);
    const msgs = Array.from({ length: count }, () => {
      // Packets carry ping/ack/nack/indirect/suspect/alive/dead/user; errResp and bare compress structs are stream or inner forms.
      const [type, struct] = randomMessage();
      return type === 9 || type === 13 ? encodeMessage(4, randomAlive()) : encodeMessage(type as 0, struct as never);
    });
    if (random() < 0.3) msgs.push(concat([new Uint8Array([8]), bytes(1 + int(50))]));
    const encrypted = random() < 0.5;
    const opts = wireOptions({ keyring: encrypted ? Keyring.create(keys) : null, encryptionVersion: (int(2)) as 0 | 1, enableCompression: random() < 0.7 });
    const msg = msgs.length === 1 ? msgs[0]! : makeCompoundMessage(msgs);
    entries.push({
      kind: "packet", name: `ts packet #${i}`, keys: encrypted ? keys.map(toHex) : [], label: "",
      hex: toHex(sealPacket(msg, opts, random() < 0.5)), layers: [], messages: msgs.map(leafToGo),
    });
  }
  // Whole stream messages, as a dialer writes them.
  for (let i = 0; i < 30; i++) {
    const encrypted = random() < 0.5;
    const label = random() < 0.3 && encrypted ? "prod" : "";
    const opts = wireOptions({ keyring: encrypted ? Keyring.create(keys) : null, encryptionVersion: (int(2)) as 0 | 1, enableCompression: random() < 0.7 });
    const labelBytes = encodeLabel(label);
    let msg: Uint8Array;
    let expect: unknown;
    switch (i % 3) {
      case 0: {
        const nodes = Array.from({ length: int(40) }, randomNode);
        const userState = random() < 0.5 ? bytes(1 + int(100)) : new Uint8Array();
        const join = random() < 0.5;
        msg = encodePushPull({ join, nodes, userState });
        expect = {
          type: 6, header: { nodes: nodes.length, userStateLen: userState.length, join },
          nodes: nodes.map(toFields), userState: userState.length > 0 ? toHex(userState) : null,
        };
        break;
      }
      case 1: {
        const data = bytes(1 + int(3000));
        msg = encodeUserStreamMessage(data);
        expect = { type: 8, data: toHex(data) };
        break;
      }
      default: {
        const ping = { seqNo: u32(), node: name(), sourceAddr: ip(), sourcePort: u16(), sourceNode: name() };
        msg = encodeMessage(0, ping);
        expect = { type: 0, fields: toFields(ping) };
      }
    }
    entries.push({
      kind: "stream", name: `ts stream #${i}${label ? " (label)" : ""}`, keys: encrypted ? keys.map(toHex) : [], label,
      hex: toHex(concat([streamLabelHeader(labelBytes), encodeStreamMessage(msg, opts, labelBytes)])),
      layers: [], messages: [expect],
    });
  }
  return entries;
}

describe("Go memberlist 0.2.2 reads what we write", { skip }, () => {
  it("wirevectors verify accepts every random message and framing our encoders produce", () => {
    if (buildError !== undefined) throw buildError;
    const entries = buildEntries();
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "ts-vectors-"));
    try {
      const file = path.join(dir, "ts.json");
      fs.writeFileSync(file, JSON.stringify(entries));
      const r = spawnSync(bin, ["verify", file], { encoding: "utf8", maxBuffer: 256 << 20 });
      assert.equal(r.error, undefined);
      const lines = r.stdout.trim().split("\n").map((l) => JSON.parse(l) as { name?: string; ok?: boolean; error?: string; total?: number });
      const failed = lines.filter((l) => l.ok === false).map((l) => `${l.name}: ${l.error}`);
      assert.deepEqual(failed, []);
      assert.equal(r.status, 0, r.stderr);
      assert.equal(lines.filter((l) => l.ok === true).length, entries.length);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
