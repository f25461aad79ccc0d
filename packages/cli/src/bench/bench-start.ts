import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

// `npm run bench:start`: how long `chaos --version`, `--help` and `validate` of a small file take
// to start, against `node -e 0` on the same runtime, measured in the same run (median of
// CHAOS_BENCH_RUNS, default 11, after a warm-up that fills the compile cache). Goal: within 1.5×.
const chaos = fileURLToPath(new URL("../../bin/chaos.js", import.meta.url));
const runs = Number(process.env.CHAOS_BENCH_RUNS ?? 11);
const directory = mkdtempSync(join(tmpdir(), "chaos-bench-start-"));
const config = join(directory, "small.yaml");
writeFileSync(
  config,
  `experiments:
  - name: small
    target: server
    target_config: { local: true }
    skills: [{ skill_name: server.cpu_stress, params: { workers: 1 } }]
`,
);

function medianMs(args: string[]): number {
  const times: number[] = [];
  spawnSync(process.execPath, args); // warm-up: the compile cache and the page cache
  for (let run = 0; run < runs; run++) {
    const started = process.hrtime.bigint();
    const result = spawnSync(process.execPath, args, { encoding: "utf8" });
    times.push(Number(process.hrtime.bigint() - started) / 1e6);
    if (result.status !== 0) throw new Error(`${args.join(" ")} exited ${result.status}: ${result.stderr}`);
  }
  times.sort((left, right) => left - right);
  return times[Math.floor(times.length / 2)] ?? 0;
}

try {
  const reference = medianMs(["-e", "0"]);
  console.log(`node ${process.version}, median of ${runs} runs; reference \`node -e 0\`: ${reference.toFixed(1)} ms`);
  for (const [label, args] of [
    ["chaos --version", [chaos, "--version"]],
    ["chaos --help", [chaos, "--help"]],
    ["chaos validate small.yaml", [chaos, "validate", config]],
  ] as const) {
    const took = medianMs([...args]);
    const ratio = took / reference;
    console.log(
      `${label.padEnd(28)} ${took.toFixed(1).padStart(7)} ms  ${ratio.toFixed(2)}× ${ratio <= 1.5 ? "(goal ≤ 1.5×: met)" : "(goal ≤ 1.5×: not met)"}`,
    );
  }
} finally {
  rmSync(directory, { recursive: true, force: true });
}
