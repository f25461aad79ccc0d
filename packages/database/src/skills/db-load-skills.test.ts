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
          void (async () => {
            for (const table of ["customers", "products", "orders", "order_items"]) during[table] = await count(db, table);
          })();
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

  it("db.insert_load that fails mid-table rolls back every batch that committed, the one in flight beside it too", async () => {
    const db = await shop(kind);
    await db.execute("CREATE TABLE ledger (id int PRIMARY KEY, note varchar(40))");
    await db.execute("INSERT INTO ledger VALUES (1, 'application row'), (2, 'another')");
    // Chaos counts keys up from 2 in batches of 500: the fifth batch (2003…2502) is refused.
    if (kind === "postgres") {
      await db.execute(
        `CREATE FUNCTION refuse() RETURNS trigger LANGUAGE plpgsql AS $$
         BEGIN IF NEW.id BETWEEN 2003 AND 2010 THEN RAISE EXCEPTION 'ledger refuses id %', NEW.id; END IF; RETURN NEW; END $$`,
      );
      await db.execute("CREATE TRIGGER refuse BEFORE INSERT ON ledger FOR EACH ROW EXECUTE FUNCTION refuse()");
    } else {
      await db.execute(
        "CREATE TRIGGER refuse BEFORE INSERT ON ledger FOR EACH ROW IF NEW.id BETWEEN 2003 AND 2010 THEN SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'ledger refuses the row'; END IF",
      );
    }
    const before = await databaseState(db.url, kind);
    const { report } = await runDatabaseExperiment({
      url: db.url,
      dbType: kind,
      skills: [{ skill_name: "db.insert_load", params: { tables: ["ledger"], rows_per_table: 5000, batch_size: 500 } }],
    });
    expect(report.status).toBe("failed_rolled_back");
    expect(report.error ?? report.skills[0]?.error).toMatch(/ledger refuses/);
    expect(report.rollback).toMatchObject({ failed: [] });
    // Four batches before the refused one, maybe the one after it: none is left behind.
    expect(report.rollback?.done).toBeGreaterThanOrEqual(4);
    expect(await databaseState(db.url, kind)).toEqual(before);
  });

  it("db.update_load changes random rows and restores their exact values", async () => {
    const db = await shop(kind);
    const before = await databaseState(db.url, kind);
    const { report } = await runDatabaseExperiment({
      url: db.url,
      dbType: kind,
      skills: [{ skill_name: "db.update_load", params: { mode: "random", rows: 50, tables: ["customers", "products", "orders"] } }],
    });
    expect(report.error).toBeUndefined();
    if (process.env.DEBUG_TEST) console.log(JSON.stringify(report, null, 1).slice(0, 3000));
    expect(report.status).toBe("succeeded");
    expect(report.skills[0]?.metrics?.rows_updated).toBeGreaterThanOrEqual(140);
    expect(await databaseState(db.url, kind)).toEqual(before);
  });
});
