import { randomBytes } from "node:crypto";
import { type AnySkill, EventBus, type JsonValue } from "@chaos-agents/core";
import { databaseState, type TestDatabase, type TestDatabaseKind, useTestDatabases, withDatabaseSession } from "@chaos-agents/testing";
import { afterEach, describe, expect, it } from "vitest";
import type { DatabaseSession } from "../database-session.js";
import { createDatabaseTarget } from "../database-target.js";
import type { SqlConnection } from "../sql/sql-client.js";
import { dbConnectionStress } from "./db-connection-stress.js";
import { dbLockContention } from "./db-lock-contention.js";
import type { HeldConnectionsUndo } from "./held-connections.js";

const kinds: TestDatabaseKind[] = ["postgres", "mysql"];
const { shop } = useTestDatabases();
// After hooks run last-registered first: the held connections go before their database.
let cleanup: (() => Promise<void>) | undefined;
afterEach(async () => {
  await cleanup?.();
  cleanup = undefined;
});

/**
 * Plans and injects one skill outside the engine, as `chaos run` would, then "crashes": the
 * returned handles stay open and only the journaled undo (what survived on disk) remains.
 */
async function injectAndCrash(db: TestDatabase, skill: AnySkill, input: Record<string, unknown>) {
  const target = createDatabaseTarget();
  const experimentId = `crash-${randomBytes(3).toString("hex")}`;
  const log = new EventBus().logger(experimentId);
  const session = await target.connect(target.configSchema.parse({ connection_url: db.url, db_type: db.kind }), { experimentId, log });
  const params = skill.params.parse(input);
  const inventory = await session.discover();
  const base = { experimentId, session, inventory, durationMs: 60_000, allowDangerous: false, log, params };
  const plan = await skill.plan?.(base);
  const undos: HeldConnectionsUndo[] = [];
  const runtime = new Map<string, unknown>();
  const hold = new AbortController();
  const result = await skill.inject({
    ...base,
    plan: plan ?? { targets: [], summary: "" },
    journal: { record: async (undo: JsonValue) => undos.push(undo as HeldConnectionsUndo) },
    signal: new AbortController().signal,
    holdEnded: hold.signal,
    runtime,
    progress: () => undefined,
    observe: () => undefined,
  });
  cleanup = async () => {
    hold.abort();
    await result.running;
    for (const handles of runtime.values()) await Promise.all((handles as SqlConnection[]).map((connection) => connection.close()));
    await session.close();
  };
  return { session, undos };
}

/** What the server shows of the crashed experiment's connections: by application_name on PostgreSQL, by journaled id on MySQL. */
async function survivors(db: TestDatabase, session: DatabaseSession, undos: HeldConnectionsUndo[]): Promise<number> {
  if (db.kind === "postgres") {
    const rows = await db.execute("SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = $1", [session.connectionTag]);
    return Number(rows[0]?.n);
  }
  const ids = undos.flatMap((undo) => undo.serverIds);
  const rows = await db.execute(`SELECT COUNT(*) AS n FROM information_schema.PROCESSLIST WHERE ID IN (${ids.map(Number).join(", ")})`);
  return Number(rows[0]?.n);
}

/** Rollback as `chaos recover` runs it: another session, an empty runtime, steps newest first. */
async function recover(db: TestDatabase, skill: AnySkill, undos: HeldConnectionsUndo[]) {
  return withDatabaseSession(db.url, db.kind, async (session) => {
    const results = [];
    for (const undo of [...undos].reverse()) {
      results.push(
        await skill.rollback(
          { experimentId: "recover", session, runtime: new Map(), log: new EventBus().logger(), saveCheckpoint: async () => undefined },
          undo,
        ),
      );
    }
    return results;
  });
}

describe.each(kinds)("%s", (kind) => {
  it("db.connection_stress: a fresh process terminates the connections a crashed one left, and no other", async () => {
    const db = await shop(kind);
    const { session, undos } = await injectAndCrash(db, dbConnectionStress, { connections: 10 });
    expect(undos.length).toBeGreaterThan(0);
    expect(await survivors(db, session, undos)).toBe(10);

    const results = await recover(db, dbConnectionStress, undos);
    expect(results.reduce((sum, result) => sum + Number(result?.metrics?.connections_terminated), 0)).toBe(10);
    expect(await survivors(db, session, undos)).toBe(0);
    // The crashed process's own pool connection (not tagged) and the test's connection live on.
    expect(await session.client.query("SELECT 1 AS one")).toMatchObject({ rows: [{ one: 1 }] });
    expect(await db.execute("SELECT 1 AS one")).toEqual([{ one: 1 }]);
    // Idempotent: a second recovery finds nothing to do.
    const again = await recover(db, dbConnectionStress, undos);
    expect(again.every((result) => result?.metrics?.connections_terminated === 0)).toBe(true);
  });

  it("db.lock_contention: a fresh process releases the locks a crashed one held", async () => {
    const db = await shop(kind);
    const before = await databaseState(db.url, kind);
    const { session, undos } = await injectAndCrash(db, dbLockContention, { tables: ["orders"] });
    expect(await survivors(db, session, undos)).toBe(1);
    if (kind === "postgres") await db.execute("SET lock_timeout = '200ms'");
    else await db.execute("SET SESSION lock_wait_timeout = 1");
    await expect(db.execute("UPDATE orders SET status = status WHERE id = 1")).rejects.toThrow(/lock timeout|Lock wait timeout/);

    const [result] = await recover(db, dbLockContention, undos);
    expect(result?.metrics).toMatchObject({ connections_closed: 0, connections_terminated: 1 });
    expect(await survivors(db, session, undos)).toBe(0);
    await db.execute("UPDATE orders SET status = status WHERE id = 1");
    expect(await databaseState(db.url, kind)).toEqual(before);
  });
});
