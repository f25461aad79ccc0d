import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { ExperimentReport } from "@chaos-agents/core";
import pg from "pg";
import { runBenchSkill } from "./bench-experiment.js";

/**
 * The shape that made rollback crawl (issue #8): a self-referencing table whose referencing
 * column has no index, beside more foreign keys, one of them from another unindexed table.
 * Every deleted row's foreign-key check scans such a table once unless chaos avoids it.
 */
export async function createTreeSchema(url: string, applicationRows: number): Promise<void> {
  await execute(url, [
    "CREATE TABLE bench_owners (id int PRIMARY KEY, name text NOT NULL)",
    "INSERT INTO bench_owners SELECT n, 'owner ' || n FROM generate_series(1, 1000) n",
    `CREATE TABLE bench_tree (id bigint PRIMARY KEY, parent_id bigint REFERENCES bench_tree(id),
       owner_id int NOT NULL REFERENCES bench_owners(id), note text NOT NULL)`,
    `INSERT INTO bench_tree SELECT n, CASE WHEN n > 1 THEN n / 2 END, 1 + n % 1000, 'application ' || n
       FROM generate_series(1, ${applicationRows}) n`,
    "CREATE TABLE bench_tags (id bigint PRIMARY KEY, tree_id bigint NOT NULL REFERENCES bench_tree(id), tag text NOT NULL)",
    `INSERT INTO bench_tags SELECT n, 1 + n % ${applicationRows}, 'tag ' || n FROM generate_series(1, 10000) n`,
    "VACUUM ANALYZE",
    "CHECKPOINT",
  ]);
}

export interface RollbackTiming {
  rows: number;
  insertSeconds: number;
  rollbackSeconds: number;
}

/** db.insert_load into the tree, rolled back at once: how long each side took, from the engine's own events. */
export async function benchInsertRollback(
  url: string,
  rows: number,
  batchSize: number,
): Promise<RollbackTiming & { report: ExperimentReport }> {
  let started = 0;
  let injected = 0;
  let finished = 0;
  const report = await runBenchSkill(
    url,
    "db.insert_load",
    { tables: ["bench_tree"], rows_per_table: rows, batch_size: batchSize },
    "1ms",
    (event) => {
      if (event.type === "skill_planned") started = performance.now();
      if (event.type === "skill_injected") injected = performance.now();
      if (event.type === "experiment_finished") finished = performance.now();
    },
  );
  return { rows, insertSeconds: (injected - started) / 1000, rollbackSeconds: (finished - injected) / 1000, report };
}

/** The built `chaos` binary beside this package (the bench runs from the repository). */
const chaosBinary = fileURLToPath(new URL("../../../cli/bin/chaos.js", import.meta.url));

/**
 * The real binary inserts `rows` into the tree and holds; once every row is in, it is killed
 * with SIGKILL, and `chaos recover` is timed against the journal it left.
 */
export async function benchKillAndRecover(
  url: string,
  rows: number,
  batchSize: number,
): Promise<RollbackTiming & { recoverOutput: string }> {
  const directory = mkdtempSync(join(tmpdir(), "chaos-bench-recover-"));
  try {
    const config = join(directory, "bench.yaml");
    const journal = join(directory, "journal.sqlite");
    writeFileSync(
      config,
      `experiments:
  - name: bench-recover
    target: database
    target_config: { connection_url: "${url}", db_type: postgres }
    duration: 1h
    skills: [{ skill_name: db.insert_load, params: { tables: [bench_tree], rows_per_table: ${rows}, batch_size: ${batchSize} } }]
`,
    );
    const run = spawn(process.execPath, [chaosBinary, "--output", "json", "run", config, "--journal", journal], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    let output = "";
    const held = new Promise<void>((resolve, reject) => {
      run.stdout.on("data", (chunk: Buffer) => {
        output += chunk.toString();
        if (output.includes('"type":"hold_started"')) resolve();
      });
      run.on("close", () => reject(new Error(`chaos run ended before its hold:\n${output}`)));
    });
    await held;
    // The insert's own rate, from its event: process start and connection are not the insert's time.
    const injected = output.split("\n").find((line) => line.includes('"type":"skill_injected"')) ?? "{}";
    const rate = Number((JSON.parse(injected) as { metrics?: { rows_per_second?: number } }).metrics?.rows_per_second);
    const insertSeconds = rows / rate;
    const exited = new Promise((resolve) => run.once("close", resolve));
    run.kill("SIGKILL");
    await exited;
    const recoverStarted = performance.now();
    const recover = spawn(process.execPath, [chaosBinary, "--output", "json", "recover", "--journal", journal], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    let recoverOutput = "";
    recover.stdout.on("data", (chunk: Buffer) => {
      recoverOutput += chunk.toString();
    });
    recover.stderr.on("data", (chunk: Buffer) => {
      recoverOutput += chunk.toString();
    });
    const code = await new Promise<number | null>((resolve) => recover.once("close", resolve));
    const rollbackSeconds = (performance.now() - recoverStarted) / 1000;
    if (code !== 0) throw new Error(`chaos recover exited ${code}:\n${recoverOutput}`);
    return { rows, insertSeconds, rollbackSeconds, recoverOutput };
  } finally {
    rmSync(directory, { recursive: true, force: true });
  }
}

async function execute(url: string, statements: string[]): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    for (const statement of statements) await client.query(statement);
  } finally {
    await client.end();
  }
}
