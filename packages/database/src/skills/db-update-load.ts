import { defineSkill, positiveInteger, RollbackBlockedError, type RollbackResult, SkillError } from "@chaos-agents/core";
import { z } from "zod";
import { type DatabaseSession, resolveTables } from "../database-session.js";
import { type Column, columnOf, rowKeyOf, type Table } from "../discovery/database-schema.js";
import { parseChecks } from "../values/check-constraints.js";
import { valueMaker } from "../values/generate-value.js";
import { type CommitMarker, committedBatchesKey, type TableUpdatePlan, type UpdateMode, type UpdateUndo } from "./update-batch.js";
import { runUpdateLoad, type UpdateLoadOptions } from "./update-load-loop.js";
import { restoreRows } from "./update-restore.js";
import { dropRestoreMarkerTable, restoreMarkerTable } from "./update-restore-marker.js";
import { flippableColumns } from "./update-rewrite.js";
import { imageColumns } from "./update-row-images.js";
import { updateTriggersOf } from "./update-triggers.js";

export type { UpdateUndo } from "./update-batch.js";

const params = z
  .strictObject({
    rows_per_table: positiveInteger()
      .max(1_000_000)
      .optional()
      .describe("Existing rows to update in each table, picked at random (default 100); `rows` is a synonym"),
    rows: positiveInteger().max(1_000_000).optional().describe("Synonym of rows_per_table"),
    tables: z
      .array(z.string().min(1))
      .min(1)
      .optional()
      .describe("Tables to update (`name` or `schema.name`); default: every table resource_filters allow"),
    columns: z
      .array(z.string().min(1))
      .min(1)
      .optional()
      .describe(
        "mode random: the columns that get new values; default: every column that is not a key, generated, or part of a foreign or unique key",
      ),
    mode: z
      .enum(["rewrite", "random"])
      .default("rewrite")
      .describe(
        "rewrite (default): write the rows without changing any value the application sees (row versions, WAL, index and lock traffic); random: write new random values, which a read-modify-write application will build on",
      ),
    compensate: z
      .array(z.string().min(1))
      .min(1)
      .optional()
      .describe(
        "mode random: additive numeric columns (balances, counters the application only adds to); rollback restores current - (chaos value - before) in them, keeping the application's deltas",
      ),
    sustain: z.boolean().default(false).describe("Keep updating the chosen rows, pass after pass, until the hold ends"),
    rate: z
      .number({ error: "expected rows per second > 0" })
      .positive("expected rows per second > 0")
      .optional()
      .describe("With sustain: rows updated per second (default: as fast as the server allows)"),
    batch_size: positiveInteger()
      .max(5000, "at most 5000 rows per transaction")
      .default(500)
      .describe("Rows per transaction: bounds how long rows stay locked and how large each journal record is"),
  })
  .transform(({ rows, rows_per_table, ...rest }) => ({ ...rest, rows_per_table: rows_per_table ?? rows ?? 100 }));
type Params = z.output<typeof params>;

interface PlanDetails {
  [key: string]: Record<string, string[]> | string[];
  columnsByTable: Record<string, string[]>;
  rewriteColumnsByTable: Record<string, string[]>;
  skipped: string[];
}

/**
 * MySQL with compensation: journaled before the first batch, so it is the skill's oldest step and
 * runs last at rollback: drops chaos's restore marker tables once no restore is left unfinished.
 */
type MarkerCleanup = { dropRestoreMarkers: string[] };

/** Runtime key: the compensating restores of this rollback that have not finished (yet). */
const unfinishedRestoresKey = "db.update_load unfinished restores";

export const dbUpdateLoad = defineSkill<Params, DatabaseSession, UpdateUndo | CommitMarker | MarkerCleanup>({
  name: "db.update_load",
  target: "database",
  description:
    "UPDATE load on existing rows: by default rewrites them with their own values (no value the application sees changes); mode random writes new values, restored exactly at rollback",
  reversible: true,
  params,

  async plan({ params, session, inventory }) {
    const schema = await session.schema();
    const allowed = new Set(inventory.resources.map((resource) => resource.name));
    const mode: UpdateMode = params.mode;
    if (mode === "rewrite" && (params.columns || params.compensate))
      throw new SkillError("db.update_load", "columns and compensate apply to mode: random (mode rewrite changes no value)");
    if (params.rate !== undefined && !params.sustain)
      throw new SkillError("db.update_load", "rate applies with sustain: true (without it the rows are updated once, as fast as allowed)");
    const targets: string[] = [];
    const skipped: string[] = [];
    const columnsByTable: Record<string, string[]> = {};
    const rewriteColumnsByTable: Record<string, string[]> = {};
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
      const rewriteColumns = session.dialect.kind === "postgres" ? columns.slice(0, 1) : flippableColumns(columns);
      if (mode === "rewrite" && rewriteColumns.length === 0) {
        skipped.push(
          `${table.qualifiedName}: MySQL/MariaDB skip an UPDATE to a row's own values and this table has no integer, decimal or DATETIME column chaos can change and change back (mode: random can write it)`,
        );
        continue;
      }
      targets.push(table.qualifiedName);
      columnsByTable[table.qualifiedName] = columns.map((column) => column.name);
      rewriteColumnsByTable[table.qualifiedName] = rewriteColumns.map((column) => column.name);
    }
    checkNamedColumns(params, schema.tables, targets, columnsByTable);
    const triggers = targets.flatMap((name) => updateTriggersOf(schema.tables.find((table) => table.qualifiedName === name) as Table));
    const what =
      mode === "rewrite"
        ? `rewrite ${params.rows_per_table} random rows with their own values`
        : `write random values into ${params.rows_per_table} random rows`;
    const notes = [
      params.sustain ? `again and again until the hold ends${params.rate ? ` at ${params.rate} rows/s` : ""}` : "",
      `in batches of ${params.batch_size}`,
      params.compensate ? `compensating ${params.compensate.join(", ")} at rollback` : "",
    ].filter(Boolean);
    const warnings = [
      mode === "random"
        ? "warning: mode random: a read-modify-write application will build on chaos's values; rollback restores only the columns still holding them (and compensates the columns named in compensate), reporting every other as a conflict"
        : "",
      triggers.length ? `triggers that will fire on chaos's UPDATE and on its restore: ${triggers.join("; ")}` : "",
      skipped.length ? `skipped ${skipped.join("; ")}` : "",
    ].filter(Boolean);
    return {
      targets,
      summary: `${what} in each of ${targets.join(", ") || "no table"}, ${notes.join(", ")}${warnings.length ? ` (${warnings.join("; ")})` : ""}`,
      details: { columnsByTable, rewriteColumnsByTable, skipped } satisfies PlanDetails,
    };
  },

  async inject({ experimentId, params, session, plan, journal, signal, holdEnded, progress, runtime }) {
    const schema = await session.schema();
    const details = plan.details as PlanDetails;
    const tables = plan.targets.map((name) => tablePlan(session, schema.tables, name, params, details));
    const options: UpdateLoadOptions = {
      session,
      tables,
      rowsPerTable: params.rows_per_table,
      batchSize: params.batch_size,
      record: (undo) => journal.record(undo),
      committed: committedBatches(runtime),
      progress,
      ...(params.rate !== undefined ? { rate: params.rate } : {}),
    };
    if (session.dialect.kind === "mysql" && params.compensate?.length && tables.length > 0) {
      const schemas = [...new Set(tables.map((plan) => plan.table.schema))];
      await journal.record({ dropRestoreMarkers: schemas.map((schema) => restoreMarkerTable(schema, experimentId)) });
    }
    const skippedNote = details.skipped.length ? `; skipped ${details.skipped.join("; ")}` : "";
    if (!params.sustain) {
      const metrics = await runUpdateLoad({ ...options, stop: signal, sustain: false });
      return { summary: `updated ${metrics.rows_updated} rows in ${tables.length} table(s)${skippedNote}`, metrics };
    }
    const running = runUpdateLoad({ ...options, stop: AbortSignal.any([signal, holdEnded]), sustain: true });
    return { summary: `updating rows of ${tables.length} table(s) until the hold ends${skippedNote}`, running };
  },

  async rollback(context, step): Promise<RollbackResult> {
    const { session, runtime } = context;
    if ("committedBatch" in step) {
      committedBatches(runtime).add(step.committedBatch);
      return {};
    }
    const unfinished = unfinishedRestores(runtime);
    if ("dropRestoreMarkers" in step) {
      if (unfinished.size > 0)
        throw new RollbackBlockedError(
          `db.update_load: keeping chaos's marker table(s) ${step.dropRestoreMarkers.join(", ")}: ${unfinished.size} compensating restore(s) did not finish, and their marker tells \`chaos recover\` whether they committed; it drops the table(s) once they are done`,
        );
      for (const table of step.dropRestoreMarkers) await dropRestoreMarkerTable(session, table);
      return { summary: `dropped chaos's marker table(s) ${step.dropRestoreMarkers.join(", ")}` };
    }
    unfinished.add(step);
    const result = await restoreRows(session, step, committedBatches(runtime), runtime, context);
    unfinished.delete(step);
    return result;
  },
});

function unfinishedRestores(runtime: Map<string, unknown>): Set<UpdateUndo> {
  if (!runtime.has(unfinishedRestoresKey)) runtime.set(unfinishedRestoresKey, new Set<UpdateUndo>());
  return runtime.get(unfinishedRestoresKey) as Set<UpdateUndo>;
}

function committedBatches(runtime: Map<string, unknown>): Set<string> {
  if (!runtime.has(committedBatchesKey)) runtime.set(committedBatchesKey, new Set<string>());
  return runtime.get(committedBatchesKey) as Set<string>;
}

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

/** `columns` must name columns chaos may change; `compensate` must name numeric ones among those it changes. */
function checkNamedColumns(params: Params, tables: Table[], targets: string[], columnsByTable: Record<string, string[]>): void {
  if (params.columns) {
    const known = new Set(Object.values(columnsByTable).flat());
    const missing = params.columns.filter((name) => !known.has(name));
    if (missing.length)
      throw new SkillError("db.update_load", `column(s) ${missing.join(", ")} are not updatable columns of the chosen tables`);
  }
  for (const name of params.compensate ?? []) {
    const columns = targets.flatMap((target) => {
      if (!columnsByTable[target]?.includes(name)) return [];
      return [columnOf(tables.find((table) => table.qualifiedName === target) as Table, name)];
    });
    if (columns.length === 0)
      throw new SkillError("db.update_load", `compensate: ${name} is not a column chaos updates in the chosen tables`);
    const inexact = columns.find((column) => column.kind !== "integer" && column.kind !== "decimal");
    if (inexact)
      throw new SkillError(
        "db.update_load",
        `compensate: ${name} is ${inexact.sqlType}; only integer and decimal columns can be compensated exactly`,
      );
  }
}

function tablePlan(session: DatabaseSession, tables: Table[], name: string, params: Params, details: PlanDetails): TableUpdatePlan {
  const { dialect } = session;
  const table = tables.find((candidate) => candidate.qualifiedName === name) as Table;
  const keyNames = rowKeyOf(table) ?? [];
  const columns = (details.columnsByTable[name] ?? []).map((column) => columnOf(table, column));
  const { rules } = parseChecks(
    table.checks,
    table.columns.map((column) => column.name),
  );
  return {
    table,
    keyColumns: keyNames.map((key) => columnOf(table, key)),
    imageColumns: imageColumns(table, keyNames),
    mode: params.mode,
    columns,
    makers: columns.map((column) => valueMaker(column, dialect.kind, rules.get(column.name)) ?? (() => null)),
    rules,
    rewriteColumns: (details.rewriteColumnsByTable[name] ?? []).map((column) => columnOf(table, column)),
    compensate: (params.compensate ?? []).filter((column) => columns.some((candidate) => candidate.name === column)),
  };
}
