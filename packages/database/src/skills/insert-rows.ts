import type { UndoJournal } from "@chaos-agents/core";
import type { DatabaseSession } from "../database-session.js";
import { type Column, columnOf, rowKeyOf, type Table } from "../discovery/database-schema.js";
import { expandRuns, type KeyRun, KeyRunCollector } from "../sql/key-runs.js";
import { keysIn, keyText, runsCondition } from "../sql/key-sets.js";
import { rowFingerprint, rowHash } from "../sql/row-fingerprint.js";
import type { SqlExecutor } from "../sql/sql-client.js";
import { type ChaosRows, chaosRowCount, chaosRowKeys } from "./chaos-rows.js";
import { crashPoint } from "./crash-points.js";
import { captureTriggerWrites, type TriggerCapture, type TriggerWrites, triggersOn, writeCountsBeforeInsert } from "./trigger-writes.js";

/** Undo of one INSERT batch: exactly the rows chaos wrote, as stored, and how to prove they committed. */
export type InsertUndo = ChaosRows & {
  /** Rows triggers wrote in other tables that chaos cannot call its own: reported by rollback. */
  triggerWrites: TriggerWrites;
  /** Rows triggers inserted in other tables that provably came from chaos's statement: deleted by rollback. */
  triggerRows?: ChaosRows[];
};

/** Every key an undo names, in order. */
export const undoKeys = chaosRowKeys;
/** How many rows an undo names. */
export const undoKeyCount = chaosRowCount;

/** Keys and fingerprints of a batch's rows, read back from the database. */
type StoredRows = Pick<ChaosRows, "keys" | "keyRuns" | "fingerprints" | "contentHash">;

/**
 * A BEFORE INSERT trigger may change what is stored, the key included, so only the database
 * can say which keys chaos's rows got.
 */
export function rewritesInsertedRows(table: Table): boolean {
  return triggersOn(table, "INSERT", "BEFORE").length > 0;
}

/**
 * Inserts one batch and journals the keys the database stored for the new rows, with each
 * row's fingerprint and (PostgreSQL) the transaction id, before COMMIT (write-ahead): a crash
 * before the journal write leaves nothing committed; after it, rollback asks whether the
 * transaction committed and deletes only rows that still are what chaos wrote.
 */
export async function insertBatch(
  session: DatabaseSession,
  table: Table,
  columns: Column[],
  rows: Iterable<(string | null)[]>,
  journal: UndoJournal,
): Promise<InsertUndo> {
  const { dialect } = session;
  const schema = await session.schema();
  const keyColumns = (rowKeyOf(table) ?? []).map((name) => columnOf(table, name));
  // PostgreSQL proves a row is chaos's by its xmin, plus one content hash sum per batch for rows
  // touched and put back since; MySQL by a fingerprint of each row's content. Both are computed
  // by the server as the rows are read back.
  const returned = `${keyText(dialect, keyColumns)}, ${
    dialect.kind === "mysql" ? `${rowFingerprint(dialect, table.columns)} AS fp` : `${rowHash(dialect, table.columns)}::text AS hash`
  }`;
  /** Journals the batch's undo (before COMMIT, as every caller does) and returns it. */
  // Durable before the COMMIT that makes the rows visible: callers return it awaited inside the transaction.
  const journaled = async (
    stored: StoredRows,
    transaction?: string,
    triggers: TriggerCapture = { owned: [], listed: {} },
  ): Promise<InsertUndo> => {
    const undo: InsertUndo = {
      table: table.qualifiedName,
      keyColumns: keyColumns.map((column) => column.name),
      ...stored,
      columns: table.columns.map((column) => column.name),
      ...(transaction ? { transaction } : {}),
      triggerWrites: triggers.listed,
      ...(triggers.owned.length ? { triggerRows: triggers.owned.map((rows) => ({ ...rows, transaction })) } : {}),
    };
    await journal.record(undo);
    crashPoint("insert-commit");
    return undo;
  };
  const rewritten = rewritesInsertedRows(table);
  if (rewritten && dialect.kind === "mysql" && !schema.supportsReturning) {
    throw new Error(`${table.qualifiedName}: a BEFORE INSERT trigger may change the keys, and MySQL cannot return the stored ones`);
  }

  // Keys chaos writes itself are known once the INSERT succeeded (a duplicate would have
  // failed it), unless a trigger may rewrite them: they are collected as rows are made.
  const written = keyColumns.map((column) => columns.findIndex((candidate) => candidate.name === column.name));
  const ownKeys: string[][] | undefined = !rewritten && written.every((index) => index >= 0) ? [] : undefined;
  const runs = ownKeys && keyColumns.length === 1 && keyColumns[0]?.kind === "integer" ? new KeyRunCollector() : undefined;
  const tracked = runs ? collectRuns(rows, written[0] as number, runs) : ownKeys ? collectKeys(rows, written, ownKeys) : rows;
  /** Reads the rows chaos just wrote back by their keys: what the database stored, with fingerprints. */
  const readBack = async (executor: SqlExecutor, count: number) => {
    const keyRuns = runs?.finish() ?? [];
    const condition = runs ? runsCondition(dialect, keyColumns[0] as Column, keyRuns) : keysIn(dialect, keyColumns, ownKeys ?? []);
    const { rows: stored } = await executor.query(
      `SELECT ${returned} FROM ${dialect.table(table)} WHERE ${condition.sql}`,
      condition.params,
    );
    return storedRows(table, keyColumns.length, count, stored, runs ? keyRuns : undefined);
  };

  /** Counted keys: one aggregate over their range gives the batch's content hash and proves the count. */
  const sumOfRun = async (executor: SqlExecutor, count: number): Promise<StoredRows> => {
    const keyRuns = runs?.finish() ?? [];
    const condition = runsCondition(dialect, keyColumns[0] as Column, keyRuns);
    const { rows: sums } = await executor.query<{ rows: string; total: string }>(
      `SELECT COUNT(*)::text AS rows, COALESCE(SUM(${rowHash(dialect, table.columns)}), 0)::text AS total FROM ${dialect.table(table)} WHERE ${condition.sql}`,
      condition.params,
    );
    if (Number(sums[0]?.rows) !== count) {
      throw new Error(`${table.qualifiedName}: ${count} row(s) copied but ${sums[0]?.rows} found under the keys chaos gave them`);
    }
    return { keys: [], keyRuns, contentHash: sums[0]?.total ?? "0" };
  };

  if (dialect.kind === "postgres") {
    return session.client.transaction(async (executor) => {
      // The keys are journaled (fsynced) before COMMIT, so this COMMIT need not wait for its own
      // WAL flush: if the server loses it in a crash, rollback finds the transaction aborted.
      await executor.query("SET LOCAL synchronous_commit = off");
      const before = await writeCountsBeforeInsert(executor, session, table);
      const names = columns.map((column) => dialect.quote(column.name)).join(", ");
      let stored: StoredRows;
      if (ownKeys && executor.copyRows) {
        // Keys known in advance: COPY, the fastest way in. No BEFORE INSERT trigger can change
        // them (COPY runs no rules), so counted integer keys are stored as written; other keys
        // are read back once for the database's own text of them.
        const count = await executor.copyRows(`COPY ${dialect.table(table)} (${names}) FROM STDIN`, tracked);
        stored = runs ? await sumOfRun(executor, count) : await readBack(executor, count);
      } else {
        const casts = columns.map((column, index) => `u.c${index}::${column.sqlType}`).join(", ");
        const arrays = columns.map((_, index) => `$${index + 1}::text[]`).join(", ");
        const aliases = columns.map((_, index) => `c${index}`).join(", ");
        const list = [...tracked];
        const { rows: inserted } = await executor.query(
          `INSERT INTO ${dialect.table(table)} (${names}) SELECT ${casts} FROM unnest(${arrays}) AS u(${aliases}) RETURNING ${returned}`,
          columns.map((_, index) => list.map((row) => row[index] ?? null)),
        );
        stored = storedRows(table, keyColumns.length, list.length, inserted);
      }
      const { rows: transaction } = await executor.query<{ id: string }>("SELECT txid_current()::text AS id");
      return await journaled(stored, transaction[0]?.id, await captureTriggerWrites(executor, session, table, before));
    });
  }

  const list = [...tracked];
  const values = `(${columns.map((column) => dialect.fromText("?", column)).join(", ")})`;
  const insert = `INSERT INTO ${dialect.table(table)} (${columns.map((column) => dialect.quote(column.name)).join(", ")}) VALUES `;
  const params = list.flat();
  if (ownKeys) {
    return session.client.transaction(async (executor) => {
      await executor.query(`${insert}${list.map(() => values).join(", ")}`, params);
      return await journaled(await readBack(executor, list.length));
    });
  }
  if (schema.supportsReturning) {
    return session.client.transaction(async (executor) => {
      const { rows: inserted } = await executor.query(`${insert}${list.map(() => values).join(", ")} RETURNING ${returned}`, params);
      return await journaled(storedRows(table, keyColumns.length, list.length, inserted));
    });
  }

  // MySQL has no RETURNING: an auto-increment key is read from LAST_INSERT_ID() row by row,
  // the one provable way, then the rows are read back for their fingerprints.
  return session.client.transaction(async (executor) => {
    const keys: string[][] = [];
    for (const row of list) keys.push(await insertOneReadingAutoIncrement(executor, `${insert}${values}`, row, keyColumns, columns));
    const condition = keysIn(dialect, keyColumns, keys);
    const { rows: stored } = await executor.query(
      `SELECT ${returned} FROM ${dialect.table(table)} WHERE ${condition.sql}`,
      condition.params,
    );
    return await journaled(storedRows(table, keyColumns.length, list.length, stored));
  });
}

/**
 * The keys and fingerprints of rows read back, checked against how many chaos inserted: a
 * count that differs means the rows are not under the keys chaos gave them (a rule or trigger
 * moved them), and the batch is refused (its transaction rolls back) rather than journaled wrong.
 * With `runs`, the keys stay runs and the fingerprints follow their order.
 */
function storedRows(table: Table, width: number, count: number, rows: Record<string, unknown>[], runs?: KeyRun[]): StoredRows {
  if (rows.length !== count) {
    throw new Error(
      `${table.qualifiedName}: ${count} row(s) inserted but ${rows.length} found under the keys chaos gave them (a rule or trigger changed them); chaos will not insert where it cannot name what it wrote`,
    );
  }
  const keyOf = (row: Record<string, unknown>) => Array.from({ length: width }, (_, index) => String(row[`k${index}`]));
  const fingerprinted = rows.length > 0 && "fp" in (rows[0] as object);
  const proof = fingerprinted
    ? { fingerprints: rows.map((row) => String(row.fp)).join("") }
    : { contentHash: String(rows.reduce((sum, row) => sum + BigInt(String(row.hash ?? 0)), 0n)) };
  if (!runs) return { keys: rows.map(keyOf), keyRuns: [], ...proof };
  const byKey = new Map(rows.map((row) => [String(row.k0), String(row.fp)]));
  let fingerprints = "";
  for (const [key] of expandRuns(runs)) {
    const found = byKey.get(key as string);
    if (found === undefined) throw new Error(`${table.qualifiedName}: chaos's row ${key} is not where chaos put it`);
    fingerprints += found;
  }
  return { keys: [], keyRuns: runs, fingerprints };
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
