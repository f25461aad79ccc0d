import type { DatabaseSession } from "../database-session.js";
import { columnOf, rowKeyOf, type Table } from "../discovery/database-schema.js";
import { keyText, toKeys } from "../sql/key-sets.js";
import type { SqlExecutor } from "../sql/sql-client.js";

/** Rows of other tables that triggers wrote in the current transaction, by table, as keys. */
export type TriggerWrites = Record<string, string[][]>;

/**
 * On PostgreSQL every row version the current transaction wrote carries its xid in `xmin`,
 * so the rows a trigger wrote alongside chaos's statement can be named exactly. Scans the
 * other tables of the discovered schemas: only called for tables that have triggers.
 */
export async function findTriggerWrites(executor: SqlExecutor, session: DatabaseSession, table: Table): Promise<TriggerWrites> {
  if (session.dialect.kind !== "postgres" || table.triggers.length === 0) return {};
  const schema = await session.schema();
  const writes: TriggerWrites = {};
  for (const other of schema.tables) {
    const key = rowKeyOf(other);
    if (other === table || !key) continue;
    const { rows } = await executor.query(
      `SELECT ${keyText(
        session.dialect,
        key.map((name) => columnOf(other, name)),
      )} FROM ${session.dialect.table(other)}
        WHERE xmin::text::bigint = txid_current() % 4294967296`,
    );
    if (rows.length > 0) writes[other.qualifiedName] = toKeys(rows, key.length);
  }
  return writes;
}

/** What a report says about trigger writes chaos leaves in place. */
export function describeTriggerWrites(writes: TriggerWrites | undefined, cause: string): string[] {
  return Object.entries(writes ?? {}).map(
    ([table, keys]) =>
      `${table}: ${keys.length} row(s) written by a trigger on ${cause} are left in place (keys ${keys
        .slice(0, 20)
        .map((key) => `(${key.join(", ")})`)
        .join(" ")}${keys.length > 20 ? " …" : ""})`,
  );
}
