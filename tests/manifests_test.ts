// Project invariants: lib/ stays free of runtime globals, and the manifests agree.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

// Tests run from tests/ (Deno, Bun) or build/tests/ (Node): find the repository root either way.
const here = fileURLToPath(new URL(".", import.meta.url));
const root = here.includes("/build/") ? here.slice(0, here.indexOf("/build/") + 1) : new URL("..", import.meta.url).pathname;

function sources(dir: string): string[] {
  return readdirSync(root + dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? sources(`${dir}/${e.name}`) : e.name.endsWith(".ts") ? [`${dir}/${e.name}`] : []
  );
}

/** Code without comments, so documentation may mention runtimes freely. */
function code(path: string): string {
  return readFileSync(root + path, "utf8").replace(/\/\*[\s\S]*?\*\//g, "").replace(/\/\/.*$/gm, "");
}

describe("lib/", () => {
  it("touches no runtime global or node: module outside lib/_runtime.ts", () => {
    const offenders: string[] = [];
    for (const file of [...sources("lib"), "transports/mock.ts", "mod.ts"]) {
      if (file === "lib/_runtime.ts") continue;
      const text = code(file);
      for (const pattern of [/\bDeno\./, /\bBun\./, /\bprocess\./, /from\s+["']node:/, /import\(["']node:/, /\brequire\(/]) {
        if (pattern.test(text)) offenders.push(`${file}: ${pattern}`);
      }
    }
    assert.deepEqual(offenders, []);
  });
});

describe("jsr.json", () => {
  const jsr = JSON.parse(readFileSync(root + "jsr.json", "utf8"));
  const pkg = JSON.parse(readFileSync(root + "package.json", "utf8"));

  it("has the package's name, version and licence", () => {
    assert.equal(jsr.name, pkg.name);
    assert.equal(jsr.version, pkg.version);
    assert.equal(jsr.license, "MPL-2.0");
  });

  it("exports only files that exist", () => {
    for (const [subpath, file] of Object.entries(jsr.exports as Record<string, string>)) {
      assert.doesNotThrow(() => readFileSync(root + file), `${subpath} → ${file}`);
    }
  });

  it("maps every runtime dependency of package.json", () => {
    for (const dep of Object.keys(pkg.dependencies ?? {})) {
      assert.ok(Object.keys(jsr.imports ?? {}).some((k) => k.startsWith(dep)), dep);
    }
  });
});

describe("mod.ts", () => {
  it("exports the user's API, each export documented with an example (deno doc)", () => {
    const deno = `${root}node_modules/.bin/deno`;
    const r = spawnSync(deno, ["doc", "--json", `${root}mod.ts`], { encoding: "utf8", maxBuffer: 64 * 1024 * 1024 });
    assert.equal(r.status, 0, r.stderr);
    type Symbol = { name: string; declarations: { jsDoc?: { tags?: { kind: string }[] } }[] };
    const doc = JSON.parse(r.stdout) as { nodes: Record<string, { symbols: Symbol[] }> };
    const symbols = Object.entries(doc.nodes).find(([file]) => file.endsWith("/mod.ts"))![1].symbols;
    const withoutExample = symbols
      .filter((s) => !s.declarations.some((d) => d.jsDoc?.tags?.some((t) => t.kind === "example")))
      .map((s) => s.name);
    assert.deepEqual(withoutExample, []);
    // Wire internals and test helpers live in ./wire and ./testing.
    const names = new Set(symbols.map((s) => s.name));
    for (const moved of ["encryptPayload", "addLabelHeaderToPacket", "buildVsnArray", "VirtualClock", "setDefaultTransportFactory"]) {
      assert.equal(names.has(moved), false, moved);
    }
  });
});
