import type { UndoJournal } from "@chaos-agents/core";
import type { DatabaseSession } from "../database-session.js";
import { type Column, columnOf, rowKeyOf, type Table } from "../discovery/database-schema.js";
import { expandRuns, type KeyRun, KeyRunCollector, runLength } from "../sql/key-runs.js";
import { keyText, toKeys } from "../sql/key-sets.js";
import type { SqlExecutor } from "../sql/sql-client.js";
import { findTriggerWrites, type TriggerWrites } from "./trigger-writes.js";

/** Undo of one committed INSERT batch: the keys of exactly the rows chaos wrote. */
export interface InsertUndo {
  [key: string]: string | string[] | string[][] | TriggerWrites;
  table: string;
  keyColumns: string[];
  /** One tuple per row (composite keys, text keys, keys the server made). */
  keys: string[][];
  /** A single integer key chaos wrote itself, as runs of consecutive values (`keys` is then empty). */
  keyRuns: KeyRun[];
  /** Rows triggers wrote in other tables in the same transaction (PostgreSQL), reported by rollback. */
  triggerWrites: TriggerWrites;
}

/** Every key an undo names, in order. */
export function* undoKeys(undo: InsertUndo): Generator<string[]> {
  yield* undo.keys;
  yield* expandRuns(undo.keyRuns ?? []); // `??`: a journal written before runs existed has none
}

/** How many rows an undo names. */
export function undoKeyCount(undo: InsertUndo): number {
  return undo.keys.length + runLength(undo.keyRuns ?? []);
}

/**
 * Inserts one batch and journals the keys of the new rows before COMMIT (write-ahead): a
 * crash before the journal write leaves nothing committed, a crash after it leaves keys
 * whose undo is a harmless no-op if the COMMIT never happened. Returns what it journaled.
 */
export async function insertBatch(
  session: DatabaseSession,
  table: Table,
  columns: Column[],
  rows: Iterable<(string | null)[]>,
  journal: UndoJournal,
): Promise<InsertUndo> {
  const keyColumns = (rowKeyOf(table) ?? []).map((name) => columnOf(table, name));
  /** Journals the batch's undo (before COMMIT, as every caller does) and returns it. */
  const journaled = (keys: string[][], triggerWrites: TriggerWrites = {}): InsertUndo => {
    const undo: InsertUndo = {
      table: table.qualifiedName,
      keyColumns: keyColumns.map((column) => column.name),
      keys,
      keyRuns: runs ? runs.finish() : [],
      triggerWrites,
    };
    journal.record(undo);
    return undo;
  };
  const { dialect } = session;
  const schema = await session.schema();

  // Keys chaos writes itself are known once the INSERT succeeded (a duplicate would have
  // failed it, so they cannot be an application's): they are collected as rows are made.
  const written = keyColumns.map((column) => columns.findIndex((candidate) => candidate.name === column.name));
  const ownKeys: string[][] | undefined = written.every((index) => index >= 0) ? [] : undefined;
  const runs = ownKeys && keyColumns.length === 1 && keyColumns[0]?.kind === "integer" ? new KeyRunCollector() : undefined;
  const tracked = runs ? collectRuns(rows, written[0] as number, runs) : ownKeys ? collectKeys(rows, written, ownKeys) : rows;

  if (dialect.kind === "postgres") {
    return session.client.transaction(async (executor) => {
      // The keys are journaled (fsynced) before COMMIT, so this COMMIT need not wait for its own
      // WAL flush: if the server loses it in a crash, deleting those keys is a no-op.
      await executor.query("SET LOCAL synchronous_commit = off");
      const names = columns.map((column) => dialect.quote(column.name)).join(", ");
      let inserted: Record<string, unknown>[] = [];
      if (ownKeys && executor.copyRows) {
        // Keys known in advance: COPY, the fastest way in, needs nothing read back.
        await executor.copyRows(`COPY ${dialect.table(table)} (${names}) FROM STDIN`, tracked);
      } else {
        const casts = columns.map((column, index) => `u.c${index}::${column.sqlType}`).join(", ");
        const arrays = columns.map((_, index) => `$${index + 1}::text[]`).join(", ");
        const aliases = columns.map((_, index) => `c${index}`).join(", ");
        const returning = ownKeys ? "" : ` RETURNING ${keyText(dialect, keyColumns)}`;
        const list = [...tracked];
        ({ rows: inserted } = await executor.query(
          `INSERT INTO ${dialect.table(table)} (${names}) SELECT ${casts} FROM unnest(${arrays}) AS u(${aliases})${returning}`,
          columns.map((_, index) => list.map((row) => row[index] ?? null)),
        ));
      }
      return journaled(ownKeys ?? toKeys(inserted, keyColumns.length), await findTriggerWrites(executor, session, table));
    });
  }

  const list = [...tracked];
  const values = `(${columns.map((column) => dialect.fromText("?", column)).join(", ")})`;
  const insert = `INSERT INTO ${dialect.table(table)} (${columns.map((column) => dialect.quote(column.name)).join(", ")}) VALUES `;
  const params = list.flat();
  if (ownKeys) {
    return session.client.transaction(async (executor) => {
      await executor.query(`${insert}${list.map(() => values).join(", ")}`, params);
      return journaled(ownKeys);
    });
  }
  if (schema.supportsReturning) {
    return session.client.transaction(async (executor) => {
      const { rows: inserted } = await executor.query(
        `${insert}${list.map(() => values).join(", ")} RETURNING ${keyText(dialect, keyColumns)}`,
        params,
      );
      return journaled(toKeys(inserted, keyColumns.length));
    });
  }

  // MySQL has no RETURNING: an auto-increment key is read from LAST_INSERT_ID() row by row,
  // the one provable way.
  return session.client.transaction(async (executor) => {
    const keys: string[][] = [];
    for (const row of list) keys.push(await insertOneReadingAutoIncrement(executor, `${insert}${values}`, row, keyColumns, columns));
    return journaled(keys);
  });
}

/** Passes rows through, noting the single integer key chaos generated for each as runs. */
function* collectRuns(rows: Iterable<(string | null)[]>, position: number, runs: KeyRunCollector): Generator<(string | null)[]> {
  for (const row of rows) {
    runs.add(String(row[position]));
    yield row;
  }
}

/** Passes rows through, noting the key values chaos generated for each. */
function* collectKeys(rows: Iterable<(string | null)[]>, positions: number[], keys: string[][]): Generator<(string | null)[]> {
  for (const row of rows) {
    keys.push(positions.map((index) => String(row[index])));
    yield row;
  }
}

async function insertOneReadingAutoIncrement(
  executor: SqlExecutor,
  sql: string,
  row: (string | null)[],
  keyColumns: Column[],
  columns: Column[],
): Promise<string[]> {
  await executor.query(sql, row);
  const { rows } = await executor.query<{ id: string }>("SELECT CAST(LAST_INSERT_ID() AS CHAR) AS id");
  const id = rows[0]?.id ?? "0";
  return keyColumns.map((column) => {
    const index = columns.findIndex((candidate) => candidate.name === column.name);
    return index >= 0 ? String(row[index]) : id;
  });
}
