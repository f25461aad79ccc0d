import type { DatabaseSession } from "../database-session.js";
import { columnOf, rowKeyOf, type Table } from "../discovery/database-schema.js";
import { keyText } from "../sql/key-sets.js";
import type { SqlExecutor } from "../sql/sql-client.js";

/** How many rows the current transaction inserted, updated and deleted in one table. */
export interface TableWrites {
  /** `schema.name`. */
  table: string;
  schema: string;
  name: string;
  inserted: number;
  updated: number;
  deleted: number;
}

/** Write counts per table, from which `writesSince` computes what happened in between. */
export type WriteCounts = Map<string, TableWrites>;

/**
 * PostgreSQL counts every row a backend wrote, per table, whoever wrote it: chaos's statement,
 * a trigger it fired, or a foreign key's cascade. The counts are not flushed inside a
 * transaction block (they may still hold earlier transactions' writes), so the transaction
 * reads them first and compares after its statement: the difference is exactly what that
 * statement caused, including what no catalog read could have predicted.
 */
export async function writeCounts(executor: SqlExecutor): Promise<WriteCounts> {
  const { rows } = await executor.query<{ schema: string; name: string; inserted: string; updated: string; deleted: string }>(
    `SELECT schemaname AS schema, relname AS name, n_tup_ins::text AS inserted, n_tup_upd::text AS updated, n_tup_del::text AS deleted
       FROM pg_stat_xact_all_tables
      WHERE schemaname NOT IN ('pg_toast', 'pg_catalog', 'information_schema') AND n_tup_ins + n_tup_upd + n_tup_del > 0`,
  );
  return new Map(
    rows.map((row) => [
      `${row.schema}.${row.name}`,
      {
        table: `${row.schema}.${row.name}`,
        schema: row.schema,
        name: row.name,
        inserted: Number(row.inserted),
        updated: Number(row.updated),
        deleted: Number(row.deleted),
      },
    ]),
  );
}

/** The tables written since `before` (read earlier in the same transaction), with how many rows. */
export async function writesSince(executor: SqlExecutor, before: WriteCounts): Promise<TableWrites[]> {
  const changes: TableWrites[] = [];
  for (const [table, now] of await writeCounts(executor)) {
    const then = before.get(table);
    const change = {
      ...now,
      inserted: now.inserted - (then?.inserted ?? 0),
      updated: now.updated - (then?.updated ?? 0),
      deleted: now.deleted - (then?.deleted ?? 0),
    };
    if (change.inserted || change.updated || change.deleted) changes.push(change);
  }
  return changes;
}

/**
 * Keys of the rows of `table` that the current transaction wrote (their
 * `xmin` is its id). Scans the table: only called for tables the counts above name.
 */
export async function rowsWrittenInTransaction(
  executor: SqlExecutor,
  session: DatabaseSession,
  table: Table,
): Promise<string[][] | undefined> {
  const key = rowKeyOf(table);
  if (!key) return undefined;
  const keyColumns = key.map((name) => columnOf(table, name));
  const { rows } = await executor.query<Record<string, string>>(
    `SELECT ${keyText(session.dialect, keyColumns)}
       FROM ${session.dialect.table(table)} WHERE xmin::text::bigint = txid_current() % 4294967296`,
  );
  return rows.map((row) => keyColumns.map((_, index) => String(row[`k${index}`])));
}
