import { EventBus } from "@chaos-agents/core";
import { databaseState, runDatabaseExperiment, useTestDatabases, withDatabaseSession } from "@chaos-agents/testing";
import pg from "pg";
import { describe, expect, it } from "vitest";
import { createDatabaseTarget, databaseIdentity } from "./database-target.js";

const databases = useTestDatabases();

describe("database target", () => {
  it("identifies a target without its password", () => {
    expect(databaseIdentity({ connection_url: "postgres://app:s3cret@db.internal:5432/shop?sslmode=require" })).toBe(
      "postgres://app@db.internal:5432/shop",
    );
  });

  it("reports an unreachable server as a connection error without the password", async () => {
    const target = createDatabaseTarget();
    const config = target.configSchema.parse({ connection_url: "postgres://app:s3cret@127.0.0.1:1/none", db_type: "postgres" });
    const error = (await target
      .connect(config, { experimentId: "x", log: new EventBus().logger() })
      .catch((caught: Error) => caught)) as Error;
    expect(error.message).toMatch(/^cannot connect to postgres:\/\/app@127\.0\.0\.1:1\/none: /);
    expect(error.message).not.toContain("s3cret");
  });

  it("sweep terminates only connections tagged with the experiment id", async () => {
    const database = await databases.empty("postgres");
    const tagged = new pg.Client({ connectionString: database.url, application_name: "chaos-c1-abc" });
    const bystander = new pg.Client({ connectionString: database.url, application_name: "chaos-c1-abcd" });
    for (const client of [tagged, bystander]) {
      client.on("error", () => undefined);
      await client.connect();
    }
    const target = createDatabaseTarget();
    const swept = await withDatabaseSession(database.url, "postgres", async (session) => (await target.sweep?.(session, "c1-abc")) ?? []);
    expect(swept).toHaveLength(1);
    await expect(tagged.query("SELECT 1")).rejects.toThrow();
    expect((await bystander.query("SELECT 1 AS one")).rows[0].one).toBe(1);
    await bystander.end();
  });

  it.each(["postgres", "mysql"] as const)(
    "%s: retries a rollback step whose connection was killed mid-rollback, and restores everything",
    async (kind) => {
      const db = await databases.shop(kind);
      const before = await databaseState(db.url, kind);
      let terminated = 0;
      let retried = false;
      let killing = false;
      // pg_terminate_backend on PostgreSQL, KILL on MySQL: chaos's pooled connections to this database
      // (the agent's pool, `chaos-agents`, and the rollback's, `chaos-<experiment>-rollback`).
      const killChaosConnections = async () => {
        if (kind === "postgres") {
          const rows = await db.execute(
            "SELECT count(pg_terminate_backend(pid)) AS n FROM (SELECT pid FROM pg_stat_activity WHERE application_name LIKE 'chaos-%' AND datname = current_database() OFFSET 0) s",
          );
          return Number(rows[0]?.n);
        }
        const ids = await db.execute("SELECT ID AS id FROM information_schema.PROCESSLIST WHERE DB = DATABASE() AND ID <> CONNECTION_ID()");
        for (const { id } of ids) await db.execute(`KILL ${Number(id)}`);
        return ids.length;
      };
      const { report, events } = await runDatabaseExperiment({
        url: db.url,
        dbType: kind,
        skills: [{ skill_name: "db.insert_load", params: { rows_per_table: 400, batch_size: 20, tables: ["customers"] } }],
        onEvent: (event) => {
          // Kill after each finished step until one kill lands on a statement in flight (the
          // retry's log line); a kill of idle pooled connections alone is simply absorbed.
          if (event.type === "log" && /failed \(attempt 1\/2\)/.test(event.message)) retried = true;
          if (event.type === "rollback_step_done" && !retried && !killing) {
            killing = true;
            void killChaosConnections()
              .then((count) => (terminated += count))
              .finally(() => (killing = false));
          }
        },
      });
      expect(terminated).toBeGreaterThan(0);
      expect(events.some((event) => event.type === "log" && /failed \(attempt 1\/2\).*retrying/.test(event.message))).toBe(true);
      expect(report.rollback).toMatchObject({ steps: 20, done: 20, failed: [] });
      expect(await databaseState(db.url, kind)).toEqual(before);
    },
  );
});
