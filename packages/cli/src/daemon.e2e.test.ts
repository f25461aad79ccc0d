import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { type AddressInfo, createServer } from "node:net";
import { join } from "node:path";
import { shopSchema } from "@chaos-agents/database";
import {
  type ChaosProcess,
  createTestDatabase,
  databaseState,
  freePort,
  makeTempDirectory,
  runChaos,
  startChaos,
  type TestDatabase,
} from "@chaos-agents/testing";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";

// The daemon through the real binary: schedules firing every second against the machine's PostgreSQL.
const temp = makeTempDirectory("chaos-daemon-");
let db: TestDatabase;
let counter = 0;

beforeAll(async () => {
  db = await createTestDatabase("postgres");
  for (const statement of shopSchema.postgres) await db.execute(statement);
  await db.execute("INSERT INTO customers (email, name) SELECT 'c' || g || '@example.com', 'customer ' || g FROM generate_series(1, 50) g");
});
/** Daemons a failed test may have left running: stopped after each test. */
const daemons: ChaosProcess[] = [];
const startDaemon = (args: string[]): ChaosProcess => {
  const daemon = startChaos(["daemon", ...args]);
  daemons.push(daemon);
  return daemon;
};
afterEach(async () => {
  for (const daemon of daemons.splice(0)) {
    if (daemon.child.exitCode === null && daemon.child.signalCode === null) daemon.child.kill("SIGTERM");
    await daemon.done;
  }
});
afterAll(async () => {
  await db?.drop();
  temp.remove();
});

function files() {
  const directory = join(temp.path, `daemon-${++counter}`);
  return {
    config: join(temp.path, `daemon-${counter}.yaml`),
    journal: join(directory, "journal.sqlite"),
    pidFile: join(temp.path, `daemon-${counter}.pid`),
    reports: join(directory, "reports"),
  };
}

function daemonYaml(reports: string, entries: string, maxConcurrent = 2): string {
  return `settings: { max_concurrent: ${maxConcurrent}, report_dir: "${reports}" }
targets:
  shop: { target: database, target_config: { connection_url: "${db.url}", db_type: postgres } }
experiments:
${entries}`;
}

const entry = (
  name: string,
  skill: string,
  duration: string,
  extra = "",
) => `  - experiment: { name: ${name}, target_alias: shop, duration: "${duration}", skills: [${skill}] }
    schedule: "* * * * * *"
${extra}`;
const writes = "{ skill_name: db.insert_load, params: { rows_per_table: 20, tables: [customers] } }";
const reads = "{ skill_name: db.select_load, params: { queries: 20 } }";

function reportsIn(directory: string): { name: string; status: string; startedAt: string; finishedAt: string }[] {
  if (!existsSync(directory)) return [];
  return readdirSync(directory).map((name) => JSON.parse(readFileSync(join(directory, name), "utf8")).experiments[0]);
}

describe("chaos daemon", () => {
  it("a --listen address another program holds is refused in words before anything is scheduled", async () => {
    const paths = files();
    writeFileSync(paths.config, daemonYaml(paths.reports, entry("reads", reads, "1s")));
    const holder = createServer();
    const port = await new Promise<number>((resolve) =>
      holder.listen(0, "127.0.0.1", () => resolve((holder.address() as AddressInfo).port)),
    );
    try {
      const result = await runChaos([
        "daemon",
        paths.config,
        "--pid-file",
        paths.pidFile,
        "--listen",
        `127.0.0.1:${port}`,
        "--journal",
        paths.journal,
      ]);
      expect(result.exitCode).toBe(2);
      expect(result.stderr).toContain(
        `error: cannot listen on 127.0.0.1:${port}: another program listens there already (EADDRINUSE): choose another port`,
      );
      expect(reportsIn(paths.reports)).toEqual([]);
      expect(existsSync(paths.pidFile)).toBe(false); // not left to block the next start
    } finally {
      holder.close();
    }
  });

  it("runs schedules every second, never overlapping an experiment or a target, serves /metrics, and SIGTERM stops it cleanly", async () => {
    const before = await databaseState(db.url, "postgres");
    const paths = files();
    writeFileSync(
      paths.config,
      daemonYaml(
        paths.reports,
        entry("writes", writes, "1500ms") + entry("reads", reads, "1s") + entry("off", reads, "1s", "    enabled: false\n"),
      ),
    );
    const port = await freePort();
    const daemon = startDaemon([paths.config, "--pid-file", paths.pidFile, "--listen", `127.0.0.1:${port}`, "--journal", paths.journal]);
    // Both fire every second on one target: they take turns, and the rest is skipped and counted.
    await daemon.waitFor(/"name":"writes","status":"succeeded"[\s\S]*"name":"writes","status":"succeeded"/, 60_000);
    expect(readFileSync(paths.pidFile, "utf8").trim()).toBe(String(daemon.child.pid));
    const health = await (await fetch(`http://127.0.0.1:${port}/healthz`)).json();
    expect(health).toMatchObject({ status: "ok", scheduled: [{ experiment: "writes" }, { experiment: "reads" }] });
    const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    expect(metrics).toMatch(/^# HELP chaos_experiments_total/m);
    expect(metrics).toMatch(/chaos_next_run_timestamp_seconds\{experiment="writes"\} \d+/);
    const succeeded = Number(/chaos_experiments_total\{experiment="writes",result="succeeded"\} (\d+)/.exec(metrics)?.[1] ?? 0);
    expect(succeeded).toBeGreaterThanOrEqual(2);
    expect(metrics).toMatch(/chaos_runs_skipped_total\{experiment="(reads|writes)",reason="overlap"\} [1-9]/);
    expect(metrics).toMatch(/chaos_runs_skipped_total\{experiment="(reads|writes)",reason="same_target"\} [1-9]/);

    daemon.child.kill("SIGTERM");
    const result = await daemon.done;
    expect(result.exitCode, result.stderr).toBe(0);
    expect(existsSync(paths.pidFile)).toBe(false);
    expect(result.stdout).not.toContain('"name":"off"');
    expect(await databaseState(db.url, "postgres")).toEqual(before);

    // Every run left a report; runs on the one target never overlapped.
    const reports = reportsIn(paths.reports).sort((left, right) => left.startedAt.localeCompare(right.startedAt));
    expect(reports.filter((report) => report.name === "writes" && report.status === "succeeded").length).toBeGreaterThanOrEqual(succeeded);
    for (let index = 1; index < reports.length; index++) {
      expect(
        reports[index]!.startedAt >= reports[index - 1]!.finishedAt,
        `${reports[index - 1]!.name} and ${reports[index]!.name} overlapped`,
      ).toBe(true);
    }
  });

  it("SIGTERM in the middle of a hold rolls back exactly and reports the run as interrupted", async () => {
    const before = await databaseState(db.url, "postgres");
    const paths = files();
    writeFileSync(paths.config, daemonYaml(paths.reports, entry("held", writes, "1h")));
    const daemon = startDaemon([paths.config, "--pid-file", paths.pidFile, "--journal", paths.journal]);
    await daemon.waitFor('"type":"hold_started"', 30_000);
    expect(await databaseState(db.url, "postgres")).not.toEqual(before);
    daemon.child.kill("SIGTERM");
    expect((await daemon.done).exitCode).toBe(0);
    expect(await databaseState(db.url, "postgres")).toEqual(before);
    expect(reportsIn(paths.reports).map((report) => report.status)).toEqual(["interrupted_rolled_back"]);
  });

  it("its running experiment is left alone by a `chaos recover` typed meanwhile; after kill -9 the restarted daemon recovers it first", async () => {
    const before = await databaseState(db.url, "postgres");
    const paths = files();
    writeFileSync(paths.config, daemonYaml(paths.reports, entry("held", writes, "1h")));
    const first = startDaemon([paths.config, "--pid-file", paths.pidFile, "--journal", paths.journal]);
    await first.waitFor('"type":"hold_started"', 30_000);
    const typed = await runChaos(["recover", "--journal", paths.journal]);
    expect(typed.exitCode).toBe(8);
    expect(typed.stdout).toContain(`left alone: running in process ${first.child.pid}`);
    first.child.kill("SIGKILL");
    await first.done;
    expect(await databaseState(db.url, "postgres")).not.toEqual(before);

    writeFileSync(paths.config, daemonYaml(paths.reports, entry("held", writes, "1h", "    enabled: false\n")));
    const second = startDaemon([paths.config, "--pid-file", paths.pidFile, "--journal", paths.journal]);
    await second.waitFor("recovered 1 unfinished experiment(s) before scheduling", 60_000);
    expect(second.output.stdout).toContain(`took over the PID file of dead daemon ${first.child.pid}`);
    expect(await databaseState(db.url, "postgres")).toEqual(before);
  });

  it("a second daemon on the same PID file refuses; a stale PID file is taken over", async () => {
    const paths = files();
    writeFileSync(paths.config, daemonYaml(paths.reports, entry("reads", reads, "1s")));
    const first = startDaemon([paths.config, "--pid-file", paths.pidFile, "--journal", paths.journal]);
    await first.waitFor("started with", 30_000);
    const second = await runChaos(["daemon", paths.config, "--pid-file", paths.pidFile, "--journal", paths.journal]);
    expect(second.exitCode).toBe(7);
    expect(second.stderr).toContain(`another chaos daemon (pid ${first.child.pid}) holds ${paths.pidFile}`);
    first.child.kill("SIGTERM");
    await first.done;

    writeFileSync(paths.pidFile, "2147483646\n"); // no such process
    const third = startDaemon([paths.config, "--pid-file", paths.pidFile, "--journal", paths.journal]);
    await third.waitFor("took over the PID file of dead daemon 2147483646", 30_000);
    third.child.kill("SIGTERM");
    expect((await third.done).exitCode).toBe(0);
  });

  it("SIGHUP with a broken file keeps the old schedules and says why; a good file replaces them", async () => {
    const paths = files();
    writeFileSync(paths.config, daemonYaml(paths.reports, entry("first", reads, "500ms")));
    const daemon = startDaemon([paths.config, "--pid-file", paths.pidFile, "--journal", paths.journal]);
    await daemon.waitFor("scheduled first", 30_000);
    writeFileSync(paths.config, "settings: { max_concurrent: zero }\nexperiments: []\n");
    daemon.child.kill("SIGHUP");
    await daemon.waitFor("is not valid, the old schedules stay", 10_000);
    await daemon.waitFor('"name":"first"', 10_000);
    writeFileSync(paths.config, daemonYaml(paths.reports, entry("second", reads, "500ms")));
    daemon.child.kill("SIGHUP");
    await daemon.waitFor("scheduled second", 10_000);
    await daemon.waitFor('"type":"experiment_started","experimentId":', 10_000);
    daemon.child.kill("SIGTERM");
    const result = await daemon.done;
    expect(result.exitCode).toBe(0);
    const afterReload = result.stdout.slice(result.stdout.indexOf("scheduled second"));
    expect(afterReload).not.toMatch(/"type":"experiment_started"[^\n]*"name":"first"/);
  });

  it("refuses to start on an invalid file (exit 3), before taking the PID file", async () => {
    const paths = files();
    writeFileSync(
      paths.config,
      `settings: { max_concurrent: 1 }\nexperiments:\n  - experiment: { name: x, target_alias: shop, skills: [${reads}] }\n    schedule: "every minute"\n`,
    );
    const result = await runChaos(["daemon", paths.config, "--pid-file", paths.pidFile, "--journal", paths.journal]);
    expect(result.exitCode).toBe(3);
    expect(result.stderr).toContain("not a valid cron schedule");
    expect(existsSync(paths.pidFile)).toBe(false);
  });
});
