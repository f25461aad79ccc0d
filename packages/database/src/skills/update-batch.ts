import { randomUUID } from "node:crypto";
import type { DatabaseSession } from "../database-session.js";
import type { Column, Table } from "../discovery/database-schema.js";
import type { parseChecks } from "../values/check-constraints.js";
import { findTriggerWrites, type TriggerWrites } from "./trigger-writes.js";
import { writeRandomValues } from "./update-random-values.js";
import { rewriteRows } from "./update-rewrite.js";
import { keyId, type RowImage, readRowImages } from "./update-row-images.js";
import { triggersWritingElsewhere } from "./update-triggers.js";

/** How db.update_load writes: the same values again (`rewrite`) or new random ones (`random`). */
export type UpdateMode = "rewrite" | "random";

/** Undo of one batch: before- and after-images of the rows whose values chaos's statements changed. */
export type UpdateUndo = {
  table: string;
  keyColumns: string[];
  /** The columns of each image (older journals: only the columns chaos wrote). */
  columns: string[];
  /** Only rows where at least one column differs between before and after. */
  rows: { key: string[]; before: RowImage; after: RowImage }[];
  /** Additive numeric columns: the rollback keeps the application's deltas in them. */
  compensate?: string[];
  /** Rows of other tables that triggers wrote during this batch (PostgreSQL, by xmin). */
  triggerWrites?: TriggerWrites;
  /** MySQL: UPDATE triggers chaos's statements fired, whose writes elsewhere cannot be listed there. */
  triggersFired?: string[];
  /** Names this batch in the runtime's set of committed batches (same process). */
  batch?: string;
  /** PostgreSQL: the batch's transaction id, so `chaos recover` can ask whether it committed. */
  transaction?: string;
};

/**
 * Journaled right after a batch's COMMIT where the server cannot say later whether it
 * committed (MySQL) and compensation depends on it. Being newer, it is rolled back first
 * and leaves the proof in the runtime for the batch's own step.
 */
export type CommitMarker = { committedBatch: string; table: string };

/** Runtime key of the batches this process saw commit: the journal is written before COMMIT, so it may name a batch that never committed. */
export const committedBatchesKey = "db.update_load committed batches";

/** Everything one table's batches need, decided once per table. */
export interface TableUpdatePlan {
  table: Table;
  keyColumns: Column[];
  /** Columns of the row images chaos captures before and after its statements. */
  imageColumns: Column[];
  mode: UpdateMode;
  /** random: the columns chaos writes new values into, and how it makes them. */
  columns: Column[];
  makers: (() => string | null)[];
  rules: ReturnType<typeof parseChecks>["rules"];
  /** rewrite: the column written with its own value (PostgreSQL: the first) or changed and changed back (MySQL: the first a CHECK allows). */
  rewriteColumns: Column[];
  compensate: string[];
}

export interface BatchResult {
  /** Rows the server wrote. */
  written: number;
  /** Rows whose values the application can see changed after the batch (random values, trigger stamps). */
  changed: number;
}

/**
 * One bounded transaction: lock the batch's rows in key order, read their images, write,
 * read the images again and journal the rows that differ before COMMIT (the undo is durable
 * before anything is visible). Bounded so locks, savepoints and the lock table stay small
 * whatever `rows_per_table` is.
 */
export async function updateBatch(
  session: DatabaseSession,
  plan: TableUpdatePlan,
  keys: string[][],
  record: (step: UpdateUndo | CommitMarker) => Promise<number>,
  committed: Set<string>,
): Promise<BatchResult> {
  const { dialect } = session;
  const { table, keyColumns, imageColumns } = plan;
  const batch = randomUUID();
  const result = await session.client.transaction(async (executor) => {
    const before = await readRowImages(executor, dialect, table, keyColumns, imageColumns, keys, true);
    const lockedKeys = [...before.keys()].map((id) => JSON.parse(id) as string[]);
    if (lockedKeys.length === 0) return { written: 0, changed: 0, journaled: false };
    const written =
      plan.mode === "rewrite"
        ? await rewriteRows(executor, dialect, table, keyColumns, plan.rewriteColumns, lockedKeys)
        : await writeRandomValues(executor, session, plan, lockedKeys);
    const after = await readRowImages(executor, dialect, table, keyColumns, imageColumns, lockedKeys, false);
    const rows: UpdateUndo["rows"] = [];
    for (const key of lockedKeys) {
      const id = keyId(key);
      const beforeImage = before.get(id) as RowImage;
      const afterImage = after.get(id);
      if (afterImage?.some((value, index) => value !== beforeImage[index])) rows.push({ key, before: beforeImage, after: afterImage });
    }
    const triggerWrites = await findTriggerWrites(executor, session, table);
    const triggersFired = dialect.kind === "mysql" ? triggersWritingElsewhere(table) : [];
    if (rows.length > 0 || Object.keys(triggerWrites).length > 0 || triggersFired.length > 0) {
      const transaction =
        dialect.kind === "postgres"
          ? String((await executor.query<{ id: string }>("SELECT pg_current_xact_id()::text AS id")).rows[0]?.id)
          : undefined;
      await record({
        batch,
        ...(transaction ? { transaction } : {}),
        table: table.qualifiedName,
        keyColumns: keyColumns.map((column) => column.name),
        columns: imageColumns.map((column) => column.name),
        rows,
        ...(plan.compensate.length ? { compensate: plan.compensate } : {}),
        ...(Object.keys(triggerWrites).length ? { triggerWrites } : {}),
        ...(triggersFired.length ? { triggersFired } : {}),
      });
    }
    return { written, changed: rows.length, journaled: rows.length > 0 };
  });
  committed.add(batch);
  if (result.journaled && plan.compensate.length > 0 && dialect.kind === "mysql")
    await record({ committedBatch: batch, table: table.qualifiedName });
  return { written: result.written, changed: result.changed };
}
