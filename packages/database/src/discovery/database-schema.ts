/** The families of values the generator knows how to make. */
export type ValueKind =
  | "integer"
  | "decimal"
  | "float"
  | "text"
  | "boolean"
  | "date"
  | "time"
  | "timestamp"
  | "timestamptz"
  | "interval"
  | "uuid"
  | "json"
  | "binary"
  | "enum"
  | "set"
  | "array"
  | "range"
  | "inet"
  | "cidr"
  | "macaddr"
  | "year"
  | "unsupported";

/** What a column holds, enough to generate a valid value for it. */
export interface ValueType {
  kind: ValueKind;
  /** The type as the database spells it: `character varying(20)`, `int(10) unsigned`. */
  sqlType: string;
  /** Integers: size in bytes (1, 2, 3, 4, 8); unsigned on MySQL. */
  bytes?: number;
  unsigned?: boolean;
  /** Text and binary: maximum length in characters/bytes. */
  maxLength?: number;
  /** Decimals: total digits and digits after the point. */
  precision?: number;
  scale?: number;
  /** Enums and sets: allowed labels in order. */
  labels?: string[];
  /** Arrays: the element type; ranges: the bound type. */
  element?: ValueType;
}

export interface Column extends ValueType {
  name: string;
  nullable: boolean;
  /** The database fills it when omitted (DEFAULT, serial, identity, auto_increment). */
  hasDefault: boolean;
  /** The database computes it and refuses writes (GENERATED ALWAYS, identity ALWAYS, virtual columns). */
  generated: boolean;
  /** identity, serial or auto_increment: the value comes from a sequence or counter. */
  autoIncrement: boolean;
}

export interface ForeignKey {
  name: string;
  columns: string[];
  /** Schema-qualified name of the referenced table. */
  referencedTable: string;
  referencedColumns: string[];
}

/** A foreign key of another table that points at this one. */
export interface Reference {
  name: string;
  /** Schema-qualified name of the referencing table. */
  table: string;
  /** The referencing table's schema and name, for quoting. */
  tableSchema: string;
  tableName: string;
  columns: string[];
  referencedColumns: string[];
}

export interface Table {
  schema: string;
  name: string;
  /** `schema.name`, the name `resource_filters` and `tables` params match. */
  qualifiedName: string;
  columns: Column[];
  primaryKey: string[];
  uniqueKeys: string[][];
  foreignKeys: ForeignKey[];
  referencedBy: Reference[];
  checks: { name: string; expression: string }[];
  triggers: { name: string; definition: string }[];
  estimatedRows: number;
}

/** Everything discovery learned about one database. */
export interface DatabaseSchema {
  tables: Table[];
  serverVersion: string;
  /** Whether INSERT … RETURNING works (PostgreSQL, MariaDB ≥ 10.5). */
  supportsReturning: boolean;
  database: string;
}

/** Columns that identify a row for rollback: the primary key, else a NOT NULL unique key. */
export function rowKeyOf(table: Table): string[] | undefined {
  if (table.primaryKey.length > 0) return table.primaryKey;
  return table.uniqueKeys.find((key) => key.every((name) => table.columns.find((column) => column.name === name && !column.nullable)));
}

export function columnOf(table: Table, name: string): Column {
  const column = table.columns.find((candidate) => candidate.name === name);
  if (!column) throw new Error(`${table.qualifiedName} has no column ${name}`);
  return column;
}

/** A table as discovery first meets it: named, with its columns and constraints still to come. */
export function newTable(schema: string, name: string, estimatedRows: number): Table {
  return {
    schema,
    name,
    qualifiedName: `${schema}.${name}`,
    columns: [],
    primaryKey: [],
    uniqueKeys: [],
    foreignKeys: [],
    referencedBy: [],
    checks: [],
    triggers: [],
    estimatedRows,
  };
}
