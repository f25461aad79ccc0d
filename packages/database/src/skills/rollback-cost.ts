import type { DatabaseSession } from "../database-session.js";
import type { Table } from "../discovery/database-schema.js";
import { liveReferences } from "../discovery/live-references.js";
import { triggersOn } from "./trigger-writes.js";

/**
 * What the plan says, before anything changes, when deleting chaos's rows will be slow: on
 * PostgreSQL each deleted row's foreign-key check scans a referencing table that has no index
 * on its referencing columns, unless chaos may skip those checks (a superuser, after its own
 * exact check under lock, on a table without DELETE triggers). Empty when the rollback keeps pace.
 */
export async function slowRollbackNote(session: DatabaseSession, table: Table, rows: number): Promise<string | undefined> {
  if (session.dialect.kind !== "postgres") return undefined; // InnoDB indexes every foreign key
  const unindexed = (await liveReferences(session.client, session.dialect, table)).filter((reference) => !reference.indexed);
  if (unindexed.length === 0) return undefined;
  const { rows: role } = await session.client.query<{ superuser: boolean }>(
    "SELECT rolsuper AS superuser FROM pg_roles WHERE rolname = current_user",
  );
  if (role[0]?.superuser && triggersOn(table, "DELETE").length === 0) return undefined;
  const sizes: string[] = [];
  let reads = 0;
  for (const reference of unindexed) {
    const { rows: found } = await session.client.query<{ rows: string }>(
      "SELECT GREATEST(reltuples, 0)::bigint::text AS rows FROM pg_class WHERE oid = $1::regclass",
      [session.dialect.table({ schema: reference.tableSchema, name: reference.tableName })],
    );
    const size = Number(found[0]?.rows ?? 0) + (reference.table === table.qualifiedName ? rows : 0);
    reads += size * rows;
    sizes.push(`${reference.table} (≈${size.toLocaleString("en")} rows, no index on ${reference.columns.join(", ")})`);
  }
  return (
    `rollback of ${table.qualifiedName} will be slow: each deleted row's foreign-key check scans ${sizes.join(", ")}, ` +
    `about ${reads.toExponential(1)} row reads in all; an index on the referencing columns, or connecting as a superuser, avoids it`
  );
}
