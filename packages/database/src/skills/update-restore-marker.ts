import type { DatabaseSession } from "../database-session.js";
import { mysqlDialect } from "../sql/dialect.js";
import type { SqlExecutor } from "../sql/sql-client.js";

/**
 * MySQL/MariaDB keep no commit log chaos could ask whether its compensating restore committed.
 * So that restore writes a marker row in the same transaction, into a table of chaos's own (one
 * per experiment and database, named so nobody mistakes it: `chaos_agents_restored_<experiment>`).
 * A later try finds the marker if and only if the restore committed. The table is created just
 * before the first such restore and dropped by the experiment's last db.update_load step, once
 * no restore is left unfinished. Discovery never lists it, so no skill touches it.
 */
const markerTablePrefix = "chaos_agents_restored_";

export function isRestoreMarkerTable(name: string): boolean {
  return name.startsWith(markerTablePrefix);
}

/** `schema`.`chaos_agents_restored_c20261128t033500_a1b2c3`. */
export function restoreMarkerTable(schema: string, experimentId: string): string {
  return mysqlDialect.table({ schema, name: `${markerTablePrefix}${experimentId.replace(/[^A-Za-z0-9_]/g, "_")}`.slice(0, 64) });
}

/** Outside any transaction: DDL commits implicitly on MySQL. */
export async function createRestoreMarkerTable(session: DatabaseSession, table: string): Promise<void> {
  await session.client.query(`CREATE TABLE IF NOT EXISTS ${table} (marker CHAR(36) PRIMARY KEY) ENGINE=InnoDB`);
}

export async function writeRestoreMarker(executor: SqlExecutor, table: string, marker: string): Promise<void> {
  await executor.query(`INSERT INTO ${table} (marker) VALUES (?)`, [marker]);
}

/** Whether the restore that wrote `marker` committed (a missing table means none did). */
export async function restoreMarkerCommitted(session: DatabaseSession, table: string, marker: string): Promise<boolean> {
  try {
    const { rows } = await session.client.query(`SELECT 1 AS found FROM ${table} WHERE marker = ?`, [marker]);
    return rows.length > 0;
  } catch (error) {
    if ((error as { errno?: number }).errno === 1146) return false;
    throw error;
  }
}

export async function dropRestoreMarkerTable(session: DatabaseSession, table: string): Promise<void> {
  await session.client.query(`DROP TABLE IF EXISTS ${table}`);
}
