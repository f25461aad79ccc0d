import { randomUUID } from "node:crypto";
import { defineSkill, positiveInteger, SkillError } from "@chaos-agents/core";
import { z } from "zod";
import { type DatabaseSession, resolveTables } from "../database-session.js";
import { columnOf, rowKeyOf, type Table } from "../discovery/database-schema.js";
import { keyText, toKeys } from "../sql/key-sets.js";
import type { SqlConnection } from "../sql/sql-client.js";
import { type HeldConnectionsUndo, openHeldConnections, releaseHeldConnections, setIdleTimeout } from "./held-connections.js";
import { activityMetrics, watchServerActivity } from "./server-activity.js";

/** PostgreSQL's table lock modes, weakest first, as `LOCK TABLE … IN <mode> MODE` spells them. */
const postgresModes = {
  access_share: "ACCESS SHARE",
  row_share: "ROW SHARE",
  row_exclusive: "ROW EXCLUSIVE",
  share_update_exclusive: "SHARE UPDATE EXCLUSIVE",
  share: "SHARE",
  share_row_exclusive: "SHARE ROW EXCLUSIVE",
  exclusive: "EXCLUSIVE",
  access_exclusive: "ACCESS EXCLUSIVE",
} as const;
/** MySQL's LOCK TABLES kinds; on PostgreSQL they mean the lock that blocks the same things. */
const mysqlModes = { write: "WRITE", read: "READ" } as const;
const postgresAliases: Record<keyof typeof mysqlModes, keyof typeof postgresModes> = { write: "access_exclusive", read: "share" };

const modeNames = [...Object.keys(postgresModes), ...Object.keys(mysqlModes)] as [string, ...string[]];
type Mode = keyof typeof postgresModes | keyof typeof mysqlModes;

/** How long chaos waits for its own lock before giving up (someone else holds a conflicting one). */
const acquireTimeoutSeconds = 10;

const params = z.strictObject({
  tables: z.array(z.string().min(1)).min(1, "name at least one table to lock").describe("tables to lock: orders or public.orders"),
  mode: z
    .enum(modeNames, { error: `expected one of ${modeNames.join(", ")}` })
    .optional()
    .describe("table lock mode (default: access_exclusive on PostgreSQL, write on MySQL)"),
  rows: positiveInteger()
    .max(1_000_000)
    .optional()
    .describe("lock this many rows of each table with SELECT … FOR UPDATE instead of the whole table"),
});
type Params = z.output<typeof params>;

interface LockDetails {
  [key: string]: string | number | null;
  /** The SQL keyword(s) of the table lock, or null when rows are locked. */
  lock: string | null;
  rows: number | null;
}

export const dbLockContention = defineSkill<Params, DatabaseSession, HeldConnectionsUndo>({
  name: "db.lock_contention",
  target: "database",
  description:
    "Hold locks on chosen tables (PostgreSQL lock modes, MySQL write/read) or on some of their rows (SELECT … FOR UPDATE) so the application waits",
  reversible: true,
  params,

  async plan({ params, session, inventory }) {
    const schema = await session.schema();
    const allowed = new Set(inventory.resources.map((resource) => resource.name));
    const tables = resolveTables("db.lock_contention", schema, allowed, params.tables);
    if (params.rows !== undefined && params.mode !== undefined) {
      throw new SkillError("db.lock_contention", "mode: rows are locked with SELECT … FOR UPDATE; give either mode (a table lock) or rows");
    }
    const lock = params.rows === undefined ? lockKeyword(session, (params.mode ?? defaultMode(session)) as Mode) : null;
    const names = tables.map((table) => table.qualifiedName);
    return {
      targets: names,
      summary:
        lock === null
          ? `lock ${params.rows} row(s) of each of ${names.join(", ")} with SELECT … FOR UPDATE`
          : `lock ${names.join(", ")} in ${lock} mode`,
      details: { lock, rows: params.rows ?? null } satisfies LockDetails,
    };
  },

  async inject({ session, plan, journal, runtime, signal, holdEnded, durationMs, observe }) {
    const schema = await session.schema();
    const tables = plan.targets.map((name) => schema.tables.find((table) => table.qualifiedName === name) as Table);
    const details = plan.details as LockDetails;
    const { connections, stoppedBy } = await openHeldConnections(session, 1, {
      journal,
      runtime,
      handles: `db.lock_contention:${randomUUID()}`,
      setup: (connection) => setIdleTimeout(connection, session, durationMs, true),
      signal,
    });
    const connection = connections[0];
    if (!connection) throw new SkillError("db.lock_contention", `could not open a connection: ${stoppedBy}`);

    const started = performance.now();
    let locked: string;
    try {
      locked =
        details.lock === null
          ? await lockRows(session, connection, tables, details.rows ?? 1)
          : await lockTables(session, connection, tables, details.lock);
    } catch (error) {
      throw new SkillError("db.lock_contention", `could not take the lock: ${(error as Error).message}`, { cause: error });
    }
    const metrics = { tables_locked: tables.length, lock_acquired_ms: Math.round(performance.now() - started) };
    return {
      summary: `${locked}; held by connection ${connection.serverId} tagged ${session.connectionTag}`,
      metrics,
      running: watchServerActivity(session, holdEnded, observe).then((summary) => ({ ...metrics, ...activityMetrics(summary) })),
    };
  },

  async rollback({ session, runtime }, undo) {
    const { closed, terminated } = await releaseHeldConnections(session, runtime, undo);
    return {
      summary: `released the locks (closed ${closed} connection(s)${terminated ? `, terminated ${terminated} left on the server` : ""})`,
      metrics: { connections_closed: closed, connections_terminated: terminated },
    };
  },
});

function defaultMode(session: DatabaseSession): Mode {
  return session.dialect.kind === "postgres" ? "access_exclusive" : "write";
}

/** The mode as the dialect's SQL spells it; a PostgreSQL-only mode on MySQL is refused. */
function lockKeyword(session: DatabaseSession, mode: Mode): string {
  if (session.dialect.kind === "postgres")
    return postgresModes[mode in postgresAliases ? postgresAliases[mode as keyof typeof mysqlModes] : (mode as keyof typeof postgresModes)];
  if (mode in mysqlModes) return mysqlModes[mode as keyof typeof mysqlModes];
  throw new SkillError("db.lock_contention", `mode: ${mode} is a PostgreSQL lock mode; on MySQL/MariaDB use write or read`);
}

async function lockTables(session: DatabaseSession, connection: SqlConnection, tables: Table[], lock: string): Promise<string> {
  const { dialect } = session;
  const names = tables.map((table) => dialect.table(table));
  if (dialect.kind === "postgres") {
    await connection.query(`SET lock_timeout = '${acquireTimeoutSeconds}s'`);
    await connection.query("BEGIN");
    await connection.query(`LOCK TABLE ${names.join(", ")} IN ${lock} MODE`);
  } else {
    await connection.query(`SET SESSION lock_wait_timeout = ${acquireTimeoutSeconds}`);
    await connection.query(`LOCK TABLES ${names.map((name) => `${name} ${lock}`).join(", ")}`);
  }
  return `locked ${tables.map((table) => table.qualifiedName).join(", ")} in ${lock} mode`;
}

/** Locks the first `count` rows of each table in key order (the index is used, no sort of the table). */
async function lockRows(session: DatabaseSession, connection: SqlConnection, tables: Table[], count: number): Promise<string> {
  const { dialect } = session;
  if (dialect.kind === "postgres") await connection.query(`SET lock_timeout = '${acquireTimeoutSeconds}s'`);
  else await connection.query(`SET SESSION innodb_lock_wait_timeout = ${acquireTimeoutSeconds}`);
  await connection.query(dialect.kind === "postgres" ? "BEGIN" : "START TRANSACTION");
  const parts: string[] = [];
  for (const table of tables) {
    const key = (rowKeyOf(table) ?? []).map((name) => columnOf(table, name));
    const select = key.length > 0 ? keyText(dialect, key) : "1 AS k0";
    const order = key.length > 0 ? ` ORDER BY ${key.map((column) => dialect.quote(column.name)).join(", ")}` : "";
    const { rows } = await connection.query(`SELECT ${select} FROM ${dialect.table(table)}${order} LIMIT ${Math.trunc(count)} FOR UPDATE`);
    const keys = toKeys(rows, Math.max(key.length, 1));
    const range =
      key.length > 0 && keys.length > 0
        ? ` (${key.map((column) => column.name).join(", ")} ${keys[0]?.join("/")} … ${keys.at(-1)?.join("/")})`
        : "";
    parts.push(`${keys.length} row(s) of ${table.qualifiedName}${range}`);
  }
  return `locked ${parts.join(", ")} with SELECT … FOR UPDATE`;
}
