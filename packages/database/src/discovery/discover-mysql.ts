import { isRestoreMarkerTable } from "../skills/update-restore-marker.js";
import type { SqlExecutor } from "../sql/sql-client.js";
import { type Column, type DatabaseSchema, newTable, type Table, type ValueKind, type ValueType } from "./database-schema.js";

interface ColumnRow {
  schema: string;
  table_name: string;
  name: string;
  data_type: string;
  column_type: string;
  nullable: string;
  column_default: string | null;
  max_length: string | null;
  numeric_precision: string | null;
  numeric_scale: string | null;
  extra: string;
}

interface KeyRow {
  schema: string;
  table_name: string;
  constraint_name: string;
  constraint_type: string;
  column_name: string;
  referenced_schema: string | null;
  referenced_table: string | null;
  referenced_column: string | null;
}

const systemSchemas = ["mysql", "information_schema", "performance_schema", "sys"];

/** Reads tables, columns, keys, checks and triggers from information_schema; changes nothing. */
export async function discoverMysql(executor: SqlExecutor, schemas?: string[]): Promise<DatabaseSchema> {
  const { rows: current } = await executor.query<{ database: string | null; version: string }>(
    "SELECT DATABASE() AS `database`, VERSION() AS version",
  );
  const database = current[0]?.database ?? "";
  const wanted = (schemas ?? [database]).filter((schema) => schema && !systemSchemas.includes(schema.toLowerCase()));
  if (wanted.length === 0) {
    throw new Error("no database to discover: put one in connection_url (mysql://user@host/db) or list them in `schemas`");
  }
  const version = current[0]?.version ?? "";
  const mariadb = /mariadb/i.test(version);

  const { rows: everyTable } = await executor.query<{ schema: string; name: string; estimated_rows: string | null }>(
    `SELECT TABLE_SCHEMA AS \`schema\`, TABLE_NAME AS name, TABLE_ROWS AS estimated_rows
       FROM information_schema.TABLES WHERE TABLE_TYPE = 'BASE TABLE' AND TABLE_SCHEMA IN (?) ORDER BY TABLE_SCHEMA, TABLE_NAME`,
    [wanted],
  );
  // Chaos's own marker tables are never a resource an experiment may act on.
  const tableRows = everyTable.filter((row) => !isRestoreMarkerTable(row.name));
  const [columns, keys, checks, triggers] = await Promise.all([
    executor.query<ColumnRow>(
      `SELECT TABLE_SCHEMA AS \`schema\`, TABLE_NAME AS table_name, COLUMN_NAME AS name, DATA_TYPE AS data_type,
              COLUMN_TYPE AS column_type, IS_NULLABLE AS nullable, COLUMN_DEFAULT AS column_default,
              CHARACTER_MAXIMUM_LENGTH AS max_length, NUMERIC_PRECISION AS numeric_precision, NUMERIC_SCALE AS numeric_scale,
              EXTRA AS extra
         FROM information_schema.COLUMNS WHERE TABLE_SCHEMA IN (?) ORDER BY TABLE_SCHEMA, TABLE_NAME, ORDINAL_POSITION`,
      [wanted],
    ),
    executor.query<KeyRow>(
      `SELECT k.TABLE_SCHEMA AS \`schema\`, k.TABLE_NAME AS table_name, k.CONSTRAINT_NAME AS constraint_name,
              c.CONSTRAINT_TYPE AS constraint_type, k.COLUMN_NAME AS column_name,
              k.REFERENCED_TABLE_SCHEMA AS referenced_schema, k.REFERENCED_TABLE_NAME AS referenced_table,
              k.REFERENCED_COLUMN_NAME AS referenced_column
         FROM information_schema.KEY_COLUMN_USAGE k
         JOIN information_schema.TABLE_CONSTRAINTS c
           ON c.CONSTRAINT_SCHEMA = k.CONSTRAINT_SCHEMA AND c.TABLE_NAME = k.TABLE_NAME AND c.CONSTRAINT_NAME = k.CONSTRAINT_NAME
        WHERE k.TABLE_SCHEMA IN (?) OR k.REFERENCED_TABLE_SCHEMA IN (?)
        ORDER BY k.TABLE_SCHEMA, k.TABLE_NAME, k.CONSTRAINT_NAME, k.ORDINAL_POSITION`,
      [wanted, wanted],
    ),
    executor
      .query<{ schema: string; table_name: string; name: string; expression: string }>(
        mariadb
          ? `SELECT CONSTRAINT_SCHEMA AS \`schema\`, TABLE_NAME AS table_name, CONSTRAINT_NAME AS name, CHECK_CLAUSE AS expression
               FROM information_schema.CHECK_CONSTRAINTS WHERE CONSTRAINT_SCHEMA IN (?)`
          : `SELECT t.TABLE_SCHEMA AS \`schema\`, t.TABLE_NAME AS table_name, c.CONSTRAINT_NAME AS name, c.CHECK_CLAUSE AS expression
               FROM information_schema.CHECK_CONSTRAINTS c JOIN information_schema.TABLE_CONSTRAINTS t
                 ON t.CONSTRAINT_SCHEMA = c.CONSTRAINT_SCHEMA AND t.CONSTRAINT_NAME = c.CONSTRAINT_NAME AND t.CONSTRAINT_TYPE = 'CHECK'
              WHERE c.CONSTRAINT_SCHEMA IN (?)`,
        [wanted],
      )
      .catch(() => ({ rows: [], rowCount: 0 })), // servers older than CHECK support
    executor.query<{ schema: string; table_name: string; name: string; timing: string; event: string; statement: string }>(
      `SELECT EVENT_OBJECT_SCHEMA AS \`schema\`, EVENT_OBJECT_TABLE AS table_name, TRIGGER_NAME AS name,
              ACTION_TIMING AS timing, EVENT_MANIPULATION AS event, ACTION_STATEMENT AS statement
         FROM information_schema.TRIGGERS WHERE EVENT_OBJECT_SCHEMA IN (?)`,
      [wanted],
    ),
  ]);

  const tables = new Map<string, Table>();
  for (const row of tableRows) {
    const table = newTable(row.schema, row.name, Number(row.estimated_rows ?? 0));
    tables.set(table.qualifiedName, table);
  }
  for (const row of columns.rows) tables.get(`${row.schema}.${row.table_name}`)?.columns.push(toColumn(row, mariadb));

  // Key columns arrive one row per column, in order; group them per constraint.
  const groups = new Map<string, KeyRow[]>();
  for (const row of keys.rows) {
    const id = `${row.schema}.${row.table_name}.${row.constraint_name}`;
    groups.set(id, [...(groups.get(id) ?? []), row]);
  }
  for (const group of groups.values()) {
    const first = group[0] as KeyRow;
    const table = tables.get(`${first.schema}.${first.table_name}`);
    const columnList = group.map((row) => row.column_name);
    if (first.constraint_type === "PRIMARY KEY" && table) table.primaryKey = columnList;
    else if (first.constraint_type === "UNIQUE" && table) table.uniqueKeys.push(columnList);
    else if (first.constraint_type === "FOREIGN KEY" && first.referenced_table) {
      const referencedTable = `${first.referenced_schema}.${first.referenced_table}`;
      const referencedColumns = group.map((row) => row.referenced_column ?? "?");
      table?.foreignKeys.push({ name: first.constraint_name, columns: columnList, referencedTable, referencedColumns });
      tables.get(referencedTable)?.referencedBy.push({
        name: first.constraint_name,
        table: `${first.schema}.${first.table_name}`,
        tableSchema: first.schema,
        tableName: first.table_name,
        columns: columnList,
        referencedColumns,
      });
    }
  }
  for (const row of checks.rows) {
    const table = tables.get(`${row.schema}.${row.table_name}`);
    // MariaDB spells JSON as LONGTEXT plus CHECK (json_valid(col)): the column holds JSON.
    const json = row.expression.match(/^json_valid\(`((?:[^`]|``)+)`\)$/i);
    const column = json && table?.columns.find((candidate) => candidate.name === json[1]?.replace(/``/g, "`"));
    if (column) column.kind = "json";
    else table?.checks.push({ name: row.name, expression: row.expression });
  }
  for (const row of triggers.rows) {
    tables
      .get(`${row.schema}.${row.table_name}`)
      ?.triggers.push({ name: row.name, definition: `${row.timing} ${row.event}: ${row.statement}` });
  }

  const [major = 0, minor = 0] = version.split(/[.-]/).map(Number);
  return {
    tables: [...tables.values()],
    serverVersion: version,
    // MariaDB has INSERT … RETURNING since 10.5; MySQL has none and uses a provable key range.
    supportsReturning: mariadb && (major > 10 || (major === 10 && minor >= 5)),
    database,
  };
}

const kindsByType: Record<string, ValueKind> = {
  tinyint: "integer",
  smallint: "integer",
  mediumint: "integer",
  int: "integer",
  integer: "integer",
  bigint: "integer",
  decimal: "decimal",
  numeric: "decimal",
  float: "float",
  double: "float",
  real: "float",
  char: "text",
  varchar: "text",
  tinytext: "text",
  text: "text",
  mediumtext: "text",
  longtext: "text",
  date: "date",
  time: "time",
  datetime: "timestamp",
  timestamp: "timestamp",
  year: "year",
  json: "json",
  binary: "binary",
  varbinary: "binary",
  tinyblob: "binary",
  blob: "binary",
  mediumblob: "binary",
  longblob: "binary",
  enum: "enum",
  set: "set",
  uuid: "uuid",
  inet4: "inet",
};

const integerBytes: Record<string, number> = { tinyint: 1, smallint: 2, mediumint: 3, int: 4, integer: 4, bigint: 8 };

function toColumn(row: ColumnRow, mariadb: boolean): Column {
  const dataType = row.data_type.toLowerCase();
  let kind = kindsByType[dataType] ?? "unsupported";
  // MariaDB's JSON is LONGTEXT with a json_valid() check; tinyint(1) is how MySQL spells boolean.
  if (/^tinyint\(1\)/i.test(row.column_type)) kind = "boolean";
  const type: ValueType = { kind, sqlType: row.column_type };
  if (kind === "integer") {
    type.bytes = integerBytes[dataType];
    type.unsigned = /unsigned/i.test(row.column_type);
  }
  if (kind === "text" || kind === "binary") type.maxLength = row.max_length === null ? undefined : Number(row.max_length);
  if (kind === "decimal") {
    type.precision = Number(row.numeric_precision ?? 10);
    type.scale = Number(row.numeric_scale ?? 0);
  }
  // FLOAT(M,D) / DOUBLE(M,D) have a fixed range like a decimal's.
  const fixedFloat = kind === "float" ? /\((\d+),(\d+)\)/.exec(row.column_type) : null;
  if (fixedFloat) {
    type.precision = Number(fixedFloat[1]);
    type.scale = Number(fixedFloat[2]);
  }
  if (kind === "enum" || kind === "set") type.labels = parseLabels(row.column_type);
  const extra = row.extra.toLowerCase();
  const generated = /virtual|stored|persistent/.test(extra) && /generated|persistent/.test(extra);
  // MariaDB reports "NULL" (the word) for a nullable column without a default.
  const hasDefault = row.column_default !== null && !(mariadb && row.column_default === "NULL" && row.nullable === "NO");
  return {
    ...type,
    name: row.name,
    nullable: row.nullable === "YES",
    hasDefault: hasDefault || extra.includes("auto_increment") || generated,
    generated,
    autoIncrement: extra.includes("auto_increment"),
  };
}

/** `enum('a','it''s')` → ["a", "it's"]. */
export function parseLabels(columnType: string): string[] {
  const inside = columnType.slice(columnType.indexOf("(") + 1, columnType.lastIndexOf(")"));
  return [...inside.matchAll(/'((?:[^']|'')*)'/g)].map((match) => (match[1] ?? "").replace(/''/g, "'").replace(/\\\\/g, "\\"));
}
