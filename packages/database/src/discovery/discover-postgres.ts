import type { SqlExecutor } from "../sql/sql-client.js";
import { type Column, type DatabaseSchema, newTable, type Table, type ValueKind, type ValueType } from "./database-schema.js";

interface TableRow {
  oid: number;
  schema: string;
  name: string;
  estimated_rows: string;
}

interface ColumnRow {
  table_oid: number;
  attnum: number;
  name: string;
  sql_type: string;
  type_name: string;
  type_oid: number;
  typmod: number;
  element_name: string | null;
  element_oid: number | null;
  range_subtype: string | null;
  nullable: boolean;
  has_default: boolean;
  default_expression: string | null;
  identity: string;
  generated: string;
}

interface ConstraintRow {
  table_oid: number;
  name: string;
  type: "p" | "u" | "f" | "c";
  columns: number[];
  referenced_oid: number | null;
  referenced_columns: number[] | null;
  definition: string;
}

const systemSchemas = "n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\\_%'";

/** Reads tables, columns, keys, checks, enums and triggers from pg_catalog; changes nothing. */
export async function discoverPostgres(executor: SqlExecutor, schemas?: string[]): Promise<DatabaseSchema> {
  const { rows: tableRows } = await executor.query<TableRow>(
    `SELECT c.oid::int AS oid, n.nspname AS schema, c.relname AS name, GREATEST(c.reltuples, 0)::bigint::text AS estimated_rows
       FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE c.relkind IN ('r', 'p') AND NOT c.relispartition AND ${systemSchemas}
        AND ($1::text[] IS NULL OR n.nspname = ANY($1::text[]))
      ORDER BY n.nspname, c.relname`,
    [schemas ?? null],
  );
  const oids = tableRows.map((row) => row.oid);
  const [columns, constraints, enums, triggers, version, database] = await Promise.all([
    executor.query<ColumnRow>(
      `SELECT a.attrelid::int AS table_oid, a.attnum::int AS attnum, a.attname AS name,
              format_type(a.atttypid, a.atttypmod) AS sql_type,
              bt.typname AS type_name, bt.oid::int AS type_oid, a.atttypmod AS typmod,
              et.typname AS element_name, et.oid::int AS element_oid, rt.typname AS range_subtype,
              NOT a.attnotnull AS nullable, a.atthasdef AS has_default,
              pg_get_expr(d.adbin, d.adrelid) AS default_expression,
              a.attidentity::text AS identity, a.attgenerated::text AS generated
         FROM pg_attribute a
         JOIN pg_type t ON t.oid = a.atttypid
         JOIN pg_type bt ON bt.oid = CASE WHEN t.typtype = 'd' THEN t.typbasetype ELSE t.oid END
         LEFT JOIN pg_type et ON et.oid = bt.typelem AND bt.typcategory = 'A'
         LEFT JOIN pg_range r ON r.rngtypid = bt.oid
         LEFT JOIN pg_type rt ON rt.oid = r.rngsubtype
         LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
        WHERE a.attrelid = ANY($1::oid[]) AND a.attnum > 0 AND NOT a.attisdropped
        ORDER BY a.attrelid, a.attnum`,
      [oids],
    ),
    executor.query<ConstraintRow>(
      `SELECT conrelid::int AS table_oid, conname AS name, contype::text AS type, conkey::int[] AS columns,
              NULLIF(confrelid, 0)::int AS referenced_oid, confkey::int[] AS referenced_columns,
              pg_get_constraintdef(oid) AS definition
         FROM pg_constraint WHERE (conrelid = ANY($1::oid[]) OR confrelid = ANY($1::oid[])) AND contype IN ('p', 'u', 'f', 'c')
        ORDER BY conname`,
      [oids],
    ),
    executor.query<{ type_oid: number; label: string }>(
      "SELECT enumtypid::int AS type_oid, enumlabel AS label FROM pg_enum ORDER BY enumtypid, enumsortorder",
    ),
    executor.query<{ table_oid: number; name: string; definition: string }>(
      `SELECT tgrelid::int AS table_oid, tgname AS name, pg_get_triggerdef(oid) AS definition
         FROM pg_trigger WHERE NOT tgisinternal AND tgrelid = ANY($1::oid[]) ORDER BY tgname`,
      [oids],
    ),
    executor.query<{ version: string }>("SHOW server_version"),
    executor.query<{ database: string }>("SELECT current_database() AS database"),
  ]);

  const labels = new Map<number, string[]>();
  for (const row of enums.rows) labels.set(row.type_oid, [...(labels.get(row.type_oid) ?? []), row.label]);

  // Constraints of tables outside the discovered set still matter when they reference one of ours.
  const names = new Map<number, string>();
  const parts = new Map<number, { schema: string; name: string }>();
  const columnNames = new Map<string, string>();
  for (const row of columns.rows) columnNames.set(`${row.table_oid}:${row.attnum}`, row.name);
  for (const row of tableRows) {
    names.set(row.oid, `${row.schema}.${row.name}`);
    parts.set(row.oid, { schema: row.schema, name: row.name });
  }
  const outside = constraints.rows.filter((row) => !names.has(row.table_oid)).map((row) => row.table_oid);
  if (outside.length > 0) await nameOutsideTables(executor, outside, names, parts, columnNames);

  const tables = new Map<number, Table>();
  for (const row of tableRows) {
    tables.set(row.oid, newTable(row.schema, row.name, Number(row.estimated_rows)));
  }
  for (const row of columns.rows) tables.get(row.table_oid)?.columns.push(toColumn(row, labels));
  const nameOf = (oid: number, attnums: number[] | null) => (attnums ?? []).map((attnum) => columnNames.get(`${oid}:${attnum}`) ?? "?");
  for (const row of constraints.rows) {
    const table = tables.get(row.table_oid);
    const columnList = nameOf(row.table_oid, row.columns);
    if (row.type === "f" && row.referenced_oid !== null) {
      const referenced = tables.get(row.referenced_oid);
      const referencedColumns = nameOf(row.referenced_oid, row.referenced_columns);
      table?.foreignKeys.push({
        name: row.name,
        columns: columnList,
        referencedTable: names.get(row.referenced_oid) ?? "?",
        referencedColumns,
      });
      const { schema = "?", name = "?" } = parts.get(row.table_oid) ?? {};
      referenced?.referencedBy.push({
        name: row.name,
        table: names.get(row.table_oid) ?? "?",
        tableSchema: schema,
        tableName: name,
        columns: columnList,
        referencedColumns,
      });
    } else if (table && row.type === "p") table.primaryKey = columnList;
    else if (table && row.type === "u") table.uniqueKeys.push(columnList);
    else if (table && row.type === "c") table.checks.push({ name: row.name, expression: row.definition });
  }
  for (const row of triggers.rows) tables.get(row.table_oid)?.triggers.push({ name: row.name, definition: row.definition });

  return {
    tables: [...tables.values()],
    serverVersion: version.rows[0]?.version ?? "",
    supportsReturning: true,
    database: database.rows[0]?.database ?? "",
  };
}

async function nameOutsideTables(
  executor: SqlExecutor,
  oids: number[],
  names: Map<number, string>,
  parts: Map<number, { schema: string; name: string }>,
  columnNames: Map<string, string>,
) {
  const { rows } = await executor.query<{ oid: number; schema: string; name: string; attnum: number; column: string }>(
    `SELECT c.oid::int AS oid, n.nspname AS schema, c.relname AS name, a.attnum::int AS attnum, a.attname AS column
       FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0
      WHERE c.oid = ANY($1::oid[])`,
    [oids],
  );
  for (const row of rows) {
    names.set(row.oid, `${row.schema}.${row.name}`);
    parts.set(row.oid, { schema: row.schema, name: row.name });
    columnNames.set(`${row.oid}:${row.attnum}`, row.column);
  }
}

function toColumn(row: ColumnRow, labels: Map<number, string[]>): Column {
  const type = valueType(row.type_name, row.sql_type, row.typmod, labels.get(row.type_oid));
  if (row.element_name) {
    type.kind = "array";
    type.element = valueType(row.element_name, row.element_name, row.typmod, labels.get(row.element_oid ?? -1));
  } else if (row.range_subtype) {
    type.kind = "range";
    type.element = valueType(row.range_subtype, row.range_subtype, -1, undefined);
  }
  const serial = /^nextval\(/.test(row.default_expression ?? "");
  return {
    ...type,
    name: row.name,
    nullable: row.nullable,
    hasDefault: row.has_default || row.identity !== "",
    generated: row.generated === "s" || row.identity === "a",
    autoIncrement: row.identity !== "" || serial,
  };
}

const kindsByName: Record<string, ValueKind> = {
  int2: "integer",
  int4: "integer",
  int8: "integer",
  numeric: "decimal",
  float4: "float",
  float8: "float",
  money: "decimal",
  text: "text",
  varchar: "text",
  bpchar: "text",
  name: "text",
  citext: "text",
  bool: "boolean",
  date: "date",
  time: "time",
  timetz: "time",
  timestamp: "timestamp",
  timestamptz: "timestamptz",
  interval: "interval",
  uuid: "uuid",
  json: "json",
  jsonb: "json",
  bytea: "binary",
  inet: "inet",
  cidr: "cidr",
  macaddr: "macaddr",
};

function valueType(typeName: string, sqlType: string, typmod: number, enumLabels: string[] | undefined): ValueType {
  if (enumLabels) return { kind: "enum", sqlType, labels: enumLabels };
  const kind = kindsByName[typeName] ?? "unsupported";
  const type: ValueType = { kind, sqlType };
  if (kind === "integer") type.bytes = typeName === "int2" ? 2 : typeName === "int8" ? 8 : 4;
  if ((typeName === "varchar" || typeName === "bpchar") && typmod > 4) type.maxLength = typmod - 4;
  if (typeName === "numeric" && typmod > 4) {
    type.precision = ((typmod - 4) >> 16) & 0xffff;
    type.scale = (typmod - 4) & 0xffff;
  }
  if (typeName === "money") {
    type.precision = 12;
    type.scale = 2;
  }
  return type;
}
