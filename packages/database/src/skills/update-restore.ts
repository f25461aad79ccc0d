import { randomUUID } from "node:crypto";
import type { JsonValue, Logger, RollbackResult } from "@chaos-agents/core";
import type { DatabaseSession } from "../database-session.js";
import type { Column, Table } from "../discovery/database-schema.js";
import { chunks } from "../sql/key-sets.js";
import type { SqlExecutor } from "../sql/sql-client.js";
import { crashPoint } from "./crash-points.js";
import { describeTriggerWrites, findTriggerWrites } from "./trigger-writes.js";
import type { UpdateUndo } from "./update-batch.js";
import { createRestoreMarkerTable, restoreMarkerCommitted, restoreMarkerTable, writeRestoreMarker } from "./update-restore-marker.js";
import { keyId, readRowImages } from "./update-row-images.js";
import { triggersWritingElsewhere } from "./update-triggers.js";

/** Runtime key: the schema was read afresh for this rollback already. */
const schemaReadKey = "db.update_load schema read for rollback";

/** Rows read per statement while restoring (bounded statements; one journal step is at most batch_size rows). */
const restoreChunk = 500;

interface RestoreCounts {
  restored: number;
  compensated: number;
  conflicts: string[];
}

/** What a rollback step needs from its context to make its compensating restore crash-safe. */
export interface RestoreContext {
  experimentId: string;
  log: Logger;
  checkpoint?: JsonValue;
  saveCheckpoint(checkpoint: JsonValue): Promise<void>;
}

/**
 * What a try of a step leaves for the next one (`chaos recover` included).
 * Compensation subtracts chaos's change from the current value, so running it twice (a crash
 * after the restore's COMMIT, before the journal marks the step done) would subtract it twice:
 * just before COMMIT the restore journals how to find out later whether it committed.
 */
interface RestoreCheckpoint {
  /** PostgreSQL: the restore's transaction id, for pg_xact_status. */
  restoreTransaction?: string;
  /** MySQL/MariaDB: the marker row the restore writes in the same transaction, and its table. */
  restoreMarker?: string;
  markerTable?: string;
  /**
   * MySQL/MariaDB: this process saw the batch commit (its marker step, already done, cannot
   * tell a later process), so a try in `chaos recover` may still compensate.
   */
  batchCommitted?: boolean;
}

/** One column assignment of a restore, with its parameters. */
interface Assignment {
  column: Column;
  /** `before` as text, or for compensation `after - before`. */
  value: string | null;
  compensated: boolean;
}

/**
 * Puts back the before-image column by column, in the table as it is now:
 * - a column that still holds chaos's after-image gets its before-value;
 * - a compensated (additive) column the application changed since gets
 *   `current - (after - before)`: chaos's change is undone, the application's delta kept;
 * - any other column the application changed is a conflict, left as it is;
 * - a column that no longer exists (renamed, dropped) is reported with its rows, and the
 *   other columns are still restored.
 */
export async function restoreRows(
  session: DatabaseSession,
  undo: UpdateUndo,
  committedBatches: Set<string>,
  runtime: Map<string, unknown>,
  context: RestoreContext,
): Promise<RollbackResult> {
  const checkpoint: RestoreCheckpoint = { ...((context.checkpoint ?? {}) as RestoreCheckpoint) };
  const save = async (more: RestoreCheckpoint) => {
    Object.assign(checkpoint, more);
    await context.saveCheckpoint({ ...checkpoint });
  };
  const committed = checkpoint.batchCommitted ? true : await batchCommitted(session, undo, committedBatches);
  // The journal is written before COMMIT: a batch that never committed changed nothing.
  if (committed === false) return { summary: `${undo.table}: chaos's batch never committed; nothing to restore` };
  if (committed === true && undo.compensate?.length && session.dialect.kind === "mysql" && !checkpoint.batchCommitted)
    await save({ batchCommitted: true });
  const earlier = await earlierRestore(session, undo, checkpoint);
  if (earlier) return earlier;
  // Read afresh (once per rollback, not per step): the application may have renamed or dropped columns during the hold.
  const schema = await session.schema(!runtime.has(schemaReadKey));
  runtime.set(schemaReadKey, true);
  const table = schema.tables.find((candidate) => candidate.qualifiedName === undo.table);
  if (!table)
    return {
      conflicts: undo.rows.length ? [`${undo.table}: table no longer exists; ${undo.rows.length} updated row(s) cannot be restored`] : [],
    };
  const counts: RestoreCounts = { restored: 0, compensated: 0, conflicts: [] };
  const missingKey = undo.keyColumns.filter((name) => !table.columns.some((column) => column.name === name));
  if (missingKey.length) {
    counts.conflicts.push(
      `${table.qualifiedName}: key column(s) ${missingKey.join(", ")} no longer exist; ${undo.rows.length} row(s) cannot be found to restore`,
    );
  } else {
    reportMissingColumns(table, undo, counts);
    const markerTable = committed === true && undo.compensate?.length ? await markerTableFor(session, table, context) : undefined;
    // One transaction per step: a step that fails half-way leaves nothing done, so its retry
    // cannot compensate a row twice (compensation, unlike a plain restore, is not idempotent).
    const stepCounts = await session.client.transaction(async (executor) => {
      const inStep: RestoreCounts = { restored: 0, compensated: 0, conflicts: [] };
      const suppressed = await suppressTriggers(executor, session, table);
      for (const rows of chunks(undo.rows, restoreChunk))
        await restoreChunkOfRows(executor, session, table, undo, rows, inStep, committed === true);
      if (inStep.restored > 0 && !suppressed) inStep.conflicts.push(...(await restoreSideEffects(executor, session, table)));
      if (inStep.compensated > 0) await journalBeforeCommit(executor, session, save, markerTable);
      return inStep;
    });
    // Tests stop the process here: committed, and the journal does not know yet.
    if (stepCounts.compensated > 0) crashPoint("update-restore-commit");
    counts.restored = stepCounts.restored;
    counts.compensated = stepCounts.compensated;
    counts.conflicts.push(...stepCounts.conflicts);
  }
  counts.conflicts.push(...describeTriggerWrites(undo.triggerWrites, `UPDATE of ${undo.table}`));
  if (undo.triggersFired?.length)
    counts.conflicts.push(
      `${undo.table}: chaos's UPDATEs fired trigger(s) ${undo.triggersFired.join(", ")}; MySQL cannot list the rows they wrote in other tables`,
    );
  const compensated = counts.compensated ? `, compensated ${counts.compensated} (the application's deltas kept)` : "";
  return {
    summary: `restored ${counts.restored} row(s) of ${table.qualifiedName}${compensated}`,
    conflicts: counts.conflicts,
    metrics: { rows_restored: counts.restored, rows_compensated: counts.compensated },
  };
}

/**
 * What became of a compensating restore an earlier try of this step began: committed (the step
 * is done: doing it again would compensate twice), never committed (undefined: do it now), or
 * unknowable (nothing is touched, and the report says why).
 */
async function earlierRestore(
  session: DatabaseSession,
  undo: UpdateUndo,
  checkpoint: RestoreCheckpoint,
): Promise<RollbackResult | undefined> {
  const done = { summary: `${undo.table}: its compensating restore had committed before the rollback was interrupted; nothing left to do` };
  if (checkpoint.restoreMarker && checkpoint.markerTable)
    return (await restoreMarkerCommitted(session, checkpoint.markerTable, checkpoint.restoreMarker)) ? done : undefined;
  if (!checkpoint.restoreTransaction) return undefined;
  const { rows } = await session.client.query<{ status: string | null }>("SELECT pg_xact_status($1::xid8) AS status", [
    checkpoint.restoreTransaction,
  ]);
  const status = rows[0]?.status ?? null;
  if (status === "committed") return done;
  if (status === "aborted") return undefined;
  if (status === "in progress")
    throw new Error(
      `${undo.table}: chaos's earlier restore (transaction ${checkpoint.restoreTransaction}) is still in progress; retry when it has ended`,
    );
  return {
    conflicts: [
      `${undo.table}: chaos cannot tell whether its earlier compensating restore (transaction ${checkpoint.restoreTransaction}) committed: the commit log no longer knows it; its ${undo.rows.length} row(s) are left as they are rather than risk compensating twice`,
    ],
  };
}

/** MySQL: the marker table for this restore, created (outside the transaction) if need be. */
async function markerTableFor(session: DatabaseSession, table: Table, context: RestoreContext): Promise<string | undefined> {
  if (session.dialect.kind !== "mysql") return undefined;
  const markerTable = restoreMarkerTable(table.schema, context.experimentId);
  try {
    await createRestoreMarkerTable(session, markerTable);
    return markerTable;
  } catch (error) {
    context.log.warn(
      `db.update_load: cannot create chaos's marker table ${markerTable} (${(error as Error).message}); the compensating restore of ${table.qualifiedName} goes ahead, but a crash right after its COMMIT would leave recover unable to tell and compensate again`,
    );
    return undefined;
  }
}

/** Inside the restore's transaction, just before COMMIT: how a later try will know whether it committed. */
async function journalBeforeCommit(
  executor: SqlExecutor,
  session: DatabaseSession,
  save: (more: RestoreCheckpoint) => Promise<void>,
  markerTable: string | undefined,
): Promise<void> {
  if (session.dialect.kind === "postgres") {
    const { rows } = await executor.query<{ id: string }>("SELECT pg_current_xact_id()::text AS id");
    await save({ restoreTransaction: String(rows[0]?.id) });
    return;
  }
  if (!markerTable) return;
  const marker = randomUUID();
  await save({ restoreMarker: marker, markerTable });
  await writeRestoreMarker(executor, markerTable, marker);
}

/**
 * Whether the batch's transaction committed: known in the process that ran it, and on
 * PostgreSQL from the server (pg_xact_status) in `chaos recover` too; undefined when unknown.
 */
async function batchCommitted(session: DatabaseSession, undo: UpdateUndo, committedBatches: Set<string>): Promise<boolean | undefined> {
  if (undo.batch && committedBatches.has(undo.batch)) return true;
  if (!undo.transaction || session.dialect.kind !== "postgres") return undo.batch ? undefined : true;
  const { rows } = await session.client.query<{ status: string | null }>("SELECT pg_xact_status($1::xid8) AS status", [undo.transaction]);
  const status = rows[0]?.status;
  return status === "committed" ? true : status === "aborted" ? false : undefined;
}

/**
 * PostgreSQL: `session_replication_role = replica` for the restore's transaction, so the
 * table's ordinary triggers neither stamp the restored rows nor write elsewhere. Only a
 * superuser (or a role granted SET on it) may; otherwise the restore goes ahead and reports
 * what the triggers did. MySQL has no such switch.
 */
async function suppressTriggers(executor: SqlExecutor, session: DatabaseSession, table: Table): Promise<boolean> {
  if (session.dialect.kind !== "postgres" || table.triggers.length === 0) return false;
  await executor.query("SAVEPOINT chaos_suppress_triggers");
  try {
    await executor.query("SET LOCAL session_replication_role = replica");
    await executor.query("RELEASE SAVEPOINT chaos_suppress_triggers");
    return true;
  } catch {
    await executor.query("ROLLBACK TO SAVEPOINT chaos_suppress_triggers");
    return false;
  }
}

/** What the restore's own UPDATEs made triggers do elsewhere: listed on PostgreSQL, named on MySQL. */
async function restoreSideEffects(executor: SqlExecutor, session: DatabaseSession, table: Table): Promise<string[]> {
  if (session.dialect.kind === "postgres")
    return describeTriggerWrites(await findTriggerWrites(executor, session, table), `chaos's restore of ${table.qualifiedName}`);
  const triggers = triggersWritingElsewhere(table);
  if (triggers.length === 0) return [];
  return [
    `${table.qualifiedName}: chaos's restore fired trigger(s) ${triggers.join(", ")}; MySQL cannot list the rows they wrote in other tables`,
  ];
}

/** Names each column chaos changed that is gone now, and exactly which rows keep chaos's value in it. */
function reportMissingColumns(table: Table, undo: UpdateUndo, counts: RestoreCounts): void {
  undo.columns.forEach((name, index) => {
    if (table.columns.some((column) => column.name === name)) return;
    const keys = undo.rows.filter((row) => row.before[index] !== row.after[index]).map((row) => `(${row.key.join(", ")})`);
    if (keys.length === 0) return;
    counts.conflicts.push(
      `${table.qualifiedName}: column ${name} no longer exists (renamed or dropped during the hold); ${keys.length} row(s) keep chaos's value in it: ${keys.join(" ")}`,
    );
  });
}

async function restoreChunkOfRows(
  executor: SqlExecutor,
  session: DatabaseSession,
  table: Table,
  undo: UpdateUndo,
  rows: UpdateUndo["rows"],
  counts: RestoreCounts,
  provenCommitted: boolean,
): Promise<void> {
  const { dialect } = session;
  const keyColumns = undo.keyColumns.map((name) => table.columns.find((column) => column.name === name) as Column);
  // Columns that still exist, with their place in the journaled images.
  const present = undo.columns
    .map((name, index) => ({ column: table.columns.find((column) => column.name === name), index }))
    .filter((entry): entry is { column: Column; index: number } => entry.column !== undefined);
  const compensate = new Set(undo.compensate ?? []);
  const current = await readRowImages(
    executor,
    dialect,
    table,
    keyColumns,
    present.map((entry) => entry.column),
    rows.map((row) => row.key),
    true,
  );
  // What each restored row must hold afterwards, column by column (undefined: compensated, computed by the server).
  const expected = new Map<string, (string | null | undefined)[]>();
  for (const row of rows) {
    const now = current.get(keyId(row.key));
    const where = `${table.qualifiedName} row (${row.key.join(", ")})`;
    if (!now) {
      counts.conflicts.push(`${where} was deleted since chaos updated it`);
      continue;
    }
    const assignments: Assignment[] = [];
    let rowCompensated = false;
    present.forEach(({ column, index }, position) => {
      const before = row.before[index] ?? null;
      const after = row.after[index] ?? null;
      const value = now[position] ?? null;
      // A plain column already back at its before-value was restored (by an earlier try of
      // this step); an additive one there may hold an application delta that cancels chaos's.
      if (before === after || (value === before && !compensate.has(column.name))) return;
      if (value === after) {
        assignments.push({ column, value: before, compensated: false });
      } else if (compensate.has(column.name) && before !== null && after !== null && value !== null && provenCommitted) {
        assignments.push({ column, value: exactDifference(after, before), compensated: true });
        rowCompensated = true;
      } else if (compensate.has(column.name) && !provenCommitted) {
        // Subtracting a change that never committed would corrupt the column: report instead.
        counts.conflicts.push(
          `${where}: column ${column.name} not compensated: chaos cannot prove its batch committed (MySQL, a crash right after its COMMIT); chaos wrote ${shown(after)}, before ${shown(before)}, now ${shown(value)}`,
        );
      } else {
        counts.conflicts.push(
          `${where}: column ${column.name} was changed by someone else since chaos updated it (chaos wrote ${shown(after)}, now ${shown(value)}); left as it is`,
        );
      }
    });
    if (assignments.length === 0) continue;
    await assign(executor, session, table, keyColumns, row.key, assignments);
    counts.restored++;
    if (rowCompensated) counts.compensated++;
    expected.set(
      keyId(row.key),
      present.map(({ column }, position) => {
        const assignment = assignments.find((candidate) => candidate.column === column);
        return assignment ? (assignment.compensated ? undefined : assignment.value) : (now[position] ?? null);
      }),
    );
  }
  if (expected.size === 0) return;
  // The restoring UPDATE fires the table's triggers again: a stamp they write is reported, not hidden.
  const restoredKeys = rows.map((row) => row.key).filter((key) => expected.has(keyId(key)));
  const after = await readRowImages(
    executor,
    dialect,
    table,
    keyColumns,
    present.map((entry) => entry.column),
    restoredKeys,
    false,
  );
  for (const key of restoredKeys) {
    const image = after.get(keyId(key));
    (expected.get(keyId(key)) ?? []).forEach((value, position) => {
      const now = image?.[position] ?? null;
      if (value === undefined || now === value) return;
      counts.conflicts.push(
        `${table.qualifiedName} row (${key.join(", ")}): column ${present[position]?.column.name} was changed again by a trigger when chaos restored the row (now ${shown(now)}, before ${shown(value)}); chaos could not suppress the trigger`,
      );
    });
  }
}

/** One UPDATE of one locked row: before-values, or for compensated columns `c - (after - before)` computed by the server, exactly. */
async function assign(
  executor: SqlExecutor,
  session: DatabaseSession,
  table: Table,
  keyColumns: Column[],
  key: string[],
  assignments: Assignment[],
): Promise<void> {
  const { dialect } = session;
  let parameter = 0;
  const next = () => dialect.placeholder(++parameter);
  const sets = assignments.map(({ column, compensated }) => {
    const name = dialect.quote(column.name);
    if (!compensated) return `${name} = ${dialect.fromText(next(), column)}`;
    // An exact decimal on both engines (MySQL would turn a bare string into a double).
    const delta = dialect.kind === "postgres" ? `${next()}::numeric` : `CAST(${next()} AS DECIMAL(65, ${column.scale ?? 0}))`;
    return `${name} = ${name} - ${delta}`;
  });
  const where = keyColumns.map((column) => `${dialect.quote(column.name)} = ${dialect.fromText(next(), column)}`).join(" AND ");
  await executor.query(`UPDATE ${dialect.table(table)} SET ${sets.join(", ")} WHERE ${where}`, [
    ...assignments.map((assignment) => assignment.value),
    ...key,
  ]);
}

/** `after - before` of two decimal texts, exactly (no float on the way). */
export function exactDifference(after: string, before: string): string {
  const scale = Math.max(decimals(after), decimals(before));
  const difference = scaled(after, scale) - scaled(before, scale);
  const negative = difference < 0n;
  const digits = (negative ? -difference : difference).toString().padStart(scale + 1, "0");
  const whole = digits.slice(0, digits.length - scale);
  const fraction = scale ? `.${digits.slice(digits.length - scale)}` : "";
  return `${negative ? "-" : ""}${whole}${fraction}`;
}

function decimals(value: string): number {
  return value.split(".")[1]?.length ?? 0;
}

function scaled(value: string, scale: number): bigint {
  const [whole = "0", fraction = ""] = value.trim().split(".");
  return BigInt(`${whole}${fraction.padEnd(scale, "0")}`);
}

function shown(value: string | null): string {
  if (value === null) return "NULL";
  return value.length > 40 ? `${value.slice(0, 40)}…` : value;
}
