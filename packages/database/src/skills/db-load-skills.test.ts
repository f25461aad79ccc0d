import { databaseState, runDatabaseExperiment, type TestDatabase, type TestDatabaseKind, useTestDatabases } from "@chaos-agents/testing";
import { describe, expect, it } from "vitest";

const kinds: TestDatabaseKind[] = ["postgres", "mysql"];
const { shop } = useTestDatabases();

async function count(db: TestDatabase, table: string): Promise<number> {
  const rows = await db.execute(`SELECT COUNT(*) AS n FROM ${table}`);
  return Number(rows[0]?.n);
}

describe.each(kinds)("%s", (kind) => {
  it("db.insert_load fills every table in foreign-key order and deletes exactly those rows", async () => {
    const db = await shop(kind);
    const before = await databaseState(db.url, kind);
    const during: Record<string, number> = {};
    const { report } = await runDatabaseExperiment({
      url: db.url,
      dbType: kind,
      duration: "1500ms",
      skills: [{ skill_name: "db.insert_load", params: { rows_per_table: 300, batch_size: 100 } }],
      onEvent: (event) => {
        if (event.type === "hold_started") {
          for (const table of ["customers", "products", "orders", "order_items"]) void count(db, table).then((n) => (during[table] = n));
        }
      },
    });
    expect(report.error).toBeUndefined();
    if (process.env.DEBUG_TEST) console.log(JSON.stringify(report, null, 1).slice(0, 3000));
    expect(report.status).toBe("succeeded");
    expect(report.skills[0]?.metrics).toMatchObject({ rows_inserted: 1200, batches: 12, tables_skipped: 0 });
    expect(report.rollback).toMatchObject({ steps: 12, done: 12, failed: [], conflicts: [] });
    expect(await databaseState(db.url, kind)).toEqual(before);
    await expect.poll(() => during.order_items).toBe(1800);
    expect(during).toEqual({ customers: 500, products: 350, orders: 800, order_items: 1800 });
  });

  it("db.update_load changes random rows and restores their exact values", async () => {
    const db = await shop(kind);
    const before = await databaseState(db.url, kind);
    const { report } = await runDatabaseExperiment({
      url: db.url,
      dbType: kind,
      skills: [{ skill_name: "db.update_load", params: { rows: 50, tables: ["customers", "products", "orders"] } }],
    });
    expect(report.error).toBeUndefined();
    if (process.env.DEBUG_TEST) console.log(JSON.stringify(report, null, 1).slice(0, 3000));
    expect(report.status).toBe("succeeded");
    expect(report.skills[0]?.metrics?.rows_updated).toBeGreaterThanOrEqual(140);
    expect(await databaseState(db.url, kind)).toEqual(before);
  });
});
