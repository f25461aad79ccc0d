import pg from "pg";
import type { DatabaseSession } from "../database-session.js";
import { postgresClientConfig, sessionOptions } from "../sql/postgres-client.js";
import type { SelectQuery } from "./select-queries.js";

/** One load worker's own connection: runs a query, discards its rows. */
export interface WorkerConnection {
  /** PostgreSQL backend PID / MySQL connection id, to cancel a statement still running at the end. */
  readonly serverId: number;
  /** Runs query number `index` of the worker's list with `values`. */
  run(index: number, values: unknown[]): Promise<void>;
  close(): Promise<void>;
}

/** A worker never keeps the server busy long after the load stops, even on a huge full scan. */
const statementTimeoutSeconds = 30;

/**
 * Opens a worker connection tagged like every chaos connection (so the target's sweep finds
 * it). On PostgreSQL it is a raw `pg.Client`, not `SqlClient.connect`, because the hot path
 * needs what `SqlConnection` does not offer: named prepared statements (parsed and planned
 * once per connection) and rows left as unparsed text.
 */
export async function openWorker(session: DatabaseSession, queries: SelectQuery[]): Promise<WorkerConnection> {
  if (session.dialect.kind !== "postgres") {
    const connection = await session.client.connect(session.connectionTag);
    await connection.query(`SET SESSION max_statement_time = ${statementTimeoutSeconds}`).catch(() => undefined);
    return {
      serverId: connection.serverId,
      run: async (index, values) => {
        await connection.query((queries[index] as SelectQuery).sql, values);
      },
      close: () => connection.close(),
    };
  }
  const client = new pg.Client({
    ...postgresClientConfig(session.config, session.connectionTag),
    options: `${sessionOptions} -c statement_timeout=${statementTimeoutSeconds}s`,
    // The rows are thrown away: parsing them into JavaScript values would only load chaos's CPU.
    types: { getTypeParser: () => (text: string) => text },
  });
  client.on("error", () => undefined);
  await client.connect();
  const { rows } = await client.query<{ pid: number }>("SELECT pg_backend_pid() AS pid");
  const configs = queries.map((query, index) => ({ name: `chaos_select_${index}`, text: query.sql, rowMode: "array" as const }));
  return {
    serverId: Number(rows[0]?.pid ?? 0),
    run: async (index, values) => {
      await client.query({ ...(configs[index] as (typeof configs)[number]), values });
    },
    close: () => client.end().catch(() => undefined),
  };
}

/** Cancels whatever statement the workers still run (only theirs: chaos's own connections). */
export async function cancelRunningStatements(session: DatabaseSession, workers: WorkerConnection[]): Promise<void> {
  const ids = workers.map((worker) => worker.serverId).filter((id) => id > 0);
  if (ids.length === 0) return;
  if (session.dialect.kind === "postgres") {
    await session.client
      .query("SELECT pg_cancel_backend(pid) FROM pg_stat_activity WHERE pid = ANY($1::int[]) AND application_name = $2", [
        ids,
        session.connectionTag,
      ])
      .catch(() => undefined);
    return;
  }
  for (const id of ids) await session.client.query(`KILL QUERY ${Math.trunc(id)}`).catch(() => undefined);
}
