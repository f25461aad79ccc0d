import { databaseState, runDatabaseExperiment, type TestDatabase, useTestDatabases, withDatabaseSession } from "@chaos-agents/testing";
import { describe, expect, it } from "vitest";

const databases = useTestDatabases();

const weirdPostgres = `a"; DROP TABLE customers; --`;
const weirdMysql = "a`; DROP TABLE customers; --";

const postgresEdges = [
  `CREATE TABLE "${weirdPostgres.replace(/"/g, '""')}" (
     id uuid PRIMARY KEY DEFAULT gen_random_uuid(), "select" text, during daterange, addr inet, net cidr, mac macaddr,
     payload bytea, wait interval, d date, t time, ts timestamp, numbers int[], labels varchar(5)[], ratio real, big bigint,
     amount numeric(6,3) CHECK (amount >= 0 AND amount < 100), code char(3), mood text CHECK (mood IN ('happy', 'sad')))`,
  "CREATE TABLE no_key_events (happened_at timestamptz, note text)",
  "CREATE TABLE unique_keyed (code text NOT NULL UNIQUE, note text)",
  "CREATE TABLE impossible (id int PRIMARY KEY, v int NOT NULL CHECK (v > 10 AND v < 5))",
  "CREATE TABLE audit_log (id bigserial PRIMARY KEY, what text NOT NULL)",
  `CREATE FUNCTION audit_customer() RETURNS trigger LANGUAGE plpgsql AS $$
     BEGIN INSERT INTO audit_log (what) VALUES ('customer ' || NEW.email); RETURN NEW; END $$`,
  "CREATE TRIGGER customers_audit AFTER INSERT ON customers FOR EACH ROW EXECUTE FUNCTION audit_customer()",
  "CREATE TABLE employees (id int PRIMARY KEY, manager_id int REFERENCES employees(id), name text NOT NULL)",
  "INSERT INTO employees VALUES (1, NULL, 'boss'), (2, 1, 'worker')",
];

const mysqlEdges = [
  `CREATE TABLE \`${weirdMysql.replace(/`/g, "``")}\` (
     id int AUTO_INCREMENT PRIMARY KEY, \`select\` text, payload varbinary(16), blob_data blob, t time, y year,
     flags set('a','b','c'), ratio float, precise double, amount decimal(6,3) CHECK (amount >= 0 AND amount < 100),
     code char(3), mood varchar(10) CHECK (mood IN ('happy', 'sad')), d date, small tinyint unsigned)`,
  "CREATE TABLE no_key_events (happened_at datetime, note text)",
  "CREATE TABLE unique_keyed (code varchar(40) NOT NULL UNIQUE, note text)",
  "CREATE TABLE impossible (id int PRIMARY KEY, v int NOT NULL CHECK (v > 10 AND v < 5))",
  "CREATE TABLE employees (id int PRIMARY KEY, manager_id int, name varchar(50) NOT NULL, FOREIGN KEY (manager_id) REFERENCES employees(id))",
  "INSERT INTO employees VALUES (1, NULL, 'boss'), (2, 1, 'worker')",
];

async function edgeDatabase(kind: "postgres" | "mysql"): Promise<TestDatabase> {
  const database = await databases.shop(kind);
  for (const statement of kind === "postgres" ? postgresEdges : mysqlEdges) await database.execute(statement);
  return database;
}

describe.each(["postgres", "mysql"] as const)("%s edge schemas", (kind) => {
  it("discovers keys, foreign keys, checks, enums, generated columns and quoted names", async () => {
    const db = await edgeDatabase(kind);
    const schema = await withDatabaseSession(db.url, kind, (session) => session.schema());
    const table = (name: string) => schema.tables.find((candidate) => candidate.name === name);
    expect(table(kind === "postgres" ? weirdPostgres : weirdMysql)?.primaryKey).toEqual(["id"]);
    expect(table("order_items")?.primaryKey).toEqual(["order_id", "line_no"]);
    expect(
      table("order_items")
        ?.foreignKeys.map((key) => key.referencedTable.split(".")[1])
        .sort(),
    ).toEqual(["orders", "products"]);
    expect(table("orders")?.referencedBy.map((reference) => reference.tableName)).toEqual(["order_items"]);
    expect(table("order_items")?.columns.find((column) => column.name === "total")).toMatchObject({ generated: true });
    expect(table("customers")?.columns.find((column) => column.name === "id")).toMatchObject({ autoIncrement: true });
    expect(table("orders")?.columns.find((column) => column.name === "status")).toMatchObject({
      kind: "enum",
      labels: ["pending", "paid", "shipped", "cancelled"],
    });
    expect(
      table("products")
        ?.checks.map((check) => check.expression)
        .join(" "),
    ).toMatch(/price/);
    expect(table("no_key_events")?.primaryKey).toEqual([]);
    if (kind === "postgres") expect(table("customers")?.triggers.map((trigger) => trigger.name)).toEqual(["customers_audit"]);
    // The quoted name was a name, not SQL: every table is still there.
    expect(schema.tables.map((candidate) => candidate.name)).toContain("customers");
  });

  it("inserts into every usable table, skips the rest with reasons, and restores every checksum", async () => {
    const db = await edgeDatabase(kind);
    const before = await databaseState(db.url, kind);
    const { report } = await runDatabaseExperiment({
      url: db.url,
      dbType: kind,
      skills: [{ skill_name: "db.insert_load", params: { rows_per_table: 200, batch_size: 70 } }],
      resourceFilters: ["^(?!.*audit_log)"],
    });
    const summary = `${report.skills[0]?.plan} ${report.skills[0]?.summary}`;
    expect(report.skills[0]?.error).toBeUndefined();
    expect(summary).toContain("no_key_events: no primary key or NOT NULL unique key to delete by");
    expect(summary).toMatch(/impossible: chaos cannot make a valid value for v/);
    expect(report.skills[0]?.metrics?.rows_inserted).toBe(200 * (kind === "postgres" ? 7 : 7));
    const after = await databaseState(db.url, kind);
    // The audit trigger's rows (PostgreSQL) were inserted by chaos's own statements: deleted with them.
    if (kind === "postgres") expect(report.rollback.notes.join("\n")).toMatch(/deleted 70 row\(s\) its INSERT triggers wrote/);
    expect(report.rollback.conflicts).toEqual([]);
    expect(report.rollback.failed).toEqual([]);
    expect(report.status).toBe("succeeded");
    expect(after).toEqual(before);
  });

  it("updates rows of every type and restores their exact values, including the quoted table", async () => {
    const db = await edgeDatabase(kind);
    const insert =
      kind === "postgres"
        ? `INSERT INTO "${weirdPostgres.replace(/"/g, '""')}" ("select", during, addr, payload, ratio, amount, mood, numbers)
             SELECT 'row ' || n, daterange('2024-01-01', '2024-02-01'), '10.0.0.1', '\\x0102', n / 3.0, n, 'happy', ARRAY[n, n + 1] FROM generate_series(1, 40) n`
        : `INSERT INTO \`${weirdMysql.replace(/`/g, "``")}\` (\`select\`, payload, ratio, precise, amount, mood, flags, y, t)
             SELECT CONCAT('row ', seq), UNHEX('0102'), seq / 3.0, seq / 7.0, seq, 'happy', 'a', 2020, '10:00:00' FROM seq_1_to_40`;
    await db.execute(insert);
    const before = await databaseState(db.url, kind);
    const { report } = await runDatabaseExperiment({
      url: db.url,
      dbType: kind,
      skills: [
        {
          skill_name: "db.update_load",
          params: { mode: "random", rows: 40, tables: [kind === "postgres" ? weirdPostgres : weirdMysql, "employees"] },
        },
      ],
    });
    expect(report.error).toBeUndefined();
    expect(report.status).toBe("succeeded");
    expect(report.skills[0]?.metrics?.rows_updated).toBe(42);
    expect(await databaseState(db.url, kind)).toEqual(before);
  });

  it("keeps a chaos row an application row came to reference, and reports it instead of cascading", async () => {
    const db = await edgeDatabase(kind);
    const { report } = await runDatabaseExperiment({
      url: db.url,
      dbType: kind,
      duration: "1500ms",
      skills: [{ skill_name: "db.insert_load", params: { rows_per_table: 5, tables: ["customers"] } }],
      onEvent: (event) => {
        if (event.type === "hold_started") {
          // The application places an order for the newest customer: one of chaos's.
          void db.execute(
            "INSERT INTO orders (customer_id, status, ordered_at) SELECT MAX(id), 'paid', '2025-01-01 00:00:00' FROM customers",
          );
        }
      },
    });
    expect(report.status).toBe("rollback_incomplete");
    const conflicts = report.rollback.conflicts.filter((conflict) => conflict.includes("kept: an application row references it"));
    expect(conflicts).toHaveLength(1);
    expect(Number((await db.execute("SELECT COUNT(*) AS n FROM customers"))[0]?.n)).toBe(201);
  });

  it("refuses an unknown table, a filtered-out table and a negative row count before any change", async () => {
    const db = await edgeDatabase(kind);
    const before = await databaseState(db.url, kind);
    await expect(
      runDatabaseExperiment({ url: db.url, dbType: kind, skills: [{ skill_name: "db.insert_load", params: { tables: ["custmers"] } }] }),
    ).rejects.toThrow(/unknown table "custmers"/);
    await expect(
      runDatabaseExperiment({
        url: db.url,
        dbType: kind,
        resourceFilters: ["orders"],
        skills: [{ skill_name: "db.update_load", params: { tables: ["customers"] } }],
      }),
    ).rejects.toThrow(/customers is excluded by resource_filters/);
    await expect(
      runDatabaseExperiment({ url: db.url, dbType: kind, skills: [{ skill_name: "db.insert_load", params: { rows_per_table: -5 } }] }),
    ).rejects.toThrow(/expected a positive integer/);
    expect(await databaseState(db.url, kind)).toEqual(before);
  });
});
