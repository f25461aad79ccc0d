import type { Column, Table } from "../discovery/database-schema.js";
import type { Dialect } from "../sql/dialect.js";
import { keysIn } from "../sql/key-sets.js";
import type { SqlExecutor } from "../sql/sql-client.js";

/**
 * Columns MySQL/MariaDB can be made to really write a row through: InnoDB skips an UPDATE
 * that leaves a row byte-identical, so chaos changes one column and changes it back inside
 * the same transaction. Only integers and decimals with an integer part qualify, because
 * for them `flip` below is its own inverse in SQL and never leaves the type's range, so the
 * value comes back exactly without travelling through text.
 */
export function flippableColumns(columns: Column[]): Column[] {
  const candidates = columns.filter(
    (column) => column.kind === "integer" || (column.kind === "decimal" && (column.precision ?? 10) - (column.scale ?? 0) >= 1),
  );
  // A NOT NULL column is written in every row; a NULL stays NULL and that row is not written.
  return [...candidates.filter((column) => !column.nullable), ...candidates.filter((column) => column.nullable)];
}

/**
 * An involution: the integer part's parity decides +1 or -1, so applying it twice gives the
 * value back, and a type's extremes (odd maximum, even minimum) move inwards, never out.
 */
function flip(dialect: Dialect, column: Column): string {
  const name = dialect.quote(column.name);
  return `${name} = IF(MOD(FLOOR(${name}), 2) = 0, ${name} + 1, ${name} - 1)`;
}

/**
 * Writes every row of `keys` without changing what the application sees, and returns how
 * many rows the server really wrote. PostgreSQL writes a new row version for `SET c = c`;
 * MySQL/MariaDB get the column changed and changed back (both inside the caller's transaction).
 */
export async function rewriteRows(
  executor: SqlExecutor,
  dialect: Dialect,
  table: Table,
  keyColumns: Column[],
  column: Column,
  keys: string[][],
): Promise<number> {
  const condition = keysIn(dialect, keyColumns, keys);
  if (dialect.kind === "postgres") {
    const name = dialect.quote(column.name);
    const result = await executor.query(`UPDATE ${dialect.table(table)} SET ${name} = ${name} WHERE ${condition.sql}`, condition.params);
    return result.rowCount;
  }
  const statement = `UPDATE ${dialect.table(table)} SET ${flip(dialect, column)} WHERE ${condition.sql}`;
  const changed = await executor.query(statement, condition.params);
  await executor.query(statement, condition.params);
  return changed.rowCount;
}
