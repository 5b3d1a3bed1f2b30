// Copyright (c) memberlist-ts authors. SPDX-License-Identifier: MPL-2.0
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import {
  buildVsnArray,
  type Config,
  defaultLANConfig,
  defaultLocalConfig,
  defaultWANConfig,
  encryptionEnabled,
  ipAllowed,
  ipMustBeChecked,
  META_MAX_SIZE,
  PROTOCOL_VERSION_2_COMPATIBLE,
  PROTOCOL_VERSION_MAX,
  PROTOCOL_VERSION_MIN,
  validateConfig,
} from "../lib/config.ts";
import { Keyring } from "../lib/keyring.ts";
import { defaultLogger, silentLogger } from "../lib/logging.ts";
import { noopMetrics } from "../lib/metrics.ts";
import { systemClock, VirtualClock } from "../lib/clock.ts";
import { createSeededRandom, defaultRandom } from "../lib/random.ts";
import { getBuiltinModule } from "../lib/_runtime.ts";
import type { Transport } from "../lib/transport.ts";

// Go's default profiles, as printed (durations in ms) by a Go program calling
// DefaultLANConfig, DefaultWANConfig and DefaultLocalConfig of memberlist
// 0.2.2 and of the newest memberlist (1b4c746). Both print the same values for
// every field they share; the newest adds Label, SkipInboundLabelCheck,
// MetricLabels, QueueCheckInterval and MsgpackUseNewTimeFormat.
const GO_LAN = {
  transport: null,
  label: "",
  skipInboundLabelCheck: false,
  bindAddr: "0.0.0.0",
  bindPort: 7946,
  advertiseAddr: "",
  advertisePort: 7946,
  protocolVersion: 2,
  tcpTimeout: 10000,
  indirectChecks: 3,
  retransmitMult: 4,
  suspicionMult: 4,
  suspicionMaxTimeoutMult: 6,
  pushPullInterval: 30000,
  probeInterval: 1000,
  probeTimeout: 500,
  disableTcpPings: false,
  disableTcpPingsForNode: null,
  awarenessMaxMultiplier: 8,
  gossipInterval: 200,
  gossipNodes: 3,
  gossipToTheDeadTime: 30000,
  gossipVerifyIncoming: true,
  gossipVerifyOutgoing: true,
  enableCompression: true,
  secretKey: null,
  keyring: null,
  delegate: null,
  delegateProtocolVersion: 0,
  delegateProtocolMin: 0,
  delegateProtocolMax: 0,
  events: null,
  conflict: null,
  merge: null,
  ping: null,
  alive: null,
  dnsConfigPath: "/etc/resolv.conf",
  handoffQueueDepth: 1024,
  udpBufferSize: 1400,
  deadNodeReclaimTime: 0,
  requireNodeNames: false,
  cidrsAllowed: null,
  metricLabels: [], // Go: nil
  queueCheckInterval: 30000,
  msgpackUseNewTimeFormat: false,
};

const GO_WAN = {
  ...GO_LAN,
  tcpTimeout: 30000,
  suspicionMult: 6,
  pushPullInterval: 60000,
  probeTimeout: 3000,
  probeInterval: 5000,
  gossipNodes: 4,
  gossipInterval: 500,
  gossipToTheDeadTime: 60000,
};

const GO_LOCAL = {
  ...GO_LAN,
  tcpTimeout: 1000,
  indirectChecks: 1,
  retransmitMult: 2,
  suspicionMult: 3,
  pushPullInterval: 15000,
  probeTimeout: 200,
  probeInterval: 1000,
  gossipInterval: 100,
  gossipToTheDeadTime: 15000,
};

/** Fields that Go's Config does not have (or has as something else), with our defaults. */
const OURS = [
  "name",
  "resolve",
  "metaMaxSize",
  "pushPullAfterJoin",
  "announceAfterJoin",
  "repairAccusations",
  "userBroadcastShare",
  "reconnectInterval",
  "reconnectTimeout",
  "tcpIdleTimeout",
  "maxNodes",
  "maxInboundStreams",
  "maxInboundStreamsPerHost",
  "logger",
  "metrics",
  "clock",
  "random",
];

function assertProfile(config: Config, go: Record<string, unknown>): void {
  for (const [key, value] of Object.entries(go)) {
    assert.deepEqual(config[key as keyof Config], value, key);
  }
  assert.deepEqual(Object.keys(config).sort(), [...Object.keys(go), ...OURS].sort());
  assert.equal(config.metaMaxSize, 512);
  assert.equal(config.pushPullAfterJoin, 2);
  assert.equal(config.announceAfterJoin, true);
  assert.equal(config.repairAccusations, true);
  assert.equal(config.userBroadcastShare, 0.25);
  assert.equal(config.reconnectInterval, 30_000);
  assert.equal(config.reconnectTimeout, 86_400_000);
  assert.equal(config.maxNodes, 100_000);
  assert.equal(config.maxInboundStreams, 256);
  assert.equal(config.maxInboundStreamsPerHost, 32);
  assert.equal(config.tcpIdleTimeout, Math.min(config.tcpTimeout, config.tcpTimeout === 30_000 ? 15_000 : 5_000));
  assert.equal(config.logger, defaultLogger);
  assert.equal(config.metrics, noopMetrics);
  assert.equal(config.clock, systemClock);
  assert.equal(config.random, defaultRandom);
  assert.equal(typeof config.resolve, "function");
}

function hostname(): string {
  try {
    return getBuiltinModule<{ hostname(): string }>("node:os")?.hostname() ?? "";
  } catch {
    return "";
  }
}

describe("constants", () => {
  it("match Go's ProtocolVersionMin, ProtocolVersion2Compatible, ProtocolVersionMax and MetaMaxSize", () => {
    assert.equal(PROTOCOL_VERSION_MIN, 1);
    assert.equal(PROTOCOL_VERSION_2_COMPATIBLE, 2);
    assert.equal(PROTOCOL_VERSION_MAX, 5);
    assert.equal(META_MAX_SIZE, 512);
  });
});

describe("defaultLANConfig()", () => {
  it("matches Go's DefaultLANConfig", () => {
    assertProfile(defaultLANConfig(), GO_LAN);
  });

  it("names the node after the host", () => {
    assert.equal(defaultLANConfig().name, hostname());
  });

  it("returns a new object each time", () => {
    const a = defaultLANConfig();
    a.probeInterval = 1;
    (a.metricLabels as unknown[]).push({ name: "x", value: "y" });
    assert.equal(defaultLANConfig().probeInterval, 1000);
    assert.deepEqual(defaultLANConfig().metricLabels, []);
  });
});

describe("defaultWANConfig()", () => {
  it("matches Go's DefaultWANConfig", () => {
    assertProfile(defaultWANConfig(), GO_WAN);
  });
});

describe("defaultLocalConfig()", () => {
  it("matches Go's DefaultLocalConfig", () => {
    assertProfile(defaultLocalConfig(), GO_LOCAL);
  });
});

describe("buildVsnArray()", () => {
  it("gives Go's BuildVsnArray bytes", () => {
    assert.deepEqual(buildVsnArray(defaultLANConfig()), new Uint8Array([1, 5, 2, 0, 0, 0]));
    assert.deepEqual(
      buildVsnArray({
        protocolVersion: 4,
        delegateProtocolMin: 1,
        delegateProtocolMax: 3,
        delegateProtocolVersion: 2,
      }),
      new Uint8Array([1, 5, 4, 1, 3, 2]),
    );
  });
});

describe("validateConfig()", () => {
  it("fills missing fields from defaultLANConfig()", () => {
    const config = validateConfig({ name: "a", probeTimeout: 250 });
    for (const [key, value] of Object.entries(GO_LAN)) {
      if (key === "probeTimeout") continue;
      assert.deepEqual(config[key as keyof Config], value, key);
    }
    assert.equal(config.probeTimeout, 250);
    assert.equal(config.name, "a");
    assert.equal(config.metaMaxSize, 512);
  });

  it("defaults the name to the host name", () => {
    const name = hostname();
    if (name === "") {
      assert.throws(() => validateConfig({}), TypeError);
    } else {
      assert.equal(validateConfig({}).name, name);
    }
  });

  it("keeps every field of a complete profile", () => {
    const wan = { ...defaultWANConfig(), name: "w" };
    const config = validateConfig(wan);
    for (const key of Object.keys(wan) as (keyof Config)[]) {
      if (key === "cidrsAllowed" || key === "metricLabels") assert.deepEqual(config[key], wan[key], key);
      else assert.equal(config[key], wan[key], key);
    }
  });

  it("treats undefined as missing", () => {
    const config = validateConfig({ name: "a", probeInterval: undefined } as unknown as Partial<Config>);
    assert.equal(config.probeInterval, 1000);
  });

  it("rejects a key that is not a config field, naming the closest field", () => {
    const cases: [string, string][] = [
      ["probeIntervall", "probeInterval"],
      ["ProbeInterval", "probeInterval"],
      ["secret_key", "secretKey"],
      ["bindaddr", "bindAddr"],
      ["gossipNode", "gossipNodes"],
    ];
    for (const [typo, closest] of cases) {
      assert.throws(() => validateConfig({ name: "a", [typo]: 1 } as unknown as Partial<Config>), {
        name: "TypeError",
        message: `Invalid config "${typo}": not a configuration field: did you mean "${closest}"?`,
      });
    }
    // A ResolvedConfig's derived fields are accepted back (see "accepts its own result again").
    assert.doesNotThrow(() => validateConfig({ ...validateConfig({ name: "a" }) }));
  });

  it("hints at the host name (and Deno's --allow-sys) when name is empty and the host name is unavailable", () => {
    // The host name is available here: an empty name is then a plain mistake, without the hint.
    assert.throws(() => validateConfig({ name: "" }), {
      name: "TypeError",
      message: 'Invalid config "name": expected a non-empty string, got ""',
    });
  });

  it("accepts its own result again", () => {
    const first = validateConfig({ name: "a", label: "x", cidrsAllowed: ["10.0.0.0/8"], protocolVersion: 5 });
    const second = validateConfig(first);
    assert.deepEqual({ ...second, resolve: null }, { ...first, resolve: null });
  });

  it("returns a frozen copy", () => {
    const labels = [{ name: "dc", value: "a" }];
    const cidrs = ["10.0.0.0/8"];
    const key = new Uint8Array(16).fill(1);
    const config = validateConfig({ name: "a", metricLabels: labels, cidrsAllowed: cidrs, secretKey: key });
    assert.ok(Object.isFrozen(config));
    assert.ok(Object.isFrozen(config.metricLabels));
    assert.ok(Object.isFrozen(config.metricLabels[0]));
    assert.ok(Object.isFrozen(config.cidrsAllowed));
    assert.ok(Object.isFrozen(config.cidrs));
    labels[0]!.value = "b";
    cidrs.push("::/0");
    key.fill(2);
    assert.deepEqual(config.metricLabels, [{ name: "dc", value: "a" }]);
    assert.deepEqual(config.cidrsAllowed, ["10.0.0.0/8"]);
    assert.deepEqual(config.secretKey, new Uint8Array(16).fill(1));
    assert.deepEqual(config.keyring?.getPrimaryKey(), new Uint8Array(16).fill(1));
  });

  it("keeps delegates, logger, metrics, clock and random by reference", () => {
    class Events {
      joined: string[] = [];
      notifyJoin(node: { name: string }): void {
        this.joined.push(node.name);
      }
    }
    const events = new Events();
    const clock = new VirtualClock();
    const random = createSeededRandom(1);
    const config = validateConfig({ name: "a", events, clock, random, logger: silentLogger });
    assert.equal(config.events, events);
    assert.equal(config.clock, clock);
    assert.equal(config.random, random);
    assert.equal(config.logger, silentLogger);
  });

  it("derives vsn, encryptionVersion and labelBytes", () => {
    const a = validateConfig({ name: "a" });
    assert.deepEqual(a.vsn, new Uint8Array([1, 5, 2, 0, 0, 0]));
    assert.equal(a.encryptionVersion, 1);
    assert.deepEqual(a.labelBytes, new Uint8Array(0));
    assert.deepEqual(a.cidrs, []);

    const b = validateConfig({
      name: "b",
      protocolVersion: 1,
      delegateProtocolMin: 2,
      delegateProtocolMax: 7,
      delegateProtocolVersion: 4,
      label: "prod",
    });
    assert.deepEqual(b.vsn, new Uint8Array([1, 5, 1, 2, 7, 4]));
    assert.equal(b.encryptionVersion, 0);
    assert.deepEqual(b.labelBytes, new TextEncoder().encode("prod"));
    for (let pv = 2; pv <= 5; pv++) {
      assert.equal(validateConfig({ name: "c", protocolVersion: pv }).encryptionVersion, 1);
    }
  });

  it("accepts labels up to 255 bytes of UTF-8", () => {
    assert.equal(validateConfig({ name: "a", label: "x".repeat(255) }).labelBytes.length, 255);
    assert.equal(validateConfig({ name: "a", label: "é".repeat(127) }).labelBytes.length, 254);
    assert.throws(() => validateConfig({ name: "a", label: "é".repeat(128) }), {
      name: "RangeError",
      message: 'Invalid config "label": expected at most 255 bytes of UTF-8, got 256 bytes',
    });
  });

  it("accepts the boundaries of every range", () => {
    const ok: Partial<Config>[] = [
      { bindPort: 0 },
      { bindPort: 65535, advertisePort: 65535 },
      { protocolVersion: 1 },
      { protocolVersion: 5 },
      { tcpTimeout: 1, probeTimeout: 1 },
      { tcpTimeout: 3_600_000, probeTimeout: 3_600_000 },
      {
        probeInterval: 0,
        gossipInterval: 0,
        pushPullInterval: 0,
        gossipToTheDeadTime: 0,
        deadNodeReclaimTime: 0,
      },
      { probeInterval: 86_400_000, pushPullInterval: 86_400_000, queueCheckInterval: 86_400_000 },
      { probeInterval: 0.5, probeTimeout: 1.5 },
      { indirectChecks: 0, retransmitMult: 0, gossipNodes: 0 },
      { suspicionMult: 1, suspicionMaxTimeoutMult: 1, awarenessMaxMultiplier: 1, handoffQueueDepth: 1 },
      { udpBufferSize: 64 },
      { udpBufferSize: 65502 },
      { metaMaxSize: 0 },
      { metaMaxSize: 64000 },
      { reconnectInterval: 0, reconnectTimeout: 0, userBroadcastShare: 0 },
      { userBroadcastShare: 0.9 },
      { reconnectInterval: 86_400_000, reconnectTimeout: 2_592_000_000 },
      { maxNodes: 1, maxInboundStreams: 1, maxInboundStreamsPerHost: 1, tcpIdleTimeout: 1 },
      { maxNodes: 16_777_216, maxInboundStreams: 65_536, maxInboundStreamsPerHost: 65_536, tcpIdleTimeout: 3_600_000 },
      { delegateProtocolMin: 255, delegateProtocolMax: 255, delegateProtocolVersion: 255 },
      { advertiseAddr: "10.0.0.1", bindAddr: "::" },
      { advertiseAddr: "::ffff:10.0.0.1", bindAddr: "127.0.0.1" },
      { cidrsAllowed: [] },
      { secretKey: new Uint8Array(0) },
      { disableTcpPingsForNode: (name: string) => name === "x" },
      { logger: console },
    ];
    for (const partial of ok) validateConfig({ name: "a", ...partial });
  });

  /** [partial, error class, exact message]. */
  const BAD: [Record<string, unknown>, typeof TypeError | typeof RangeError, string][] = [
    [{ name: 5 }, TypeError, 'Invalid config "name": expected a non-empty string, got 5'],
    [{ name: "" }, TypeError, 'Invalid config "name": expected a non-empty string, got ""'],
    [
      { transport: {} },
      TypeError,
      'Invalid config "transport.finalAdvertiseAddr": expected a function, got undefined',
    ],
    [{ transport: "udp" }, TypeError, 'Invalid config "transport": expected a Transport or null, got "udp"'],
    [{ label: 7 }, TypeError, 'Invalid config "label": expected a string, got 7'],
    [
      { label: "x".repeat(256) },
      RangeError,
      'Invalid config "label": expected at most 255 bytes of UTF-8, got 256 bytes',
    ],
    [
      { skipInboundLabelCheck: 1 },
      TypeError,
      'Invalid config "skipInboundLabelCheck": expected a boolean, got 1',
    ],
    [
      { bindAddr: "localhost" },
      TypeError,
      'Invalid config "bindAddr": expected an IP address, got "localhost"',
    ],
    [{ bindAddr: "" }, TypeError, 'Invalid config "bindAddr": expected an IP address, got ""'],
    [
      { bindPort: 65536 },
      RangeError,
      'Invalid config "bindPort": expected an integer in [0, 65535], got 65536',
    ],
    [{ bindPort: -1 }, RangeError, 'Invalid config "bindPort": expected an integer in [0, 65535], got -1'],
    [
      { bindPort: 7946.5 },
      RangeError,
      'Invalid config "bindPort": expected an integer in [0, 65535], got 7946.5',
    ],
    [
      { bindPort: "7946" },
      TypeError,
      'Invalid config "bindPort": expected an integer in [0, 65535], got "7946"',
    ],
    [
      { advertiseAddr: "host.example" },
      TypeError,
      'Invalid config "advertiseAddr": expected "" or an IP address, got "host.example"',
    ],
    [
      { advertisePort: 70000 },
      RangeError,
      'Invalid config "advertisePort": expected an integer in [0, 65535], got 70000',
    ],
    [
      { protocolVersion: 0 },
      RangeError,
      'Invalid config "protocolVersion": expected an integer in [1, 5], got 0',
    ],
    [
      { protocolVersion: 6 },
      RangeError,
      'Invalid config "protocolVersion": expected an integer in [1, 5], got 6',
    ],
    [
      { tcpTimeout: 0 },
      RangeError,
      'Invalid config "tcpTimeout": expected a number of milliseconds in [1, 3600000], got 0',
    ],
    [
      { tcpTimeout: NaN },
      RangeError,
      'Invalid config "tcpTimeout": expected a number of milliseconds in [1, 3600000], got NaN',
    ],
    [
      { indirectChecks: -1 },
      RangeError,
      'Invalid config "indirectChecks": expected an integer in [0, 2147483647], got -1',
    ],
    [
      { retransmitMult: 1.5 },
      RangeError,
      'Invalid config "retransmitMult": expected an integer in [0, 2147483647], got 1.5',
    ],
    [
      { suspicionMult: 0 },
      RangeError,
      'Invalid config "suspicionMult": expected an integer in [1, 2147483647], got 0',
    ],
    [
      { suspicionMaxTimeoutMult: 0 },
      RangeError,
      'Invalid config "suspicionMaxTimeoutMult": expected an integer in [1, 2147483647], got 0',
    ],
    [
      { pushPullInterval: -1 },
      RangeError,
      'Invalid config "pushPullInterval": expected a number of milliseconds in [0, 86400000], got -1',
    ],
    [
      { probeInterval: 1e9 },
      RangeError,
      'Invalid config "probeInterval": expected a number of milliseconds in [0, 86400000], got 1000000000',
    ],
    [
      { probeInterval: "1s" },
      TypeError,
      'Invalid config "probeInterval": expected a number of milliseconds in [0, 86400000], got "1s"',
    ],
    [
      { probeTimeout: -5 },
      RangeError,
      'Invalid config "probeTimeout": expected a number of milliseconds in [1, 3600000], got -5',
    ],
    [
      { probeTimeout: Infinity },
      RangeError,
      'Invalid config "probeTimeout": expected a number of milliseconds in [1, 3600000], got Infinity',
    ],
    [{ disableTcpPings: "no" }, TypeError, 'Invalid config "disableTcpPings": expected a boolean, got "no"'],
    [
      { disableTcpPingsForNode: true },
      TypeError,
      'Invalid config "disableTcpPingsForNode": expected a function or null, got true',
    ],
    [
      { awarenessMaxMultiplier: 0 },
      RangeError,
      'Invalid config "awarenessMaxMultiplier": expected an integer in [1, 2147483647], got 0',
    ],
    [
      { gossipInterval: -0.5 },
      RangeError,
      'Invalid config "gossipInterval": expected a number of milliseconds in [0, 86400000], got -0.5',
    ],
    [
      { gossipNodes: -3 },
      RangeError,
      'Invalid config "gossipNodes": expected an integer in [0, 2147483647], got -3',
    ],
    [
      { gossipToTheDeadTime: -1 },
      RangeError,
      'Invalid config "gossipToTheDeadTime": expected a number of milliseconds in [0, 86400000], got -1',
    ],
    [
      { gossipVerifyIncoming: null },
      TypeError,
      'Invalid config "gossipVerifyIncoming": expected a boolean, got null',
    ],
    [
      { gossipVerifyOutgoing: 0 },
      TypeError,
      'Invalid config "gossipVerifyOutgoing": expected a boolean, got 0',
    ],
    [
      { enableCompression: "yes" },
      TypeError,
      'Invalid config "enableCompression": expected a boolean, got "yes"',
    ],
    [
      { secretKey: "0123456789abcdef" },
      TypeError,
      'Invalid config "secretKey": expected a Uint8Array of 16, 24 or 32 bytes, or null, got "0123456789abcdef"',
    ],
    [
      { secretKey: [1, 2, 3] },
      TypeError,
      'Invalid config "secretKey": expected a Uint8Array of 16, 24 or 32 bytes, or null, got an array',
    ],
    [
      { secretKey: new Uint8Array(15) },
      RangeError,
      'Invalid config "secretKey": expected 16, 24 or 32 bytes, got 15 bytes',
    ],
    [{ keyring: {} }, TypeError, 'Invalid config "keyring": expected a Keyring or null, got an object'],
    [{ keyring: new Map() }, TypeError, 'Invalid config "keyring": expected a Keyring or null, got a Map'],
    [
      { delegate: () => {} },
      TypeError,
      'Invalid config "delegate": expected an object or null, got a function',
    ],
    [
      { delegate: { nodeMeta: "meta" } },
      TypeError,
      'Invalid config "delegate.nodeMeta": expected a function, got "meta"',
    ],
    [
      { delegateProtocolVersion: 256 },
      RangeError,
      'Invalid config "delegateProtocolVersion": expected an integer in [0, 255], got 256',
    ],
    [
      { delegateProtocolMin: -1 },
      RangeError,
      'Invalid config "delegateProtocolMin": expected an integer in [0, 255], got -1',
    ],
    [
      { delegateProtocolMax: 1.5 },
      RangeError,
      'Invalid config "delegateProtocolMax": expected an integer in [0, 255], got 1.5',
    ],
    [
      { delegateProtocolMin: 3, delegateProtocolMax: 2, delegateProtocolVersion: 2 },
      RangeError,
      'Invalid config "delegateProtocolMin": expected at most delegateProtocolMax (2), got 3',
    ],
    [
      { delegateProtocolVersion: 1 },
      RangeError,
      'Invalid config "delegateProtocolVersion": expected an integer in [delegateProtocolMin, delegateProtocolMax] = [0, 0], got 1',
    ],
    [
      { delegateProtocolMin: 2, delegateProtocolMax: 4, delegateProtocolVersion: 5 },
      RangeError,
      'Invalid config "delegateProtocolVersion": expected an integer in [delegateProtocolMin, delegateProtocolMax] = [2, 4], got 5',
    ],
    [
      { events: { notifyJoin: 1 } },
      TypeError,
      'Invalid config "events.notifyJoin": expected a function, got 1',
    ],
    [{ events: [] }, TypeError, 'Invalid config "events": expected an object or null, got an array'],
    [
      { conflict: { notifyConflict: null } },
      TypeError,
      'Invalid config "conflict.notifyConflict": expected a function, got null',
    ],
    [{ merge: "veto" }, TypeError, 'Invalid config "merge": expected an object or null, got "veto"'],
    [
      { ping: { ackPayload: {} } },
      TypeError,
      'Invalid config "ping.ackPayload": expected a function, got an object',
    ],
    [
      { alive: { notifyAlive: true } },
      TypeError,
      'Invalid config "alive.notifyAlive": expected a function, got true',
    ],
    [{ dnsConfigPath: null }, TypeError, 'Invalid config "dnsConfigPath": expected a string, got null'],
    [{ resolve: null }, TypeError, 'Invalid config "resolve": expected a function, got null'],
    [
      { handoffQueueDepth: 0 },
      RangeError,
      'Invalid config "handoffQueueDepth": expected an integer in [1, 2147483647], got 0',
    ],
    [
      { udpBufferSize: 63 },
      RangeError,
      'Invalid config "udpBufferSize": expected an integer in [64, 65502], got 63',
    ],
    [
      { udpBufferSize: 65503 },
      RangeError,
      'Invalid config "udpBufferSize": expected an integer in [64, 65502], got 65503',
    ],
    [
      { deadNodeReclaimTime: -1 },
      RangeError,
      'Invalid config "deadNodeReclaimTime": expected a number of milliseconds in [0, 86400000], got -1',
    ],
    [
      { requireNodeNames: "true" },
      TypeError,
      'Invalid config "requireNodeNames": expected a boolean, got "true"',
    ],
    [
      { cidrsAllowed: "10.0.0.0/8" },
      TypeError,
      'Invalid config "cidrsAllowed": expected an array of CIDR strings or null, got "10.0.0.0/8"',
    ],
    [
      { cidrsAllowed: ["10.0.0.0/8", "10.0.0.0/33"] },
      TypeError,
      'Invalid config "cidrsAllowed[1]": expected CIDR text such as "10.0.0.0/8" or "fd00::/8", got "10.0.0.0/33"',
    ],
    [
      { cidrsAllowed: ["10.0.0.1"] },
      TypeError,
      'Invalid config "cidrsAllowed[0]": expected CIDR text such as "10.0.0.0/8" or "fd00::/8", got "10.0.0.1"',
    ],
    [
      { cidrsAllowed: [8] },
      TypeError,
      'Invalid config "cidrsAllowed[0]": expected CIDR text such as "10.0.0.0/8" or "fd00::/8", got 8',
    ],
    [
      { metricLabels: null },
      TypeError,
      'Invalid config "metricLabels": expected an array of { name, value } objects, got null',
    ],
    [
      { metricLabels: ["dc"] },
      TypeError,
      'Invalid config "metricLabels[0]": expected an object with string name and value, got "dc"',
    ],
    [
      { metricLabels: [{ name: "dc", value: 1 }] },
      TypeError,
      'Invalid config "metricLabels[0].value": expected a string, got 1',
    ],
    [
      { queueCheckInterval: 0 },
      RangeError,
      'Invalid config "queueCheckInterval": expected a number of milliseconds in [1, 86400000], got 0',
    ],
    [
      { msgpackUseNewTimeFormat: 1 },
      TypeError,
      'Invalid config "msgpackUseNewTimeFormat": expected a boolean, got 1',
    ],
    [
      { metaMaxSize: 64001 },
      RangeError,
      'Invalid config "metaMaxSize": expected an integer in [0, 64000], got 64001',
    ],
    [
      { metaMaxSize: -1 },
      RangeError,
      'Invalid config "metaMaxSize": expected an integer in [0, 64000], got -1',
    ],
    [
      { pushPullAfterJoin: 17 },
      RangeError,
      'Invalid config "pushPullAfterJoin": expected an integer in [0, 16], got 17',
    ],
    [{ announceAfterJoin: 1 }, TypeError, 'Invalid config "announceAfterJoin": expected a boolean, got 1'],
    [{ repairAccusations: "yes" }, TypeError, 'Invalid config "repairAccusations": expected a boolean, got "yes"'],
    [
      { userBroadcastShare: 0.95 },
      RangeError,
      'Invalid config "userBroadcastShare": expected a number in [0, 0.9], got 0.95',
    ],
    [
      { userBroadcastShare: Number.NaN },
      RangeError,
      'Invalid config "userBroadcastShare": expected a number in [0, 0.9], got NaN',
    ],
    [
      { reconnectInterval: -1 },
      RangeError,
      'Invalid config "reconnectInterval": expected a number of milliseconds in [0, 86400000], got -1',
    ],
    [
      { reconnectTimeout: 2_592_000_001 },
      RangeError,
      'Invalid config "reconnectTimeout": expected a number of milliseconds in [0, 2592000000], got 2592000001',
    ],
    [
      { maxNodes: 0 },
      RangeError,
      'Invalid config "maxNodes": expected an integer in [1, 16777216], got 0',
    ],
    [
      { maxInboundStreams: 65_537 },
      RangeError,
      'Invalid config "maxInboundStreams": expected an integer in [1, 65536], got 65537',
    ],
    [
      { maxInboundStreams: 8, maxInboundStreamsPerHost: 9 },
      RangeError,
      'Invalid config "maxInboundStreamsPerHost": expected an integer in [1, 8], got 9',
    ],
    [
      { tcpIdleTimeout: 0 },
      RangeError,
      'Invalid config "tcpIdleTimeout": expected a number of milliseconds in [1, 3600000], got 0',
    ],
    [
      { reconnectInterval: "30s" },
      TypeError,
      'Invalid config "reconnectInterval": expected a number of milliseconds in [0, 86400000], got "30s"',
    ],
    [{ logger: null }, TypeError, 'Invalid config "logger": expected a Logger, got null'],
    [
      { logger: { debug() {}, info() {}, warn() {} } },
      TypeError,
      'Invalid config "logger.error": expected a function, got undefined',
    ],
    [{ metrics: {} }, TypeError, 'Invalid config "metrics.incrCounter": expected a function, got undefined'],
    [
      { clock: { now: () => 0 } },
      TypeError,
      'Invalid config "clock.setTimeout": expected a function, got undefined',
    ],
    [{ random: 4 }, TypeError, 'Invalid config "random": expected a function, got 4'],
  ];

  it("rejects each bad field with the right error class and a message naming it", () => {
    for (const [partial, ctor, message] of BAD) {
      assert.throws(() => validateConfig({ name: "a", ...partial } as Partial<Config>), (err: unknown) => {
        assert.ok(err instanceof ctor, `${message}: got ${String(err)}`);
        assert.equal(err.constructor, ctor, message);
        assert.equal(err.message, message);
        return true;
      });
    }
  });

  it("covers every config field in its checks", () => {
    const checked = new Set(BAD.flatMap(([partial]) => Object.keys(partial)));
    for (const key of Object.keys(defaultLANConfig())) {
      assert.ok(checked.has(key), `no bad-value test for ${key}`);
    }
  });

  it("tells the user to set name when the host name is unavailable", () => {
    // A host name of "" is what defaultLANConfig() falls back to.
    assert.throws(() => validateConfig({ ...defaultLANConfig(), name: "" }), {
      name: "TypeError",
      message: 'Invalid config "name": expected a non-empty string, got ""',
    });
    if (hostname() === "") {
      assert.throws(() => validateConfig({}), {
        name: "TypeError",
        message:
          'Invalid config "name": expected a non-empty string, got "": the host name is unavailable: set "name"',
      });
    }
  });

  it("rejects a config that is not an object", () => {
    assert.throws(() => validateConfig(null as unknown as Partial<Config>), {
      name: "TypeError",
      message: "Invalid config: expected an object, got null",
    });
    assert.throws(() => validateConfig("a" as unknown as Partial<Config>), TypeError);
  });

  it("keeps the cause of a bad key or label", () => {
    assert.throws(() => validateConfig({ name: "a", secretKey: new Uint8Array(20) }), (err: unknown) => {
      assert.ok(err instanceof RangeError && err.cause instanceof RangeError);
      return true;
    });
  });
});

describe("validateConfig() encryption keys (Go's Create rules)", () => {
  const k1 = new Uint8Array(16).fill(1);
  const k2 = new Uint8Array(24).fill(2);
  const k3 = new Uint8Array(32).fill(3);

  it("has no keyring and no encryption without secretKey or keyring", () => {
    const config = validateConfig({ name: "a" });
    assert.equal(config.keyring, null);
    assert.equal(encryptionEnabled(config), false);
  });

  it("puts a secretKey alone in a new keyring", () => {
    const config = validateConfig({ name: "a", secretKey: k2 });
    assert.ok(config.keyring instanceof Keyring);
    assert.deepEqual(config.keyring.getKeys(), [k2]);
    assert.equal(encryptionEnabled(config), true);
  });

  it("adds a secretKey to the given keyring and makes it primary", () => {
    const keyring = Keyring.create([k1, k2]);
    const config = validateConfig({ name: "a", keyring, secretKey: k3 });
    assert.equal(config.keyring, keyring);
    assert.deepEqual(keyring.getPrimaryKey(), k3);
    assert.deepEqual(keyring.getKeys(), [k3, k1, k2]);
  });

  it("makes an already installed secretKey primary without duplicating it", () => {
    const keyring = Keyring.create([k1, k2]);
    validateConfig({ name: "a", keyring, secretKey: k2 });
    assert.deepEqual(keyring.getKeys(), [k2, k1]);
    validateConfig({ name: "a", keyring, secretKey: k2 });
    assert.deepEqual(keyring.getKeys(), [k2, k1]);
  });

  it("uses a given keyring as is without a secretKey", () => {
    const keyring = Keyring.create([k1, k2], k2);
    const config = validateConfig({ name: "a", keyring });
    assert.equal(config.keyring, keyring);
    assert.deepEqual(keyring.getKeys(), [k2, k1]);
    assert.equal(encryptionEnabled(config), true);
  });

  it("leaves encryption off with an empty keyring, and it follows later key changes", () => {
    const keyring = Keyring.create([]);
    const config = validateConfig({ name: "a", keyring });
    assert.equal(config.keyring, keyring);
    assert.equal(encryptionEnabled(config), false);
    keyring.addKey(k1);
    assert.equal(encryptionEnabled(config), true);
  });

  it("ignores an empty secretKey, as Go does", () => {
    assert.equal(validateConfig({ name: "a", secretKey: new Uint8Array(0) }).keyring, null);
    const keyring = Keyring.create([k1]);
    validateConfig({ name: "a", keyring, secretKey: new Uint8Array(0) });
    assert.deepEqual(keyring.getKeys(), [k1]);
  });

  it("leaves the given keyring alone when any field is invalid", () => {
    const keyring = Keyring.create([k1]);
    assert.throws(() => validateConfig({ name: "a", keyring, secretKey: new Uint8Array(17) }), RangeError);
    assert.throws(() => validateConfig({ name: "a", keyring, secretKey: k2, udpBufferSize: 1 }), RangeError);
    assert.deepEqual(keyring.getKeys(), [k1]);
  });
});

describe("ipAllowed() and ipMustBeChecked()", () => {
  it("allow loopback and private addresses with the default profiles (Go's Test_IsValidAddressDefaults)", () => {
    const ips = [
      "127.0.0.1",
      "127.0.0.5",
      "10.0.0.9",
      "172.16.0.7",
      "192.168.2.1",
      "fe80::aede:48ff:fe00:1122",
      "::1",
    ];
    for (const profile of [defaultLANConfig(), defaultWANConfig()]) {
      const config = validateConfig({ ...profile, name: "a" });
      assert.equal(ipMustBeChecked(config), false);
      for (const ip of ips) assert.equal(ipAllowed(config, ip), true, ip);
    }
  });

  it("apply allow-lists as Go's Test_IsValidAddressOverride", () => {
    const cases: { allow: string[] | null; success: string[]; fail: string[] }[] = [
      { allow: null, success: ["127.0.0.5", "10.0.0.9", "192.168.1.7", "::1"], fail: [] },
      {
        allow: ["0.0.0.0/0"],
        success: ["127.0.0.5", "10.0.0.9", "192.168.1.7"],
        fail: ["fe80::38bc:4dff:fe62:b1ae", "::1"],
      },
      {
        allow: ["::0/0"],
        success: ["fe80::38bc:4dff:fe62:b1ae", "::1"],
        fail: ["127.0.0.5", "10.0.0.9", "192.168.1.7"],
      },
      {
        allow: ["::1/128", "127.0.0.0/8"],
        success: ["127.0.0.5", "::1"],
        fail: ["::2", "178.250.0.187", "10.0.0.9", "192.168.1.7", "fe80::38bc:4dff:fe62:b1ae"],
      },
    ];
    for (const { allow, success, fail } of cases) {
      const config = validateConfig({ name: "a", cidrsAllowed: allow });
      assert.equal(ipMustBeChecked(config), allow !== null);
      for (const ip of success) assert.equal(ipAllowed(config, ip), true, `${allow} allows ${ip}`);
      for (const ip of fail) assert.equal(ipAllowed(config, ip), false, `${allow} refuses ${ip}`);
    }
  });

  it("treat an empty list as allowing everything, as Go's code does", () => {
    const config = validateConfig({ name: "a", cidrsAllowed: [] });
    assert.equal(ipMustBeChecked(config), false);
    assert.equal(ipAllowed(config, "203.0.113.1"), true);
    assert.deepEqual(config.cidrs, []);
  });

  it("check raw address bytes of either length", () => {
    const config = validateConfig({ name: "a", cidrsAllowed: [" 10.0.0.0/8 "] });
    assert.equal(ipAllowed(config, new Uint8Array([10, 1, 2, 3])), true);
    assert.equal(
      ipAllowed(config, new Uint8Array([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 255, 255, 10, 1, 2, 3])),
      true,
    );
    assert.equal(ipAllowed(config, new Uint8Array([11, 1, 2, 3])), false);
    assert.equal(ipAllowed(config, new Uint8Array(0)), false);
    assert.equal(ipAllowed(config, new Uint8Array([10, 1, 2])), false);
    assert.equal(ipAllowed(config, "not an ip"), false);
  });
});

describe("validateConfig() transport", () => {
  it("accepts an object with the Transport methods", () => {
    const transport: Transport = {
      finalAdvertiseAddr: () => ({ ip: "127.0.0.1", port: 7946 }),
      setHandlers: () => {},
      writeTo: () => 0,
      dialTimeout: () => Promise.reject(new Error("no streams")),
      shutdown: () => Promise.resolve(),
    };
    assert.equal(validateConfig({ name: "a", transport }).transport, transport);
  });
});
