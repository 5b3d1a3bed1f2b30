// Copyright (c) memberlist-ts authors. SPDX-License-Identifier: MPL-2.0
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { kRandomNodes, pushPullScale, randomOffset, retransmitLimit, suspicionTimeout } from "../lib/util.ts";
import { createSeededRandom, defaultRandom } from "../lib/random.ts";

// Expected values below were printed by Go 1.19 running memberlist's own
// util.go formulas (suspicionTimeout, retransmitLimit, pushPullScale).

/**
 * [n, suspicionTimeout in ns for (mult, interval) = (4, 1 s) LAN, (6, 5 s) WAN,
 * (3, 1 s) Local, (4, 200 ms), (5, 7 ms), (2, 333 ms)].
 */
const SUSPICION: number[][] = [
  [0, 4000000000, 30000000000, 3000000000, 800000000, 35000000, 666000000],
  [1, 4000000000, 30000000000, 3000000000, 800000000, 35000000, 666000000],
  [2, 4000000000, 30000000000, 3000000000, 800000000, 35000000, 666000000],
  [3, 4000000000, 30000000000, 3000000000, 800000000, 35000000, 666000000],
  [4, 4000000000, 30000000000, 3000000000, 800000000, 35000000, 666000000],
  [5, 4000000000, 30000000000, 3000000000, 800000000, 35000000, 666000000],
  [6, 4000000000, 30000000000, 3000000000, 800000000, 35000000, 666000000],
  [7, 4000000000, 30000000000, 3000000000, 800000000, 35000000, 666000000],
  [8, 4000000000, 30000000000, 3000000000, 800000000, 35000000, 666000000],
  [9, 4000000000, 30000000000, 3000000000, 800000000, 35000000, 666000000],
  [10, 4000000000, 30000000000, 3000000000, 800000000, 35000000, 666000000],
  [11, 4164000000, 31230000000, 3123000000, 832800000, 36435000, 693306000],
  [12, 4316000000, 32370000000, 3237000000, 863200000, 37765000, 718614000],
  [13, 4452000000, 33390000000, 3339000000, 890400000, 38955000, 741258000],
  [15, 4704000000, 35280000000, 3528000000, 940800000, 41160000, 783216000],
  [20, 5204000000, 39030000000, 3903000000, 1040800000, 45535000, 866466000],
  [25, 5588000000, 41910000000, 4191000000, 1117600000, 48895000, 930402000],
  [31, 5964000000, 44730000000, 4473000000, 1192800000, 52185000, 993006000],
  [32, 6020000000, 45150000000, 4515000000, 1204000000, 52675000, 1002330000],
  [33, 6072000000, 45540000000, 4554000000, 1214400000, 53130000, 1010988000],
  [50, 6792000000, 50940000000, 5094000000, 1358400000, 59430000, 1130868000],
  [64, 7224000000, 54180000000, 5418000000, 1444800000, 63210000, 1202796000],
  [65, 7248000000, 54360000000, 5436000000, 1449600000, 63420000, 1206792000],
  [99, 7980000000, 59850000000, 5985000000, 1596000000, 69825000, 1328670000],
  [100, 8000000000, 60000000000, 6000000000, 1600000000, 70000000, 1332000000],
  [101, 8016000000, 60120000000, 6012000000, 1603200000, 70140000, 1334664000],
  [128, 8428000000, 63210000000, 6321000000, 1685600000, 73745000, 1403262000],
  [129, 8440000000, 63300000000, 6330000000, 1688000000, 73850000, 1405260000],
  [255, 9624000000, 72180000000, 7218000000, 1924800000, 84210000, 1602396000],
  [256, 9632000000, 72240000000, 7224000000, 1926400000, 84280000, 1603728000],
  [257, 9636000000, 72270000000, 7227000000, 1927200000, 84315000, 1604394000],
  [414, 10468000000, 78510000000, 7851000000, 2093600000, 91595000, 1742922000],
  [500, 10792000000, 80940000000, 8094000000, 2158400000, 94430000, 1796868000],
  [512, 10836000000, 81270000000, 8127000000, 2167200000, 94815000, 1804194000],
  [999, 11996000000, 89970000000, 8997000000, 2399200000, 104965000, 1997334000],
  [1000, 12000000000, 90000000000, 9000000000, 2400000000, 105000000, 1998000000],
  [1001, 12000000000, 90000000000, 9000000000, 2400000000, 105000000, 1998000000],
  [1024, 12040000000, 90300000000, 9030000000, 2408000000, 105350000, 2004660000],
  [2000, 13204000000, 99030000000, 9903000000, 2640800000, 115535000, 2198466000],
  [4096, 14448000000, 108360000000, 10836000000, 2889600000, 126420000, 2405592000],
  [5000, 14792000000, 110940000000, 11094000000, 2958400000, 129430000, 2462868000],
  [5188, 14856000000, 111420000000, 11142000000, 2971200000, 129990000, 2473524000],
  [9977, 15992000000, 119940000000, 11994000000, 3198400000, 139930000, 2662668000],
  [9999, 15996000000, 119970000000, 11997000000, 3199200000, 139965000, 2663334000],
  [10000, 16000000000, 120000000000, 12000000000, 3200000000, 140000000, 2664000000],
  [10001, 16000000000, 120000000000, 12000000000, 3200000000, 140000000, 2664000000],
  [65536, 19264000000, 144480000000, 14448000000, 3852800000, 168560000, 3207456000],
  [100000, 20000000000, 150000000000, 15000000000, 4000000000, 175000000, 3330000000],
  [510505, 22832000000, 171240000000, 17124000000, 4566400000, 199780000, 3801528000],
  [1000000, 24000000000, 180000000000, 18000000000, 4800000000, 210000000, 3996000000],
];

/** [n, retransmitLimit(4, n), retransmitLimit(2, n), retransmitLimit(3, n), pushPullScale(30 s, n) in ms, pushPullScale(15 s, n) in ms]. */
const SCALES: number[][] = [
  [0, 0, 0, 0, 30000, 15000],
  [1, 4, 2, 3, 30000, 15000],
  [2, 4, 2, 3, 30000, 15000],
  [3, 4, 2, 3, 30000, 15000],
  [4, 4, 2, 3, 30000, 15000],
  [5, 4, 2, 3, 30000, 15000],
  [6, 4, 2, 3, 30000, 15000],
  [7, 4, 2, 3, 30000, 15000],
  [8, 4, 2, 3, 30000, 15000],
  [9, 4, 2, 3, 30000, 15000],
  [10, 8, 4, 6, 30000, 15000],
  [11, 8, 4, 6, 30000, 15000],
  [12, 8, 4, 6, 30000, 15000],
  [13, 8, 4, 6, 30000, 15000],
  [15, 8, 4, 6, 30000, 15000],
  [20, 8, 4, 6, 30000, 15000],
  [25, 8, 4, 6, 30000, 15000],
  [31, 8, 4, 6, 30000, 15000],
  [32, 8, 4, 6, 30000, 15000],
  [33, 8, 4, 6, 60000, 30000],
  [50, 8, 4, 6, 60000, 30000],
  [64, 8, 4, 6, 60000, 30000],
  [65, 8, 4, 6, 90000, 45000],
  [99, 8, 4, 6, 90000, 45000],
  [100, 12, 6, 9, 90000, 45000],
  [101, 12, 6, 9, 90000, 45000],
  [128, 12, 6, 9, 90000, 45000],
  [129, 12, 6, 9, 120000, 60000],
  [255, 12, 6, 9, 120000, 60000],
  [256, 12, 6, 9, 120000, 60000],
  [257, 12, 6, 9, 150000, 75000],
  [414, 12, 6, 9, 150000, 75000],
  [500, 12, 6, 9, 150000, 75000],
  [512, 12, 6, 9, 150000, 75000],
  [999, 12, 6, 9, 180000, 90000],
  [1000, 16, 8, 12, 180000, 90000],
  [1001, 16, 8, 12, 180000, 90000],
  [1024, 16, 8, 12, 180000, 90000],
  [2000, 16, 8, 12, 210000, 105000],
  [4096, 16, 8, 12, 240000, 120000],
  [5000, 16, 8, 12, 270000, 135000],
  [5188, 16, 8, 12, 270000, 135000],
  [9977, 16, 8, 12, 300000, 150000],
  [9999, 16, 8, 12, 300000, 150000],
  [10000, 20, 10, 15, 300000, 150000],
  [10001, 20, 10, 15, 300000, 150000],
  [65536, 20, 10, 15, 360000, 180000],
  [100000, 24, 12, 18, 390000, 195000],
  [510505, 24, 12, 18, 450000, 225000],
  [1000000, 28, 14, 21, 480000, 240000],
];

/**
 * Go's totals over every n in [0, 100000]: Σ v and Σ n·v, where v is
 * suspicionTimeout(1, n, 1 s) in ms (that is, Go's truncated 1000·log10(n)),
 * retransmitLimit(1, n), and pushPullScale(1 ms, n) in ms. Any single
 * difference from Go anywhere in the range changes a total.
 * Go printed: "sums S 456527892 23912012179491 R 488895 24949850505 P 1168961 62137273120".
 */
const GO_TOTALS = {
  suspicion: [456527892, 23912012179491],
  retransmit: [488895, 24949850505],
  pushPull: [1168961, 62137273120],
};

/** Milliseconds to Go nanoseconds, rounding away the float error of fractional results. */
const toNs = (ms: number): number => Math.round(ms * 1e6);

describe("suspicionTimeout()", () => {
  it("scales with log10(n), floored at 1 (Go's TestSuspicionTimeout cases)", () => {
    const cases: [number, number][] = [[5, 1000], [10, 1000], [50, 1698], [100, 2000], [500, 2698], [
      1000,
      3000,
    ]];
    for (const [n, perMult] of cases) assert.equal(suspicionTimeout(3, n, 1000) / 3, perMult, `n=${n}`);
  });

  it("equals Go's durations for the three profiles and odd intervals", () => {
    const params: [number, number][] = [[4, 1000], [6, 5000], [3, 1000], [4, 200], [5, 7], [2, 333]];
    for (const [n, ...expected] of SUSPICION) {
      params.forEach(([mult, interval], i) => {
        assert.equal(
          toNs(suspicionTimeout(mult, n!, interval)),
          expected[i],
          `mult ${mult}, n ${n}, ${interval} ms`,
        );
      });
    }
  });

  it("gives whole milliseconds whenever the interval is a multiple of one second", () => {
    for (let n = 0; n <= 2000; n++) assert.ok(Number.isInteger(suspicionTimeout(4, n, 1000)), `n=${n}`);
  });

  it("matches Go for every n from 0 to 100000", () => {
    let sum = 0;
    let weighted = 0;
    for (let n = 0; n <= 100_000; n++) {
      const v = suspicionTimeout(1, n, 1000);
      sum += v;
      weighted += v * n;
    }
    assert.deepEqual([sum, weighted], GO_TOTALS.suspicion);
  });
});

describe("retransmitLimit()", () => {
  it("is mult × ceil(log10(n + 1)) (Go's TestRetransmitLimit cases)", () => {
    assert.equal(retransmitLimit(3, 0), 0);
    assert.equal(retransmitLimit(3, 1), 3);
    assert.equal(retransmitLimit(3, 99), 6);
  });

  it("equals Go's values at the decade boundaries and beyond", () => {
    for (const [n, lan, local, three] of SCALES) {
      assert.equal(retransmitLimit(4, n!), lan, `mult 4, n ${n}`);
      assert.equal(retransmitLimit(2, n!), local, `mult 2, n ${n}`);
      assert.equal(retransmitLimit(3, n!), three, `mult 3, n ${n}`);
    }
  });

  it("matches Go for every n from 0 to 100000", () => {
    let sum = 0;
    let weighted = 0;
    for (let n = 0; n <= 100_000; n++) {
      const v = retransmitLimit(1, n);
      sum += v;
      weighted += v * n;
    }
    assert.deepEqual([sum, weighted], GO_TOTALS.retransmit);
  });
});

describe("pushPullScale()", () => {
  it("keeps the interval up to 32 nodes, then adds one per doubling (Go's TestPushPullScale)", () => {
    for (let n = 0; n <= 32; n++) assert.equal(pushPullScale(1000, n), 1000, `n=${n}`);
    for (let n = 33; n <= 64; n++) assert.equal(pushPullScale(1000, n), 2000, `n=${n}`);
    for (let n = 65; n <= 128; n++) assert.equal(pushPullScale(1000, n), 3000, `n=${n}`);
  });

  it("equals Go's values for the LAN and Local intervals", () => {
    for (const [n, , , , lan, local] of SCALES) {
      assert.equal(pushPullScale(30_000, n!), lan, `30 s, n ${n}`);
      assert.equal(pushPullScale(15_000, n!), local, `15 s, n ${n}`);
    }
  });

  it("matches Go for every n from 0 to 100000", () => {
    let sum = 0;
    let weighted = 0;
    for (let n = 0; n <= 100_000; n++) {
      const v = pushPullScale(1, n);
      sum += v;
      weighted += v * n;
    }
    assert.deepEqual([sum, weighted], GO_TOTALS.pushPull);
  });
});

describe("randomOffset()", () => {
  it("returns 0 for n = 0", () => {
    assert.equal(randomOffset(0, defaultRandom), 0);
  });

  it("spreads over a large range without repeats (Go's TestRandomOffset)", () => {
    const seen = new Set<number>();
    for (let i = 0; i < 100; i++) {
      // Go's 2 << 30; JavaScript's << would overflow 32 bits.
      const offset = randomOffset(2 ** 31, createSeededRandom(1000 + i));
      assert.ok(Number.isInteger(offset) && offset >= 0 && offset < 2 ** 31);
      assert.ok(!seen.has(offset), "collision");
      seen.add(offset);
    }
  });

  it("stays in [0, n)", () => {
    const random = createSeededRandom(7);
    const counts = new Array<number>(5).fill(0);
    for (let i = 0; i < 5000; i++) counts[randomOffset(5, random)]!++;
    for (const count of counts) assert.ok(count > 800 && count < 1200, `counts ${counts}`);
  });
});

interface TestNode {
  name: string;
  state: "alive" | "suspect" | "dead";
}

function makeNodes(count: number): TestNode[] {
  const states = ["alive", "suspect", "dead"] as const;
  return Array.from({ length: count }, (_, i) => ({ name: `test${i}`, state: states[i % 3]! }));
}

const excludeBad = (n: TestNode): boolean => n.name === "test0" || n.state !== "alive";

describe("kRandomNodes()", () => {
  it("picks k distinct eligible nodes from a large list (Go's TestKRandomNodes)", () => {
    const nodes = makeNodes(90);
    const random = createSeededRandom(42);
    const picks = [1, 2, 3].map(() => kRandomNodes(3, nodes, excludeBad, random));
    for (const pick of picks) {
      assert.equal(pick.length, 3);
      assert.equal(new Set(pick.map((n) => n.name)).size, 3);
      for (const n of pick) {
        assert.notEqual(n.name, "test0");
        assert.equal(n.state, "alive");
      }
    }
    const names = picks.map((pick) => pick.map((n) => n.name).join());
    assert.notEqual(names[0], names[1]);
    assert.notEqual(names[0], names[2]);
    assert.notEqual(names[1], names[2]);
  });

  it("finds every eligible node in a small list (Go's very-small path)", () => {
    // 8 nodes: test3 and test6 are the only alive ones besides the excluded test0.
    const nodes = makeNodes(8);
    for (let seed = 0; seed < 200; seed++) {
      const pick = kRandomNodes(3, nodes, excludeBad, createSeededRandom(seed));
      assert.deepEqual(pick.map((n) => n.name).sort(), ["test3", "test6"]);
    }
  });

  it("never misses the only eligible peer of a 3-node cluster gossiping to 3 nodes", () => {
    // 3 < 3k, so the list is shuffled and scanned; 0.2.2's random draws could miss it.
    const nodes = [{ name: "self" }, { name: "dead" }, { name: "peer" }];
    for (let seed = 0; seed < 200; seed++) {
      const pick = kRandomNodes(3, nodes, (n) => n.name !== "peer", createSeededRandom(seed));
      assert.deepEqual(pick, [{ name: "peer" }]);
    }
  });

  it("leaves the input order alone and returns the records themselves", () => {
    const nodes = makeNodes(10);
    const before = nodes.map((n) => n.name);
    const small = kRandomNodes(5, nodes, null, createSeededRandom(1)); // 10 < 15: shuffle path
    const large = kRandomNodes(2, nodes, null, createSeededRandom(1)); // 10 ≥ 6: random draws
    assert.deepEqual(nodes.map((n) => n.name), before);
    for (const n of [...small, ...large]) assert.ok(nodes.includes(n));
    assert.equal(small.length, 5);
    assert.equal(large.length, 2);
  });

  it("returns everything eligible, in random order, when k exceeds it", () => {
    const nodes = makeNodes(6);
    const orders = new Set<string>();
    for (let seed = 0; seed < 50; seed++) {
      const pick = kRandomNodes(10, nodes, null, createSeededRandom(seed));
      assert.equal(pick.length, 6);
      orders.add(pick.map((n) => n.name).join());
    }
    assert.ok(orders.size > 10);
  });

  it("returns nothing for k = 0 or an empty list, and is deterministic per seed", () => {
    assert.deepEqual(kRandomNodes(0, makeNodes(5), null, defaultRandom), []);
    assert.deepEqual(kRandomNodes(3, [] as TestNode[], null, defaultRandom), []);
    const nodes = makeNodes(100);
    assert.deepEqual(
      kRandomNodes(4, nodes, excludeBad, createSeededRandom(9)),
      kRandomNodes(4, nodes, excludeBad, createSeededRandom(9)),
    );
  });

  it("may return fewer than k when random draws miss (large-list path)", () => {
    // 30 nodes, k = 3, only one eligible: up to 90 draws, so it is found with
    // probability 1 − (29/30)^90 ≈ 95%; either way at most that one comes back.
    const nodes = Array.from({ length: 30 }, (_, i) => ({ name: `n${i}` }));
    let found = 0;
    for (let seed = 0; seed < 200; seed++) {
      const pick = kRandomNodes(3, nodes, (n) => n.name !== "n7", createSeededRandom(seed));
      assert.ok(pick.length <= 1);
      found += pick.length;
    }
    assert.ok(found > 150 && found < 200, `found ${found}`);
  });
});
