import { type ChaosEvent, defineSkill, EventBus } from "@chaos-agents/core";
import {
  type ApplicationSession,
  databaseState,
  openApplicationSession,
  runDatabaseExperiment,
  type TestDatabaseKind,
  useTestDatabases,
} from "@chaos-agents/testing";
import { afterEach, describe, expect, it } from "vitest";
import { z } from "zod";
import type { DatabaseSession } from "../database-session.js";
import { createDatabaseTarget } from "../database-target.js";
import { withRollbackDeadlines } from "./rollback-step.js";

const databases = useTestDatabases();
const kinds: TestDatabaseKind[] = ["postgres", "mysql"];
const open: ApplicationSession[] = [];
afterEach(async () => {
  for (let session = open.pop(); session; session = open.pop()) await session.close();
});

const skills = {
  "db.insert_load": { tables: ["items"], rows_per_table: 30 },
  "db.update_load": { tables: ["items"], rows_per_table: 20, mode: "random" },
};

describe.each(kinds)("%s: an application lock on rows the rollback must change", (kind) => {
  it.each(Object.keys(skills) as (keyof typeof skills)[])(
    "%s: the rollback waits under its lock timeout, retries, names the holder, and restores exactly once the lock is gone",
    async (skill) => {
      const db = await databases.empty(kind);
      await db.execute("CREATE TABLE items (id int PRIMARY KEY, qty int NOT NULL, note varchar(40))");
      const series = kind === "postgres" ? "generate_series(1, 20) AS n" : "(SELECT seq AS n FROM seq_1_to_20) AS numbers";
      await db.execute(`INSERT INTO items SELECT n, n * 10, CONCAT('item ', n) FROM ${series}`);
      const before = await databaseState(db.url, kind);
      const application = await openApplicationSession(db);
      open.push(application);
      let locked: Promise<unknown> | undefined;
      let released: Promise<unknown> | undefined;
      const waits: string[] = [];
      const { report } = await runDatabaseExperiment({
        url: db.url,
        dbType: kind,
        duration: "3s",
        skills: [{ skill_name: skill, params: skills[skill] }],
        // Small deadlines keep the test quick; the budget is far longer than the application holds the lock.
        targetConfig: { rollback: { lock_timeout: kind === "postgres" ? "300ms" : "1s", lock_retry_budget: "2m" } },
        onEvent(event: ChaosEvent) {
          if (event.type === "hold_started") {
            // The application locks every row, chaos's among them, and keeps its transaction open.
            locked = application.query("BEGIN").then(() => application.query("SELECT id FROM items ORDER BY id FOR UPDATE"));
          }
          if (event.type === "log" && event.level === "warn" && /waits for a lock/.test(event.message)) {
            waits.push(event.message);
            // Released only after the rollback has hit its lock timeout at least once.
            released ??= (locked ?? Promise.resolve()).then(() => application.query("COMMIT"));
          }
        },
      });
      await released;
      expect(report.error).toBeUndefined();
      expect(report.rollback.failed).toEqual([]);
      expect(report.status).toBe("succeeded");
      expect(waits.length).toBeGreaterThanOrEqual(1);
      expect(waits[0]).toContain(`blocked by pid ${application.pid}`);
      if (kind === "postgres") expect(waits[0]).toMatch(/idle in transaction.*last query: SELECT id FROM items ORDER BY id FOR UPDATE/);
      expect(await databaseState(db.url, kind)).toEqual(before);
    },
  );
});

describe.each(kinds)("%s: the rollback's sessions", (kind) => {
  it("carry the lock and statement deadlines, and a statement past its deadline fails the step naming the setting", async () => {
    const db = await databases.empty(kind);
    const target = createDatabaseTarget();
    const config = target.configSchema.parse({
      connection_url: db.url,
      db_type: kind,
      rollback: { lock_timeout: "2s", statement_timeout: "1s" },
    });
    const session = await target.connect(config, { experimentId: "deadlines", log: new EventBus().logger() });
    try {
      const { client } = await session.rollbackClient();
      const settings =
        kind === "postgres"
          ? (await client.query("SELECT current_setting('lock_timeout') AS locks, current_setting('statement_timeout') AS statements"))
              .rows[0]
          : (
              await client.query(
                "SELECT @@SESSION.innodb_lock_wait_timeout AS locks, @@SESSION.lock_wait_timeout AS metadata, @@SESSION.max_statement_time AS statements",
              )
            ).rows[0];
      expect(Object.fromEntries(Object.entries(settings ?? {}).map(([name, value]) => [name, String(value)]))).toEqual(
        kind === "postgres" ? { locks: "2s", statements: "1s" } : { locks: "2", metadata: "2", statements: "1" },
      );
      // The agent's own pool (the load skills') keeps the server's defaults.
      const own = await session.client.query(kind === "postgres" ? "SHOW statement_timeout" : "SELECT @@SESSION.max_statement_time AS t");
      expect(Object.values(own.rows[0] ?? {}).map(String)).toEqual(["0"]);

      const slow = withRollbackDeadlines(
        defineSkill<unknown, DatabaseSession, { sleep: number }>({
          name: "test.slow_rollback",
          target: "database",
          description: "a rollback statement that runs too long",
          reversible: true,
          params: z.object({}),
          inject: async () => ({ summary: "" }),
          async rollback({ session: rollbackSession }, undo) {
            await rollbackSession.client.query(kind === "postgres" ? `SELECT pg_sleep(${undo.sleep})` : `SELECT SLEEP(${undo.sleep})`);
            return {};
          },
        }),
      );
      const started = Date.now();
      const failure = await slow
        .rollback(
          { experimentId: "deadlines", session, runtime: new Map(), log: new EventBus().logger(), saveCheckpoint: async () => undefined },
          { sleep: 30 },
        )
        .catch((error: Error) => error);
      expect(String(failure)).toMatch(
        /test\.slow_rollback: a rollback statement ran longer than the statement deadline \(target_config\.rollback\.statement_timeout: 1s\)/,
      );
      expect(Date.now() - started).toBeLessThan(20_000);
    } finally {
      await session.close();
    }
  });
});
