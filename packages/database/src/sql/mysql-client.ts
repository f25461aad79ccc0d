import mysql from "mysql2/promise";
import type { DatabaseConfig } from "../database-config.js";
import type { QueryResult, SqlClient, SqlExecutor } from "./sql-client.js";
import { tlsOptions } from "./tls-options.js";

function connectionOptions(config: DatabaseConfig): mysql.ConnectionOptions {
  const url = new URL(config.connection_url.replace(/^mariadb:/, "mysql:"));
  return {
    host: url.hostname,
    port: url.port ? Number(url.port) : 3306,
    user: decodeURIComponent(url.username),
    password: decodeURIComponent(url.password),
    database: decodeURIComponent(url.pathname.replace(/^\//, "")) || undefined,
    // Values as exact strings: a before-image must restore byte for byte, not via a JS Date or float.
    dateStrings: true,
    supportBigNumbers: true,
    bigNumberStrings: true,
    decimalNumbers: false,
    charset: "utf8mb4",
    connectTimeout: 10_000,
    ssl: tlsOptions(config),
  };
}

// Same reason as PostgreSQL's fixed TimeZone: TIMESTAMP text must not depend on the session.
const sessionSetup = "SET time_zone = '+00:00', SESSION group_concat_max_len = 1048576";

async function run<Row>(executor: mysql.Pool | mysql.PoolConnection | mysql.Connection, sql: string, params?: unknown[]) {
  const [result] = await executor.query(sql, params);
  if (Array.isArray(result)) return { rows: result as Row[], rowCount: result.length } satisfies QueryResult<Row>;
  return { rows: [] as Row[], rowCount: (result as mysql.ResultSetHeader).affectedRows } satisfies QueryResult<Row>;
}

/** What a pool of its own adds: more session settings, and who its connections are. */
export interface MysqlPoolExtras {
  /** More SET SESSION statements for each connection (the rollback's deadlines). */
  sessionStatements?: string[];
  /** Called with each new connection's server id (connection id). */
  onConnect?: (serverId: number) => void;
}

export function createMysqlClient(config: DatabaseConfig, extras: MysqlPoolExtras = {}): SqlClient {
  const pool = mysql.createPool({ ...connectionOptions(config), connectionLimit: config.pool_size });
  pool.on("connection", (connection) => {
    // Queued on the connection ahead of any statement the pool hands it out for.
    connection.query(sessionSetup);
    for (const statement of extras.sessionStatements ?? []) connection.query(statement);
    extras.onConnect?.(connection.threadId ?? 0);
  });
  return {
    query: (sql, params) => run(pool, sql, params),
    async transaction(work) {
      const connection = await pool.getConnection();
      let broken = false;
      try {
        await connection.query("START TRANSACTION");
        const executor: SqlExecutor = { query: (sql, params) => run(connection, sql, params) };
        const result = await work(executor);
        await connection.query("COMMIT");
        return result;
      } catch (error) {
        await connection.query("ROLLBACK").catch(() => {
          broken = true;
        });
        throw error;
      } finally {
        if (broken) connection.destroy();
        else connection.release();
      }
    },
    async connect() {
      const connection = await mysql.createConnection(connectionOptions(config));
      connection.on("error", () => undefined);
      await connection.query(sessionSetup);
      return {
        serverId: connection.threadId ?? 0,
        query: (sql, params) => run(connection, sql, params),
        close: () => connection.end().catch(() => connection.destroy()),
      };
    },
    close: () => pool.end(),
  };
}
