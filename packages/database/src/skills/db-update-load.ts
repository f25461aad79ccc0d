import { defineSkill, positiveInteger, type RollbackResult, SkillError } from "@chaos-agents/core";
import { z } from "zod";
import { type DatabaseSession, resolveTables } from "../database-session.js";
import { type Column, columnOf, rowKeyOf, type Table } from "../discovery/database-schema.js";
import { keyText, toKeys } from "../sql/key-sets.js";
import type { SqlExecutor } from "../sql/sql-client.js";
import { parseChecks } from "../values/check-constraints.js";
import { greaterThan, valueMaker } from "../values/generate-value.js";
import { LatencyRecorder } from "../values/latency.js";

const params = z
  .strictObject({
    /** Existing rows to change in each table (`rows` is accepted as a synonym). */
    rows_per_table: positiveInteger().max(1_000_000).optional(),
    rows: positiveInteger().max(1_000_000).optional(),
    tables: z.array(z.string().min(1)).min(1).optional(),
    /** Columns to change; default: every column that is not a key, generated, or part of a foreign or unique key. */
    columns: z.array(z.string().min(1)).min(1).optional(),
  })
  .transform(({ rows, rows_per_table, ...rest }) => ({ ...rest, rows_per_table: rows_per_table ?? rows ?? 100 }));
type Params = z.output<typeof params>;

/** Undo of one table's UPDATE: before- and after-images of exactly the rows chaos changed. */
export interface UpdateUndo {
  [key: string]: string | string[] | { key: string[]; before: (string | null)[]; after: (string | null)[] }[];
  table: string;
  keyColumns: string[];
  columns: string[];
  rows: { key: string[]; before: (string | null)[]; after: (string | null)[] }[];
}

export const dbUpdateLoad = defineSkill<Params, DatabaseSession, UpdateUndo>({
  name: "db.update_load",
  target: "database",
  description: "Random UPDATEs of existing rows, restored to their exact before-values",
  reversible: true,
  params,

  async plan({ params, session, inventory }) {
    const schema = await session.schema();
    const allowed = new Set(inventory.resources.map((resource) => resource.name));
    const targets: string[] = [];
    const skipped: string[] = [];
    const columnsByTable: Record<string, string[]> = {};
    for (const table of resolveTables("db.update_load", schema, allowed, params.tables)) {
      if (!rowKeyOf(table)) {
        skipped.push(`${table.qualifiedName}: no primary key or NOT NULL unique key to find rows by`);
        continue;
      }
      const columns = updatableColumns(table, params.columns);
      if (columns.length === 0) {
        skipped.push(`${table.qualifiedName}: no column chaos may change${params.columns ? ` among ${params.columns.join(", ")}` : ""}`);
        continue;
      }
      targets.push(table.qualifiedName);
      columnsByTable[table.qualifiedName] = columns.map((column) => column.name);
    }
    if (params.columns) {
      const known = new Set(Object.values(columnsByTable).flat());
      const missing = params.columns.filter((name) => !known.has(name));
      if (missing.length)
        throw new SkillError("db.update_load", `column(s) ${missing.join(", ")} are not updatable columns of the chosen tables`);
    }
    return {
      targets,
      summary: `update ${params.rows_per_table} random rows in each of ${targets.join(", ") || "no table"}${skipped.length ? ` (skipped ${skipped.join("; ")})` : ""}`,
      details: { columnsByTable, skipped },
    };
  },

  async inject({ params, session, plan, journal, signal, progress }) {
    const schema = await session.schema();
    const { columnsByTable, skipped } = plan.details as { columnsByTable: Record<string, string[]>; skipped: string[] };
    const latency = new LatencyRecorder();
    let updated = 0;
    const started = performance.now();
    for (const [index, name] of plan.targets.entries()) {
      if (signal.aborted) break;
      const table = schema.tables.find((candidate) => candidate.qualifiedName === name) as Table;
      const columns = (columnsByTable[name] ?? []).map((column) => columnOf(table, column));
      const tableStart = performance.now();
      const count = await updateTable(session, table, columns, params.rows_per_table, journal.record.bind(journal), skipped);
      latency.record(performance.now() - tableStart);
      updated += count;
      progress(index + 1, plan.targets.length, `${name}: ${count} rows`);
    }
    const seconds = (performance.now() - started) / 1000;
    return {
      summary: `updated ${updated} rows in ${plan.targets.length} table(s)${skipped.length ? `; skipped ${skipped.join("; ")}` : ""}`,
      metrics: { rows_updated: updated, rows_per_second: Math.round(updated / Math.max(seconds, 0.001)), ...latency.percentiles("table") },
    };
  },

  async rollback({ session }, undo): Promise<RollbackResult> {
    const schema = await session.schema();
    const table = schema.tables.find((candidate) => candidate.qualifiedName === undo.table);
    if (!table) return { conflicts: [`table ${undo.table} no longer exists; ${undo.rows.length} updated rows cannot be restored`] };
    return restoreRows(session, table, undo);
  },
});

/** Columns chaos may overwrite: never keys, generated values, foreign keys or unique columns (unless named). */
function updatableColumns(table: Table, named?: string[]): Column[] {
  const protectedNames = new Set([
    ...table.primaryKey,
    ...table.foreignKeys.flatMap((key) => key.columns),
    ...(named ? [] : table.uniqueKeys.flat()),
  ]);
  return table.columns.filter(
    (column) =>
      !column.generated &&
      !column.autoIncrement &&
      !protectedNames.has(column.name) &&
      column.kind !== "unsupported" &&
      (!named || named.includes(column.name)),
  );
}

/**
 * Locks random rows, reads their before-images, writes new values, reads the after-images
 * and journals both before COMMIT. A row that breaks a constraint is left unchanged.
 */
async function updateTable(
  session: DatabaseSession,
  table: Table,
  columns: Column[],
  count: number,
  record: (undo: UpdateUndo) => number,
  skipped: string[],
): Promise<number> {
  const { dialect } = session;
  const keyColumns = (rowKeyOf(table) ?? []).map((name) => columnOf(table, name));
  const { rules } = parseChecks(
    table.checks,
    table.columns.map((column) => column.name),
  );
  const makers = columns.map((column) => valueMaker(column, dialect.kind, rules.get(column.name)) ?? (() => null));
  const textColumns = columns.map((column, index) => `${dialect.textOf(column)} AS v${index}`).join(", ");
  const random = dialect.kind === "postgres" ? "random()" : "RAND()";

  return session.client.transaction(async (executor) => {
    const { rows: picked } = await executor.query<Record<string, string | null>>(
      `SELECT ${keyText(dialect, keyColumns)}, ${textColumns} FROM ${dialect.table(table)} ORDER BY ${random} LIMIT ${Math.floor(count)} FOR UPDATE`,
    );
    const images: UpdateUndo["rows"] = [];
    for (const [rowIndex, row] of picked.entries()) {
      const key = toKeys([row], keyColumns.length)[0] as string[];
      const before = columns.map((_, index) => row[`v${index}`] ?? null);
      const values = newValues(columns, makers, rules);
      const savepoint = `chaos_row_${rowIndex}`;
      await executor.query(`SAVEPOINT ${savepoint}`);
      try {
        const after = await updateRow(executor, session, table, keyColumns, columns, key, values);
        images.push({ key, before, after });
      } catch (error) {
        if (!dialect.isConstraintViolation(error)) throw error;
        await executor.query(`ROLLBACK TO SAVEPOINT ${savepoint}`);
        if (images.length === 0 && rowIndex === picked.length - 1)
          skipped.push(`${table.qualifiedName}: new values kept breaking a constraint`);
      }
    }
    if (images.length > 0)
      record({
        table: table.qualifiedName,
        keyColumns: keyColumns.map((column) => column.name),
        columns: columns.map((column) => column.name),
        rows: images,
      });
    return images.length;
  });
}

async function updateRow(
  executor: SqlExecutor,
  session: DatabaseSession,
  table: Table,
  keyColumns: Column[],
  columns: Column[],
  key: string[],
  values: (string | null)[],
): Promise<(string | null)[]> {
  const { dialect } = session;
  let parameter = 0;
  const next = () => dialect.placeholder(++parameter);
  const assignments = columns.map((column) => `${dialect.quote(column.name)} = ${dialect.fromText(next(), column)}`).join(", ");
  const where = keyColumns.map((column) => `${dialect.quote(column.name)} = ${dialect.fromText(next(), column)}`).join(" AND ");
  await executor.query(`UPDATE ${dialect.table(table)} SET ${assignments} WHERE ${where}`, [...values, ...key]);
  parameter = 0;
  const { rows } = await executor.query<Record<string, string | null>>(
    `SELECT ${columns.map((column, index) => `${dialect.textOf(column)} AS v${index}`).join(", ")} FROM ${dialect.table(table)} WHERE ${keyColumns
      .map((column) => `${dialect.quote(column.name)} = ${dialect.fromText(next(), column)}`)
      .join(" AND ")}`,
    key,
  );
  return columns.map((_, index) => rows[0]?.[`v${index}`] ?? null);
}

/** Fresh values for one row; a column a CHECK says must exceed another one chaos also changes is made after it. */
function newValues(columns: Column[], makers: (() => string | null)[], rules: ReturnType<typeof parseChecks>["rules"]): (string | null)[] {
  const values: (string | null)[] = columns.map((column, index) =>
    column.nullable && Math.random() < 0.05 ? null : (makers[index] as () => string | null)(),
  );
  columns.forEach((column, index) => {
    const other = rules.get(column.name)?.greaterThan;
    const otherIndex = columns.findIndex((candidate) => candidate.name === other);
    const otherValue = values[otherIndex];
    if (otherIndex >= 0 && otherValue && values[index] !== null) values[index] = greaterThan(otherValue, column) ?? values[index] ?? null;
  });
  return values;
}

/**
 * Puts back each before-image only where the row still holds exactly what chaos wrote; a
 * row someone changed or deleted since is reported as a conflict, never overwritten.
 */
async function restoreRows(session: DatabaseSession, table: Table, undo: UpdateUndo): Promise<RollbackResult> {
  const { dialect } = session;
  const keyColumns = undo.keyColumns.map((name) => columnOf(table, name));
  const columns = undo.columns.map((name) => columnOf(table, name));
  const conflicts: string[] = [];
  let restored = 0;
  for (const row of undo.rows) {
    let parameter = 0;
    const next = () => dialect.placeholder(++parameter);
    const assignments = columns.map((column) => `${dialect.quote(column.name)} = ${dialect.fromText(next(), column)}`).join(", ");
    const keyMatch = keyColumns.map((column) => `${dialect.quote(column.name)} = ${dialect.fromText(next(), column)}`).join(" AND ");
    const unchanged = columns.map((column) => dialect.same(dialect.textOf(column), next())).join(" AND ");
    const result = await session.client.query(`UPDATE ${dialect.table(table)} SET ${assignments} WHERE ${keyMatch} AND ${unchanged}`, [
      ...row.before,
      ...row.key,
      ...row.after,
    ]);
    if (result.rowCount > 0) {
      restored++;
      continue;
    }
    parameter = 0;
    const { rows } = await session.client.query<Record<string, string | null>>(
      `SELECT ${columns.map((column, index) => `${dialect.textOf(column)} AS v${index}`).join(", ")} FROM ${dialect.table(table)} WHERE ${keyColumns
        .map((column) => `${dialect.quote(column.name)} = ${dialect.fromText(next(), column)}`)
        .join(" AND ")}`,
      row.key,
    );
    const current = rows[0];
    if (!current) conflicts.push(`${table.qualifiedName} row (${row.key.join(", ")}) was deleted since chaos updated it`);
    else if (columns.some((_, index) => current[`v${index}`] !== row.before[index])) {
      conflicts.push(
        `${table.qualifiedName} row (${row.key.join(", ")}) was changed by someone else since chaos updated it; left as it is`,
      );
    }
    // Otherwise it already holds its before-image: restored by an earlier run of this step.
  }
  return { summary: `restored ${restored} row(s) of ${table.qualifiedName}`, conflicts, metrics: { rows_restored: restored } };
}
