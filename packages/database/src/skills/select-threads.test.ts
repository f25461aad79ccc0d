import { useTestDatabases } from "@chaos-agents/testing";
import { describe, expect, it } from "vitest";
import { databaseConfigSchema } from "../database-config.js";
import { startSelectThreads } from "./select-threads.js";

const databases = useTestDatabases();

const pointLookup = (table: string) => ({
  kind: "point" as const,
  table,
  sql: `SELECT * FROM ${table} WHERE id = $1::int`,
  parameters: "key" as const,
});
const mix = { point: 1, range: 0, full_scan: 0, aggregate: 0, join: 0 };

describe("select load threads", () => {
  it("run every worker on a connection of its own, count across threads, and close every connection", async () => {
    const database = await databases.empty("postgres");
    await database.execute("CREATE TABLE t (id int PRIMARY KEY, body text)");
    await database.execute("INSERT INTO t SELECT g, 'row ' || g FROM generate_series(1, 100) g");
    const tag = "chaos-select-threads-test";
    const load = await startSelectThreads({
      config: databaseConfigSchema.parse({ connection_url: database.url, db_type: "postgres" }),
      tag,
      queries: [pointLookup("t")],
      keys: { t: [["1"], ["50"], ["100"]] },
      mix,
      concurrency: 3,
    });
    const backends = async () =>
      (await database.execute("SELECT pid FROM pg_stat_activity WHERE application_name = $1 ORDER BY pid", [tag])).map((row) =>
        Number(row.pid),
      );
    expect(await backends()).toEqual([...load.serverIds].sort((left, right) => left - right));
    expect(load.serverIds).toHaveLength(3);
    await expect.poll(() => load.completed(), { timeout: 5000 }).toBeGreaterThan(500);
    load.stop();
    const totals = await load.finished;
    expect(totals.completed).toBeGreaterThan(500);
    expect(load.completed()).toBe(totals.completed);
    expect(totals.byKind.point).toBe(totals.completed);
    expect(totals.errors).toBe(0);
    expect(totals.latencies.length).toBeGreaterThan(0);
    await expect.poll(backends).toEqual([]);
  });

  it("count a failing query as an error, with the server's message, and keep going", async () => {
    const database = await databases.empty("postgres");
    await database.execute("CREATE TABLE t (id int PRIMARY KEY)");
    const load = await startSelectThreads({
      config: databaseConfigSchema.parse({ connection_url: database.url, db_type: "postgres" }),
      tag: "chaos-select-threads-test",
      queries: [pointLookup("t")],
      keys: { t: [["not a number"]] },
      mix,
      concurrency: 2,
      budget: 8,
    });
    const totals = await load.finished;
    expect(totals.errors).toBe(8);
    expect(totals.lastError).toMatch(/invalid input syntax for type integer/);
  });

  it("refuse to start when a connection cannot open, and leave no connection behind", async () => {
    const database = await databases.empty("postgres");
    await database.execute("CREATE TABLE t (id int PRIMARY KEY)");
    const tag = "chaos-select-threads-refused";
    await expect(
      startSelectThreads({
        config: databaseConfigSchema.parse({ connection_url: database.url, db_type: "postgres" }),
        tag,
        queries: [pointLookup("t"), pointLookup("missing")],
        keys: { t: [["1"]] },
        mix,
        concurrency: 3,
      }),
    ).rejects.toThrow(/relation "missing" does not exist/);
    await expect.poll(async () => database.execute("SELECT pid FROM pg_stat_activity WHERE application_name = $1", [tag])).toEqual([]);
  });
});
