import type { DatabaseSession } from "../database-session.js";
import { columnOf, rowKeyOf, type Table } from "../discovery/database-schema.js";
import { keyText, toKeys } from "../sql/key-sets.js";
import type { SqlExecutor } from "../sql/sql-client.js";
import type { ChaosRows } from "./chaos-rows.js";
import { rowsWrittenInTransaction, type WriteCounts, writeCounts, writesSince } from "./transaction-writes.js";

/** Rows of other tables that triggers wrote in the current transaction, by table, as keys. */
export type TriggerWrites = Record<string, string[][]>;

/** What triggers fired by chaos's statement wrote: rows chaos can prove it inserted, and the rest. */
export interface TriggerCapture {
  /** Rows inserted into tables the transaction only inserted into: chaos's own, deleted at rollback. */
  owned: ChaosRows[];
  /** Rows updated or deleted (or in tables chaos cannot key): left in place and listed. */
  listed: TriggerWrites;
}

/** The names of the row triggers on `table` that fire on `event` (from the definitions discovery read). */
export function triggersOn(table: Table, event: "INSERT" | "DELETE" | "UPDATE", timing?: "BEFORE" | "AFTER"): string[] {
  return table.triggers
    .filter((trigger) => {
      // PostgreSQL: "CREATE TRIGGER name BEFORE INSERT OR UPDATE ON …"; MySQL: "BEFORE INSERT: statement".
      const head = trigger.definition.match(/(?:^|\s)(BEFORE|AFTER|INSTEAD OF)\s+(.+?)(?:\s+ON\s|:)/i);
      if (!head) return true; // unreadable: assume it fires
      return (!timing || head[1]?.toUpperCase() === timing) && new RegExp(`\\b${event}\\b`, "i").test(head[2] ?? "");
    })
    .map((trigger) => trigger.name);
}

/**
 * On PostgreSQL the transaction's write counts name every table a trigger wrote, and each
 * row version the transaction wrote carries its xid in `xmin`. A table the transaction only
 * inserted into holds nothing but rows chaos's statement caused: those are chaos's, journaled
 * with their fingerprints and deleted at rollback. Updates and deletes are listed.
 */
export async function captureTriggerWrites(
  executor: SqlExecutor,
  session: DatabaseSession,
  table: Table,
  before: WriteCounts | undefined,
): Promise<TriggerCapture> {
  const capture: TriggerCapture = { owned: [], listed: {} };
  if (!before) return capture;
  const schema = await session.schema();
  for (const writes of await writesSince(executor, before)) {
    if (writes.table === table.qualifiedName) continue;
    const other = schema.tables.find((candidate) => candidate.qualifiedName === writes.table);
    const keys = other && (await rowsWrittenInTransaction(executor, session, other));
    if (other && keys && writes.updated === 0 && writes.deleted === 0) {
      // Proven chaos's by their xmin, which the journaled transaction id matches (see ChaosRows).
      capture.owned.push({
        table: other.qualifiedName,
        keyColumns: rowKeyOf(other) ?? [],
        keys,
        keyRuns: [],
        columns: other.columns.map((column) => column.name),
      });
    } else capture.listed[writes.table] = keys ?? [];
  }
  return capture;
}

/**
 * On PostgreSQL every row version the current transaction wrote carries its xid in `xmin`,
 * so the rows a trigger wrote alongside chaos's UPDATE (db.update_load) can be named exactly.
 * Scans the other tables of the discovered schemas: only called for tables that have triggers.
 */
export async function findTriggerWrites(executor: SqlExecutor, session: DatabaseSession, table: Table): Promise<TriggerWrites> {
  if (session.dialect.kind !== "postgres" || table.triggers.length === 0) return {};
  const schema = await session.schema();
  const writes: TriggerWrites = {};
  for (const other of schema.tables) {
    const key = rowKeyOf(other);
    if (other === table || !key) continue;
    const { rows } = await executor.query(
      `SELECT ${keyText(
        session.dialect,
        key.map((name) => columnOf(other, name)),
      )} FROM ${session.dialect.table(other)}
        WHERE xmin::text::bigint = txid_current() % 4294967296`,
    );
    if (rows.length > 0) writes[other.qualifiedName] = toKeys(rows, key.length);
  }
  return writes;
}

/** What a report says about trigger writes chaos leaves in place. */
export function describeTriggerWrites(writes: TriggerWrites | undefined, cause: string): string[] {
  return Object.entries(writes ?? {}).map(
    ([table, keys]) =>
      `${table}: ${keys.length} row(s) written by a trigger on ${cause} are left in place (keys ${keys
        .slice(0, 20)
        .map((key) => `(${key.join(", ")})`)
        .join(" ")}${keys.length > 20 ? " …" : ""})`,
  );
}

/** The write counts to compare with after an INSERT, where triggers may write elsewhere (PostgreSQL only). */
export async function writeCountsBeforeInsert(
  executor: SqlExecutor,
  session: DatabaseSession,
  table: Table,
): Promise<WriteCounts | undefined> {
  return session.dialect.kind === "postgres" && table.triggers.length > 0 ? writeCounts(executor) : undefined;
}
