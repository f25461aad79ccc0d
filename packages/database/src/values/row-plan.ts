import type { DatabaseKind } from "../database-config.js";
import type { Column, Table } from "../discovery/database-schema.js";
import { parseChecks } from "./check-constraints.js";
import { greaterThan, type ValueMaker, valueMaker } from "./generate-value.js";

/** Parent key tuples (as text) each foreign key may point at, by constraint name. */
export type ParentKeys = Map<string, string[][]>;

/**
 * Integer key columns chaos numbers itself, by name: the largest value already there.
 * Ascending keys above it never collide and append to the index instead of scattering.
 */
export type Counters = Map<string, bigint>;

/** Integer columns that alone form the primary or a unique key, without a default or CHECK: they can be counted. */
export function countableColumns(
  table: Table,
  rules: ReturnType<typeof parseChecks>["rules"] = parseChecks(
    table.checks,
    table.columns.map((column) => column.name),
  ).rules,
): Column[] {
  const single = new Set([table.primaryKey, ...table.uniqueKeys].filter((key) => key.length === 1).map((key) => key[0] as string));
  const foreign = new Set(table.foreignKeys.flatMap((key) => key.columns));
  return table.columns.filter(
    (column) =>
      column.kind === "integer" &&
      single.has(column.name) &&
      !foreign.has(column.name) &&
      !column.hasDefault &&
      !column.generated &&
      !rules.has(column.name),
  );
}

/** Keys counting up from `largest`: plain numbers while they stay exact (a BigInt per row is an allocation per row). */
function countFrom(largest: bigint): ValueMaker {
  if (largest < BigInt(Number.MAX_SAFE_INTEGER) - 1_000_000_000_000n) {
    let next = Number(largest);
    return () => String(++next);
  }
  let next = largest;
  return () => String(++next);
}

export interface RowPlan {
  /** Columns chaos writes, in order; the rest are left to their defaults. */
  columns: Column[];
  /** One row of text values (null for SQL NULL), aligned with `columns`. */
  makeRow(): (string | null)[];
  /** CHECK constraints chaos could not read: generated rows are probed against them. */
  unknownChecks: string[];
}

export type RowPlanResult = { plan: RowPlan } | { skip: string };

/**
 * Decides how to make rows for a table: which columns to write and how, honouring types,
 * NOT NULL, UNIQUE, CHECK and foreign keys. Never writes identity, generated or
 * auto-increment columns. Returns a reason instead when no valid row can be made.
 */
export function planRows(table: Table, dialect: DatabaseKind, parentKeys: ParentKeys, counters: Counters = new Map()): RowPlanResult {
  const { rules, unknown } = parseChecks(
    table.checks,
    table.columns.map((column) => column.name),
  );
  const singleUnique = new Set([table.primaryKey, ...table.uniqueKeys].filter((key) => key.length === 1).map((key) => key[0] as string));
  const foreignKeyOf = new Map<string, { name: string; position: number }>();
  for (const foreignKey of table.foreignKeys) {
    foreignKey.columns.forEach((column, position) => {
      foreignKeyOf.set(column, { name: foreignKey.name, position });
    });
  }

  const columns: Column[] = [];
  const makers: ((row: Map<string, string | null>, parents: Map<string, string[] | null>) => string | null)[] = [];
  for (const column of table.columns) {
    if (column.generated || column.autoIncrement) continue;
    const foreignKey = foreignKeyOf.get(column.name);
    if (foreignKey) {
      const choices = parentKeys.get(foreignKey.name) ?? [];
      if (choices.length === 0 && !column.nullable) {
        const referenced = table.foreignKeys.find((key) => key.name === foreignKey.name)?.referencedTable;
        return {
          skip: `foreign key ${foreignKey.name} needs rows in ${referenced}, which has none chaos may use (add it to \`tables\` so it is filled first)`,
        };
      }
      columns.push(column);
      makers.push((_row, parents) => parents.get(foreignKey.name)?.[foreignKey.position] ?? null);
      continue;
    }
    const columnRules = rules.get(column.name) ?? {};
    const counter = counters.get(column.name);
    const maker: ValueMaker | undefined =
      counter === undefined ? valueMaker(column, dialect, columnRules, singleUnique.has(column.name)) : countFrom(counter);
    if (!maker) {
      if (column.hasDefault || column.nullable) continue; // the database's default (or NULL) is valid
      return {
        skip: `chaos cannot make a valid value for ${column.name} (${column.sqlType}${columnRules.choices ? ", with its CHECK" : ""})`,
      };
    }
    const after = columnRules.greaterThan;
    const otherType = after ? table.columns.find((candidate) => candidate.name === after) : undefined;
    columns.push(column);
    makers.push((row) => {
      const other = after ? row.get(after) : undefined;
      return (other && otherType && greaterThan(other, column)) || maker();
    });
  }
  // Columns a CHECK says must exceed another are made after it.
  const order = columns.map((_, index) => index).sort((left, right) => rank(columns[left] as Column) - rank(columns[right] as Column));
  function rank(column: Column): number {
    return rules.get(column.name)?.greaterThan ? 1 : 0;
  }

  const independent = table.foreignKeys.length === 0 && columns.every((column) => !rules.get(column.name)?.greaterThan);
  const emptyRow = new Map<string, string | null>();
  const noParents = new Map<string, string[] | null>();
  const foreignKeys = table.foreignKeys.map((key) => ({
    name: key.name,
    choices: parentKeys.get(key.name) ?? [],
    nullable: key.columns.every((name) => table.columns.find((column) => column.name === name)?.nullable),
  }));
  return {
    plan: {
      columns,
      unknownChecks: unknown,
      makeRow() {
        // Most tables have no foreign key and no cross-column CHECK: skip the bookkeeping.
        if (independent) return makers.map((maker) => maker(emptyRow, noParents));
        const parents = new Map<string, string[] | null>();
        for (const key of foreignKeys) {
          parents.set(key.name, key.choices.length > 0 ? (key.choices[Math.floor(Math.random() * key.choices.length)] ?? null) : null);
        }
        const row = new Map<string, string | null>();
        const values: (string | null)[] = new Array(columns.length).fill(null);
        for (const index of order) {
          const value = (makers[index] as (typeof makers)[number])(row, parents);
          row.set((columns[index] as Column).name, value);
          values[index] = value;
        }
        return values;
      },
    },
  };
}
