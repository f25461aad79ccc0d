import { randomBytes } from "node:crypto";
import mysql from "mysql2/promise";
import pg from "pg";

export type TestDatabaseKind = "postgres" | "mysql";

/** The machine's servers (CI starts them): PostgreSQL with trust auth, MariaDB root without a password. */
export const serverUrls: Record<TestDatabaseKind, string> = {
  postgres: process.env.CHAOS_TEST_POSTGRES_URL ?? "postgres://postgres@127.0.0.1:5432",
  mysql: process.env.CHAOS_TEST_MYSQL_URL ?? "mysql://root@127.0.0.1:3306",
};

export interface TestDatabase {
  kind: TestDatabaseKind;
  name: string;
  /** Connection URL of the new database. */
  url: string;
  /** Runs SQL (one statement, or several separated by `;` lines on MySQL) as the admin user in this database. */
  execute(sql: string, params?: unknown[]): Promise<Record<string, unknown>[]>;
  drop(): Promise<void>;
}

/** A database of its own for one test: created empty, dropped (with every connection) afterwards. */
export async function createTestDatabase(kind: TestDatabaseKind): Promise<TestDatabase> {
  const name = `chaos_test_${randomBytes(5).toString("hex")}`;
  const url = `${serverUrls[kind]}/${name}`;
  if (kind === "postgres") {
    const admin = new pg.Client({ connectionString: `${serverUrls.postgres}/postgres` });
    await admin.connect();
    await admin.query(`CREATE DATABASE ${name}`);
    await admin.end();
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    return {
      kind,
      name,
      url,
      execute: async (sql, params) => (await client.query(sql, params)).rows,
      async drop() {
        await client.end();
        const cleanup = new pg.Client({ connectionString: `${serverUrls.postgres}/postgres` });
        await cleanup.connect();
        await cleanup.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
        await cleanup.end();
      },
    };
  }
  const admin = await mysql.createConnection({ uri: serverUrls.mysql, multipleStatements: true });
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.query(`USE ${name}`);
  return {
    kind,
    name,
    url,
    async execute(sql, params) {
      const [rows] = await admin.query(sql, params);
      return Array.isArray(rows) ? (rows as Record<string, unknown>[]) : [];
    },
    async drop() {
      await admin.query(`DROP DATABASE IF EXISTS ${name}`);
      await admin.end();
    },
  };
}

/** `parents (id, name)` holding the application's rows 1 to `rows`, each named `application <id>`. */
export async function createParentsTable(db: TestDatabase, rows: number): Promise<void> {
  await db.execute("CREATE TABLE parents (id int PRIMARY KEY, name varchar(40) NOT NULL)");
  await db.execute(
    db.kind === "postgres"
      ? `INSERT INTO parents SELECT n, 'application ' || n FROM generate_series(1, ${rows}) n`
      : `INSERT INTO parents SELECT seq, CONCAT('application ', seq) FROM seq_1_to_${rows}`,
  );
}
