// Copyright (c) memberlist-ts authors. SPDX-License-Identifier: MPL-2.0

/**
 * `npm run vectors`: regenerates tests/testdata/go_vectors.ts with real Go memberlist 0.2.2 code (see
 * tests/testdata/README.md), then checks the new file with the Go verifier.
 *
 *   deno run -A tools/gen_go_vectors.ts [-v]
 *
 * @module
 */

import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import process from "node:process";
import { buildGoProgram, repoRoot } from "../tests/interop/_go.ts";

const bin = buildGoProgram("tests/interop/go/wirevectors");
const out = path.join(repoRoot, "tests", "testdata", "go_vectors.ts");
const verbose = process.argv.includes("-v") ? ["-v"] : [];

const gen = spawnSync(bin, ["gen", "-o", out, ...verbose], { stdio: "inherit" });
if (gen.status !== 0) process.exit(gen.status ?? 1);

// Check what was written: the new module's entries, as JSON, through `wirevectors verify`.
const { goVectors } = await import("../tests/testdata/go_vectors.ts");
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "go-vectors-"));
let status = 1;
try {
  const file = path.join(tmp, "vectors.json");
  fs.writeFileSync(file, JSON.stringify(goVectors));
  const verify = spawnSync(bin, ["verify", file], { encoding: "utf8", maxBuffer: 64 << 20 });
  const lines = verify.stdout.trim().split("\n");
  for (const line of lines) if (line.includes('"ok":false')) process.stderr.write(`${line}\n`);
  process.stderr.write(`verify: ${lines.at(-1)}\n`);
  status = verify.status ?? 1;
} finally {
  fs.rmSync(tmp, { recursive: true, force: true });
}
process.exit(status);
