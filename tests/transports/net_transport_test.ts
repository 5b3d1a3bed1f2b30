// Copyright (c) memberlist-ts authors. SPDX-License-Identifier: MPL-2.0
// The runtime-neutral pieces every network backend shares: Go's advertise-address
// rules (go-sockaddr GetPrivateIP), address normalisation, error normalisation, the
// bind retry of memberlist.go, the default factory, and SocketConn's buffering.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { validateConfig } from "../../lib/config.ts";
import { silentLogger } from "../../lib/logging.ts";
import type { Transport } from "../../lib/transport.ts";
import {
  AddressInUseError,
  ConnectionRefusedError,
  ConnectionResetError,
  NetError,
  TimeoutError,
  toNetError,
} from "../../transports/_errors.ts";
import {
  type BindRequest,
  type ConnectAttempt,
  getPrivateIP,
  type HostInterface,
  hostInterfacesFromTable,
  type NetBackend,
  type NetTransport,
  netTransportFactory,
  normalizeIP,
  openNetTransport,
  parseDefaultRoute,
  parseDestination,
  READ_HIGH_WATER,
  resolveNetTransportOptions,
  setRecvBufferHalving,
  SocketConn,
} from "../../transports/_net_transport.ts";
import { createNetTransport } from "../../transports/mod.ts";

const iface = (name: string, address: string, prefixLength: number): HostInterface => ({
  name,
  address,
  prefixLength,
});

describe("getPrivateIP()", () => {
  it("skips loopback, link-local and TEST-NET addresses, and public ones", () => {
    const list = [
      iface("lo", "127.0.0.1", 8),
      iface("lo", "::1", 128),
      iface("eth0", "192.0.2.2", 24), // TEST-NET-1: not forwardable
      iface("eth0", "fe80::1", 64),
      iface("eth1", "8.8.4.4", 24),
      iface("eth1", "2a00:1450::1", 64),
    ];
    assert.equal(getPrivateIP(list, null), null);
  });

  it("takes RFC 1918, RFC 6598 (100.64/10) and the rest of RFC 6890", () => {
    assert.equal(getPrivateIP([iface("e", "8.8.8.8", 24), iface("e", "10.1.2.3", 8)], null), "10.1.2.3");
    assert.equal(getPrivateIP([iface("e", "100.64.7.1", 10)], null), "100.64.7.1");
    assert.equal(getPrivateIP([iface("e", "172.31.0.9", 16)], null), "172.31.0.9");
    assert.equal(getPrivateIP([iface("e", "198.18.0.1", 15)], null), "198.18.0.1");
    assert.equal(getPrivateIP([iface("e", "172.32.0.9", 16)], null), null);
  });

  it("orders the default route's interface first, then IPv4 before IPv6, then larger networks", () => {
    const list = [
      iface("wg0", "fd00::2", 64),
      iface("docker0", "172.17.0.1", 16),
      iface("eth0", "192.168.1.10", 24),
      iface("eth1", "10.0.0.5", 8),
    ];
    assert.equal(getPrivateIP(list, null), "10.0.0.5"); // /8 before /16 and /24; IPv6 last
    assert.equal(getPrivateIP(list, "eth0"), "192.168.1.10");
    assert.equal(getPrivateIP(list, "wg0"), "fd00::2");
  });

  it("picks an IPv6 ULA when the host has no private IPv4, as Go does, unless only IPv4 is bound", () => {
    const list = [iface("eth0", "192.0.2.2", 24), iface("eth0", "fd00::2", 64), iface("eth0", "fe80::1", 64)];
    assert.equal(getPrivateIP(list, "eth0"), "fd00::2");
    assert.equal(getPrivateIP(list, "eth0", true), null);
  });

  it("keeps the system's order between equal candidates", () => {
    assert.equal(getPrivateIP([iface("b", "10.0.0.2", 24), iface("a", "10.0.0.1", 24)], null), "10.0.0.2");
  });
});

describe("parseDefaultRoute()", () => {
  it("finds the interface of the IPv4 default route in /proc/net/route", () => {
    const text = [
      "Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT",
      "eth1\t000200C0\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0",
      "eth0\t00000000\t010200C0\t0003\t0\t0\t0\t00000000\t0\t0\t0",
    ].join("\n");
    assert.equal(parseDefaultRoute(text), "eth0");
    assert.equal(parseDefaultRoute(text.split("\n").slice(0, 2).join("\n")), null);
  });
});

describe("hostInterfacesFromTable()", () => {
  it("flattens os.networkInterfaces() and reads prefix lengths from cidr or netmask", () => {
    assert.deepEqual(
      hostInterfacesFromTable({
        lo: [{ address: "127.0.0.1", cidr: "127.0.0.1/8", netmask: "255.0.0.0" }],
        eth0: [
          { address: "10.0.0.5", cidr: null, netmask: "255.255.0.0" },
          { address: "fd00::2", netmask: "ffff:ffff:ffff:ffff::" },
        ],
      }),
      [iface("lo", "127.0.0.1", 8), iface("eth0", "10.0.0.5", 16), iface("eth0", "fd00::2", 64)],
    );
  });
});

describe("addresses", () => {
  it("normalizeIP() unmaps IPv4-mapped IPv6 and canonicalises IPv6", () => {
    assert.equal(normalizeIP("::ffff:127.0.0.1"), "127.0.0.1");
    assert.equal(normalizeIP("::FFFF:7f00:1"), "127.0.0.1");
    assert.equal(normalizeIP("2001:DB8:0:0::1"), "2001:db8::1");
    assert.equal(normalizeIP("fe80::1%eth0"), "fe80::1%eth0");
    assert.equal(normalizeIP("seed.example"), "seed.example");
  });

  it("parseDestination() splits ip:port, and takes names only where allowed", () => {
    assert.deepEqual(parseDestination("[::ffff:10.0.0.1]:7946", "send", false), {
      host: "10.0.0.1",
      port: 7946,
      family: 4,
    });
    assert.deepEqual(parseDestination("[::1]:1", "send", false), { host: "::1", port: 1, family: 6 });
    assert.deepEqual(parseDestination("seed.example:7946", "dial", true), {
      host: "seed.example",
      port: 7946,
      family: 0,
    });
    assert.throws(() => parseDestination("seed.example:7946", "send", false), TypeError);
    assert.throws(() => parseDestination("10.0.0.1", "send", false), TypeError);
    assert.throws(() => parseDestination("10.0.0.1:99999", "send", false), TypeError);
  });
});

describe("toNetError()", () => {
  it("gives Node's, Bun's and Deno's errors one class and code", () => {
    const node = Object.assign(new Error("listen EADDRINUSE: address already in use 127.0.0.1:7946"), {
      code: "EADDRINUSE",
    });
    const deno = Object.assign(new Error("Address already in use (os error 98)"), { name: "AddrInUse" });
    const text = new Error("Address already in use (os error 98)");
    for (const err of [node, deno, text]) {
      const mapped = toNetError(err, `listen on TCP "127.0.0.1" port 7946`);
      assert.ok(mapped instanceof AddressInUseError);
      assert.equal((mapped as NetError).code, "EADDRINUSE");
      assert.equal(mapped.message, `Cannot listen on TCP "127.0.0.1" port 7946: address in use`);
      assert.equal(mapped.cause, err);
    }
    assert.ok(
      toNetError(Object.assign(new Error("x"), { name: "ConnectionRefused" }), "dial") instanceof
        ConnectionRefusedError,
    );
    assert.ok(
      toNetError(Object.assign(new Error("x"), { code: "EPIPE" }), "write") instanceof ConnectionResetError,
    );
    assert.ok(
      toNetError(Object.assign(new Error("x"), { name: "TimedOut" }), "dial") instanceof TimeoutError,
    );
    const other = toNetError(Object.assign(new Error("x"), { code: "EADDRNOTAVAIL" }), "bind");
    assert.equal((other as NetError).code, "EADDRNOTAVAIL");
    assert.equal(other.name, "NetError");
    const same = new TimeoutError("t");
    assert.equal(toNetError(same, "x"), same);
  });
});

describe("resolveNetTransportOptions()", () => {
  it("fills Go's defaults and normalises addresses", () => {
    const o = resolveNetTransportOptions({ bindAddrs: ["::ffff:127.0.0.1", "::0"] });
    assert.deepEqual(o.bindAddrs, ["127.0.0.1", "::"]);
    assert.equal(o.bindPort, 0);
    assert.equal(o.udpRecvBufferSize, 2 * 1024 * 1024);
    assert.deepEqual(resolveNetTransportOptions().bindAddrs, ["0.0.0.0"]);
    assert.throws(() => resolveNetTransportOptions({ bindPort: -1 }), RangeError);
    assert.throws(() => resolveNetTransportOptions({ bindAddrs: ["10.0.0.1/8"] }), TypeError);
  });

  it("setRecvBufferHalving() halves until the size is accepted", () => {
    const tried: number[] = [];
    const got = setRecvBufferHalving((n) => {
      tried.push(n);
      if (n > 600_000) throw new Error("ENOBUFS");
    }, 2 * 1024 * 1024);
    assert.equal(got, 524_288);
    assert.deepEqual(tried, [2_097_152, 1_048_576, 524_288]);
    assert.equal(
      setRecvBufferHalving(() => {
        throw new Error("no");
      }, 4),
      0,
    );
  });
});

// A backend whose sockets exist only as records, to drive the shared transport.
function fakeBackend(options: { udpInUse?: number; log?: string[] } = {}): NetBackend {
  let nextPort = 40000;
  let udpFailures = options.udpInUse ?? 0;
  const log = options.log ?? [];
  const inUse = () => Object.assign(new Error("bind EADDRINUSE"), { code: "EADDRINUSE" });
  return {
    listenTcp(req: BindRequest, port: number) {
      const p = port === 0 ? nextPort++ : port;
      log.push(`tcp ${req.host}:${p}`);
      return Promise.resolve({ port: p, close: () => (log.push(`close tcp ${p}`), Promise.resolve()) });
    },
    bindUdp(req: BindRequest, port: number) {
      if (udpFailures > 0) {
        udpFailures--;
        log.push(`udp ${req.host}:${port} in use`);
        return Promise.reject(inUse());
      }
      log.push(`udp ${req.host}:${port}`);
      return Promise.resolve({
        family: req.family,
        dualStack: req.dualStack,
        send() {},
        close: () => (log.push(`close udp ${port}`), Promise.resolve()),
      });
    },
    connect(): ConnectAttempt {
      return { conn: new Promise(() => {}), abort() {} };
    },
    defer: (fn) => void setTimeout(fn, 0),
    network: {
      interfaces: () => [iface("eth0", "192.168.7.7", 24)],
      defaultInterface: () => null,
    },
  };
}

describe("openNetTransport()", () => {
  it("binds TCP then UDP on the port TCP got, and retries port 0 when UDP finds it taken (Go makeNetRetry)", async () => {
    const log: string[] = [];
    const opts = resolveNetTransportOptions({ bindAddrs: ["127.0.0.1"], bindPort: 0, logger: silentLogger });
    const t = await openNetTransport(opts, fakeBackend({ udpInUse: 3, log }));
    assert.equal(t.port, 40003);
    assert.deepEqual(log, [
      "tcp 127.0.0.1:40000",
      "udp 127.0.0.1:40000 in use",
      "close tcp 40000",
      "tcp 127.0.0.1:40001",
      "udp 127.0.0.1:40001 in use",
      "close tcp 40001",
      "tcp 127.0.0.1:40002",
      "udp 127.0.0.1:40002 in use",
      "close tcp 40002",
      "tcp 127.0.0.1:40003",
      "udp 127.0.0.1:40003",
    ]);
    await t.shutdown();
  });

  it("gives up after 10 attempts, and at once for a fixed port", async () => {
    const opts = resolveNetTransportOptions({ bindAddrs: ["127.0.0.1"], logger: silentLogger });
    await assert.rejects(openNetTransport(opts, fakeBackend({ udpInUse: 10 })), AddressInUseError);
    const fixed = resolveNetTransportOptions({
      bindAddrs: ["127.0.0.1"],
      bindPort: 7946,
      logger: silentLogger,
    });
    await assert.rejects(openNetTransport(fixed, fakeBackend({ udpInUse: 1 })), (err: Error) => {
      assert.equal(err.name, "AddressInUseError");
      // The backend's message, then the hint about servers that bind twice (tests/hints_test.ts).
      assert.ok(err.message.startsWith(`Cannot listen on UDP "127.0.0.1" port 7946: address in use: another node holds the port.`));
      return true;
    });
  });

  it("binds a wildcard dual-stack, and advertises a private IP from the backend's interfaces", async () => {
    const log: string[] = [];
    const opts = resolveNetTransportOptions({ bindAddrs: ["0.0.0.0"], bindPort: 7946, logger: silentLogger });
    const t = await openNetTransport(opts, fakeBackend({ log }));
    assert.deepEqual(log, ["tcp :::7946", "udp :::7946"]);
    assert.deepEqual(t.bindAddrs, ["::"]);
    assert.deepEqual(t.finalAdvertiseAddr("", 0), { ip: "192.168.7.7", port: 7946 });
    await t.shutdown();
  });
});

describe("netTransportFactory()", () => {
  function fakeCreate(port: number): (o?: unknown) => Promise<NetTransport> {
    return () =>
      Promise.resolve({
        port,
        bindAddrs: ["127.0.0.1"],
        getAutoBindPort: () => port,
        finalAdvertiseAddr: (ip: string, p: number) => ({ ip: ip || "127.0.0.1", port: p }),
        setHandlers() {},
        writeTo: () => 0,
        dialTimeout: () => Promise.reject(new Error("no")),
        shutdown: () => Promise.resolve(),
      });
  }

  it("advertises the kernel's port when bindPort is 0, even with an advertise address (Go Create)", async () => {
    const config = validateConfig({ name: "a", bindPort: 0, advertiseAddr: "10.0.0.1", advertisePort: 7946 });
    const t: Transport = await netTransportFactory(fakeCreate(41000))(config);
    assert.deepEqual(t.finalAdvertiseAddr("10.0.0.1", 7946), { ip: "10.0.0.1", port: 41000 });
    const fixed = validateConfig({
      name: "a",
      bindPort: 7000,
      advertiseAddr: "10.0.0.1",
      advertisePort: 7946,
    });
    const t2 = await netTransportFactory(fakeCreate(7000))(fixed);
    assert.deepEqual(t2.finalAdvertiseAddr("10.0.0.1", 7946), { ip: "10.0.0.1", port: 7946 });
  });
});

class FakeConn extends SocketConn {
  paused = 0;
  resumed = 0;
  written: Uint8Array[] = [];
  destroyed = false;
  protected writeBytes(b: Uint8Array): Promise<void> {
    this.written.push(b);
    return Promise.resolve();
  }
  protected destroySocket(): void {
    this.destroyed = true;
  }
  protected pauseReading(): void {
    this.paused++;
  }
  protected resumeReading(): void {
    this.resumed++;
  }
}

describe("SocketConn", () => {
  it("stops reading the socket above the high-water mark and resumes once drained", async () => {
    const c = new FakeConn("10.0.0.1:1", { now: () => 0, setTimeout: () => ({ cancel() {} }) });
    const chunk = new Uint8Array(300 * 1024);
    for (let i = 0; i < 4; i++) c.receive(chunk); // 1.2 MiB > READ_HIGH_WATER
    assert.ok(4 * chunk.length > READ_HIGH_WATER);
    assert.equal(c.paused, 1);
    for (let i = 0; i < 3; i++) await c.read();
    assert.equal(c.resumed, 0); // 300 KiB left: above the low-water mark
    await c.read();
    assert.equal(c.resumed, 1);
    c.receive(chunk);
    c.receiveEnd();
    assert.equal((await c.read())!.length, chunk.length);
    assert.equal(await c.read(), null);
  });

  it("after a reset, reads and writes reject with the normalised error; after the end, only writes do", async () => {
    const clock = { now: () => 0, setTimeout: () => ({ cancel() {} }) };
    const c = new FakeConn("10.0.0.1:1", clock);
    const pending = c.read();
    c.receiveError(Object.assign(new Error("read ECONNRESET"), { code: "ECONNRESET" }));
    await assert.rejects(pending, { name: "ConnectionResetError", code: "ECONNRESET" });
    await assert.rejects(c.write(Uint8Array.of(1)), ConnectionResetError);
    const d = new FakeConn("10.0.0.1:1", clock);
    d.receive(Uint8Array.of(1));
    d.receiveEnd();
    d.receiveError(Object.assign(new Error("write EPIPE"), { code: "EPIPE" }));
    assert.deepEqual(await d.read(), Uint8Array.of(1));
    assert.equal(await d.read(), null);
    await assert.rejects(d.write(Uint8Array.of(1)), { code: "ECONNRESET" });
    c.close();
    d.close();
    assert.ok(c.destroyed && d.destroyed);
  });
});

describe("transports/mod.ts", () => {
  it("createNetTransport() is a working backend for this runtime", async () => {
    const t = await createNetTransport({ bindAddrs: ["127.0.0.1"], bindPort: 0, logger: silentLogger });
    assert.ok(t.port > 0);
    await t.shutdown();
  });
});
