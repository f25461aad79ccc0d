import mysql from "mysql2/promise";
import pg from "pg";
import type { TestDatabase } from "./test-database.js";

/** One connection of "the application" beside chaos: its own transactions and locks. */
export interface ApplicationSession {
  /** Its server id: PostgreSQL backend pid, MySQL/MariaDB connection id. */
  pid: number;
  query(sql: string, params?: unknown[]): Promise<Record<string, unknown>[]>;
  close(): Promise<void>;
}

export async function openApplicationSession(db: TestDatabase, name = "test application"): Promise<ApplicationSession> {
  if (db.kind === "postgres") {
    const client = new pg.Client({ connectionString: db.url, application_name: name });
    client.on("error", () => undefined);
    await client.connect();
    const { rows } = await client.query<{ pid: number }>("SELECT pg_backend_pid() AS pid");
    return {
      pid: Number(rows[0]?.pid),
      query: async (sql, params) => (await client.query(sql, params)).rows,
      close: () => client.end().catch(() => undefined),
    };
  }
  const connection = await mysql.createConnection({ uri: db.url, supportBigNumbers: true, bigNumberStrings: true });
  connection.on("error", () => undefined);
  return {
    pid: connection.threadId,
    async query(sql, params) {
      const [rows] = await connection.query(sql, params);
      return Array.isArray(rows) ? (rows as Record<string, unknown>[]) : [];
    },
    close: () => connection.end().catch(() => connection.destroy()),
  };
}
