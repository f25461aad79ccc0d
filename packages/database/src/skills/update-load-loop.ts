import { setTimeout as sleep } from "node:timers/promises";
import type { Metrics } from "@chaos-agents/core";
import type { DatabaseSession } from "../database-session.js";
import { chunks, keyText, toKeys } from "../sql/key-sets.js";
import { LatencyRecorder } from "../values/latency.js";
import { type BatchResult, type CommitMarker, type TableUpdatePlan, type UpdateUndo, updateBatch } from "./update-batch.js";

export interface UpdateLoadOptions {
  session: DatabaseSession;
  tables: TableUpdatePlan[];
  rowsPerTable: number;
  batchSize: number;
  /** Rows per second across all tables; undefined: as fast as the server allows. */
  rate?: number;
  record: (step: UpdateUndo | CommitMarker) => Promise<number>;
  /** Batch ids that committed, shared with rollback in this process. */
  committed: Set<string>;
  progress(done: number, total: number, note?: string): void;
}

/** Tries per batch: a deadlock or lock timeout against the application rolls the batch back whole, so it can simply run again. */
const batchAttempts = 5;

/**
 * Picks each table's rows once (at random, without locking), then updates them batch by
 * batch, once or (sustain) pass after pass until `stop` aborts.
 */
export async function runUpdateLoad(options: UpdateLoadOptions & { stop: AbortSignal; sustain: boolean }): Promise<Metrics> {
  const { session, tables, stop } = options;
  const keysByTable = new Map<TableUpdatePlan, string[][]>();
  for (const plan of tables) keysByTable.set(plan, await pickRows(session, plan, options.rowsPerTable));
  const latency = new LatencyRecorder();
  const started = performance.now();
  let rowsUpdated = 0;
  let rowsChanged = 0;
  let batches = 0;
  let retries = 0;
  let passes = 0;
  do {
    for (const [index, plan] of tables.entries()) {
      for (const keys of chunks(keysByTable.get(plan) ?? [], batchRows(options))) {
        if (stop.aborted) break;
        const batchStart = performance.now();
        const result = await withRetries(
          () => updateBatch(session, plan, keys, options.record, options.committed),
          () => retries++,
        );
        latency.record(performance.now() - batchStart);
        rowsUpdated += result.written;
        rowsChanged += result.changed;
        batches++;
        if (options.rate) await keepRate(rowsUpdated, options.rate, started, stop);
      }
      if (!options.sustain) options.progress(index + 1, tables.length, `${plan.table.qualifiedName}`);
    }
    passes++;
  } while (options.sustain && !stop.aborted && rowsUpdated > 0);
  const seconds = (performance.now() - started) / 1000;
  return {
    rows_updated: rowsUpdated,
    rows_changed: rowsChanged,
    rows_per_second: Math.round(rowsUpdated / Math.max(seconds, 0.001)),
    batches,
    passes,
    batch_retries: retries,
    ...latency.percentiles("batch"),
  };
}

/** Up to rows_per_table keys chosen at random; read without locks, so the application is not held up. */
async function pickRows(session: DatabaseSession, plan: TableUpdatePlan, count: number): Promise<string[][]> {
  const { dialect } = session;
  const random = dialect.kind === "postgres" ? "random()" : "RAND()";
  const { rows } = await session.client.query(
    `SELECT ${keyText(dialect, plan.keyColumns)} FROM ${dialect.table(plan.table)} ORDER BY ${random} LIMIT ${Math.floor(count)}`,
  );
  return toKeys(rows, plan.keyColumns.length);
}

/** With a rate, batches of about a tenth of a second's rows, so the load is smooth rather than bursty. */
function batchRows(options: UpdateLoadOptions): number {
  if (!options.rate) return options.batchSize;
  return Math.max(1, Math.min(options.batchSize, Math.round(options.rate / 10)));
}

async function keepRate(rowsUpdated: number, rate: number, started: number, stop: AbortSignal): Promise<void> {
  const due = started + (rowsUpdated / rate) * 1000;
  const wait = due - performance.now();
  if (wait > 0) await sleep(wait, undefined, { signal: stop }).catch(() => undefined);
}

async function withRetries(batch: () => Promise<BatchResult>, onRetry: () => void): Promise<BatchResult> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await batch();
    } catch (error) {
      if (attempt >= batchAttempts || !isLockConflict(error)) throw error;
      onRetry();
      await sleep(20 * attempt);
    }
  }
}

/** Deadlock, serialization failure or lock wait timeout: the server rolled the whole batch back. */
function isLockConflict(error: unknown): boolean {
  const { code, errno } = error as { code?: string; errno?: number };
  return code === "40P01" || code === "40001" || code === "55P03" || errno === 1213 || errno === 1205;
}
