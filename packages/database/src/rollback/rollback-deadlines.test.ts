import type { ChaosEvent } from "@chaos-agents/core";
import {
  type ApplicationSession,
  databaseState,
  openApplicationSession,
  runDatabaseExperiment,
  type TestDatabaseKind,
  useTestDatabases,
} from "@chaos-agents/testing";
import { afterEach, describe, expect, it } from "vitest";

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
