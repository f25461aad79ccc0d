import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

// `npm run bench:start`: how long `chaos --version`, `--help` and `validate` of a small file take
// to start, against `node -e 0` on the same runtime, measured in the same run (median of
// CHAOS_BENCH_RUNS, default 11, after a warm-up that fills the compile cache). Goal: within 1.5×.
const chaos = fileURLToPath(new URL("../../bin/chaos.js", import.meta.url));
// Floors: what the libraries commands need cost to load alone, the way chaos loads them (compile
// cache on), resolved from the CLI package: every command but a bare --version or --help parses
// its arguments with commander; validate also needs zod and yaml. None can start faster.
const cliPackage = fileURLToPath(new URL("../..", import.meta.url));
const importAlone = (...modules: string[]) => [
  "--input-type=module",
  "-e",
  `(await import("node:module")).enableCompileCache(); ${modules.map((name) => `await import(${JSON.stringify(name)});`).join(" ")}`,
];
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
  spawnSync(process.execPath, args, { cwd: cliPackage }); // warm-up: the compile cache and the page cache
  for (let run = 0; run < runs; run++) {
    const started = process.hrtime.bigint();
    const result = spawnSync(process.execPath, args, { encoding: "utf8", cwd: cliPackage });
    times.push(Number(process.hrtime.bigint() - started) / 1e6);
    if (result.status !== 0) throw new Error(`${args.join(" ")} exited ${result.status}: ${result.stderr}`);
  }
  times.sort((left, right) => left - right);
  return times[Math.floor(times.length / 2)] ?? 0;
}

try {
  const reference = medianMs(["-e", "0"]);
  console.log(`node ${process.version}, median of ${runs} runs; reference \`node -e 0\`: ${reference.toFixed(1)} ms`);
  const line = (label: string, took: number, verdict: string) =>
    console.log(`${label.padEnd(34)} ${took.toFixed(1).padStart(7)} ms  ${(took / reference).toFixed(2)}× ${verdict}`);
  for (const [label, args] of [
    ["chaos --version", [chaos, "--version"]],
    ["chaos --help", [chaos, "--help"]],
    ["chaos validate small.yaml", [chaos, "validate", config]],
  ] as const) {
    const took = medianMs([...args]);
    line(label, took, took / reference <= 1.5 ? "(goal ≤ 1.5×: met)" : "(goal ≤ 1.5×: not met)");
  }
  line("floor of parsing: commander alone", medianMs(importAlone("commander")), "");
  line("floor of validate: zod + yaml alone", medianMs(importAlone("zod", "yaml")), "");
} finally {
  rmSync(directory, { recursive: true, force: true });
}
