import type { DatabaseSession } from "../database-session.js";
import { type Column, columnOf, rowKeyOf, type Table } from "../discovery/database-schema.js";
import type { Dialect } from "../sql/dialect.js";
import { keyText, toKeys } from "../sql/key-sets.js";

export const queryKinds = ["point", "range", "full_scan", "aggregate", "join"] as const;
export type QueryKind = (typeof queryKinds)[number];

/** One kind of SELECT on one table; `$key` queries take a sampled row key. */
export interface SelectQuery {
  kind: QueryKind;
  table: string;
  sql: string;
  /** What the parameters are made of: a whole sampled key, its first column, or nothing. */
  parameters: "key" | "first_key_column" | "none";
}

/** Kinds a range or join can walk in key order (`>=` means something sensible). */
const orderedKinds = new Set<Column["kind"]>([
  "integer",
  "decimal",
  "float",
  "text",
  "date",
  "time",
  "timestamp",
  "timestamptz",
  "uuid",
  "year",
]);

/** Rows a range, join or full-scan query returns at most: the load is in the reading, not the transfer. */
const rowsPerQuery = 100;

/** A pattern no value contains, so a full scan reads every row and returns none. */
export const noMatchPattern = "%chaos:select_load:no-match%";

/**
 * The queries `table` supports: point lookups and range scans need a row key, joins a
 * foreign key to another table chaos may read. Every identifier is quoted by the dialect.
 */
export function selectQueries(dialect: Dialect, table: Table, readable: Map<string, Table>): SelectQuery[] {
  const key = (rowKeyOf(table) ?? []).map((name) => columnOf(table, name));
  const from = dialect.table(table);
  const first = key[0];
  const ordered = first !== undefined && orderedKinds.has(first.kind);
  const name = table.qualifiedName;
  const queries: SelectQuery[] = [];
  let parameter = 0;
  const next = () => dialect.placeholder(++parameter);

  if (key.length > 0) {
    const where = key.map((column) => `${dialect.quote(column.name)} = ${dialect.fromText(next(), column)}`).join(" AND ");
    queries.push({ kind: "point", table: name, sql: `SELECT * FROM ${from} WHERE ${where}`, parameters: "key" });
  }
  if (first && ordered) {
    parameter = 0;
    const column = dialect.quote(first.name);
    queries.push({
      kind: "range",
      table: name,
      sql: `SELECT * FROM ${from} WHERE ${column} >= ${dialect.fromText(next(), first)} ORDER BY ${column} LIMIT ${rowsPerQuery}`,
      parameters: "first_key_column",
    });
  }

  const keyNames = new Set(key.map((column) => column.name));
  const scanned = table.columns.find((column) => !keyNames.has(column.name) && column.kind !== "unsupported") ?? table.columns[0];
  if (scanned) {
    parameter = 0;
    queries.push({
      kind: "full_scan",
      table: name,
      sql: `SELECT * FROM ${from} WHERE ${dialect.textOf(scanned)} LIKE ${next()} LIMIT ${rowsPerQuery}`,
      parameters: "none",
    });
  }

  const grouped =
    table.columns.find((column) => table.foreignKeys.some((foreignKey) => foreignKey.columns.includes(column.name))) ?? scanned;
  if (grouped) {
    queries.push({
      kind: "aggregate",
      table: name,
      sql: `SELECT ${dialect.textOf(grouped)} AS g, COUNT(*) AS n FROM ${from} GROUP BY 1 ORDER BY 2 DESC LIMIT 10`,
      parameters: "none",
    });
  }

  for (const foreignKey of table.foreignKeys) {
    const parent = readable.get(foreignKey.referencedTable);
    if (!parent) continue;
    const on = foreignKey.columns
      .map((column, index) => `c.${dialect.quote(column)} = p.${dialect.quote(foreignKey.referencedColumns[index] ?? column)}`)
      .join(" AND ");
    const join = `SELECT c.*, p.* FROM ${from} c JOIN ${dialect.table(parent)} p ON ${on}`;
    parameter = 0;
    queries.push(
      first && ordered
        ? {
            kind: "join",
            table: name,
            sql: `${join} WHERE c.${dialect.quote(first.name)} >= ${dialect.fromText(next(), first)} ORDER BY c.${dialect.quote(first.name)} LIMIT ${rowsPerQuery}`,
            parameters: "first_key_column",
          }
        : { kind: "join", table: name, sql: `${join} LIMIT ${rowsPerQuery}`, parameters: "none" },
    );
  }
  return queries;
}

/** Keys sampled per table, so point lookups hit rows that exist. */
const sampleSize = 1000;
/** Above this many rows, sampling avoids sorting the whole table. */
const largeTable = 50_000;

/** Real row keys of `table`, spread over the table (read once, before the load starts). */
export async function sampleKeys(session: DatabaseSession, table: Table): Promise<string[][]> {
  const key = (rowKeyOf(table) ?? []).map((name) => columnOf(table, name));
  if (key.length === 0) return [];
  const { dialect } = session;
  const from = dialect.table(table);
  const columns = keyText(dialect, key);
  const share = Math.min(100, (200 * sampleSize) / Math.max(table.estimatedRows, 1));
  let sql: string;
  if (dialect.kind === "postgres") {
    sql =
      table.estimatedRows > largeTable
        ? `SELECT ${columns} FROM ${from} TABLESAMPLE SYSTEM (${share.toFixed(4)}) LIMIT ${sampleSize}`
        : `SELECT ${columns} FROM ${from} ORDER BY random() LIMIT ${sampleSize}`;
  } else {
    sql =
      table.estimatedRows > largeTable
        ? `SELECT ${columns} FROM ${from} WHERE RAND() < ${(share / 100).toFixed(6)} LIMIT ${sampleSize}`
        : `SELECT ${columns} FROM ${from} ORDER BY RAND() LIMIT ${sampleSize}`;
  }
  let keys = toKeys((await session.client.query(sql)).rows, key.length);
  // Statistics can be stale: a table much bigger than estimated still deserves keys.
  if (keys.length === 0) keys = toKeys((await session.client.query(`SELECT ${columns} FROM ${from} LIMIT ${sampleSize}`)).rows, key.length);
  return keys;
}
