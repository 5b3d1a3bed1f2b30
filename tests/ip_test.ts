// Copyright (c) memberlist-ts authors. SPDX-License-Identifier: MPL-2.0
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import {
  cidrContains,
  formatCIDR,
  formatIP,
  ipEqual,
  ipTo16,
  ipTo4,
  isIP,
  parseCIDR,
  parseIP,
} from "../lib/_ip.ts";

// The tables below were printed by Go 1.19's net package (net.ParseIP,
// net.IP.String, net.ParseCIDR, IPNet.Contains) from a small program looping
// over the same inputs. Go's ParseIP returns 16 bytes even for IPv4 text; ours
// returns 4 for dotted IPv4 text, so the tests compare the last 4 bytes there.

/** [text, net.ParseIP(text) (Go's 16-byte form) or null, its String()]. */
const PARSE: [string, number[] | null, string | null][] = [
  ["0.0.0.0", [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 255, 255, 0, 0, 0, 0], "0.0.0.0"],
  ["127.0.0.1", [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 255, 255, 127, 0, 0, 1], "127.0.0.1"],
  ["255.255.255.255", [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 255, 255, 255, 255, 255, 255], "255.255.255.255"],
  ["10.0.0.9", [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 255, 255, 10, 0, 0, 9], "10.0.0.9"],
  ["192.168.1.7", [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 255, 255, 192, 168, 1, 7], "192.168.1.7"],
  ["1.2.3.4", [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 255, 255, 1, 2, 3, 4], "1.2.3.4"],
  ["256.0.0.1", null, null],
  ["1.2.3", null, null],
  ["1.2.3.4.5", null, null],
  ["01.2.3.4", null, null],
  ["1.2.3.04", null, null],
  ["1.2.3.0", [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 255, 255, 1, 2, 3, 0], "1.2.3.0"],
  ["1..3.4", null, null],
  ["1.2.3.4 ", null, null],
  [" 1.2.3.4", null, null],
  ["", null, null],
  ["abc", null, null],
  ["1.2.3.-4", null, null],
  ["1.2.3.+4", null, null],
  ["0x1.2.3.4", null, null],
  ["::", [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0], "::"],
  ["::1", [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1], "::1"],
  ["1::", [0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0], "1::"],
  ["::ffff:1.2.3.4", [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 255, 255, 1, 2, 3, 4], "1.2.3.4"],
  ["::ffff:0:0", [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 255, 255, 0, 0, 0, 0], "0.0.0.0"],
  ["::1.2.3.4", [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 2, 3, 4], "::102:304"],
  ["::ffff:01.2.3.4", null, null],
  ["2001:db8::1", [32, 1, 13, 184, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1], "2001:db8::1"],
  ["2001:DB8::1", [32, 1, 13, 184, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1], "2001:db8::1"],
  [
    "fe80::aede:48ff:fe00:1122",
    [254, 128, 0, 0, 0, 0, 0, 0, 174, 222, 72, 255, 254, 0, 17, 34],
    "fe80::aede:48ff:fe00:1122",
  ],
  ["1:2:3:4:5:6:7:8", [0, 1, 0, 2, 0, 3, 0, 4, 0, 5, 0, 6, 0, 7, 0, 8], "1:2:3:4:5:6:7:8"],
  ["1:2:3:4:5:6:7::", [0, 1, 0, 2, 0, 3, 0, 4, 0, 5, 0, 6, 0, 7, 0, 0], "1:2:3:4:5:6:7:0"],
  ["::2:3:4:5:6:7:8", [0, 0, 0, 2, 0, 3, 0, 4, 0, 5, 0, 6, 0, 7, 0, 8], "0:2:3:4:5:6:7:8"],
  ["1:2:3:4:5:6:7:8:9", null, null],
  ["1:2:3:4:5:6:7", null, null],
  ["1::2::3", null, null],
  [":1::2", null, null],
  ["1::2:", null, null],
  ["1:::2", null, null],
  ["12345::1", null, null],
  ["1:2:3:4:5:6:1.2.3.4", [0, 1, 0, 2, 0, 3, 0, 4, 0, 5, 0, 6, 1, 2, 3, 4], "1:2:3:4:5:6:102:304"],
  ["1:2:3:4:5:1.2.3.4", null, null],
  ["1:2:3:4:5:6:7:1.2.3.4", null, null],
  ["::1.2.3", null, null],
  ["fe80::1%eth0", null, null],
  ["[::1]", null, null],
  [
    "2001:0db8:0000:0000:0000:ff00:0042:8329",
    [32, 1, 13, 184, 0, 0, 0, 0, 0, 0, 255, 0, 0, 66, 131, 41],
    "2001:db8::ff00:42:8329",
  ],
  ["::ffff:ffff:1.2.3.4", [0, 0, 0, 0, 0, 0, 0, 0, 255, 255, 255, 255, 1, 2, 3, 4], "::ffff:ffff:102:304"],
  ["1.2.3.4::", null, null],
  ["::ffff:1.2.3.4:5", null, null],
  ["ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", [
    255,
    255,
    255,
    255,
    255,
    255,
    255,
    255,
    255,
    255,
    255,
    255,
    255,
    255,
    255,
    255,
  ], "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"],
  ["0:0:0:0:0:ffff:7f00:1", [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 255, 255, 127, 0, 0, 1], "127.0.0.1"],
];

/** [bytes, net.IP(bytes).String()]. */
const FORMAT: [number[], string][] = [
  [[], "<nil>"],
  [[1, 2, 3, 4], "1.2.3.4"],
  [[0, 0, 0, 0], "0.0.0.0"],
  [[1, 2, 3], "?010203"],
  [[1, 2, 3, 4, 5], "?0102030405"],
  [[0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 255, 255, 10, 0, 0, 1], "10.0.0.1"],
  [[0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0], "::"],
  [[0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1], "::1"],
  [[32, 1, 13, 184, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 1], "2001:db8::1:0:0:1"],
  [[32, 1, 13, 184, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0], "2001:db8:0:0:1::"],
  [[32, 1, 13, 184, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1], "2001:db8:0:1::1"],
  [[32, 1, 13, 184, 0, 1, 0, 0, 0, 1, 0, 1, 0, 1, 0, 1], "2001:db8:1:0:1:1:1:1"],
  [[32, 1, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 1], "2001::1:0:0:1"],
  [[0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 2, 3, 4], "::102:304"],
  [[0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 255, 254, 1, 2, 3, 4], "::fffe:102:304"],
  [[0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 255, 255, 255, 255, 255, 255], "255.255.255.255"],
  [[254, 128, 0, 0, 0, 0, 0, 0, 174, 222, 72, 255, 254, 0, 17, 34], "fe80::aede:48ff:fe00:1122"],
  [[0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0], "1::"],
  [[0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0], "0:1::"],
  [[171, 205, 0, 0, 0, 0, 18, 52, 0, 0, 0, 0, 86, 120, 154, 188], "abcd::1234:0:0:5678:9abc"],
  [
    [255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255],
    "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
  ],
];

/** Addresses tested against every network of CIDRS, in this order. */
const CONTAINS_IPS = [
  "10.0.0.9",
  "10.255.255.255",
  "11.0.0.0",
  "127.0.0.5",
  "192.168.1.7",
  "192.168.1.8",
  "::1",
  "::2",
  "fe80::38bc:4dff:fe62:b1ae",
  "2001:db8:1::1",
  "2001:db9::1",
  "::ffff:10.0.0.9",
  "::10.0.0.9",
  "1.2.3.4",
  "::ffff:1.2.3.4",
  "0.0.0.0",
  "::",
];

/**
 * [cidr, IPNet.IP or null when ParseCIDR fails, IPNet.Mask, Contains() for each
 * of CONTAINS_IPS as "1"/"0"].
 */
const CIDRS: [string, number[] | null, number[] | null, string | null][] = [
  ["10.0.0.0/8", [10, 0, 0, 0], [255, 0, 0, 0], "11000000000100000"],
  ["10.1.2.3/8", [10, 0, 0, 0], [255, 0, 0, 0], "11000000000100000"],
  ["0.0.0.0/0", [0, 0, 0, 0], [0, 0, 0, 0], "11111100000101110"],
  ["::0/0", [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0], [
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
  ], "00000011111010001"],
  [
    "::/0",
    [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0],
    [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0],
    "00000011111010001",
  ],
  ["::1/128", [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1], [
    255,
    255,
    255,
    255,
    255,
    255,
    255,
    255,
    255,
    255,
    255,
    255,
    255,
    255,
    255,
    255,
  ], "00000010000000000"],
  ["127.0.0.0/8", [127, 0, 0, 0], [255, 0, 0, 0], "00010000000000000"],
  ["192.168.1.0/24", [192, 168, 1, 0], [255, 255, 255, 0], "00001100000000000"],
  ["192.168.1.7/32", [192, 168, 1, 7], [255, 255, 255, 255], "00001000000000000"],
  ["::ffff:10.0.0.0/104", [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 255, 255, 10, 0, 0, 0], [
    255,
    255,
    255,
    255,
    255,
    255,
    255,
    255,
    255,
    255,
    255,
    255,
    255,
    0,
    0,
    0,
  ], "11000000000100000"],
  ["::ffff:0.0.0.0/96", [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 255, 255, 0, 0, 0, 0], [
    255,
    255,
    255,
    255,
    255,
    255,
    255,
    255,
    255,
    255,
    255,
    255,
    0,
    0,
    0,
    0,
  ], "11111100000101110"],
  ["::ffff:1.2.3.4/64", [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0], [
    255,
    255,
    255,
    255,
    255,
    255,
    255,
    255,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
  ], "00000011000010001"],
  ["2001:db8::/32", [32, 1, 13, 184, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0], [
    255,
    255,
    255,
    255,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
  ], "00000000010000000"],
  ["fe80::/10", [254, 128, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0], [
    255,
    192,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
  ], "00000000100000000"],
  ["10.0.0.0/33", null, null, null],
  ["10.0.0.0/-1", null, null, null],
  ["10.0.0.0/", null, null, null],
  ["10.0.0.0", null, null, null],
  ["/8", null, null, null],
  ["10.0.0.0/08", [10, 0, 0, 0], [255, 0, 0, 0], "11000000000100000"],
  ["10.0.0.0/8 ", null, null, null],
  [" 10.0.0.0/8", null, null, null],
  ["::/129", null, null, null],
  ["::/128", [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0], [
    255,
    255,
    255,
    255,
    255,
    255,
    255,
    255,
    255,
    255,
    255,
    255,
    255,
    255,
    255,
    255,
  ], "00000000000000001"],
  ["10.0.0.0/8/8", null, null, null],
  ["x/8", null, null, null],
  ["10.0.0.0/+8", null, null, null],
  ["10.0.0.0/0x8", null, null, null],
  ["10.0.0.256/8", null, null, null],
  ["10.0.0.0/000000000000000000000000000008", [10, 0, 0, 0], [255, 0, 0, 0], "11000000000100000"],
  ["2001:db8::/032", [32, 1, 13, 184, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0], [
    255,
    255,
    255,
    255,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
  ], "00000000010000000"],
];

const bytes = (list: number[]): Uint8Array => new Uint8Array(list);
const mapped = (a: number, b: number, c: number, d: number): Uint8Array =>
  bytes([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, a, b, c, d]);

/** True when Go's ParseIP took the text as dotted IPv4 (a "." before any ":"). */
function isDottedV4(text: string): boolean {
  const dot = text.indexOf(".");
  const colon = text.indexOf(":");
  return dot >= 0 && (colon < 0 || dot < colon);
}

describe("parseIP()", () => {
  it("accepts and rejects what Go's net.ParseIP does", () => {
    for (const [text, go16] of PARSE) {
      const ip = parseIP(text);
      if (go16 === null) {
        assert.equal(ip, null, `parseIP(${JSON.stringify(text)})`);
        continue;
      }
      assert.ok(ip !== null, `parseIP(${JSON.stringify(text)})`);
      const expected = isDottedV4(text) ? go16.slice(12) : go16;
      assert.deepEqual(ip, bytes(expected), `parseIP(${JSON.stringify(text)})`);
    }
  });

  it("gives 4 bytes for IPv4 text and 16 for any IPv6 text, IPv4-mapped included", () => {
    assert.deepEqual(parseIP("1.2.3.4"), bytes([1, 2, 3, 4]));
    assert.deepEqual(parseIP("::ffff:1.2.3.4"), mapped(1, 2, 3, 4));
    assert.equal(parseIP("::1")?.length, 16);
    assert.equal(parseIP("::")?.length, 16);
  });

  it("rejects IPv6 groups of more than four hex digits, as Go 1.22+ does", () => {
    // Go 1.19 accepted these; RFC 4291 and net/netip-based Go do not.
    assert.equal(parseIP("0:0:0:0:0:0:0:00001"), null);
    assert.equal(parseIP("00001::"), null);
    assert.deepEqual(parseIP("0:0:0:0:0:0:0:0001"), parseIP("::1"));
  });

  it("rejects host names, ports, brackets, zones, whitespace and empty text", () => {
    for (
      const text of [
        "localhost",
        "example.com",
        "1.2.3.4:80",
        "[::1]:80",
        "[::1]",
        "fe80::1%eth0",
        " ::1",
        "",
      ]
    ) {
      assert.equal(parseIP(text), null, text);
    }
  });

  it('places the "::" gap correctly at the start, middle and end', () => {
    assert.deepEqual(parseIP("1::2"), bytes([0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2]));
    assert.deepEqual(parseIP("1:2::"), bytes([0, 1, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]));
    assert.deepEqual(parseIP("::1:2"), bytes([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 2]));
    assert.deepEqual(parseIP("1:2:3::4.5.6.7"), bytes([0, 1, 0, 2, 0, 3, 0, 0, 0, 0, 0, 0, 4, 5, 6, 7]));
    assert.equal(parseIP("1:2:3:4:5:6:7::8"), null);
    assert.equal(parseIP("1::2:3:4:5:6:7:8"), null);
  });
});

describe("isIP()", () => {
  it("is true exactly when parseIP() succeeds", () => {
    for (const [text, go16] of PARSE) assert.equal(isIP(text), go16 !== null, text);
  });
});

describe("formatIP()", () => {
  it("prints bytes exactly as Go's net.IP.String()", () => {
    for (const [list, text] of FORMAT) {
      assert.equal(formatIP(bytes(list)), text, `formatIP([${list.join(", ")}])`);
    }
  });

  it("prints parsed text back as Go's String() does", () => {
    for (const [text, go16, goText] of PARSE) {
      if (go16 === null) continue;
      assert.equal(formatIP(parseIP(text)!), goText, text);
    }
  });

  it("round-trips its own output", () => {
    for (const [list] of FORMAT) {
      if (list.length !== 4 && list.length !== 16) continue;
      const text = formatIP(bytes(list));
      assert.ok(ipEqual(parseIP(text)!, bytes(list)), text);
    }
  });

  it("prints every IPv6 zero-run shape in RFC 5952 form", () => {
    // Exhaustive over which of the eight groups are zero; the other groups are 0xab.
    for (let pattern = 0; pattern < 256; pattern++) {
      const ip = new Uint8Array(16);
      for (let g = 0; g < 8; g++) if ((pattern & (1 << g)) === 0) ip[2 * g + 1] = 0xab;
      if (ip.subarray(0, 12).every((b, i) => b === [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff][i])) continue;
      const text = formatIP(ip);
      assert.deepEqual(parseIP(text), ip, text);
      assert.ok(!text.includes(":::"), text);
      assert.ok(text.split("::").length <= 2, text);
      // "::" replaces a longest zero run of at least two groups, the first one on a tie.
      let best = 0;
      let run = 0;
      for (let g = 0; g < 8; g++) {
        run = (pattern & (1 << g)) !== 0 ? run + 1 : 0;
        best = Math.max(best, run);
      }
      assert.equal(text.includes("::"), best >= 2, text);
    }
  });
});

describe("ipEqual()", () => {
  it("treats an IPv4 address and its IPv4-mapped form as equal, as Go's IP.Equal", () => {
    assert.ok(ipEqual(bytes([1, 2, 3, 4]), mapped(1, 2, 3, 4)));
    assert.ok(ipEqual(mapped(1, 2, 3, 4), bytes([1, 2, 3, 4])));
    assert.ok(!ipEqual(bytes([1, 2, 3, 4]), mapped(1, 2, 3, 5)));
    assert.ok(!ipEqual(bytes([1, 2, 3, 4]), parseIP("::102:304")!));
    assert.ok(!ipEqual(parseIP("::1")!, bytes([0, 0, 0, 1])));
    assert.ok(ipEqual(new Uint8Array(0), new Uint8Array(0)));
    assert.ok(!ipEqual(bytes([1, 2, 3]), bytes([1, 2, 3, 4])));
  });
});

describe("ipTo4() and ipTo16()", () => {
  it("convert between the two forms like Go's To4 and To16", () => {
    assert.deepEqual(ipTo4(mapped(10, 0, 0, 1)), bytes([10, 0, 0, 1]));
    assert.deepEqual(ipTo4(bytes([10, 0, 0, 1])), bytes([10, 0, 0, 1]));
    assert.equal(ipTo4(parseIP("::1")!), null);
    assert.equal(ipTo4(bytes([1, 2, 3])), null);
    assert.deepEqual(ipTo16(bytes([10, 0, 0, 1])), mapped(10, 0, 0, 1));
    assert.deepEqual(ipTo16(parseIP("::1")!), parseIP("::1"));
    assert.equal(ipTo16(bytes([1, 2, 3, 4, 5])), null);
  });
});

describe("parseCIDR()", () => {
  it("parses and masks what Go's net.ParseCIDR does", () => {
    for (const [text, network, mask] of CIDRS) {
      const net = parseCIDR(text);
      if (network === null) {
        assert.equal(net, null, text);
        continue;
      }
      assert.ok(net !== null, text);
      assert.deepEqual(net.network, bytes(network), text);
      assert.deepEqual(net.mask, bytes(mask!), text);
    }
  });

  it("records the prefix length", () => {
    assert.equal(parseCIDR("10.0.0.0/8")?.prefix, 8);
    assert.equal(parseCIDR("::/0")?.prefix, 0);
    assert.equal(parseCIDR("::1/128")?.prefix, 128);
    assert.equal(parseCIDR("10.0.0.0/08")?.prefix, 8);
  });
});

describe("cidrContains()", () => {
  it("matches addresses exactly as Go's IPNet.Contains", () => {
    for (const [text, network, , expected] of CIDRS) {
      if (network === null) continue;
      const net = parseCIDR(text)!;
      const got = CONTAINS_IPS.map((ip) => (cidrContains(net, parseIP(ip)!) ? "1" : "0")).join("");
      assert.equal(got, expected, text);
    }
  });

  it("matches IPv4 networks against 4-byte and IPv4-mapped 16-byte addresses alike", () => {
    const v4 = parseCIDR("10.0.0.0/8")!;
    const mappedNet = parseCIDR("::ffff:10.0.0.0/104")!;
    const all6 = parseCIDR("::/0")!;
    // Go: Contains() on 10.0.0.0/8, ::/0 and ::ffff:10.0.0.0/104 for raw byte slices.
    const cases: [number[], boolean, boolean, boolean][] = [
      [[10, 1, 2, 3], true, false, true],
      [[11, 1, 2, 3], false, false, false],
      [[], false, false, false],
      [[10, 1, 2], false, false, false],
      [[0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 255, 255, 10, 0, 0, 1], true, false, true],
      [[0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0], false, true, false],
      [[1, 2, 3, 4, 5], false, false, false],
    ];
    for (const [list, inV4, inAll6, inMapped] of cases) {
      assert.equal(cidrContains(v4, bytes(list)), inV4, `10.0.0.0/8 ∋ [${list}]`);
      assert.equal(cidrContains(all6, bytes(list)), inAll6, `::/0 ∋ [${list}]`);
      assert.equal(cidrContains(mappedNet, bytes(list)), inMapped, `::ffff:10.0.0.0/104 ∋ [${list}]`);
    }
  });
});

describe("formatCIDR()", () => {
  it("prints networks as Go's IPNet.String does", () => {
    assert.equal(formatCIDR(parseCIDR("10.1.2.3/8")!), "10.0.0.0/8");
    assert.equal(formatCIDR(parseCIDR("2001:db8::1/32")!), "2001:db8::/32");
    assert.equal(formatCIDR(parseCIDR("::ffff:10.0.0.0/104")!), "10.0.0.0/8");
    assert.equal(formatCIDR(parseCIDR("::ffff:1.2.3.4/64")!), "::/64");
  });
});
