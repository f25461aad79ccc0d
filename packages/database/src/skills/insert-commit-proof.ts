import type { DatabaseSession } from "../database-session.js";
import type { Table } from "../discovery/database-schema.js";
import { keysIn } from "../sql/key-sets.js";
import type { InsertUndo } from "./insert-rows.js";
import { undoKeys } from "./insert-rows.js";

/**
 * Whether the transaction that inserted a batch committed. The keys were journaled before
 * COMMIT, so a batch whose COMMIT was lost (a kill, a dropped connection, a crash with
 * `synchronous_commit = off`) is in the journal too, and the application may since have
 * written rows under those keys. PostgreSQL answers from its commit log (`txid_status`);
 * where it cannot (MySQL, or a transaction older than the commit log keeps), the row
 * fingerprints are the proof: only a row that is exactly what chaos wrote is deleted.
 */
export type CommitProof = { status: "committed" | "fingerprints only" } | { status: "aborted" } | { status: "unproven"; reason: string };

export async function commitProof(session: DatabaseSession, undo: InsertUndo): Promise<CommitProof> {
  if (session.dialect.kind !== "postgres" || !undo.transaction) return { status: "fingerprints only" };
  const { rows } = await session.client.query<{ status: string | null }>("SELECT txid_status($1::bigint) AS status", [undo.transaction]);
  const status = rows[0]?.status ?? null;
  if (status === "committed") return { status: "committed" };
  if (status === "aborted") return { status: "aborted" };
  if (status === "in progress") {
    // The killed run's backend has not noticed yet; the step is retried (by this run or by recover).
    throw new Error(`transaction ${undo.transaction} that inserted into ${undo.table} is still in progress; retry when it has ended`);
  }
  return {
    status: "unproven",
    reason: `the commit log no longer knows transaction ${undo.transaction}, so chaos cannot prove it committed these rows`,
  };
}

/** The report line for a batch that never committed: nothing of it is in the database. */
export async function describeNeverCommitted(session: DatabaseSession, table: Table | undefined, undo: InsertUndo): Promise<string> {
  let present = 0;
  if (table) {
    const keyColumns = undo.keyColumns.map((name) => table.columns.find((column) => column.name === name));
    if (keyColumns.every((column) => column)) {
      const keys = [...undoKeys(undo)];
      for (let start = 0; start < keys.length; start += 10_000) {
        const condition = keysIn(
          session.dialect,
          keyColumns as NonNullable<(typeof keyColumns)[number]>[],
          keys.slice(start, start + 10_000),
        );
        const { rows } = await session.client.query<{ n: string }>(
          `SELECT COUNT(*)::text AS n FROM ${session.dialect.table(table)} WHERE ${condition.sql}`,
          condition.params,
        );
        present += Number(rows[0]?.n ?? 0);
      }
    }
  }
  return (
    `chaos's transaction ${undo.transaction} inserting into ${undo.table} never committed, so none of its rows exist` +
    (present ? `; the ${present} row(s) now under its keys were written by the application and are kept` : "")
  );
}
