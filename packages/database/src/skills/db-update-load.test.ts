import { existsSync } from "node:fs";
import { findPgbench, pgbenchTpcb } from "@chaos-agents/database";
import {
  accountState,
  createTransferTables,
  databaseState,
  expectedBalances,
  runCommand,
  runDatabaseExperiment,
  startTransferWorkload,
  type TestDatabase,
  type TestDatabaseKind,
  useTestDatabases,
} from "@chaos-agents/testing";
import { describe, expect, it } from "vitest";

const kinds: TestDatabaseKind[] = ["postgres", "mysql"];
const databases = useTestDatabases();
const accounts = 200;

/** The rollback notes' count of compensated rows. */
function compensatedRows(notes: string[]): number {
  return notes.reduce((sum, note) => sum + Number(/compensated (\d+)/.exec(note)?.[1] ?? 0), 0);
}

describe.each(kinds)("%s db.update_load beside a read-modify-write application", (kind) => {
  it.each([
    ["rewrite", {}],
    ["random", { mode: "random", compensate: ["balance"] }],
  ] as const)("mode %s keeps every transfer the application made during the hold, exactly", async (mode, modeParams) => {
    const db = await databases.empty(kind);
    await createTransferTables(db, accounts);
    const before = await accountState(db);
    let workload: Awaited<ReturnType<typeof startTransferWorkload>> | undefined;
    const { report } = await runDatabaseExperiment({
      url: db.url,
      dbType: kind,
      duration: "3s",
      skills: [{ skill_name: "db.update_load", params: { tables: ["accounts"], rows: 150, batch_size: 40, sustain: true, ...modeParams } }],
      onEvent: (event) => {
        if (event.type === "skill_injected") void startTransferWorkload(db, accounts).then((started) => (workload = started));
      },
    });
    const application = await (workload as NonNullable<typeof workload>).stop();
    expect(report.skills[0]?.error).toBeUndefined();
    expect(application.transactions).toBeGreaterThan(20);
    expect(Number(report.skills[0]?.metrics?.rows_updated)).toBeGreaterThan(150);
    // Every transfer survives, and chaos's own values are gone: the notes (which the application never writes) too.
    const after = await accountState(db);
    expect(after.balances).toEqual(await expectedBalances(db, before.balances));
    expect([...after.balances.values()].reduce((sum, balance) => sum + balance, 0n)).toBe(BigInt(accounts * 1000));
    expect(after.notes).toEqual(before.notes);
    expect(report.rollback.conflicts).toEqual([]);
    expect(report.status).toBe("succeeded");
    if (mode === "random") {
      expect(report.skills[0]?.plan).toMatch(/warning: mode random: a read-modify-write application will build on chaos's values/);
      expect(compensatedRows(report.rollback.notes)).toBeGreaterThan(0);
    } else {
      expect(Number(report.skills[0]?.metrics?.rows_changed)).toBe(0);
    }
  });

  it("mode random without compensate reports each column the application changed, summarised per table", async () => {
    const db = await databases.empty(kind);
    await createTransferTables(db, accounts);
    const before = await databaseState(db.url, kind);
    const { report } = await runDatabaseExperiment({
      url: db.url,
      dbType: kind,
      duration: "1s",
      skills: [{ skill_name: "db.update_load", params: { tables: ["accounts"], rows: accounts, mode: "random", columns: ["note"] } }],
      onEvent: (event) => {
        // An absolute write chaos cannot tell from a delta: the application renames 10 accounts.
        if (event.type === "hold_started") void db.execute("UPDATE accounts SET note = 'renamed' WHERE id <= 10");
      },
    });
    expect(report.status).toBe("rollback_incomplete");
    await expect
      .poll(async () => (await db.execute("SELECT COUNT(*) AS n FROM accounts WHERE note = 'renamed'"))[0]?.n)
      .toBe(kind === "postgres" ? "10" : 10);
    expect(report.rollback.conflicts).toHaveLength(10);
    expect(report.rollback.conflicts[0]).toMatch(
      /accounts row \(\d+\): column note was changed by someone else .* now renamed\); left as it is/,
    );
    const { formatReport } = await import("@chaos-agents/core");
    const text = formatReport(report);
    expect(text).toMatch(/accounts: 10 conflicts, e\.g\. .*… and 7 more \(every one is in the JSON report\)/);
    expect(text.split("\n").filter((line) => line.includes("CONFLICT"))).toHaveLength(1);
    // The other 190 rows are exactly as before; the 10 hold what the application wrote.
    await db.execute("UPDATE accounts SET note = CONCAT('account ', id) WHERE id <= 10");
    expect(await databaseState(db.url, kind)).toEqual(before);
  });

  it("mode rewrite writes every chosen row without changing a value", async () => {
    const db = await databases.empty(kind);
    await createTransferTables(db, accounts);
    const before = await databaseState(db.url, kind);
    const rowVersions = () =>
      db.execute(kind === "postgres" ? "SELECT id, xmin::text AS version FROM accounts ORDER BY id" : "SELECT 1 AS version");
    const versionsBefore = await rowVersions();
    const updatedBefore = await rowsWrittenByServer(db);
    const { report } = await runDatabaseExperiment({
      url: db.url,
      dbType: kind,
      skills: [{ skill_name: "db.update_load", params: { tables: ["accounts"], rows: accounts } }],
    });
    expect(report.status).toBe("succeeded");
    expect(report.skills[0]?.metrics).toMatchObject({ rows_updated: accounts, rows_changed: 0 });
    expect(report.rollback.steps).toBe(0);
    expect(await databaseState(db.url, kind)).toEqual(before);
    if (kind === "postgres") {
      // A new row version for every row: the write happened.
      const versionsAfter = await rowVersions();
      expect(versionsAfter.filter((row, index) => row.version === versionsBefore[index]?.version)).toEqual([]);
    } else {
      // MariaDB skips an UPDATE to the same values (Handler_update counts only real writes); the change and change back wrote each row twice.
      expect((await rowsWrittenByServer(db)) - updatedBefore).toBeGreaterThanOrEqual(2 * accounts);
    }
  });

  it("mode rewrite writes rows whose values sit at a CHECK's bounds (MariaDB's change and change back picks a direction per row)", async () => {
    const db = await databases.empty(kind);
    await db.execute("CREATE TABLE bounded (id int PRIMARY KEY, level int NOT NULL CHECK (level BETWEEN 0 AND 10))");
    for (let level = 0; level <= 10; level++) await db.execute(`INSERT INTO bounded VALUES (${level + 1}, ${level})`);
    const before = await databaseState(db.url, kind);
    const written = await rowsWrittenByServer(db);
    const { report } = await runDatabaseExperiment({
      url: db.url,
      dbType: kind,
      skills: [{ skill_name: "db.update_load", params: { tables: ["bounded"], rows: 11 } }],
    });
    expect(report.skills[0]?.error).toBeUndefined();
    expect(report.skills[0]?.metrics).toMatchObject({ rows_updated: 11, rows_changed: 0 });
    expect(report.status).toBe("succeeded");
    expect(await databaseState(db.url, kind)).toEqual(before);
    if (kind === "mysql") expect((await rowsWrittenByServer(db)) - written).toBeGreaterThanOrEqual(22);
  });

  it("mode rewrite writes a table whose only writable values are DATETIMEs at their extremes, and skips one with none, saying why", async () => {
    const db = await databases.empty(kind);
    const datetime = kind === "postgres" ? "timestamp(6)" : "datetime(6)";
    await db.execute(`CREATE TABLE events (id int PRIMARY KEY, happened ${datetime} NOT NULL, label varchar(10))`);
    await db.execute(
      `INSERT INTO events VALUES (1, '9999-12-31 23:59:59.999999', 'last'), (2, '1000-01-01 00:00:00', 'first'), (3, '2024-02-29 12:00:01.5', NULL)`,
    );
    await db.execute("CREATE TABLE labels (code varchar(10) PRIMARY KEY, title varchar(40))");
    await db.execute("INSERT INTO labels VALUES ('a', 'A')");
    const before = await databaseState(db.url, kind);
    const written = await rowsWrittenByServer(db);
    const { report } = await runDatabaseExperiment({
      url: db.url,
      dbType: kind,
      skills: [{ skill_name: "db.update_load", params: { tables: ["events", "labels"], rows: 3 } }],
    });
    expect(report.skills[0]?.error).toBeUndefined();
    expect(report.status).toBe("succeeded");
    expect(await databaseState(db.url, kind)).toEqual(before);
    if (kind === "mysql") {
      expect(report.skills[0]?.metrics?.rows_updated).toBe(3);
      expect((await rowsWrittenByServer(db)) - written).toBeGreaterThanOrEqual(6);
      expect(report.skills[0]?.plan).toMatch(
        /skipped .*labels: MySQL\/MariaDB skip an UPDATE to a row's own values and this table has no integer, decimal or DATETIME column/,
      );
    } else {
      expect(report.skills[0]?.metrics?.rows_updated).toBe(4);
    }
  });

  it("mode random writes a batch in one statement and falls back to row by row when some row breaks a constraint", async () => {
    const db = await databases.empty(kind);
    // A CHECK chaos cannot read: about half of its random values break it.
    await db.execute("CREATE TABLE even (id int PRIMARY KEY, qty int NOT NULL CHECK (MOD(qty, 2) = 0))");
    for (let id = 1; id <= 40; id++) await db.execute(`INSERT INTO even VALUES (${id}, ${2 * id})`);
    const before = await databaseState(db.url, kind);
    const { report } = await runDatabaseExperiment({
      url: db.url,
      dbType: kind,
      skills: [{ skill_name: "db.update_load", params: { tables: ["even"], rows: 40, mode: "random" } }],
    });
    expect(report.skills[0]?.error).toBeUndefined();
    const updated = Number(report.skills[0]?.metrics?.rows_updated);
    expect(updated).toBeGreaterThan(0);
    expect(updated).toBeLessThan(40);
    expect(report.status).toBe("succeeded");
    expect(await databaseState(db.url, kind)).toEqual(before);
  });

  it("updates 20,000 rows in bounded transactions (no out of shared memory) and restores them exactly", async () => {
    const db = await databases.empty(kind);
    await createTransferTables(db, 25_000);
    const before = await databaseState(db.url, kind);
    const { report } = await runDatabaseExperiment({
      url: db.url,
      dbType: kind,
      skills: [{ skill_name: "db.update_load", params: { tables: ["accounts"], rows: 20_000, mode: "random", batch_size: 2000 } }],
    });
    expect(report.skills[0]?.error).toBeUndefined();
    expect(report.skills[0]?.metrics).toMatchObject({ rows_updated: 20_000, batches: 10 });
    expect(report.status).toBe("succeeded");
    expect(await databaseState(db.url, kind)).toEqual(before);
  }, 120_000);

  it("sustain keeps updating until the hold ends, no faster than rate", async () => {
    const db = await databases.empty(kind);
    await createTransferTables(db, 50);
    const before = await databaseState(db.url, kind);
    const { report } = await runDatabaseExperiment({
      url: db.url,
      dbType: kind,
      duration: "2s",
      skills: [{ skill_name: "db.update_load", params: { tables: ["accounts"], rows: 50, sustain: true, rate: 100, mode: "random" } }],
    });
    expect(report.status).toBe("succeeded");
    const updated = Number(report.skills[0]?.metrics?.rows_updated);
    // Several passes over the 50 rows, yet at most about 100 rows per second of the hold.
    expect(Number(report.skills[0]?.metrics?.passes)).toBeGreaterThan(1);
    expect(updated).toBeLessThanOrEqual(100 * (report.heldMs / 1000 + 1));
    expect(await databaseState(db.url, kind)).toEqual(before);
  });

  it("refuses, before any change, params that do not fit the mode", async () => {
    const db = await databases.empty(kind);
    await createTransferTables(db, 10);
    const attempt = (params: Record<string, unknown>) =>
      runDatabaseExperiment({
        url: db.url,
        dbType: kind,
        skills: [{ skill_name: "db.update_load", params: { tables: ["accounts"], ...params } }],
      });
    await expect(attempt({ rate: 100 })).rejects.toThrow(/rate applies with sustain: true/);
    await expect(attempt({ compensate: ["balance"] })).rejects.toThrow(/columns and compensate apply to mode: random/);
    await expect(attempt({ mode: "random", compensate: ["note"] })).rejects.toThrow(
      /compensate: note is (varchar|character varying)\(40\)/,
    );
    await expect(attempt({ mode: "random", compensate: ["nothing"] })).rejects.toThrow(/compensate: nothing is not a column chaos updates/);
  });
});

async function rowsWrittenByServer(db: TestDatabase): Promise<number> {
  if (db.kind !== "mysql") return 0;
  const rows = await db.execute("SELECT VARIABLE_VALUE AS n FROM information_schema.GLOBAL_STATUS WHERE VARIABLE_NAME = 'HANDLER_UPDATE'");
  return Number(rows[0]?.n);
}

const pgbench = findPgbench();

describe("postgres db.update_load during pgbench's TPC-B workload", () => {
  // pgbench ships with the PostgreSQL server package the suite needs anyway: missing, this fails.
  it.each([
    ["rewrite", {}],
    ["random", { mode: "random", compensate: ["abalance"] }],
  ] as const)(
    "mode %s: pgbench's invariant holds exactly after rollback, every transaction kept",
    async (mode, modeParams) => {
      expect(existsSync(pgbench), `pgbench not found at ${pgbench} (part of the PostgreSQL server package)`).toBe(true);
      const db = await databases.empty("postgres");
      await runCommand(pgbench, ["-i", "-q", "-s", "1", db.url]);
      const balances = async () => {
        const rows = await db.execute(
          `SELECT (SELECT sum(abalance) FROM pgbench_accounts)::text AS accounts, (SELECT sum(tbalance) FROM pgbench_tellers)::text AS tellers,
                (SELECT sum(bbalance) FROM pgbench_branches)::text AS branches, (SELECT coalesce(sum(delta), 0) FROM pgbench_history)::text AS history`,
        );
        return rows[0];
      };
      // Each account as pgbench's own log says it must be, and chaos's other columns as they were.
      const accountImage = `SELECT md5(string_agg(concat_ws(',', a.aid, a.bid, a.filler, a.abalance - coalesce(h.delta, 0)), ';' ORDER BY a.aid)) AS image
         FROM pgbench_accounts a LEFT JOIN (SELECT aid, sum(delta) AS delta FROM pgbench_history GROUP BY aid) h USING (aid)`;
      const before = await db.execute(accountImage);
      let workload: Promise<{ transactionsPerSecond: number; failed: number }> | undefined;
      const { report } = await runDatabaseExperiment({
        url: db.url,
        dbType: "postgres",
        duration: "4s",
        skills: [
          {
            skill_name: "db.update_load",
            params: { tables: ["pgbench_accounts"], rows: 3000, batch_size: 300, sustain: true, ...modeParams },
          },
        ],
        onEvent: (event) => {
          if (event.type === "skill_injected") workload = pgbenchTpcb(pgbench, db.url, 4, 3);
        },
      });
      const application = await (workload as NonNullable<typeof workload>);
      expect(report.skills[0]?.error).toBeUndefined();
      expect(application.failed).toBe(0);
      expect(application.transactionsPerSecond).toBeGreaterThan(0);
      const sums = await balances();
      expect(sums?.accounts).toBe(sums?.history);
      expect(sums?.tellers).toBe(sums?.history);
      expect(sums?.branches).toBe(sums?.history);
      expect(await db.execute(accountImage)).toEqual(before);
      expect(report.rollback.conflicts).toEqual([]);
      expect(report.status).toBe("succeeded");
      if (mode === "random") expect(compensatedRows(report.rollback.notes)).toBeGreaterThan(0);
    },
    60_000,
  );
});
