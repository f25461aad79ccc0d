import { availableParallelism } from "node:os";
import type { ExperimentReport } from "@chaos-agents/core";
import pg from "pg";
import { createBenchDatabase, runBenchSkill } from "./bench-experiment.js";
import { type CopyResult, findPgbench, pgbenchInit, pgbenchSelect, pgbenchTpcb } from "./bench-pgbench.js";
import { benchInsertRollback, benchKillAndRecover, createTreeSchema, type RollbackTiming } from "./bench-rollback.js";

/**
 * `npm run bench:db`: chaos's load skills against pgbench on the same server, from one run.
 * A measurement, not a test: it prints a table and exits 0 whatever the ratios are.
 */
const serverUrl = (process.env.CHAOS_BENCH_URL ?? "postgres://postgres@127.0.0.1:5432").replace(/\/+$/, "");
const scale = Number(process.env.CHAOS_BENCH_SCALE ?? 10);
const clients = Number(process.env.CHAOS_BENCH_CLIENTS ?? 4);
const seconds = Number(process.env.CHAOS_BENCH_SECONDS ?? 10);
const goals = { insert: 0.5, select: 0.8, rollback: 0.5 };
/** By default the largest batch db.insert_load allows: pgbench -i loads its table in one COPY, so chaos gets its bulkiest setting too. */
const insertBatchSize = Number(process.env.CHAOS_BENCH_INSERT_BATCH ?? 50_000);
/** Rows inserted into the self-referencing tree and rolled back at once. */
const rollbackRows = Number(process.env.CHAOS_BENCH_ROLLBACK_ROWS ?? 200_000);
/** Rows the real binary inserts before it is killed with SIGKILL and `chaos recover` deletes them. */
const recoverRows = Number(process.env.CHAOS_BENCH_RECOVER_ROWS ?? 1_000_000);
/** Rows of the application's own in the tree. */
const treeRows = 100_000;

interface Row {
  name: string;
  chaos: number;
  reference: number;
  referenceName: string;
  goal?: number;
}

async function main(): Promise<void> {
  const pgbench = findPgbench();
  const database = await createBenchDatabase(serverUrl);
  const rows: Row[] = [];
  try {
    const version = await execute(database.url, "SELECT current_setting('server_version') AS v").then((result) => String(result[0]?.v));
    console.log(`chaos-agents database bench: PostgreSQL ${version} at ${serverUrl}, ${availableParallelism()} CPU(s), ${pgbench}\n`);

    // Each side runs after a CHECKPOINT, so neither pays for the other's dirty pages; pgbench
    // loads before and after chaos and the reference is the mean of both, so a machine whose
    // speed drifts during the bench favours neither side. (pgbench's own `v` step is a VACUUM
    // ANALYZE; its `p` step already built the primary key -S looks up.)
    await execute(database.url, "CHECKPOINT");
    const copyBefore = await pgbenchInit(pgbench, database.url, scale);
    // Vacuumed now, so autovacuum does not pick this fresh table during chaos's insert.
    await execute(database.url, "VACUUM ANALYZE pgbench_accounts");
    await execute(database.url, "CREATE TABLE bench_accounts (aid int PRIMARY KEY, bid int, abalance int, filler char(84))");
    await execute(database.url, "CHECKPOINT");
    const insert = await runBenchSkill(
      database.url,
      "db.insert_load",
      { tables: ["bench_accounts"], rows_per_table: copyBefore.rows, batch_size: insertBatchSize },
      "1ms",
    );
    check(
      insert,
      Number(insert.skills[0]?.metrics?.rows_inserted) === copyBefore.rows,
      `inserted ${insert.skills[0]?.metrics?.rows_inserted}`,
    );
    // The rollback left a table of dead rows: drop it, so no autovacuum lands in a later measurement.
    await execute(database.url, "DROP TABLE bench_accounts");
    await execute(database.url, "CHECKPOINT");
    const copyAfter = await pgbenchInit(pgbench, database.url, scale);
    await execute(database.url, "VACUUM ANALYZE pgbench_accounts");
    await execute(database.url, "CHECKPOINT");
    const copyRate = (copy: CopyResult) => copy.rows / copy.seconds;
    rows.push({
      name: `insert ${copyBefore.rows.toLocaleString("en")} rows, batches of ${insertBatchSize.toLocaleString("en")} (rows/s)`,
      chaos: Number(insert.skills[0]?.metrics?.rows_per_second),
      reference: (copyRate(copyBefore) + copyRate(copyAfter)) / 2,
      referenceName: "pgbench -i -I dtgp (COPY + key), mean of a run before and after",
      goal: goals.insert,
    });

    // pgbench -S runs before and after chaos too.
    const simpleBefore = await pgbenchSelect(pgbench, database.url, clients, seconds, "simple");
    const cpuBefore = process.cpuUsage();
    const select = await runBenchSkill(
      database.url,
      "db.select_load",
      { tables: ["pgbench_accounts"], concurrency: clients, mix: { point: 1 } },
      `${seconds}s`,
    );
    check(select, Number(select.skills[0]?.metrics?.errors) === 0, `errors ${select.skills[0]?.metrics?.errors}`);
    const selectQps = Number(select.skills[0]?.metrics?.queries_per_second);
    // What the client side costs: this process's CPU per query, every thread included.
    const cpu = process.cpuUsage(cpuBefore);
    const clientMicroseconds = (cpu.user + cpu.system) / Math.max(Number(select.skills[0]?.metrics?.queries), 1);
    const simpleAfter = await pgbenchSelect(pgbench, database.url, clients, seconds, "simple");
    rows.push({
      name: `point SELECTs, ${clients} clients, ${seconds}s (q/s)`,
      chaos: selectQps,
      reference: (simpleBefore.transactionsPerSecond + simpleAfter.transactionsPerSecond) / 2,
      referenceName: "pgbench -S (simple), mean of a run before and after",
      goal: goals.select,
    });
    const prepared = await pgbenchSelect(pgbench, database.url, clients, seconds, "prepared");
    rows.push({
      name: `  same, for reference (q/s)`,
      chaos: selectQps,
      reference: prepared.transactionsPerSecond,
      referenceName: "pgbench -S -M prepared",
    });

    const tpcb = await tpcbDuringUpdateLoad(pgbench, database.url);
    rows.push(...tpcb.rows);
    // Rollback beside the shape that made it crawl: a self-referencing table whose referencing
    // column has no index, more foreign keys, one more unindexed table pointing at it.
    await createTreeSchema(database.url, treeRows);
    const rolledBack = await benchInsertRollback(database.url, rollbackRows, insertBatchSize);
    check(rolledBack.report, await treeIsBack(database.url), "the tree is not as before");
    rows.push(
      rollbackRow(
        `roll back ${rollbackRows.toLocaleString("en")} inserted tree rows (rows/s)`,
        rolledBack,
        "db.insert_load into the same tree",
      ),
    );
    await execute(database.url, "VACUUM ANALYZE bench_tree");
    await execute(database.url, "CHECKPOINT");
    const recovered = await benchKillAndRecover(database.url, recoverRows, insertBatchSize);
    if (!(await treeIsBack(database.url))) throw new Error(`chaos recover left the tree changed:\n${recovered.recoverOutput}`);
    rows.push(
      rollbackRow(
        `kill -9, then chaos recover of ${recoverRows.toLocaleString("en")} tree rows (rows/s)`,
        recovered,
        "the killed run's insert",
      ),
    );

    printTable(rows);
    const latency = select.skills[0]?.metrics ?? {};
    console.log(
      `\ndb.select_load latency p50/p95/p99: ${latency.latency_p50_ms}/${latency.latency_p95_ms}/${latency.latency_p99_ms} ms; ` +
        `db.insert_load batch p50/p95/p99: ${insert.skills[0]?.metrics?.batch_p50_ms}/${insert.skills[0]?.metrics?.batch_p95_ms}/${insert.skills[0]?.metrics?.batch_p99_ms} ms`,
    );
    console.log(
      `pgbench -i before/after chaos: ${Math.round(copyRate(copyBefore)).toLocaleString("en")}/${Math.round(copyRate(copyAfter)).toLocaleString("en")} rows/s; ` +
        `pgbench -S before/after chaos: ${Math.round(simpleBefore.transactionsPerSecond).toLocaleString("en")}/${Math.round(simpleAfter.transactionsPerSecond).toLocaleString("en")} q/s`,
    );
    console.log(
      `db.select_load client CPU: ${clientMicroseconds.toFixed(1)} µs per query, all of this process's threads together ` +
        `(its workers run in ${Math.min(clients, availableParallelism())} thread(s))`,
    );
    console.log(
      `db.update_load during TPC-B: ${tpcb.notes.join("; ")} (pgbench TPC-B before/after: ${tpcb.references.map((tps) => Math.round(tps)).join("/")} tps)`,
    );
    console.log(
      "note: the COPY reference counts pgbench's client-side generate and primary-key times, so both sides end with the same indexed table.",
    );
  } finally {
    await database.drop();
  }
}

/**
 * The load's real effect on an application: pgbench's TPC-B-like workload (its own tables,
 * `clients` clients) alone, then while db.update_load keeps updating 10,000 of its accounts
 * (rewrite mode, then random values with abalance compensated), then alone again.
 */
async function tpcbDuringUpdateLoad(pgbench: string, url: string): Promise<{ rows: Row[]; notes: string[]; references: number[] }> {
  // TPC-B appends to pgbench_history: vacuumed and checkpointed so each run starts alike.
  const settle = async () => {
    await execute(url, "VACUUM ANALYZE pgbench_accounts, pgbench_tellers, pgbench_branches, pgbench_history");
    await execute(url, "CHECKPOINT");
  };
  await settle();
  const before = await pgbenchTpcb(pgbench, url, clients, seconds);
  const during: { mode: string; tps: number; report: ExperimentReport }[] = [];
  for (const mode of [{ mode: "rewrite" }, { mode: "random", compensate: ["abalance"] }]) {
    await settle();
    // The skill picks its rows first; pgbench starts once the load runs and ends inside the hold.
    const experiment = runBenchSkill(
      url,
      "db.update_load",
      { tables: ["pgbench_accounts"], rows: 10_000, sustain: true, ...mode },
      `${seconds + 4}s`,
    );
    await new Promise((resolve) => setTimeout(resolve, 2000));
    const tps = await pgbenchTpcb(pgbench, url, clients, seconds);
    const report = await experiment;
    check(report, tps.failed === 0, `${tps.failed} pgbench transactions failed`);
    during.push({ mode: mode.mode, tps: tps.transactionsPerSecond, report });
  }
  await settle();
  const after = await pgbenchTpcb(pgbench, url, clients, seconds);
  const reference = (before.transactionsPerSecond + after.transactionsPerSecond) / 2;
  return {
    rows: during.map(({ mode, tps }) => ({
      name: `pgbench TPC-B, ${clients} clients, ${seconds}s, during db.update_load ${mode} (tps)`,
      chaos: tps,
      reference,
      referenceName: "the same pgbench run without chaos, mean of before and after",
    })),
    notes: during.map(
      ({ mode, report }) =>
        `${mode}: ${report.skills[0]?.metrics?.rows_per_second} rows/s updated, ${report.rollback.notes.join(" ").match(/compensated \d+/)?.[0] ?? "none compensated"}`,
    ),
    references: [before.transactionsPerSecond, after.transactionsPerSecond],
  };
}

/** Rows per second of the rollback against the insert's: ≥ 0.5× is a rollback within twice the insert's time. */
function rollbackRow(name: string, timing: RollbackTiming, referenceName: string): Row {
  return {
    name,
    chaos: timing.rows / timing.rollbackSeconds,
    reference: timing.rows / timing.insertSeconds,
    referenceName: `${referenceName} (${timing.insertSeconds.toFixed(1)} s; rollback ${timing.rollbackSeconds.toFixed(1)} s)`,
    goal: goals.rollback,
  };
}

/** The tree holds exactly the application's rows again. */
async function treeIsBack(url: string): Promise<boolean> {
  const [row] = await execute(url, "SELECT COUNT(*)::int AS n, MAX(id)::int AS largest FROM bench_tree");
  return row?.n === treeRows && row?.largest === treeRows;
}

/** The rollback must have succeeded too: a bench that leaves debris is no measurement. */
function check(report: ExperimentReport, ok: boolean, what: string): void {
  if (report.status !== "succeeded" || !ok) {
    throw new Error(
      `${report.skills[0]?.skill} did not run cleanly (${report.status}, ${what}): ${report.error ?? report.skills[0]?.error ?? ""}`,
    );
  }
}

function printTable(rows: Row[]): void {
  const format = (value: number) => Math.round(value).toLocaleString("en");
  const table = [
    ["", "chaos", "reference", "", "ratio", "goal", ""],
    ...rows.map((row) => {
      const ratio = row.chaos / row.reference;
      const verdict = row.goal === undefined ? "" : ratio >= row.goal ? "met" : "BELOW GOAL";
      return [
        row.name,
        format(row.chaos),
        format(row.reference),
        row.referenceName,
        `${ratio.toFixed(2)}×`,
        row.goal ? `≥ ${row.goal.toFixed(2)}×` : "",
        verdict,
      ];
    }),
  ];
  const widths = table[0]?.map((_, column) => Math.max(...table.map((line) => (line[column] ?? "").length))) ?? [];
  const numeric = new Set([1, 2, 4]);
  for (const line of table) {
    console.log(
      line
        .map((cell, column) => (numeric.has(column) ? cell.padStart(widths[column] ?? 0) : cell.padEnd(widths[column] ?? 0)))
        .join("  ")
        .trimEnd(),
    );
  }
}

async function execute(url: string, sql: string): Promise<Record<string, unknown>[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query(sql)).rows;
  } finally {
    await client.end();
  }
}

main().catch((error: Error) => {
  // A measurement, not a gate: report what went wrong and exit 0 all the same.
  console.error(`bench:db could not finish: ${error.message}`);
});
