import type { DatabaseKind } from "../database-config.js";
import type { Column, Table } from "../discovery/database-schema.js";

/**
 * The SQL that differs between PostgreSQL and MySQL/MariaDB. Values travel as text: every
 * column is read as its canonical text form and written back from it, so a before-image
 * restores exactly, whatever the type.
 */
export interface Dialect {
  kind: DatabaseKind;
  /** Quotes an identifier: a table named `a"; DROP TABLE x; --` is just a table. */
  quote(identifier: string): string;
  /** `"schema"."table"` / `` `schema`.`table` ``. */
  table(table: Pick<Table, "schema" | "name">): string;
  /** The n-th (1-based) parameter marker. */
  placeholder(index: number): string;
  /** Expression reading a column as canonical text (NULL stays NULL). */
  textOf(column: Column, qualifier?: string): string;
  /** Expression turning a text parameter back into the column's value. */
  fromText(parameter: string, column: Column): string;
  /** Null-safe equality. */
  same(left: string, right: string): string;
  /** SQLSTATE-like codes that mean "these generated values broke a constraint; try others". */
  isConstraintViolation(error: unknown): "check" | "unique" | "foreign_key" | "not_null" | undefined;
}

export const postgresDialect: Dialect = {
  kind: "postgres",
  quote: (identifier) => `"${identifier.replace(/"/g, '""')}"`,
  table: (table) => `${postgresDialect.quote(table.schema)}.${postgresDialect.quote(table.name)}`,
  placeholder: (index) => `$${index}`,
  textOf: (column, qualifier) => `${qualifier ? `${qualifier}.` : ""}${postgresDialect.quote(column.name)}::text`,
  fromText: (parameter, column) => `${parameter}::${column.sqlType}`,
  same: (left, right) => `${left} IS NOT DISTINCT FROM ${right}`,
  isConstraintViolation(error) {
    const code = (error as { code?: string }).code;
    return code === "23514"
      ? "check"
      : code === "23505"
        ? "unique"
        : code === "23503"
          ? "foreign_key"
          : code === "23502"
            ? "not_null"
            : undefined;
  },
};

const binaryKinds = new Set(["binary"]);

export const mysqlDialect: Dialect = {
  kind: "mysql",
  quote: (identifier) => `\`${identifier.replace(/`/g, "``")}\``,
  table: (table) => `${mysqlDialect.quote(table.schema)}.${mysqlDialect.quote(table.name)}`,
  placeholder: () => "?",
  textOf(column, qualifier) {
    const name = `${qualifier ? `${qualifier}.` : ""}${mysqlDialect.quote(column.name)}`;
    // Bytes (and types chaos never writes: bit, spatial) as hex: CAST AS CHAR would mangle them.
    if (binaryKinds.has(column.kind) || column.kind === "unsupported") return `HEX(${name})`;
    // CAST(float AS CHAR) prints 6 significant digits; through DOUBLE every digit of the single-precision value survives.
    if (column.kind === "float" && /^float/i.test(column.sqlType)) return `CAST(CAST(${name} AS DOUBLE) AS CHAR)`;
    return `CAST(${name} AS CHAR)`;
  },
  fromText: (parameter, column) => (binaryKinds.has(column.kind) ? `UNHEX(${parameter})` : parameter),
  same: (left, right) => `${left} <=> ${right}`,
  isConstraintViolation(error) {
    const errno = (error as { errno?: number }).errno;
    if (errno === 3819 || errno === 4025) return "check";
    if (errno === 1062) return "unique";
    if (errno === 1452) return "foreign_key";
    if (errno === 1048 || errno === 1364) return "not_null";
    return undefined;
  },
};

export function dialectFor(kind: DatabaseKind): Dialect {
  return kind === "postgres" ? postgresDialect : mysqlDialect;
}
