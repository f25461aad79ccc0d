import type { DatabaseConfig } from "../database-config.js";
import { createMysqlClient } from "../sql/mysql-client.js";
import { createPostgresClient } from "../sql/postgres-client.js";
import type { SqlClient, SqlExecutor } from "../sql/sql-client.js";
import { findLockBlockers, type LockBlocker } from "./lock-blockers.js";
import { mysqlDeadlineStatements, postgresDeadlineOptions, type RollbackDeadlines } from "./rollback-deadlines.js";

/** The pool rollback steps run on: every statement under the deadlines, and who blocks it known. */
export interface RollbackClient {
  client: SqlClient;
  /** The sessions seen blocking one of this pool's statements since the last `forget` (awaits a lookup under way). */
  blockers(): Promise<LockBlocker[]>;
  forget(): void;
  close(): Promise<void>;
}

/**
 * A pool of its own whose sessions carry the rollback's deadlines (the agent's pool keeps the
 * server's defaults for the load skills). A statement still running after half the lock
 * timeout triggers one look, from the agent's pool, at who blocks this pool's sessions: once
 * the timeout fires the wait is gone, and with it the answer.
 */
export async function createRollbackClient(
  config: DatabaseConfig,
  deadlines: RollbackDeadlines,
  inspector: SqlExecutor,
  applicationName: string,
): Promise<RollbackClient> {
  const serverIds = new Set<number>();
  const onConnect = (serverId: number) => serverIds.add(serverId);
  let inner: SqlClient;
  if (config.db_type === "postgres") {
    inner = createPostgresClient(config, applicationName, { options: postgresDeadlineOptions(deadlines), onConnect });
  } else {
    const { rows } = await inspector.query<{ version: string }>("SELECT VERSION() AS version");
    const mariadb = /mariadb/i.test(String(rows[0]?.version ?? ""));
    inner = createMysqlClient(config, { sessionStatements: mysqlDeadlineStatements(deadlines, mariadb), onConnect });
  }

  let seen: LockBlocker[] = [];
  let lookup: Promise<void> = Promise.resolve();
  const look = () => {
    lookup = findLockBlockers(config.db_type, inspector, [...serverIds])
      .then((found) => {
        if (found.length) seen = found;
      })
      .catch(() => undefined);
  };
  const lookDelayMs = Math.max(20, deadlines.lockTimeoutMs / 2);
  const watched = (executor: SqlExecutor): SqlExecutor => ({
    async query(sql, params) {
      const timer = setTimeout(look, lookDelayMs);
      try {
        return await executor.query(sql, params);
      } finally {
        clearTimeout(timer);
      }
    },
    ...(executor.copyRows ? { copyRows: executor.copyRows.bind(executor) } : {}),
  });

  const client: SqlClient = {
    ...watched(inner),
    transaction: (work) => inner.transaction((executor) => work(watched(executor))),
    connect: (tag) => inner.connect(tag),
    close: () => inner.close(),
  };
  return {
    client,
    async blockers() {
      await lookup;
      return seen;
    },
    forget() {
      seen = [];
    },
    close: () => inner.close(),
  };
}
