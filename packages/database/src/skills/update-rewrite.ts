import type { Column, Table } from "../discovery/database-schema.js";
import type { Dialect } from "../sql/dialect.js";
import { keysIn } from "../sql/key-sets.js";
import type { SqlExecutor } from "../sql/sql-client.js";

/**
 * Columns MySQL/MariaDB can be made to really write a row through: InnoDB skips an UPDATE
 * that leaves a row byte-identical, so chaos changes one column and changes it back inside
 * the same transaction. Only kinds for which `flip` below is its own inverse in SQL and never
 * leaves the type's range qualify (integers, booleans, decimals with an integer part,
 * DATETIME by one second), so the value comes back exactly without travelling through text.
 */
export function flippableColumns(columns: Column[]): Column[] {
  const candidates = columns.filter(
    (column) =>
      column.kind === "integer" ||
      column.kind === "boolean" ||
      (column.kind === "decimal" && (column.precision ?? 10) - (column.scale ?? 0) >= 1) ||
      (column.kind === "timestamp" && /^datetime/i.test(column.sqlType)),
  );
  // A NOT NULL column is written in every row; a NULL stays NULL and that row is not written.
  return [...candidates.filter((column) => !column.nullable), ...candidates.filter((column) => column.nullable)];
}

/**
 * An involution: the integer part's parity decides +1 or -1, so applying it twice gives the
 * value back, and a type's extremes (odd maximum, even minimum) move inwards, never out.
 * `even` picks the direction for even values, so a CHECK that refuses one direction (a value
 * at its lower or upper bound) may accept the other.
 */
function flip(dialect: Dialect, column: Column, even: "+" | "-"): string {
  const name = dialect.quote(column.name);
  const odd = even === "+" ? "-" : "+";
  // DATETIME by the second's parity: 9999-12-31 23:59:59 is odd and 1000-01-01 00:00:00 even, so both move inwards.
  if (column.kind === "timestamp")
    return `${name} = IF(MOD(SECOND(${name}), 2) = 0, ${name} ${even} INTERVAL 1 SECOND, ${name} ${odd} INTERVAL 1 SECOND)`;
  return `${name} = IF(MOD(FLOOR(${name}), 2) = 0, ${name} ${even} 1, ${name} ${odd} 1)`;
}

/**
 * Writes every row of `keys` without changing what the application sees, and returns how
 * many rows the server really wrote. PostgreSQL writes a new row version for `SET c = c`;
 * MySQL/MariaDB get a column changed and changed back (both inside the caller's transaction).
 */
export async function rewriteRows(
  executor: SqlExecutor,
  dialect: Dialect,
  table: Table,
  keyColumns: Column[],
  columns: Column[],
  keys: string[][],
): Promise<number> {
  const condition = keysIn(dialect, keyColumns, keys);
  if (dialect.kind === "postgres") {
    const name = dialect.quote((columns[0] as Column).name);
    const result = await executor.query(`UPDATE ${dialect.table(table)} SET ${name} = ${name} WHERE ${condition.sql}`, condition.params);
    return result.rowCount;
  }
  for (const column of columns) {
    for (const even of ["+", "-"] as const) {
      const statement = `UPDATE ${dialect.table(table)} SET ${flip(dialect, column, even)} WHERE ${condition.sql}`;
      try {
        const changed = await executor.query(statement, condition.params);
        await executor.query(statement, condition.params);
        return changed.rowCount;
      } catch (error) {
        // MySQL undoes just the failed statement; the change back cannot fail (it restores a valid row).
        if (!dialect.isConstraintViolation(error)) throw error;
      }
    }
  }
  // Some row refuses every flip (a CHECK at both bounds): halve the batch until only such rows are left unwritten.
  if (keys.length === 1) return 0;
  const middle = Math.ceil(keys.length / 2);
  return (
    (await rewriteRows(executor, dialect, table, keyColumns, columns, keys.slice(0, middle))) +
    (await rewriteRows(executor, dialect, table, keyColumns, columns, keys.slice(middle)))
  );
}
