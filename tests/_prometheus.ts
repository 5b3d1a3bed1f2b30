// Copyright (c) memberlist-ts authors. SPDX-License-Identifier: MPL-2.0
// Reads Prometheus text exposition with the official Prometheus client's own parser
// (prometheus_client.parser, Debian's python3-prometheus-client, which .ci/run installs), so
// /metrics is checked by what Prometheus' own tooling accepts, not by our reading of the format.
import { spawnSync } from "node:child_process";

const PYTHON = "/usr/bin/python3";

const SCRIPT = `
import json, sys
from prometheus_client.parser import text_string_to_metric_families
out = []
for f in text_string_to_metric_families(sys.stdin.read()):
    out.append({"name": f.name, "type": f.type, "help": f.documentation,
                "samples": [{"name": s.name, "labels": s.labels, "value": repr(s.value)} for s in f.samples]})
print(json.dumps(out))
`;

/** A metric family as the parser returns it; sample values as Python's repr ("3.0", "nan"). */
export interface PromFamily {
  name: string;
  type: string;
  help: string;
  samples: { name: string; labels: Record<string, string>; value: string }[];
}

/** Whether the parser is here: null when it is, else why not. */
export function prometheusParserMissing(): string | null {
  const r = spawnSync(PYTHON, ["-c", "import prometheus_client.parser"], { encoding: "utf8" });
  if (r.error !== undefined || r.status !== 0) {
    return `${PYTHON} with prometheus_client is missing (apt-get install python3-prometheus-client; .ci/run does)`;
  }
  return null;
}

/** Parses exposition text; throws with the parser's message when it is malformed. */
export function parsePrometheus(text: string): Map<string, PromFamily> {
  const r = spawnSync(PYTHON, ["-c", SCRIPT], { input: text, encoding: "utf8" });
  if (r.error !== undefined) throw r.error;
  if (r.status !== 0) throw new Error(`Prometheus parser refused the text: ${r.stderr}`);
  return new Map((JSON.parse(r.stdout) as PromFamily[]).map((f) => [f.name, f]));
}
