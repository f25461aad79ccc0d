import { createParentsTable, type TestDatabaseKind, useTestDatabases, withDatabaseSession } from "@chaos-agents/testing";
import { describe, expect, it } from "vitest";
import type { DatabaseSession } from "../database-session.js";
import type { SqlClient, SqlExecutor } from "../sql/sql-client.js";
import { deleteChaosRows } from "./chaos-row-delete.js";
import { type InsertUndo, insertBatch } from "./insert-rows.js";

// The race a range delete has with the application: between chaos locking its rows and its
// DELETE, the application puts a row of its own into a gap of chaos's keys (a key whose chaos
// row it had deleted). A range DELETE would take that row too; chaos must notice, undo the
// DELETE and delete its own rows key by key.
const databases = useTestDatabases();

/** Runs `beforeDelete` once, right before the first DELETE that `session` sends; records every DELETE. */
function interceptingDeletes(session: DatabaseSession, beforeDelete: () => Promise<void>) {
  const deletes: string[] = [];
  let fired = false;
  const executor = (inner: SqlExecutor): SqlExecutor => ({
    query: async (sql, params) => {
      if (/^DELETE\b/i.test(sql)) {
        deletes.push(sql);
        if (!fired) {
          fired = true;
          await beforeDelete();
        }
      }
      return inner.query(sql, params);
    },
  });
  const client: SqlClient = new Proxy(session.client, {
    get: (target, key) =>
      key === "transaction"
        ? <T>(work: (inner: SqlExecutor) => Promise<T>) => target.transaction((inner) => work(executor(inner)))
        : Reflect.get(target, key),
  });
  const wrapped = new Proxy(session, {
    get: (target, key) => {
      if (key === "client") return client;
      const value = Reflect.get(target, key);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
  return { session: wrapped, deletes };
}

describe.each(["postgres", "mysql"] as TestDatabaseKind[])("%s: a range delete beside an application writing into its gaps", (kind) => {
  it("keeps the row the application inserted under one of chaos's keys between chaos's lock and its DELETE", async () => {
    const db = await databases.empty(kind);
    await createParentsTable(db, 100);
    // chaos's batch, through the insert's own path: keys 101–400 journaled as one run.
    const undo = await withDatabaseSession(db.url, kind, async (session) => {
      const table = (await session.schema(true)).tables.find((candidate) => candidate.name === "parents");
      if (!table) throw new Error("parents not discovered");
      const rows = Array.from({ length: 300 }, (_, index) => [String(101 + index), `chaos ${101 + index}`]);
      let journaled: InsertUndo | undefined;
      await insertBatch(session, table, table.columns, rows, {
        record: async (recorded) => {
          journaled = recorded as InsertUndo;
          return 1;
        },
      });
      return journaled as InsertUndo;
    });
    expect(undo.keyRuns).toEqual([["101", "400"]]);
    // The application deletes chaos's row 250, and later writes its own row under that key.
    await db.execute("DELETE FROM parents WHERE id = 250");
    let inserted: Promise<unknown> = Promise.resolve();
    const { session, deletes } = await withDatabaseSession(db.url, kind, async (plain) => {
      const intercepted = interceptingDeletes(plain, async () => {
        inserted = db.execute("INSERT INTO parents VALUES (250, 'application 250')");
        // PostgreSQL: committed before the DELETE takes its snapshot, so a range DELETE would see it.
        // MariaDB: chaos's locking read took the gap too, so the INSERT waits for chaos's COMMIT.
        if (kind === "postgres") await inserted;
      });
      const outcome = await deleteChaosRows(intercepted.session, undo);
      return { session: outcome, deletes: intercepted.deletes };
    });
    await inserted;

    expect(session.deleted).toBe(299);
    const rows = await db.execute("SELECT id, name FROM parents WHERE id > 100 ORDER BY id");
    expect(rows.map((row) => [Number(row.id), row.name])).toEqual([[250, "application 250"]]);
    expect(Number((await db.execute("SELECT COUNT(*) AS n FROM parents WHERE id <= 100"))[0]?.n)).toBe(100);
    if (kind === "postgres") {
      // The range DELETE found one row more than chaos locked: undone, then redone key by key,
      // and the application's row is reported as kept.
      expect(deletes).toHaveLength(2);
      expect(deletes[0]).toMatch(/BETWEEN/);
      expect(deletes[1]).not.toMatch(/BETWEEN/);
      expect(session.conflicts.join("\n")).toMatch(/parents row \(250\) kept: its content is no longer what chaos wrote/);
    } else {
      expect(deletes).toHaveLength(1);
      expect(session.conflicts).toEqual([]);
    }
  });
});
