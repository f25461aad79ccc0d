import { createHash } from "node:crypto";
import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { type EmbeddedServer, shopSchema, startEmbeddedPostgres } from "@chaos-agents/database";
import {
  type ChaosProcess,
  createTestDatabase,
  databaseState,
  makeTempDirectory,
  runChaos,
  startChaos,
  type TestDatabase,
} from "@chaos-agents/testing";
import pg from "pg";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";

// Several real `chaos daemon` processes sharing one PostgreSQL journal (a server of its own, as in
// production: never the server the experiments attack) and attacking the machine's PostgreSQL.
const temp = makeTempDirectory("chaos-shared-journal-");
let attacked: TestDatabase;
let journalServer: EmbeddedServer;
/** The journal server's admin URL without a database; each test makes a journal database of its own. */
let journalServerUrl: string;
/** The password in the journal URL: it must never show in output, reports or the journal. */
const journalPassword = "chaos-demo";
let counter = 0;

beforeAll(async () => {
  attacked = await createTestDatabase("postgres");
  for (const statement of shopSchema.postgres) await attacked.execute(statement);
  await attacked.execute(
    "INSERT INTO customers (email, name) SELECT 'c' || g || '@example.com', 'customer ' || g FROM generate_series(1, 50) g",
  );
  journalServer = await startEmbeddedPostgres("journal_admin");
  journalServerUrl = journalServer.url.replace(/\/journal_admin$/, "");
  expect(journalServer.url).toContain(`:${journalPassword}@`);
});
const daemons: ChaosProcess[] = [];
afterEach(async () => {
  for (const daemon of daemons.splice(0)) {
    if (daemon.child.exitCode === null && daemon.child.signalCode === null) daemon.child.kill("SIGTERM");
    await daemon.done;
  }
});
afterAll(async () => {
  await attacked?.drop();
  await journalServer?.stop();
  temp.remove();
});

/** A fresh journal database on the journal server, and its URL (with the password). */
async function journalDatabase(): Promise<string> {
  const name = `journal_${++counter}_${process.pid}`;
  const admin = new pg.Client({ connectionString: `${journalServerUrl}/journal_admin` });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  return `${journalServerUrl}/${name}`;
}

async function journalRows(url: string, sql: string): Promise<Record<string, unknown>[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query(sql)).rows;
  } finally {
    await client.end();
  }
}

function daemonFiles() {
  const index = ++counter;
  return {
    config: join(temp.path, `daemon-${index}.yaml`),
    reports: join(temp.path, `reports-${index}`),
    pidFile: (which: string) => join(temp.path, `daemon-${index}-${which}.pid`),
  };
}

/**
 * The daemon file: the journal URL and the target's password come from each daemon's environment
 * (`${…}`), never written in the file (the test server trusts any password, so any works).
 */
function daemonYaml(reports: string, experiments: string): string {
  const withPassword = attacked.url.replace("postgres@", "postgres:${SHOP_PASSWORD}@");
  return `settings: { max_concurrent: 2, report_dir: "${reports}", journal: "\${CHAOS_TEST_JOURNAL}" }
targets:
  shop: { target: database, target_config: { connection_url: "${withPassword}", db_type: postgres } }
experiments:
${experiments}`;
}

/** The attacked database's password in each daemon's environment: never in the journal or output. */
const shopPassword = "Sh0p-s3cret-pw";
const daemonEnvironment = (journalUrl: string) => ({ CHAOS_TEST_JOURNAL: journalUrl, SHOP_PASSWORD: shopPassword });

const writes = "{ skill_name: db.insert_load, params: { rows_per_table: 20, tables: [customers] } }";

/** A daemon; with `hostname`, as if on another machine (a UTS namespace of its own). */
function startDaemon(config: string, pidFile: string, journalUrl: string, hostname?: string): ChaosProcess {
  const daemon = startChaos(["daemon", config, "--pid-file", pidFile], daemonEnvironment(journalUrl), undefined, { hostname });
  daemons.push(daemon);
  return daemon;
}

interface ReportEntry {
  experimentId: string;
  name: string;
  status: string;
  startedAt: string;
  finishedAt: string;
  scheduledAt?: string;
}

function reportsIn(directory: string): ReportEntry[] {
  if (!existsSync(directory)) return [];
  return readdirSync(directory).map((name) => JSON.parse(readFileSync(join(directory, name), "utf8")).experiments[0]);
}

/** A six-field cron that fires once, `secondsAhead` from now (UTC), and not again for a day. */
function onceIn(secondsAhead: number): string {
  const at = new Date(Date.now() + secondsAhead * 1000);
  return `${at.getUTCSeconds()} ${at.getUTCMinutes()} ${at.getUTCHours()} * * *`;
}

/**
 * Two daemons sharing a fresh journal, on a schedule that fires once, 12 s from now, a one-hour
 * experiment: resolves once one of them holds it. `hostnames` puts each on a "machine" of its own.
 */
async function twoDaemonsOnOneHeldRun(hostnames: [string, string] | [] = []) {
  const before = await databaseState(attacked.url, "postgres");
  const journalUrl = await journalDatabase();
  const paths = daemonFiles();
  const held = `  - experiment: { name: held, target_alias: shop, duration: "1h", skills: [${writes}] }
    schedule: "${onceIn(12)}"
    timezone: UTC
`;
  writeFileSync(paths.config, daemonYaml(paths.reports, held));
  const daemons = (["a", "b"] as const).map((which, index) =>
    startDaemon(paths.config, paths.pidFile(which), journalUrl, hostnames[index]),
  );
  const holder = await Promise.any(daemons.map((daemon) => daemon.waitFor('"type":"hold_started"', 60_000).then(() => daemon)));
  const survivor = daemons.find((daemon) => daemon !== holder)!;
  return { before, journalUrl, holder, survivor, hostOf: (daemon: ChaosProcess) => hostnames[daemons.indexOf(daemon)] };
}

describe("daemons sharing a PostgreSQL journal", () => {
  it("two daemons on one schedule firing every second never run the same scheduled run twice, nor two runs on the target at once", async () => {
    const before = await databaseState(attacked.url, "postgres");
    const journalUrl = await journalDatabase();
    const paths = daemonFiles();
    const entry = (name: string) => `  - experiment: { name: ${name}, target_alias: shop, duration: "1s", skills: [${writes}] }
    schedule: "* * * * * *"
    timezone: UTC
`;
    writeFileSync(paths.config, daemonYaml(paths.reports, entry("writes") + entry("writes-again")));
    const first = startDaemon(paths.config, paths.pidFile("a"), journalUrl);
    const second = startDaemon(paths.config, paths.pidFile("b"), journalUrl);
    for (const daemon of [first, second]) await daemon.waitFor("started with", 30_000);
    // Both daemons run experiments: the schedule is shared, not run by one alone.
    const ranBy = async () =>
      (await journalRows(journalUrl, "SELECT DISTINCT owner_pid FROM chaos_journal.experiments WHERE status = 'finished'")).map(
        (row) => row.owner_pid,
      );
    const deadline = Date.now() + 120_000;
    while (Date.now() < deadline) {
      const finished = await journalRows(journalUrl, "SELECT count(*)::int AS n FROM chaos_journal.experiments WHERE status = 'finished'");
      if (Number(finished[0]?.n) >= 8 && (await ranBy()).length === 2) break;
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
    expect((await ranBy()).sort()).toEqual([first.child.pid, second.child.pid].sort());
    for (const daemon of [first, second]) daemon.child.kill("SIGTERM");
    const results = await Promise.all([first.done, second.done]);
    for (const result of results) expect(result.exitCode, result.stderr).toBe(0);
    expect(await databaseState(attacked.url, "postgres")).toEqual(before);

    // Each scheduled run (name + scheduled time) ran at most once across both daemons.
    const reports = reportsIn(paths.reports);
    const runs = reports.map((report) => `${report.name}@${report.scheduledAt}`);
    expect(reports.length).toBeGreaterThanOrEqual(8);
    expect(reports.every((report) => report.scheduledAt)).toBe(true);
    expect(new Set(runs).size).toBe(runs.length);
    const journaled = await journalRows(
      journalUrl,
      "SELECT e.name, r.scheduled_at, e.owner_pid, e.config_hash, e.target_config FROM chaos_journal.scheduled_runs r JOIN chaos_journal.experiments e ON e.id = r.experiment_id",
    );
    expect(journaled.length).toBe(reports.length);
    // Runs on the one target never overlapped, whichever daemon ran them.
    const ordered = [...reports].sort((left, right) => left.startedAt.localeCompare(right.startedAt));
    for (let index = 1; index < ordered.length; index++) {
      expect(ordered[index]!.startedAt >= ordered[index - 1]!.finishedAt, `${runs[index - 1]} and ${runs[index]} overlapped`).toBe(true);
    }
    // The journal's password is nowhere: not in the daemons' output, the reports, or the journal's records.
    const configHash = createHash("sha256").update(readFileSync(paths.config)).digest("hex");
    expect(journaled.every((row) => row.config_hash === configHash)).toBe(true);
    const everything = [
      ...results.flatMap((result) => [result.stdout, result.stderr]),
      ...readdirSync(paths.reports).map((name) => readFileSync(join(paths.reports, name), "utf8")),
      JSON.stringify(await journalRows(journalUrl, "SELECT * FROM chaos_journal.experiments")),
      JSON.stringify(await journalRows(journalUrl, "SELECT * FROM chaos_journal.steps")),
    ].join("\n");
    // The other commands read the shared journal through the same URL.
    const status = await runChaos(["status", "--journal", journalUrl]);
    expect(status.stdout).toContain("no running or unfinished experiments");
    const history = await runChaos(["history", "--journal", journalUrl, "--limit", "1000", "--output", "json"]);
    const listed = (JSON.parse(history.stdout.trim()) as { details: { experiments: { experimentId: string; outcome: string }[] } }).details
      .experiments;
    expect(listed.map((entry) => `${entry.experimentId} ${entry.outcome}`).sort()).toEqual(
      reports.map((report) => `${report.experimentId} ${report.status}`).sort(),
    );
    expect(status.stderr + history.stdout + history.stderr).not.toContain(journalPassword);
    expect(everything).toContain("journal postgres://postgres:***@127.0.0.1"); // the start-up line names it, masked
    expect(everything).not.toContain(journalPassword);
    expect(everything).not.toContain(shopPassword);
    expect(journaled[0]?.target_config).toContain("postgres:***@127.0.0.1");
  });

  it("kill -9 of the daemon running an experiment: the other one takes it over and rolls it back exactly", async () => {
    const { before, journalUrl, holder, survivor } = await twoDaemonsOnOneHeldRun();
    expect(await databaseState(attacked.url, "postgres")).not.toEqual(before);
    const [running] = await journalRows(journalUrl, "SELECT id, owner_pid, status FROM chaos_journal.experiments");
    expect(running).toMatchObject({ owner_pid: holder.child.pid, status: "running" });
    expect(survivor.output.stdout).not.toContain('"type":"hold_started"'); // the run was claimed by one daemon only

    holder.child.kill("SIGKILL");
    await holder.done;
    await survivor.waitFor(`took over held [${running!.id}] from dead process ${holder.child.pid}`, 60_000);
    await survivor.waitFor(`released held's run of`, 30_000);
    expect(await databaseState(attacked.url, "postgres")).toEqual(before);
    const [recovered] = await journalRows(journalUrl, "SELECT owner_pid, status FROM chaos_journal.experiments");
    expect(recovered).toMatchObject({ owner_pid: survivor.child.pid, status: "finished" });
    // The dead daemon's claim on the scheduled run was released, so the experiment is free to run again.
    const [claim] = await journalRows(journalUrl, "SELECT owner_pid, finished_at FROM chaos_journal.scheduled_runs");
    expect(claim).toMatchObject({ owner_pid: holder.child.pid, finished_at: expect.any(Date) });
    survivor.child.kill("SIGTERM");
    expect((await survivor.done).exitCode).toBe(0);
  });

  // Another "machine" is a UTS namespace with its own host name, which only root may make.
  it.skipIf(process.getuid?.() !== 0)(
    "a daemon on another host killed -9: its experiment is taken over only once its heartbeat lapsed, then rolled back exactly",
    async () => {
      // Two machines to chaos: neither can look at the other's processes, only at its heartbeat.
      const { before, journalUrl, holder, survivor, hostOf } = await twoDaemonsOnOneHeldRun(["chaos-machine-a", "chaos-machine-b"]);
      const [running] = await journalRows(journalUrl, "SELECT id, owner_host, owner_pid FROM chaos_journal.experiments");
      expect(running).toMatchObject({ owner_host: hostOf(holder), owner_pid: holder.child.pid });

      holder.child.kill("SIGKILL");
      await holder.done;
      const killedAt = Date.now();
      await survivor.waitFor(`took over held [${running!.id}] from dead process ${holder.child.pid} on ${running!.owner_host}`, 120_000);
      // Its last heartbeat was at most 5 s before the kill, and the lapse is 30 s: no takeover before 25 s.
      expect(Date.now() - killedAt).toBeGreaterThanOrEqual(25_000);
      expect(await databaseState(attacked.url, "postgres")).toEqual(before);
      survivor.child.kill("SIGTERM");
      expect((await survivor.done).exitCode).toBe(0);
    },
    180_000,
  );

  it("refuses a journal on the server an experiment attacks (exit 3, before the PID file or the journal is touched)", async () => {
    const paths = daemonFiles();
    writeFileSync(
      paths.config,
      daemonYaml(
        paths.reports,
        `  - experiment: { name: writes, target_alias: shop, duration: "1s", skills: [${writes}] }
    schedule: "* * * * * *"
`,
      ),
    );
    // The very database, and another database on the same server named through `localhost`.
    const sameServer = attacked.url.replace("127.0.0.1", "localhost").replace(/\/[^/]+$/, "/postgres");
    for (const [journal, says] of [
      [attacked.url, "attacks the very database as the journal"],
      [sameServer, `attacks database ${attacked.name} on the same server as the journal`],
    ] as const) {
      const result = await runChaos(["daemon", paths.config, "--pid-file", paths.pidFile("refused")], daemonEnvironment(journal));
      expect(result.exitCode, result.stderr).toBe(3);
      expect(result.stderr).toContain(`experiments.0.experiment (writes) ${says}`);
      expect(result.stderr).toContain("Put the journal on another database server");
      expect(existsSync(paths.pidFile("refused"))).toBe(false);
    }
    // `chaos run` refuses it too, before any change.
    const runFile = join(temp.path, `run-${counter}.yaml`);
    writeFileSync(
      runFile,
      `experiments:\n  - { name: once, target: database, target_config: { connection_url: "${attacked.url}", db_type: postgres }, skills: [${writes}] }\n`,
    );
    const refusedRun = await runChaos(["run", runFile, "--journal", sameServer]);
    expect(refusedRun.exitCode, refusedRun.stderr).toBe(3);
    expect(refusedRun.stderr).toContain(`experiments.0 (once) attacks database ${attacked.name} on the same server as the journal`);
    const schemas = await attacked.execute("SELECT 1 FROM pg_namespace WHERE nspname = 'chaos_journal'");
    expect(schemas).toEqual([]);
  });
});

describe("daemon SIGHUP", () => {
  it("new journal records carry the hash of the file as reloaded, not the first one's", async () => {
    const paths = daemonFiles();
    const journal = join(temp.path, `sighup-${counter}.sqlite`);
    const entry = (duration: string) => `  - experiment: { name: hashed, target_alias: shop, duration: "${duration}", skills: [${writes}] }
    schedule: "* * * * * *"
`;
    const firstText = daemonYaml(paths.reports, entry("300ms")).replace(', journal: "${CHAOS_TEST_JOURNAL}"', "");
    writeFileSync(paths.config, firstText);
    const daemon = startChaos(["daemon", paths.config, "--pid-file", paths.pidFile("hup"), "--journal", journal], {
      SHOP_PASSWORD: shopPassword,
    });
    daemons.push(daemon);
    await daemon.waitFor('"status":"succeeded"', 60_000);
    const secondText = firstText.replace('"300ms"', '"400ms"');
    writeFileSync(paths.config, secondText);
    daemon.child.kill("SIGHUP");
    await daemon.waitFor("SIGHUP: reloaded", 30_000);
    const reloadedAt = new Date().toISOString();
    const journaled = () => {
      const database = new DatabaseSync(journal, { readOnly: true });
      try {
        return database.prepare("SELECT started_at, config_hash, status FROM experiments ORDER BY started_at").all() as {
          started_at: string;
          config_hash: string;
          status: string;
        }[];
      } finally {
        database.close();
      }
    };
    const deadline = Date.now() + 60_000;
    while (!journaled().some((row) => row.started_at > reloadedAt && row.status === "finished") && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    daemon.child.kill("SIGTERM");
    expect((await daemon.done).exitCode).toBe(0);

    const hash = (text: string) => createHash("sha256").update(text).digest("hex");
    const rows = journaled();
    expect(rows[0]?.config_hash).toBe(hash(firstText));
    const afterReload = rows.filter((row) => row.started_at > reloadedAt);
    expect(afterReload.length).toBeGreaterThan(0);
    expect(afterReload.every((row) => row.config_hash === hash(secondText))).toBe(true);
  });
});
