import { defineSkill, positiveInteger, type RollbackResult } from "@chaos-agents/core";
import { z } from "zod";
import { type DatabaseSession, resolveTables } from "../database-session.js";
import { columnOf, rowKeyOf, type Table } from "../discovery/database-schema.js";
import { chunks, keysIn, keyText, toKeys } from "../sql/key-sets.js";
import { LatencyRecorder } from "../values/latency.js";
import { type ParentKeys, planRows, type RowPlan } from "../values/row-plan.js";
import { type InsertUndo, insertBatch } from "./insert-rows.js";
import { sequencePositions } from "./sequence-positions.js";
import { dependencyOrder } from "./table-order.js";

const params = z.strictObject({
  /** Rows to insert into each table. */
  rows_per_table: positiveInteger().max(10_000_000, "at most 10,000,000 rows per table").default(1000),
  /** Tables to fill (`users` or `public.users`); default: every discovered table resource_filters allow. */
  tables: z.array(z.string().min(1)).min(1, "name at least one table, or leave `tables` out").optional(),
  /** Rows per INSERT statement (and per journaled step). */
  batch_size: positiveInteger().max(50_000, "at most 50,000 rows per batch").default(1000),
});
type Params = z.output<typeof params>;

/** How many times a batch is made again after it broke a constraint (a CHECK chaos could not read, a unique clash). */
const attemptsPerBatch = 4;

export const dbInsertLoad = defineSkill<Params, DatabaseSession, InsertUndo>({
  name: "db.insert_load",
  target: "database",
  description: "Bulk INSERT random rows into target tables",
  reversible: true,
  params,

  async plan({ params, session, inventory }) {
    const schema = await session.schema();
    const allowed = new Set(inventory.resources.map((resource) => resource.name));
    const tables = dependencyOrder(resolveTables("db.insert_load", schema, allowed, params.tables));
    const usable = tables.filter((table) => rowKeyOf(table));
    const skipped = tables
      .filter((table) => !rowKeyOf(table))
      .map((table) => `${table.qualifiedName}: no primary key or NOT NULL unique key to delete by`);
    return {
      targets: usable.map((table) => table.qualifiedName),
      summary:
        `insert ${params.rows_per_table} rows into each of ${usable.map((table) => table.qualifiedName).join(", ") || "no table"}` +
        (skipped.length ? ` (skipped ${skipped.join("; ")})` : ""),
      details: { skipped },
    };
  },

  async inject({ params, session, plan, journal, signal, progress, log }) {
    const schema = await session.schema();
    const tables = plan.targets.map((name) => schema.tables.find((table) => table.qualifiedName === name) as Table);
    const skipped = [...((plan.details as { skipped: string[] }).skipped ?? [])];
    const insertedKeys = new Map<string, string[][]>();
    const latency = new LatencyRecorder();
    const sequencesBefore = await sequencePositions(session, tables);
    const total = tables.length * params.rows_per_table;
    let inserted = 0;
    const started = performance.now();

    for (const table of tables) {
      if (signal.aborted) break;
      const result = planRows(table, session.dialect.kind, await parentKeys(session, table, insertedKeys));
      if ("skip" in result) {
        skipped.push(`${table.qualifiedName}: ${result.skip}`);
        log.warn(`db.insert_load skips ${table.qualifiedName}: ${result.skip}`);
        continue;
      }
      const keys: string[][] = [];
      insertedKeys.set(table.qualifiedName, keys);
      for (let done = 0; done < params.rows_per_table && !signal.aborted; ) {
        const size = Math.min(params.batch_size, params.rows_per_table - done);
        const batchStart = performance.now();
        const outcome = await insertWithRetries(session, table, result.plan, size, journal);
        if (typeof outcome === "string") {
          skipped.push(`${table.qualifiedName}: ${outcome}`);
          log.warn(`db.insert_load stops on ${table.qualifiedName} after ${done} rows: ${outcome}`);
          break;
        }
        latency.record(performance.now() - batchStart);
        keys.push(...outcome);
        done += size;
        inserted += size;
        progress(inserted, total, table.qualifiedName);
      }
    }

    const seconds = (performance.now() - started) / 1000;
    const sequencesAfter = await sequencePositions(session, tables);
    const advanced = [...sequencesAfter]
      .filter(([name, value]) => value !== sequencesBefore.get(name))
      .map(([name, value]) => `${name} → ${value}`);
    return {
      summary:
        `inserted ${inserted} rows into ${insertedKeys.size} table(s)` +
        (skipped.length ? `; skipped ${skipped.join("; ")}` : "") +
        (advanced.length ? `; sequences advanced (not reset): ${advanced.join(", ")}` : ""),
      metrics: {
        rows_inserted: inserted,
        rows_per_second: Math.round(inserted / Math.max(seconds, 0.001)),
        batches: latency.count,
        tables_skipped: skipped.length,
        ...latency.percentiles("batch"),
      },
    };
  },

  async rollback({ session }, undo): Promise<RollbackResult> {
    const schema = await session.schema();
    const table = schema.tables.find((candidate) => candidate.qualifiedName === undo.table);
    if (!table) return { conflicts: [`table ${undo.table} no longer exists; ${undo.keys.length} chaos rows went with it`] };
    return deleteChaosRows(session, table, undo);
  },
});

/** Retries a batch with fresh values when it broke a constraint; a string says why the table is given up. */
async function insertWithRetries(
  session: DatabaseSession,
  table: Table,
  plan: RowPlan,
  size: number,
  journal: Parameters<typeof insertBatch>[4],
) {
  let lastError: unknown;
  for (let attempt = 0; attempt < attemptsPerBatch; attempt++) {
    const rows = Array.from({ length: size }, () => plan.makeRow());
    try {
      return await insertBatch(session, table, plan.columns, rows, journal);
    } catch (error) {
      const violation = session.dialect.isConstraintViolation(error);
      if (!violation) throw error;
      lastError = error;
    }
  }
  const unread = plan.unknownChecks.length ? ` (CHECK chaos could not read: ${plan.unknownChecks.join("; ")})` : "";
  return `generated rows kept breaking a constraint: ${(lastError as Error).message}${unread}`;
}

/** Keys each foreign key may point at: rows chaos just inserted into the parent, then existing ones. */
async function parentKeys(session: DatabaseSession, table: Table, insertedKeys: Map<string, string[][]>): Promise<ParentKeys> {
  const result: ParentKeys = new Map();
  const schema = await session.schema();
  for (const foreignKey of table.foreignKeys) {
    const parent = schema.tables.find((candidate) => candidate.qualifiedName === foreignKey.referencedTable);
    if (!parent) continue;
    const referenced = foreignKey.referencedColumns.map((name) => columnOf(parent, name));
    const { rows } = await session.client.query(
      `SELECT ${keyText(session.dialect, referenced)} FROM ${session.dialect.table(parent)} WHERE ${referenced
        .map((column) => `${session.dialect.quote(column.name)} IS NOT NULL`)
        .join(" AND ")} LIMIT 1000`,
    );
    const fresh = rowKeyOf(parent)?.join() === foreignKey.referencedColumns.join() ? (insertedKeys.get(parent.qualifiedName) ?? []) : [];
    result.set(foreignKey.name, [...fresh.slice(-1000), ...toKeys(rows, referenced.length)]);
  }
  return result;
}

/**
 * Deletes exactly the journaled rows, except any an application row now references (a
 * cascade would delete application data): those are kept and reported. Idempotent: rows
 * already gone are simply not found.
 */
export async function deleteChaosRows(session: DatabaseSession, table: Table, undo: InsertUndo): Promise<RollbackResult> {
  const { dialect } = session;
  const keyColumns = undo.keyColumns.map((name) => columnOf(table, name));
  const guards = table.referencedBy.map((reference) => {
    const pairs = reference.columns.map(
      (column, index) => `c.${dialect.quote(column)} = t.${dialect.quote(reference.referencedColumns[index] ?? column)}`,
    );
    return `NOT EXISTS (SELECT 1 FROM ${dialect.table({ schema: reference.tableSchema, name: reference.tableName })} c WHERE ${pairs.join(" AND ")})`;
  });
  let deleted = 0;
  const conflicts: string[] = [];
  for (const batch of chunks(undo.keys, dialect.kind === "postgres" ? 10_000 : 500)) {
    const condition = keysIn(dialect, keyColumns, batch, "t");
    const where = [condition.sql, ...guards].join(" AND ");
    const deleteSql =
      dialect.kind === "postgres"
        ? `DELETE FROM ${dialect.table(table)} t WHERE ${where}`
        : `DELETE t FROM ${dialect.table(table)} t WHERE ${where}`;
    deleted += (await session.client.query(deleteSql, condition.params)).rowCount;
    if (guards.length > 0) {
      const { rows } = await session.client.query(
        `SELECT ${keyText(dialect, keyColumns, "t")} FROM ${dialect.table(table)} t WHERE ${condition.sql}`,
        condition.params,
      );
      for (const key of toKeys(rows, keyColumns.length)) {
        conflicts.push(
          `${table.qualifiedName} row (${key.join(", ")}) kept: an application row references it (${table.referencedBy.map((reference) => reference.table).join(", ")})`,
        );
      }
    }
  }
  return { summary: `deleted ${deleted} chaos row(s) from ${table.qualifiedName}`, conflicts, metrics: { rows_deleted: deleted } };
}
