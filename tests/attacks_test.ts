// Copyright (c) memberlist-ts authors. SPDX-License-Identifier: MPL-2.0

// The attack inputs of tests/_attacks.ts are what they say: sizes and shapes as documented, every datagram
// fits in one, and every address any input names is on loopback (the harness and the benchmark send them
// at live nodes, which probe and gossip what they accept; nothing may lead them off this machine).

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { decodeMessage, MessageType } from "../lib/codec.ts";
import { lzwDecompress } from "../lib/_lzw.ts";
import { decodeCompoundMessage } from "../lib/packet.ts";
import * as A from "./_attacks.ts";

const victim: A.Endpoint = { ip: "127.0.0.1", port: 40_000 };

/** The leaves of a message: compounds and compress messages opened, without any limit. */
function leaves(msg: Uint8Array, out: Uint8Array[] = []): Uint8Array[] {
  if (msg[0] === MessageType.Compound) {
    for (const p of decodeCompoundMessage(msg.subarray(1)).parts) leaves(p, out);
  } else if (msg[0] === MessageType.Compress) {
    const c = decodeMessage(msg);
    if (c.type === 9) leaves(lzwDecompress(c.body.buf, 64 << 20), out);
  } else {
    out.push(msg);
  }
  return out;
}

/** Every address field of a decoded message. */
function addresses(msg: Uint8Array): Uint8Array[] {
  if (msg.length === 0) return [];
  let m;
  try {
    m = decodeMessage(msg);
  } catch {
    return [];
  }
  const b = m.body as unknown as Record<string, unknown>;
  return ["addr", "sourceAddr", "target"].map((k) => b[k]).filter((x): x is Uint8Array => x instanceof Uint8Array);
}

function assertLoopback(addrs: Uint8Array[]): void {
  for (const a of addrs) {
    if (a.length === 4) assert.equal(a[0], 127, `address ${a.join(".")} is not on loopback`);
    assert.notEqual(a.length, 16, "an IPv6 address");
  }
}

describe("tests/_attacks.ts", () => {
  it("emptyPartsBomb() is issue 9's 20,920-byte datagram of 2,072,640 empty parts", () => {
    const bomb = A.emptyPartsBomb();
    assert.equal(bomb.length, 20_920);
    const inner = decodeMessage(bomb);
    assert.equal(inner.type, 9);
    const outer = lzwDecompress((inner.body as { buf: Uint8Array }).buf, 8 << 20);
    assert.equal(outer.length, 4_178_050);
    // 64 x 127 x 255 empty parts, every compound of a level the same.
    const o = decodeCompoundMessage(outer.subarray(1)).parts;
    const m = decodeCompoundMessage(o[0]!.subarray(1)).parts;
    const e = decodeCompoundMessage(m[0]!.subarray(1)).parts;
    assert.deepEqual([o.length, m.length, e.length], [64, 127, 255]);
    assert.ok(o.every((x) => x.length === o[0]!.length) && m.every((x) => x.length === m[0]!.length));
    assert.ok(e.every((x) => x.length === 0));
  });

  it("reflectedPings() packs 65,536 pings naming the victim into one datagram", () => {
    const d = A.reflectedPings(victim);
    assert.ok(d.length <= A.MAX_DATAGRAM, `${d.length} bytes`);
    const pings = leaves(d);
    assert.equal(pings.length, 65_536);
    const p = decodeMessage(pings[0]!);
    assert.equal(p.type, 0);
    assert.deepEqual(p.type === 0 && [...p.body.sourceAddr!], [127, 0, 0, 1]);
    assert.equal(p.type === 0 && p.body.sourcePort, 40_000);
  });

  it("every datagram attack fits in one datagram", () => {
    const datagrams = [
      A.emptyPartsBomb(),
      A.deepNesting("compound", A.MAX_DATAGRAM_NESTING),
      A.deepNesting("compress", 40),
      A.deepNesting("alternating", 64),
      A.compressInCompress(3),
      A.compressInCompress(5, 4 << 20),
      A.compoundOfBombs(),
      A.lzwToSize(4 << 20),
      A.tinyPings(65_536),
      A.tinyPings(255, false),
      A.indirectPings(victim, victim),
      A.indirectPings(victim, victim, { count: 65_536, compress: true }),
      ...A.badAlives().map((b) => b.msg),
      ...A.undecryptable().map((u) => u.datagram),
    ];
    for (const d of datagrams) assert.ok(d.length <= A.MAX_DATAGRAM, `${d.length} bytes`);
    assert.equal(leaves(A.tinyPings(65_536)).length, 65_536);
    assert.equal(leaves(A.indirectPings(victim, victim, { count: 65_536, compress: true })).length, 65_536);
  });

  it("every address an input names is on loopback", () => {
    for (const seed of [1, 42, 43]) {
      for (const d of A.randomFlood(2000, seed, victim)) for (const leaf of leaves(d)) assertLoopback(addresses(leaf));
    }
    for (const b of A.badAlives()) assertLoopback(addresses(b.msg));
    for (const d of [A.reflectedPings(victim), A.indirectPings(victim, victim)]) {
      for (const leaf of leaves(d)) assertLoopback(addresses(leaf));
    }
    for (let i = 0; i < 200_000; i += 997) assert.equal(A.forgedAddr(i)[0], 127);
  });

  it("claimingStreamHeader() claims 20 MiB in each framing", () => {
    assert.deepEqual([...A.claimingStreamHeader("encrypted")], [10, 0x01, 0x40, 0, 0]);
    for (const kind of ["user", "pushpull"] as const) {
      const h = A.claimingStreamHeader(kind);
      assert.ok(h.length < 64);
      // The claimed length is the last integer of the header: uint32 0x01400000.
      assert.deepEqual([...h.subarray(-5)], [0xce, 0x01, 0x40, 0, 0]);
    }
  });

  it("largeStreamValue() and forgedPushPull() are as large as they say", () => {
    for (const shape of ["str", "array", "map", "nested"] as const) {
      const v = A.largeStreamValue(1 << 20, shape, "record");
      assert.ok(Math.abs(v.length - (1 << 20)) < 256, `${shape}: ${v.length}`);
      assert.equal(v[0], MessageType.PushPull);
    }
    // 73 bytes a record: 200,000 of them are the 14.6 MB the harness names.
    assert.equal(Math.round(A.forgedPushPull(1000).length / 1000), 73);
  });
});
