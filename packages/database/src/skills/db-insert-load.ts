import { defineSkill, positiveInteger, type RollbackResult } from "@chaos-agents/core";
import { z } from "zod";
import { type DatabaseSession, resolveTables } from "../database-session.js";
import { columnOf, rowKeyOf, type Table } from "../discovery/database-schema.js";
import { liveReferences } from "../discovery/live-references.js";
import { keyText, toKeys } from "../sql/key-sets.js";
import { LatencyRecorder } from "../values/latency.js";
import { type Counters, countableColumns, type ParentKeys, planRows, type RowPlan } from "../values/row-plan.js";
import { deleteChaosRows, rollbackResult } from "./chaos-row-delete.js";
import { commitProof, describeNeverCommitted } from "./insert-commit-proof.js";
import { type InsertUndo, insertBatch, rewritesInsertedRows, undoKeyCount, undoKeys } from "./insert-rows.js";
import { slowRollbackNote } from "./rollback-cost.js";
import { sequencePositions } from "./sequence-positions.js";
import { dependencyOrder } from "./table-order.js";
import { describeTriggerWrites, triggersOn } from "./trigger-writes.js";

const params = z.strictObject({
  rows_per_table: positiveInteger()
    .max(10_000_000, "at most 10,000,000 rows per table")
    .default(1000)
    .describe("Rows to insert into each table."),
  tables: z
    .array(z.string().min(1))
    .min(1, "name at least one table, or leave `tables` out")
    .optional()
    .describe("Tables to fill (`users` or `public.users`); default: every discovered table resource_filters allow."),
  batch_size: positiveInteger()
    .max(50_000, "at most 50,000 rows per batch")
    .default(2000)
    .describe("Rows per INSERT statement (and per journaled step)."),
});
type Params = z.output<typeof params>;

/** Parent keys a child row picks from: the newest chaos rows of the parent, and as many existing ones. */
const parentChoices = 1000;

/**
 * Batches inserted at once, each on its own pooled connection. A second batch in flight hides
 * each batch's fixed costs (round trips, the first chunk made before the server has work, the
 * journal write): about +15% at the default 2,000 rows. At 50,000 rows it overlaps one batch's
 * proof (the content-hash aggregate over the rows just copied) with the next batch's COPY:
 * +12% on `npm run bench:db`'s insert, more than two backends lose contending for the index's
 * right edge.
 */
const batchesInFlight = 2;

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
    const usable: Table[] = [];
    const skipped: string[] = [];
    for (const table of tables) {
      const refusal = await refusalFor(session, schema.supportsReturning, table);
      if (refusal) skipped.push(`${table.qualifiedName}: ${refusal}`);
      else usable.push(table);
    }
    const triggered = usable.filter((table) => table.triggers.length > 0);
    const slow: string[] = [];
    for (const table of usable) {
      const note = await slowRollbackNote(session, table, params.rows_per_table);
      if (note) slow.push(note);
    }
    return {
      targets: usable.map((table) => table.qualifiedName),
      summary:
        `insert ${params.rows_per_table} rows into each of ${usable.map((table) => table.qualifiedName).join(", ") || "no table"}` +
        (skipped.length ? ` (skipped ${skipped.join("; ")})` : "") +
        (triggered.length ? triggerNote(session.dialect.kind, triggered) : "") +
        slow.map((note) => `; ${note}`).join(""),
      details: { skipped },
    };
  },

  async inject({ params, session, plan, journal, signal, progress, log }) {
    const schema = await session.schema();
    const tables = plan.targets.map((name) => schema.tables.find((table) => table.qualifiedName === name) as Table);
    const skipped = [...((plan.details as { skipped: string[] }).skipped ?? [])];
    // The newest batches of each table, enough for its children to pick parents from.
    const recentBatches = new Map<string, InsertUndo[]>();
    const latency = new LatencyRecorder();
    const sequencesBefore = await sequencePositions(session, tables);
    const total = tables.length * params.rows_per_table;
    let inserted = 0;
    const started = performance.now();

    for (const table of tables) {
      if (signal.aborted) break;
      const result = planRows(
        table,
        session.dialect.kind,
        await parentKeys(session, table, recentBatches),
        await largestKeys(session, table),
      );
      if ("skip" in result) {
        skipped.push(`${table.qualifiedName}: ${result.skip}`);
        log.warn(`db.insert_load skips ${table.qualifiedName}: ${result.skip}`);
        continue;
      }
      const recent: InsertUndo[] = [];
      recentBatches.set(table.qualifiedName, recent);
      let planned = 0;
      let done = 0;
      let givenUp: string | undefined;
      await boundedConcurrency(
        batchesInFlight,
        () => planned < params.rows_per_table && !signal.aborted && !givenUp,
        async () => {
          const size = Math.min(params.batch_size, params.rows_per_table - planned);
          planned += size;
          const batchStart = performance.now();
          const outcome = await insertWithRetries(session, table, result.plan, size, journal);
          if (typeof outcome === "string") {
            givenUp ??= outcome;
            return;
          }
          latency.record(performance.now() - batchStart);
          recent.push(outcome);
          keepNewestKeys(recent);
          done += size;
          inserted += size;
          progress(inserted, total, table.qualifiedName);
        },
      );
      if (givenUp) {
        skipped.push(`${table.qualifiedName}: ${givenUp}`);
        log.warn(`db.insert_load stops on ${table.qualifiedName} after ${done} rows: ${givenUp}`);
      }
    }

    const seconds = (performance.now() - started) / 1000;
    const sequencesAfter = await sequencePositions(session, tables);
    const advanced = [...sequencesAfter]
      .filter(([name, value]) => value !== sequencesBefore.get(name))
      .map(([name, value]) => `${name} → ${value}`);
    return {
      summary:
        `inserted ${inserted} rows into ${recentBatches.size} table(s)` +
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
    const proof = await commitProof(session, undo);
    if (proof.status === "aborted") {
      const table = (await session.schema()).tables.find((candidate) => candidate.qualifiedName === undo.table);
      return { summary: await describeNeverCommitted(session, table, undo) };
    }
    if (proof.status === "unproven") return { conflicts: [`${undo.table}: ${undoKeyCount(undo)} chaos row(s) kept: ${proof.reason}`] };
    // Rows INSERT triggers wrote first: they may reference chaos's rows.
    const triggerOutcomes = [];
    for (const rows of undo.triggerRows ?? []) triggerOutcomes.push(await deleteChaosRows(session, rows));
    const outcome = await deleteChaosRows(session, undo);
    const result = rollbackResult(
      undo.table,
      [outcome],
      [...triggerOutcomes.flatMap((other) => other.conflicts), ...describeTriggerWrites(undo.triggerWrites, `INSERT into ${undo.table}`)],
    );
    const triggerDeleted = triggerOutcomes.reduce((sum, other) => sum + other.deleted, 0);
    return triggerDeleted
      ? { ...result, summary: `${result.summary}; deleted ${triggerDeleted} row(s) its INSERT triggers wrote` }
      : result;
  },
});

/** Why chaos will not insert into a table (nothing to delete by, or no way to check at rollback), if it will not. */
async function refusalFor(session: DatabaseSession, supportsReturning: boolean, table: Table): Promise<string | undefined> {
  if (!rowKeyOf(table)) return "no primary key or NOT NULL unique key to delete by";
  if (session.dialect.kind === "mysql" && !supportsReturning && rewritesInsertedRows(table)) {
    return "a BEFORE INSERT trigger may change the keys, and this server cannot return the keys it stored (no RETURNING)";
  }
  const hidden = (await liveReferences(session.client, session.dialect, table)).filter((reference) => reference.hiddenRows);
  if (hidden.length) {
    return `row-level security hides rows of ${hidden.map((reference) => reference.table).join(", ")} from chaos's role, so rollback could not prove that no application row references chaos's rows (connect as a role with BYPASSRLS, or leave the table out)`;
  }
  return undefined;
}

/** The plan names every trigger chaos's rows will fire, at insert and at rollback, and what becomes of their writes. */
function triggerNote(kind: string, tables: Table[]): string {
  const list = (event: "INSERT" | "DELETE") =>
    tables
      .filter((table) => triggersOn(table, event).length)
      .map((table) => `${table.qualifiedName} (${triggersOn(table, event).join(", ")})`)
      .join(", ");
  const inserts = list("INSERT");
  const deletes = list("DELETE");
  if (kind === "postgres") {
    return (
      (inserts
        ? `; INSERT triggers will fire on ${inserts}: rows they insert elsewhere are deleted at rollback, other writes are listed`
        : "") +
      (deletes
        ? `; DELETE triggers will fire at rollback on ${deletes}: rows they insert are removed, any other write keeps chaos's rows and is reported`
        : "")
    );
  }
  return (
    (inserts ? `; INSERT triggers will fire on ${inserts}: MySQL cannot tell which rows they write, so their effects are not undone` : "") +
    (deletes ? `; DELETE triggers will fire at rollback on ${deletes}: MySQL cannot tell what they write, the report says so` : "")
  );
}

function* makeRows(plan: RowPlan, count: number): Generator<(string | null)[]> {
  for (let index = 0; index < count; index++) yield plan.makeRow();
}

/** Drops the oldest batches that the newest `parentChoices` keys do not need: children pick among those only. */
function keepNewestKeys(batches: InsertUndo[]): void {
  let kept = 0;
  let first = batches.length;
  while (first > 0 && kept < parentChoices) kept += undoKeyCount(batches[--first] as InsertUndo);
  batches.splice(0, first);
}

/**
 * Calls `start` whenever fewer than `limit` calls are running, as long as `more()` says so.
 * Waits for every call it started, even after one failed (a batch still running must be
 * journaled before the skill returns), then throws the first failure.
 */
async function boundedConcurrency(limit: number, more: () => boolean, start: () => Promise<void>): Promise<void> {
  const running = new Set<Promise<void>>();
  let failure: { error: unknown } | undefined;
  while (!failure && more()) {
    const call: Promise<void> = start()
      .catch((error: unknown) => {
        failure ??= { error };
      })
      .finally(() => running.delete(call));
    running.add(call);
    if (running.size >= limit) await Promise.race(running);
  }
  await Promise.all(running);
  if (failure) throw failure.error;
}

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
    try {
      return await insertBatch(session, table, plan.columns, makeRows(plan, size), journal);
    } catch (error) {
      const violation = session.dialect.isConstraintViolation(error);
      if (!violation) throw error;
      lastError = error;
    }
  }
  const unread = plan.unknownChecks.length ? ` (CHECK chaos could not read: ${plan.unknownChecks.join("; ")})` : "";
  return `generated rows kept breaking a constraint: ${(lastError as Error).message}${unread}`;
}

/** Where chaos's ascending integer keys start: above the largest value in each countable column. */
async function largestKeys(session: DatabaseSession, table: Table): Promise<Counters> {
  const counters: Counters = new Map();
  for (const column of countableColumns(table)) {
    const { dialect } = session;
    // MAX in a derived table, so the column is read back through the dialect's own text form.
    const { rows } = await session.client.query<{ largest: string | null }>(
      `SELECT ${dialect.textOf(column, "m")} AS largest FROM (SELECT MAX(${dialect.quote(column.name)}) AS ${dialect.quote(column.name)} FROM ${dialect.table(table)}) m`,
    );
    counters.set(column.name, BigInt(rows[0]?.largest ?? 0));
  }
  return counters;
}

/** Keys each foreign key may point at: rows chaos just inserted into the parent, then existing ones. */
async function parentKeys(session: DatabaseSession, table: Table, recentBatches: Map<string, InsertUndo[]>): Promise<ParentKeys> {
  const result: ParentKeys = new Map();
  const schema = await session.schema();
  for (const foreignKey of table.foreignKeys) {
    const parent = schema.tables.find((candidate) => candidate.qualifiedName === foreignKey.referencedTable);
    if (!parent) continue;
    const referenced = foreignKey.referencedColumns.map((name) => columnOf(parent, name));
    const { rows } = await session.client.query(
      `SELECT ${keyText(session.dialect, referenced)} FROM ${session.dialect.table(parent)} WHERE ${referenced
        .map((column) => `${session.dialect.quote(column.name)} IS NOT NULL`)
        .join(" AND ")} LIMIT ${parentChoices}`,
    );
    const fresh =
      rowKeyOf(parent)?.join() === foreignKey.referencedColumns.join()
        ? (recentBatches.get(parent.qualifiedName) ?? []).flatMap((undo) => [...undoKeys(undo)])
        : [];
    result.set(foreignKey.name, [...fresh.slice(-parentChoices), ...toKeys(rows, referenced.length)]);
  }
  return result;
}
