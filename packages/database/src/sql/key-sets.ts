import type { Column } from "../discovery/database-schema.js";
import type { Dialect } from "./dialect.js";
import type { KeyRun } from "./key-runs.js";

/** A SQL condition and its parameters. */
export interface Condition {
  sql: string;
  params: unknown[];
}

/**
 * `(k1, k2) IN (…)` for a set of keys given as text. PostgreSQL gets one array parameter per
 * key column (so 10,000 keys are still two parameters and the index is used); MySQL gets a
 * row constructor per key.
 */
export function keysIn(dialect: Dialect, columns: Column[], keys: string[][], qualifier?: string, firstParameter = 1): Condition {
  const names = columns.map((column) => `${qualifier ? `${qualifier}.` : ""}${dialect.quote(column.name)}`);
  if (dialect.kind === "postgres") {
    const aliases = columns.map((_, index) => `k${index}`);
    const casts = columns.map((column, index) => `u.k${index}::${column.sqlType}`);
    const arrays = columns.map((_, index) => `$${firstParameter + index}::text[]`);
    return {
      sql: `(${names.join(", ")}) IN (SELECT ${casts.join(", ")} FROM unnest(${arrays.join(", ")}) AS u(${aliases.join(", ")}))`,
      params: columns.map((_, index) => keys.map((key) => key[index] ?? null)),
    };
  }
  const tuple = `(${columns.map((column) => dialect.fromText("?", column)).join(", ")})`;
  return {
    sql: `(${names.join(", ")}) IN (${keys.map(() => tuple).join(", ")})`,
    params: keys.flat(),
  };
}

/** `(k BETWEEN first AND last OR …)`: one index range per run of an integer key instead of a list of every key. */
export function runsCondition(dialect: Dialect, column: Column, runs: KeyRun[], qualifier?: string, firstParameter = 1): Condition {
  const name = `${qualifier ? `${qualifier}.` : ""}${dialect.quote(column.name)}`;
  const bound = (index: number) => dialect.fromText(dialect.placeholder(firstParameter + index), column);
  const ranges = runs.map((_, index) => `${name} BETWEEN ${bound(2 * index)} AND ${bound(2 * index + 1)}`);
  return { sql: ranges.length ? `(${ranges.join(" OR ")})` : "FALSE", params: runs.flat() };
}

/** The key columns read back as text, in order. */
export function keyText(dialect: Dialect, columns: Column[], qualifier?: string): string {
  return columns.map((column, index) => `${dialect.textOf(column, qualifier)} AS k${index}`).join(", ");
}

/** Rows of `k0, k1, …` back into key tuples. */
export function toKeys(rows: Record<string, unknown>[], width: number): string[][] {
  return rows.map((row) => Array.from({ length: width }, (_, index) => String(row[`k${index}`])));
}

export function chunks<T>(items: T[], size: number): T[][] {
  const result: T[][] = [];
  for (let start = 0; start < items.length; start += size) result.push(items.slice(start, start + size));
  return result;
}
