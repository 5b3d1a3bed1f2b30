// Copyright (c) memberlist-ts authors. SPDX-License-Identifier: MPL-2.0

// The Go side of the interop tests works: wirevectors builds against memberlist 0.2.2 internals, its
// verifier accepts what its generator writes and every committed vector, and it rejects corrupted entries.

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { goVectors } from "../testdata/go_vectors.ts";
import { buildGoProgram, requireGoOrSkip } from "./_go.ts";

const skip = requireGoOrSkip();

// Built while the file loads, so no runner's per-test timeout applies to a first (slow) build; a failure is
// reported by the first test.
let built: { bin: string } | { error: unknown } = { bin: "" };
if (!skip) {
  try {
    built = { bin: buildGoProgram("tests/interop/go/wirevectors") };
  } catch (error) {
    built = { error };
  }
}

function wirevectors(): string {
  if ("error" in built) throw built.error;
  return built.bin;
}

interface VerifyLine {
  name?: string;
  ok?: boolean | number;
  error?: string;
  summary?: boolean;
  total?: number;
  failed?: number;
}

/** Runs `wirevectors verify` on entries; returns the exit status and the parsed output lines. */
function verify(entries: readonly unknown[]): { status: number | null; lines: VerifyLine[] } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "wirevectors-"));
  try {
    const file = path.join(dir, "entries.json");
    fs.writeFileSync(file, JSON.stringify(entries));
    const r = spawnSync(wirevectors(), ["verify", file], { encoding: "utf8", maxBuffer: 64 << 20 });
    assert.equal(r.error, undefined);
    const lines = r.stdout.trim().split("\n").map((l) => JSON.parse(l) as VerifyLine);
    return { status: r.status, lines };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

function failures(lines: readonly VerifyLine[]): string {
  return lines.filter((l) => l.ok === false).map((l) => `${l.name}: ${l.error}`).join("\n");
}

/** Flips the low bit of the byte at the middle of a hex string. */
function corrupt(hex: string): string {
  const i = Math.floor(hex.length / 4) * 2;
  const byte = Number.parseInt(hex.slice(i, i + 2), 16) ^ 1;
  return hex.slice(0, i) + byte.toString(16).padStart(2, "0") + hex.slice(i + 2);
}

describe("wirevectors (Go memberlist 0.2.2)", { skip }, () => {
  it("buildGoProgram() builds it once and then returns the cached binary", () => {
    const bin = wirevectors();
    assert.ok(fs.statSync(bin).isFile());
    assert.equal(buildGoProgram("tests/interop/go/wirevectors"), bin);
  });

  it("verify accepts everything `gen --json --no-cluster` writes", () => {
    const r = spawnSync(wirevectors(), ["gen", "--json", "--no-cluster"], {
      encoding: "utf8",
      maxBuffer: 64 << 20,
    });
    assert.equal(r.status, 0, r.stderr);
    const entries = JSON.parse(r.stdout) as unknown[];
    assert.ok(entries.length > 150);
    const { status, lines } = verify(entries);
    assert.equal(failures(lines), "");
    assert.equal(status, 0);
    assert.deepEqual(lines.at(-1), { summary: true, total: entries.length, ok: entries.length, failed: 0 });
  });

  it("verify accepts every committed vector in tests/testdata/go_vectors.ts", () => {
    const kinds = new Set(goVectors.map((v) => v.kind));
    assert.deepEqual([...kinds].sort(), [
      "compound",
      "compress",
      "crc",
      "encrypt",
      "lzw",
      "message",
      "packet",
      "stream",
    ]);
    const { status, lines } = verify(goVectors);
    assert.equal(failures(lines), "");
    assert.equal(status, 0);
    assert.equal(lines.length, goVectors.length + 1);
  });

  it("verify rejects corrupted entries and exits 1", () => {
    const pick = (kind: string, encrypted = false) => {
      const v = goVectors.find((x) => x.kind === kind && (!encrypted || ("keys" in x && x.keys.length > 0)));
      assert.ok(v, kind);
      return v;
    };
    const message = pick("message");
    // Encrypted, so that any flipped bit is caught (GCM tag); a flip in a plain packet may rename a key
    // that Go then skips, leaving the same message.
    const packet = pick("packet", true);
    const stream = pick("stream");
    const entries = [
      message,
      { ...message, name: "corrupted message", hex: corrupt(message.hex) },
      { ...packet, name: "corrupted packet", hex: corrupt(packet.hex) },
      { ...stream, name: "stream with the wrong messages", messages: [] },
      { ...pick("lzw"), name: "lzw with the wrong input", input: "00" },
    ];
    const { status, lines } = verify(entries);
    assert.equal(status, 1);
    assert.deepEqual(lines.map((l) => (l.summary ? "summary" : l.ok)), [
      true,
      false,
      false,
      false,
      false,
      "summary",
    ]);
    assert.deepEqual(lines.at(-1), { summary: true, total: 5, ok: 1, failed: 4 });
    for (const l of lines.slice(1, 5)) assert.match(l.error ?? "", /\S/);
  });
});
