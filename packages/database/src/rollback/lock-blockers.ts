import type { DatabaseKind } from "../database-config.js";
import type { SqlExecutor } from "../sql/sql-client.js";

/** A session holding a lock that one of chaos's rollback statements waits for. */
export interface LockBlocker {
  /** PostgreSQL backend pid, MySQL/MariaDB connection (thread) id: what `pg_terminate_backend` / `KILL` take. */
  pid: number;
  /** The blocker's current statement, or its last one when it sits idle in its transaction (PostgreSQL). */
  query: string | null;
  /** PostgreSQL: active, idle in transaction…; MySQL: the transaction's state. */
  state: string | null;
  /** How long its transaction has been open, in seconds. */
  transactionSeconds: number | null;
  /** PostgreSQL: the application_name it connected with, and the role. */
  application?: string | null;
  user?: string | null;
}

/**
 * Who blocks the given sessions (chaos's rollback connections) right now. Read while the
 * statement still waits: once the lock timeout fired, the wait and its edges are gone.
 */
export async function findLockBlockers(kind: DatabaseKind, executor: SqlExecutor, waiting: number[]): Promise<LockBlocker[]> {
  if (waiting.length === 0) return [];
  return kind === "postgres" ? postgresBlockers(executor, waiting) : mysqlBlockers(executor, waiting);
}

async function postgresBlockers(executor: SqlExecutor, waiting: number[]): Promise<LockBlocker[]> {
  const { rows } = await executor.query<{
    pid: number;
    query: string | null;
    state: string | null;
    seconds: number | null;
    application: string | null;
    username: string | null;
  }>(
    `SELECT DISTINCT blocker.pid, left(blocker.query, 500) AS query, blocker.state,
            floor(extract(epoch FROM now() - blocker.xact_start))::int AS seconds,
            blocker.application_name AS application, blocker.usename::text AS username
       FROM pg_stat_activity waiter
       CROSS JOIN LATERAL unnest(pg_blocking_pids(waiter.pid)) AS blocking(pid)
       JOIN pg_stat_activity blocker ON blocker.pid = blocking.pid
      WHERE waiter.pid = ANY($1::int[])`,
    [waiting],
  );
  return rows.map((row) => ({
    pid: Number(row.pid),
    query: row.query,
    state: row.state,
    transactionSeconds: row.seconds === null ? null : Number(row.seconds),
    application: row.application,
    user: row.username,
  }));
}

/**
 * MariaDB and MySQL 5.7: information_schema.INNODB_LOCK_WAITS and INNODB_TRX (row locks).
 * MySQL 8 dropped those tables; its sys.innodb_lock_waits view says the same.
 */
async function mysqlBlockers(executor: SqlExecutor, waiting: number[]): Promise<LockBlocker[]> {
  const marks = waiting.map(() => "?").join(", ");
  type Row = { pid: number | string; query: string | null; state: string | null; seconds: number | string | null };
  let rows: Row[];
  try {
    ({ rows } = await executor.query<Row>(
      `SELECT DISTINCT blocker.trx_mysql_thread_id AS pid, LEFT(blocker.trx_query, 500) AS query, blocker.trx_state AS state,
              TIMESTAMPDIFF(SECOND, blocker.trx_started, NOW()) AS seconds
         FROM information_schema.INNODB_LOCK_WAITS w
         JOIN information_schema.INNODB_TRX waiter ON waiter.trx_id = w.requesting_trx_id
         JOIN information_schema.INNODB_TRX blocker ON blocker.trx_id = w.blocking_trx_id
        WHERE waiter.trx_mysql_thread_id IN (${marks})`,
      waiting,
    ));
  } catch {
    ({ rows } = await executor.query<Row>(
      `SELECT DISTINCT blocking_pid AS pid, LEFT(blocking_query, 500) AS query, blocking_trx_state AS state, blocking_trx_age AS seconds
         FROM sys.innodb_lock_waits WHERE waiting_pid IN (${marks})`,
      waiting,
    ));
  }
  return rows.map((row) => ({
    pid: Number(row.pid),
    query: row.query,
    state: row.state,
    transactionSeconds: row.seconds === null || Number.isNaN(Number(row.seconds)) ? null : Number(row.seconds),
  }));
}

/** `pid 4242 (idle in transaction for 12 s, application psql, user app): UPDATE accounts …`. */
export function describeBlocker(blocker: LockBlocker): string {
  const facts = [
    blocker.state ? `${blocker.state}${blocker.transactionSeconds !== null ? ` for ${blocker.transactionSeconds} s` : ""}` : "",
    blocker.application ? `application ${blocker.application}` : "",
    blocker.user ? `user ${blocker.user}` : "",
  ].filter(Boolean);
  const idle = blocker.state?.startsWith("idle") ? "last query" : "query";
  const query = blocker.query?.trim()
    ? `${idle}: ${blocker.query.trim().replace(/\s+/g, " ")}`
    : "no statement running (its transaction is open)";
  return `pid ${blocker.pid}${facts.length ? ` (${facts.join(", ")})` : ""}, ${query}`;
}
