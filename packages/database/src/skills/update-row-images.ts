import type { Column, Table } from "../discovery/database-schema.js";
import type { Dialect } from "../sql/dialect.js";
import { keysIn, keyText, toKeys } from "../sql/key-sets.js";
import type { SqlExecutor } from "../sql/sql-client.js";

/** A row's values as the database's text form, in the order of the image's columns. */
export type RowImage = (string | null)[];

/**
 * The columns a row image holds: every column a statement or a trigger could change and a
 * restore could set back. Keys identify the row and generated columns follow the others.
 */
export function imageColumns(table: Table, keyColumns: string[]): Column[] {
  return table.columns.filter((column) => !column.generated && !keyColumns.includes(column.name) && column.kind !== "unsupported");
}

/** One text the key tuple is found by in maps. */
export function keyId(key: string[]): string {
  return JSON.stringify(key);
}

/**
 * Reads the images of the rows with these keys (those that still exist), optionally locking
 * them. Rows are locked in key order, so two batches (or chaos and an application that
 * also goes by key) wait for each other instead of deadlocking as often.
 */
export async function readRowImages(
  executor: SqlExecutor,
  dialect: Dialect,
  table: Table,
  keyColumns: Column[],
  columns: Column[],
  keys: string[][],
  lock: boolean,
): Promise<Map<string, RowImage>> {
  const images = new Map<string, RowImage>();
  if (keys.length === 0) return images;
  const condition = keysIn(dialect, keyColumns, keys);
  const values = columns.map((column, index) => `${dialect.textOf(column)} AS v${index}`);
  const order = keyColumns.map((column) => dialect.quote(column.name)).join(", ");
  const { rows } = await executor.query<Record<string, string | null>>(
    `SELECT ${[keyText(dialect, keyColumns), ...values].join(", ")} FROM ${dialect.table(table)} WHERE ${condition.sql} ORDER BY ${order}${lock ? " FOR UPDATE" : ""}`,
    condition.params,
  );
  const found = toKeys(rows, keyColumns.length);
  rows.forEach((row, index) => {
    images.set(
      keyId(found[index] as string[]),
      columns.map((_, column) => row[`v${column}`] ?? null),
    );
  });
  return images;
}
