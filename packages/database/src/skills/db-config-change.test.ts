import { createTestDatabase, runDatabaseExperiment, type TestDatabase } from "@chaos-agents/testing";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";

// These tests change the machine's real server settings; each restores what it found, and
// afterAll puts the original postgresql.auto.conf entries / globals back whatever happened.
let database: TestDatabase | undefined;
afterEach(async () => {
  await database?.drop();
  database = undefined;
});

describe("postgres db.config_change", () => {
  const params = ["work_mem", "log_min_duration_statement", "random_page_cost"];
  let original: Record<string, string | null> = {};

  async function snapshot(db: TestDatabase) {
    const rows = await db.execute(
      `SELECT s.name, s.setting, f.setting AS auto_conf FROM pg_settings s
         LEFT JOIN LATERAL (SELECT setting FROM pg_file_settings WHERE name = s.name AND sourcefile LIKE '%postgresql.auto.conf' ORDER BY seqno DESC LIMIT 1) f ON true
        WHERE s.name = ANY($1) ORDER BY s.name`,
      [params],
    );
    return rows;
  }

  beforeAll(async () => {
    const db = await createTestDatabase("postgres");
    original = Object.fromEntries((await snapshot(db)).map((row) => [row.name as string, row.auto_conf as string | null]));
    await db.drop();
  });

  /** Puts the auto.conf entries found before the first test back (tests that set their own call it too). */
  async function putBack(db: TestDatabase) {
    for (const [name, value] of Object.entries(original)) {
      await db.execute(value === null ? `ALTER SYSTEM RESET ${name}` : `ALTER SYSTEM SET ${name} = '${value}'`);
    }
    await db.execute("SELECT pg_reload_conf()");
  }

  afterAll(async () => {
    const db = await createTestDatabase("postgres");
    const found = Object.fromEntries((await snapshot(db)).map((row) => [row.name as string, row.auto_conf as string | null]));
    await putBack(db);
    await db.drop();
    // Put back whatever happened, then fail on drift: a setting chaos left changed is a bug, not noise.
    expect(found, "postgresql.auto.conf entries after every test").toEqual(original);
  });

  it("changes settings for the hold, reads them back, and restores them exactly (RESET where chaos found none, the old entry where it found one)", async () => {
    database = await createTestDatabase("postgres");
    const db = database;
    await db.execute("ALTER SYSTEM SET random_page_cost = '3.5'");
    await db.execute("ALTER SYSTEM RESET work_mem");
    await db.execute("SELECT pg_reload_conf()");
    await new Promise((resolve) => setTimeout(resolve, 300));
    const before = await snapshot(db);
    let during: Record<string, unknown>[] = [];
    const { report } = await runDatabaseExperiment({
      url: db.url,
      dbType: "postgres",
      duration: "1500ms",
      skills: [
        {
          skill_name: "db.config_change",
          params: {
            changes: [
              { param: "work_mem", value: "8MB" },
              { param: "log_min_duration_statement", value: "250ms" },
              { param: "random_page_cost", value: 1.5 },
            ],
          },
        },
      ],
      onEvent: (event) => {
        if (event.type === "hold_started") void snapshot(db).then((rows) => (during = rows));
      },
    });
    expect(report.error).toBeUndefined();
    expect(report.status).toBe("succeeded");
    expect(report.skills[0]?.summary).toMatch(
      /^changed work_mem: \d+kB → 8192kB, log_min_duration_statement: \S+ → 250ms, random_page_cost: 3\.5 → 1\.5$/,
    );
    expect(during.map((row) => [row.name, row.setting, row.auto_conf])).toEqual([
      ["log_min_duration_statement", "250", "250ms"],
      ["random_page_cost", "1.5", "1.5"],
      ["work_mem", "8192", "8MB"],
    ]);
    expect(await snapshot(db)).toEqual(before);
    expect(before.find((row) => row.name === "random_page_cost")?.auto_conf).toBe("3.5");
    await putBack(db); // the entry this test set itself
  });

  it("refuses restart-only, dangerous, unknown and out-of-range parameters before changing anything", async () => {
    database = await createTestDatabase("postgres");
    const before = await snapshot(database);
    const run = runDatabaseExperiment({
      url: database.url,
      dbType: "postgres",
      skills: [
        {
          skill_name: "db.config_change",
          params: {
            changes: [
              { param: "work_mem", value: "16MB" },
              { param: "shared_buffers", value: "256MB" },
              { param: "fsync", value: "off" },
              { param: "work_mme", value: "1MB" },
              { param: "random_page_cost", value: "-2" },
              { param: "log_statement", value: "sometimes" },
            ],
          },
        },
      ],
    });
    const error = (await run.catch((caught: Error) => caught)) as Error;
    expect(error.message).toContain("shared_buffers needs a server restart to take effect; set allow_dangerous: true");
    expect(error.message).toContain("fsync = off endangers durability");
    expect(error.message).toContain('unknown parameter "work_mme" (did you mean work_mem?)');
    expect(error.message).toContain("random_page_cost = -2: below the minimum 0");
    expect(error.message).toContain("log_statement = sometimes: expected one of none, ddl, mod, all");
    expect(await snapshot(database)).toEqual(before);
  });

  it("reports a setting someone else changed during the hold as a conflict and leaves their value", async () => {
    database = await createTestDatabase("postgres");
    const db = database;
    const { report } = await runDatabaseExperiment({
      url: db.url,
      dbType: "postgres",
      duration: "1500ms",
      skills: [{ skill_name: "db.config_change", params: { changes: [{ param: "log_min_duration_statement", value: "900ms" }] } }],
      onEvent: (event) => {
        if (event.type === "hold_started") void db.execute("ALTER SYSTEM SET log_min_duration_statement = '777ms'");
      },
    });
    expect(report.status).toBe("rollback_incomplete");
    expect(report.rollback.conflicts[0]).toContain("log_min_duration_statement in postgresql.auto.conf is now 777ms");
    const rows = await snapshot(db);
    expect(rows.find((row) => row.name === "log_min_duration_statement")?.auto_conf).toBe("777ms");
    await putBack(db); // the "other user's" entry this test set itself
  });
});

describe("mysql db.config_change", () => {
  const variables = ["long_query_time", "net_read_timeout"];
  let original: Record<string, string> = {};
  const read = async (db: TestDatabase) =>
    Object.fromEntries(
      await Promise.all(
        variables.map(async (name) => [name, String((await db.execute(`SELECT CAST(@@GLOBAL.${name} AS CHAR) AS v`))[0]?.v)]),
      ),
    );

  beforeAll(async () => {
    const db = await createTestDatabase("mysql");
    original = await read(db);
    await db.drop();
  });

  afterAll(async () => {
    const db = await createTestDatabase("mysql");
    const found = await read(db);
    for (const [name, value] of Object.entries(original)) await db.execute(`SET GLOBAL ${name} = ${value}`);
    await db.drop();
    // Put back whatever happened, then fail on drift: a setting chaos left changed is a bug, not noise.
    expect(found, "global variables after every test").toEqual(original);
  });

  it("sets globals for the hold and restores them exactly", async () => {
    database = await createTestDatabase("mysql");
    const db = database;
    const before = await read(db);
    let during: Record<string, string> = {};
    const { report } = await runDatabaseExperiment({
      url: db.url,
      dbType: "mysql",
      duration: "1500ms",
      skills: [
        {
          skill_name: "db.config_change",
          params: {
            changes: [
              { param: "long_query_time", value: 2.5 },
              { param: "net_read_timeout", value: 45 },
            ],
          },
        },
      ],
      onEvent: (event) => {
        if (event.type === "hold_started") void read(db).then((values) => (during = values));
      },
    });
    expect(report.error).toBeUndefined();
    expect(report.status).toBe("succeeded");
    expect(during).toEqual({ long_query_time: "2.500000", net_read_timeout: "45" });
    expect(await read(db)).toEqual(before);
  });

  it("refuses read-only, dangerous and unknown variables before changing anything", async () => {
    database = await createTestDatabase("mysql");
    const before = await read(database);
    const error = (await runDatabaseExperiment({
      url: database.url,
      dbType: "mysql",
      skills: [
        {
          skill_name: "db.config_change",
          params: {
            changes: [
              { param: "net_read_timeout", value: 50 },
              { param: "innodb_page_size", value: 4096 },
              { param: "innodb_flush_log_at_trx_commit", value: 0 },
              { param: "long_query_tim", value: 1 },
              { param: "net_read_timeout", value: 60 },
            ],
          },
        },
      ],
    }).catch((caught: Error) => caught)) as Error;
    expect(error.message).toContain("innodb_page_size cannot be changed while the server runs");
    expect(error.message).toContain("innodb_flush_log_at_trx_commit = 0 endangers durability");
    expect(error.message).toContain('unknown parameter "long_query_tim" (did you mean long_query_time?)');
    expect(error.message).toContain("parameter(s) changed twice: net_read_timeout");
    expect(await read(database)).toEqual(before);
  });
});
