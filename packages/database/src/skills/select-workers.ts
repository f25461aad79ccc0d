import type { DatabaseConfig } from "../database-config.js";
import { createMysqlClient } from "../sql/mysql-client.js";
import { postgresClientConfig, sessionOptions } from "../sql/postgres-client.js";
import { openPreparedConnection } from "../sql/postgres-prepared-connection.js";
import type { SelectQuery } from "./select-queries.js";

/** One load worker's own connection: runs a query, discards its rows. */
export interface WorkerConnection {
  /** PostgreSQL backend PID / MySQL connection id, to cancel a statement still running at the end. */
  readonly serverId: number;
  /** Runs query number `index` of the worker's list with `values` (text, or null for NULL). */
  run(index: number, values: (string | null)[]): Promise<void>;
  close(): Promise<void>;
}

/** A worker never keeps the server busy long after the load stops, even on a huge full scan. */
const statementTimeoutSeconds = 30;

/**
 * Opens a worker connection tagged like every chaos connection (so the target's sweep finds
 * it). On PostgreSQL every query is prepared once and run through `openPreparedConnection`,
 * the lean path a load generator needs (see there). Takes the config, not the session: it runs
 * in the load's own threads.
 */
export async function openWorker(config: DatabaseConfig, tag: string, queries: SelectQuery[]): Promise<WorkerConnection> {
  if (config.db_type !== "postgres") {
    const client = createMysqlClient(config);
    const connection = await client.connect(tag).finally(() => client.close());
    await connection.query(`SET SESSION max_statement_time = ${statementTimeoutSeconds}`).catch(() => undefined);
    return {
      serverId: connection.serverId,
      run: async (index, values) => {
        await connection.query((queries[index] as SelectQuery).sql, values);
      },
      close: () => connection.close(),
    };
  }
  const connection = await openPreparedConnection(
    { ...postgresClientConfig(config, tag), options: `${sessionOptions} -c statement_timeout=${statementTimeoutSeconds}s` },
    queries.map((query) => query.sql),
  );
  return { serverId: connection.serverId, run: (index, values) => connection.execute(index, values), close: () => connection.close() };
}
