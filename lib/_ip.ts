// Copyright (c) memberlist-ts authors. SPDX-License-Identifier: MPL-2.0
/**
 * IP addresses and CIDR networks as raw bytes, with the semantics of Go's
 * `net` package (`net.IP`, `net.IPNet`, `net.ParseIP`, `net.ParseCIDR`), which
 * memberlist relies on: node addresses travel on the wire as 4 or 16 raw bytes,
 * and both lengths must compare, print and match networks the way a Go node
 * does. Private to the package.
 *
 * Representation: an IPv4 address parsed from dotted text is 4 bytes; anything
 * parsed from IPv6 text is 16 bytes, including IPv4-mapped text such as
 * `::ffff:1.2.3.4`. Functions that take bytes accept either length, as Go does,
 * and treat a 16-byte IPv4-mapped address as the IPv4 address it carries.
 *
 * One deliberate difference from Go 1.19's parser: an IPv6 group of more than
 * four hex digits (`0:0:0:0:0:0:0:00001`) is rejected, as RFC 4291 and Go 1.22
 * and later (whose `net.ParseIP` is built on `net/netip`) do.
 *
 * @module
 */

/**
 * An IP network: a masked network number and its mask (Go `net.IPNet`).
 *
 * @example Usage
 * ```ts
 * import { type IPNet, validateConfig } from "@gossip/memberlist";
 * import assert from "node:assert/strict";
 *
 * const [net]: readonly IPNet[] = validateConfig({ name: "a", cidrsAllowed: ["10.1.0.0/16"] }).cidrs;
 * assert.deepEqual(net, { network: new Uint8Array([10, 1, 0, 0]), mask: new Uint8Array([255, 255, 0, 0]), prefix: 16 });
 * ```
 */
export interface IPNet {
  /** The network number, already masked: 4 bytes for IPv4 CIDR text, 16 for IPv6 CIDR text. */
  readonly network: Uint8Array;
  /** The mask, the same length as `network`. */
  readonly mask: Uint8Array;
  /** The prefix length in bits (the number of leading one bits of `mask`). */
  readonly prefix: number;
}

/** The 12-byte prefix of an IPv4-mapped IPv6 address, `::ffff:0:0/96`. */
const V4_IN_V6_PREFIX: readonly number[] = [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff];

const DOT = 0x2e;
const COLON = 0x3a;
const SLASH = "/";

function isDigit(c: number): boolean {
  return c >= 0x30 && c <= 0x39;
}

function hexValue(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x61 && c <= 0x66) return c - 0x61 + 10;
  if (c >= 0x41 && c <= 0x46) return c - 0x41 + 10;
  return -1;
}

/**
 * Parses dotted-decimal IPv4 text: exactly four decimal fields in [0, 255],
 * no sign, no leading zero in a multi-digit field (Go rejects "01.2.3.4" since
 * 1.17 because other parsers read it as octal), nothing before or after.
 */
function parseIPv4(s: string): Uint8Array | null {
  const out = new Uint8Array(4);
  let i = 0;
  for (let field = 0; field < 4; field++) {
    if (field > 0) {
      if (s.charCodeAt(i) !== DOT) return null;
      i++;
    }
    const start = i;
    let n = 0;
    while (i < s.length && isDigit(s.charCodeAt(i))) {
      n = n * 10 + (s.charCodeAt(i) - 0x30);
      if (n > 255) return null;
      i++;
    }
    const digits = i - start;
    if (digits === 0) return null;
    if (digits > 1 && s.charCodeAt(start) === 0x30) return null;
    out[field] = n;
  }
  return i === s.length ? out : null;
}

/**
 * Parses the colon-separated groups on one side of a "::" (or the whole
 * address when there is none) into 16-bit words. The last group may be
 * dotted IPv4 when `v4Last` is set; it then yields two words.
 */
function parseGroups(s: string, v4Last: boolean): number[] | null {
  const words: number[] = [];
  if (s === "") return words;
  const groups = s.split(":");
  for (let g = 0; g < groups.length; g++) {
    const group = groups[g]!;
    if (group.includes(".")) {
      if (!v4Last || g !== groups.length - 1) return null;
      const v4 = parseIPv4(group);
      if (v4 === null) return null;
      words.push((v4[0]! << 8) | v4[1]!, (v4[2]! << 8) | v4[3]!);
      continue;
    }
    if (group.length === 0 || group.length > 4) return null;
    let n = 0;
    for (let i = 0; i < group.length; i++) {
      const v = hexValue(group.charCodeAt(i));
      if (v < 0) return null;
      n = n * 16 + v;
    }
    words.push(n);
  }
  return words;
}

/**
 * Parses IPv6 text (RFC 4291 section 2.2): eight groups of one to four hex
 * digits, at most one "::" standing for one or more zero groups, and an
 * optional dotted IPv4 address in place of the last two groups. Zones
 * ("%eth0") and brackets are not accepted, as in Go's `net.ParseIP`.
 */
function parseIPv6(s: string): Uint8Array | null {
  const gap = s.indexOf("::");
  let words: number[];
  if (gap < 0) {
    const all = parseGroups(s, true);
    if (all === null || all.length !== 8) return null;
    words = all;
  } else {
    // A second "::", or ":::", makes the address ambiguous.
    if (s.indexOf("::", gap + 1) >= 0) return null;
    const head = parseGroups(s.slice(0, gap), false);
    const tail = parseGroups(s.slice(gap + 2), true);
    if (head === null || tail === null) return null;
    const zeros = 8 - head.length - tail.length;
    // "::" must stand for at least one group.
    if (zeros < 1) return null;
    words = [...head, ...new Array<number>(zeros).fill(0), ...tail];
  }
  const out = new Uint8Array(16);
  for (let i = 0; i < 8; i++) {
    out[2 * i] = words[i]! >> 8;
    out[2 * i + 1] = words[i]! & 0xff;
  }
  return out;
}

/**
 * Parses an IP address literal (Go `net.ParseIP`, except that IPv4 text gives
 * 4 bytes instead of Go's 16-byte form).
 *
 * Which syntax applies is decided by the first "." or ":" in the text, as in
 * Go: dotted IPv4 or IPv6 (including `::ffff:1.2.3.4` and `::1.2.3.4`).
 * Whitespace, brackets, zones and host names are rejected.
 *
 * @param text The address text.
 * @returns 4 bytes for dotted IPv4 text, 16 bytes for IPv6 text, or null when
 * `text` is not an IP address.
 */
export function parseIP(text: string): Uint8Array | null {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === DOT) return parseIPv4(text);
    if (c === COLON) return parseIPv6(text);
  }
  return null;
}

/**
 * Tells whether `text` is an IP address literal that {@linkcode parseIP}
 * accepts.
 *
 * @param text The text to test.
 * @returns True for an IPv4 or IPv6 literal.
 */
export function isIP(text: string): boolean {
  return parseIP(text) !== null;
}

/**
 * Returns the 4-byte form of an IPv4 address (Go `IP.To4`): `ip` itself when it
 * is 4 bytes long, its last 4 bytes when it is a 16-byte IPv4-mapped address,
 * else null.
 *
 * @param ip The address bytes.
 * @returns The IPv4 bytes (a view into `ip`, not a copy), or null.
 */
export function ipTo4(ip: Uint8Array): Uint8Array | null {
  if (ip.length === 4) return ip;
  if (ip.length === 16 && hasV4InV6Prefix(ip)) return ip.subarray(12);
  return null;
}

/**
 * Returns the 16-byte form of an address (Go `IP.To16`): a 4-byte address
 * becomes IPv4-mapped, a 16-byte one is returned as is, any other length gives
 * null.
 *
 * @param ip The address bytes.
 * @returns 16 bytes (a new array for 4-byte input, `ip` itself for 16), or null.
 */
export function ipTo16(ip: Uint8Array): Uint8Array | null {
  if (ip.length === 16) return ip;
  if (ip.length !== 4) return null;
  const out = new Uint8Array(16);
  out.set(V4_IN_V6_PREFIX);
  out.set(ip, 12);
  return out;
}

function hasV4InV6Prefix(ip: Uint8Array): boolean {
  for (let i = 0; i < 12; i++) if (ip[i] !== V4_IN_V6_PREFIX[i]) return false;
  return true;
}

function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * Tells whether two addresses are the same (Go `IP.Equal`): byte equality for
 * equal lengths, and an IPv4 address equals its 16-byte IPv4-mapped form.
 *
 * @param a One address.
 * @param b The other.
 * @returns True when they denote the same address.
 */
export function ipEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length === b.length) return bytesEqual(a, b);
  if (a.length === 4 && b.length === 16) return hasV4InV6Prefix(b) && bytesEqual(a, b.subarray(12));
  if (a.length === 16 && b.length === 4) return hasV4InV6Prefix(a) && bytesEqual(a.subarray(12), b);
  return false;
}

function hex(bytes: Uint8Array): string {
  let s = "";
  for (const b of bytes) s += b.toString(16).padStart(2, "0");
  return s;
}

/**
 * Formats address bytes as text, exactly as Go's `net.IP.String()` does:
 *
 * - empty input gives "<nil>";
 * - a 4-byte address, or a 16-byte IPv4-mapped one, gives dotted decimal;
 * - other 16-byte addresses give RFC 5952 text: lowercase hex without leading
 *   zeros, and the longest run of two or more zero groups (the first such run
 *   on a tie) written as "::";
 * - any other length gives "?" followed by the bytes in hex.
 *
 * @param ip The address bytes.
 * @returns The text.
 */
export function formatIP(ip: Uint8Array): string {
  if (ip.length === 0) return "<nil>";
  const v4 = ipTo4(ip);
  if (v4 !== null) return `${v4[0]}.${v4[1]}.${v4[2]}.${v4[3]}`;
  if (ip.length !== 16) return "?" + hex(ip);

  const words: number[] = [];
  for (let i = 0; i < 16; i += 2) words.push((ip[i]! << 8) | ip[i + 1]!);
  // Longest run of zero words; a strictly longer run replaces the best so far,
  // so the first of two equal runs wins.
  let bestStart = -1;
  let bestLength = 0;
  for (let i = 0; i < 8;) {
    if (words[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && words[j] === 0) j++;
    if (j - i > bestLength) {
      bestStart = i;
      bestLength = j - i;
    }
    i = j;
  }
  // A single zero group is written out, never shortened to "::".
  if (bestLength < 2) bestStart = -1;

  let out = "";
  for (let i = 0; i < 8; i++) {
    if (i === bestStart) {
      out += "::";
      i += bestLength - 1;
      continue;
    }
    if (i > 0 && i !== bestStart + bestLength) out += ":";
    out += words[i]!.toString(16);
  }
  return out;
}

/**
 * Parses CIDR text such as "10.0.0.0/8" or "2001:db8::/32" (Go
 * `net.ParseCIDR`). Host bits are cleared: "10.1.2.3/8" gives the network
 * 10.0.0.0/8. The prefix is decimal digits only (leading zeros allowed, as in
 * Go), at most 32 for IPv4 text and 128 for IPv6 text. IPv4-mapped IPv6 text
 * ("::ffff:10.0.0.0/104") is an IPv6 network whose mask covers the mapped
 * prefix; {@linkcode cidrContains} then treats it as the IPv4 network it
 * carries, as Go does. Surrounding whitespace is not accepted.
 *
 * @param text The CIDR text.
 * @returns The network, or null when `text` is not valid CIDR notation.
 */
export function parseCIDR(text: string): IPNet | null {
  const slash = text.indexOf(SLASH);
  if (slash < 0) return null;
  const addrText = text.slice(0, slash);
  const prefixText = text.slice(slash + 1);
  const ip = parseIPv4(addrText) ?? parseIPv6(addrText);
  if (ip === null) return null;
  if (prefixText.length === 0) return null;
  let prefix = 0;
  for (let i = 0; i < prefixText.length; i++) {
    const c = prefixText.charCodeAt(i);
    if (!isDigit(c)) return null;
    prefix = prefix * 10 + (c - 0x30);
    if (prefix > 128) return null;
  }
  const bits = ip.length * 8;
  if (prefix > bits) return null;
  const mask = new Uint8Array(ip.length);
  for (let i = 0; i < mask.length; i++) {
    const ones = Math.min(8, Math.max(0, prefix - i * 8));
    mask[i] = (0xff00 >> ones) & 0xff;
  }
  const network = new Uint8Array(ip.length);
  for (let i = 0; i < ip.length; i++) network[i] = ip[i]! & mask[i]!;
  return { network, mask, prefix };
}

/**
 * Tells whether a network contains an address (Go `IPNet.Contains`).
 *
 * Both sides are reduced to IPv4 where possible: an IPv4 network (including an
 * IPv4-mapped IPv6 network such as `::ffff:10.0.0.0/104`) matches IPv4
 * addresses whether 4 bytes or 16-byte mapped, and never matches an IPv6
 * address; an IPv6 network (such as `::/0`) never matches an IPv4 address,
 * mapped or not. An address of any length other than 4 or 16 matches nothing.
 *
 * @param net The network.
 * @param ip The address bytes.
 * @returns True when `ip` lies in `net`.
 */
export function cidrContains(net: IPNet, ip: Uint8Array): boolean {
  let network = ipTo4(net.network);
  let mask = net.mask;
  if (network === null) {
    network = net.network;
    if (network.length !== 16) return false;
  }
  if (mask.length === 4) {
    if (network.length !== 4) return false;
  } else if (mask.length === 16) {
    if (network.length === 4) mask = mask.subarray(12);
  } else {
    return false;
  }
  const addr = ipTo4(ip) ?? ip;
  if (addr.length !== network.length) return false;
  for (let i = 0; i < addr.length; i++) {
    if ((network[i]! & mask[i]!) !== (addr[i]! & mask[i]!)) return false;
  }
  return true;
}

/**
 * Formats a network as CIDR text (Go `IPNet.String` for canonical masks):
 * "10.0.0.0/8", "2001:db8::/32". An IPv4-mapped IPv6 network prints as the
 * IPv4 network it carries ("::ffff:10.0.0.0/104" prints "10.0.0.0/8").
 *
 * @param net The network.
 * @returns The CIDR text.
 */
export function formatCIDR(net: IPNet): string {
  const v4 = ipTo4(net.network);
  if (v4 !== null && net.mask.length === 16) return `${formatIP(v4)}/${Math.max(0, net.prefix - 96)}`;
  return `${formatIP(net.network)}/${net.prefix}`;
}
