import pg from "pg";
import { from as copyFrom } from "pg-copy-streams";
import type { DatabaseConfig } from "../database-config.js";
import type { QueryResult, SqlClient, SqlConnection, SqlExecutor } from "./sql-client.js";
import { tlsOptions } from "./tls-options.js";

// Fixed session settings make a value's text form the same in every session, so a
// before-image journaled by `chaos run` compares equal in `chaos recover`.
export const sessionOptions = "-c TimeZone=UTC -c DateStyle=ISO,MDY -c IntervalStyle=postgres -c extra_float_digits=1";

/** What a pool of its own adds: more session settings, and who its connections are. */
export interface PoolExtras {
  /** More `-c name=value` startup options (the rollback's deadlines). */
  options?: string;
  /** Called with each new connection's server id (backend PID). */
  onConnect?: (serverId: number) => void;
}

/** How chaos connects to PostgreSQL: fixed session settings, its application_name, TLS as configured. */
export function postgresClientConfig(config: DatabaseConfig, applicationName: string, extraOptions?: string): pg.ClientConfig {
  return {
    connectionString: config.connection_url.replace(/^postgresql:/, "postgres:"),
    application_name: applicationName,
    options: extraOptions ? `${sessionOptions} ${extraOptions}` : sessionOptions,
    ssl: tlsOptions(config),
    connectionTimeoutMillis: 10_000,
  };
}

const copySpecial = /[\\\t\n\r]/;

/** One row in COPY's text format: tab-separated, `\\N` for NULL, backslash escapes. */
function copyLine(row: (string | null)[]): string {
  let line = "";
  for (let index = 0; index < row.length; index++) {
    const value = row[index];
    if (index > 0) line += "\t";
    if (value === null || value === undefined) line += "\\N";
    else line += copySpecial.test(value) ? value.replace(/[\\\t\n\r]/g, escapeCopyCharacter) : value;
  }
  return `${line}\n`;
}

function escapeCopyCharacter(character: string): string {
  return character === "\\" ? "\\\\" : character === "\t" ? "\\t" : character === "\n" ? "\\n" : "\\r";
}

async function copyRows(client: pg.PoolClient, sql: string, rows: Iterable<(string | null)[]>): Promise<number> {
  const stream = client.query(copyFrom(sql));
  const done = new Promise<void>((resolve, reject) => {
    stream.once("finish", resolve);
    stream.once("error", reject);
  });
  let chunk = "";
  let count = 0;
  for (const row of rows) {
    chunk += copyLine(row);
    if (++count % 1000 !== 0) continue;
    // Send each chunk and let the socket write it: the server parses while the next is made.
    if (!stream.write(chunk)) await new Promise((resolve) => stream.once("drain", resolve));
    else await new Promise((resolve) => setImmediate(resolve));
    chunk = "";
  }
  stream.end(chunk);
  await done;
  return stream.rowCount;
}

async function run<Row>(executor: pg.Pool | pg.PoolClient | pg.Client, sql: string, params?: unknown[]): Promise<QueryResult<Row>> {
  const result = await executor.query(sql, params as unknown[]);
  return { rows: result.rows as Row[], rowCount: result.rowCount ?? 0 };
}

export function createPostgresClient(config: DatabaseConfig, applicationName = "chaos-agents", extras: PoolExtras = {}): SqlClient {
  const pool = new pg.Pool({ ...postgresClientConfig(config, applicationName, extras.options), max: config.pool_size });
  const { onConnect } = extras;
  if (onConnect) pool.on("connect", (client) => onConnect(Number((client as unknown as { processID: number | null }).processID ?? 0)));
  // A backend terminated while idle in the pool must not crash the process; the pool replaces it.
  pool.on("error", () => undefined);
  return {
    query: (sql, params) => run(pool, sql, params),
    async transaction(work) {
      const client = await pool.connect();
      // A backend terminated between two statements must fail this transaction (its next query
      // rejects), not crash the process with an unhandled 'error' event: the pool listens only
      // to idle clients.
      const ignoreError = () => undefined;
      client.on("error", ignoreError);
      let broken = false;
      try {
        await client.query("BEGIN");
        const executor: SqlExecutor = {
          query: (sql, params) => run(client, sql, params),
          copyRows: (sql, rows) => copyRows(client, sql, rows),
        };
        const result = await work(executor);
        await client.query("COMMIT");
        return result;
      } catch (error) {
        await client.query("ROLLBACK").catch(() => {
          broken = true;
        });
        throw error;
      } finally {
        client.off("error", ignoreError);
        client.release(broken);
      }
    },
    async connect(tag) {
      const client = new pg.Client(postgresClientConfig(config, tag));
      client.on("error", () => undefined);
      await client.connect();
      const { rows } = await client.query<{ pid: number }>("SELECT pg_backend_pid() AS pid");
      return {
        serverId: rows[0]?.pid ?? 0,
        query: (sql, params) => run(client, sql, params),
        close: () => client.end().catch(() => undefined),
      };
    },
    close: () => pool.end(),
  };
}

export type { SqlConnection };
