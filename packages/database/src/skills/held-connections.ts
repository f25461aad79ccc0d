import { setTimeout as sleep } from "node:timers/promises";
import type { UndoJournal } from "@chaos-agents/core";
import type { DatabaseSession } from "../database-session.js";
import type { SqlConnection } from "../sql/sql-client.js";

/**
 * Undo of connections chaos opened and holds (db.connection_stress, db.lock_contention).
 * PostgreSQL shows the tag as application_name, so the tag alone finds every one of them,
 * even from another process. MySQL does not show it, so the connection ids are journaled;
 * the server never reuses an id while it runs, and `serverStartedAt` tells a restarted
 * server (whose ids belong to others) from the one chaos talked to.
 */
export interface HeldConnectionsUndo {
  [key: string]: string | number | number[];
  tag: string;
  /** Key of the open handles in `runtime`, when rollback runs in the process that opened them. */
  handles: string;
  /** MySQL: ids of the connections this step covers; empty on PostgreSQL. */
  serverIds: number[];
  /** MySQL: when the server started (Unix seconds). */
  serverStartedAt: number;
  /** MySQL: the user chaos connects as; a connection of another user is never killed. */
  user: string;
}

/** How many more connections the server can take while staying usable. */
export interface ConnectionCapacity {
  maxConnections: number;
  /** Slots only superusers may use (PostgreSQL superuser_reserved_connections and reserved_connections). */
  reserved: number;
  /** Connections open now, anyone's. */
  inUse: number;
  /** Kept free on top, so the application and an administrator still get in. */
  margin: number;
  /** What chaos may open: never more than this. */
  available: number;
  /** The limit that decided `available`, for messages. */
  limitedBy: string;
}

/** Slots kept free beyond the reserved ones: a tenth of max_connections, at least 5. */
export function safetyMargin(maxConnections: number): number {
  return Math.max(5, Math.ceil(maxConnections / 10));
}

export async function connectionCapacity(session: DatabaseSession): Promise<ConnectionCapacity> {
  const numbers = session.dialect.kind === "postgres" ? await postgresLimits(session) : await mysqlLimits(session);
  const margin = safetyMargin(numbers.maxConnections);
  const serverWide = numbers.maxConnections - numbers.reserved - numbers.inUse - margin;
  let available = serverWide;
  let limitedBy = `max_connections ${numbers.maxConnections} − ${numbers.reserved} reserved − ${numbers.inUse} in use − ${margin} safety margin`;
  for (const limit of numbers.otherLimits) {
    const left = limit.limit - limit.inUse - Math.min(margin, Math.ceil(limit.limit / 10));
    if (left < available) {
      available = left;
      limitedBy = `${limit.name} ${limit.limit} − ${limit.inUse} in use − safety margin`;
    }
  }
  return { ...numbers, margin, available: Math.max(0, available), limitedBy };
}

interface Limits {
  maxConnections: number;
  reserved: number;
  inUse: number;
  /** Per-role or per-database limits that may be tighter than max_connections. */
  otherLimits: { name: string; limit: number; inUse: number }[];
}

async function postgresLimits(session: DatabaseSession): Promise<Limits> {
  const { rows } = await session.client.query<Record<string, number>>(
    `SELECT current_setting('max_connections')::int AS max_connections,
            current_setting('superuser_reserved_connections')::int
              + COALESCE(current_setting('reserved_connections', true)::int, 0) AS reserved,
            (SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend')::int AS in_use,
            (SELECT rolconnlimit FROM pg_roles WHERE rolname = current_user) AS role_limit,
            (SELECT count(*) FROM pg_stat_activity WHERE usename = current_user)::int AS role_in_use,
            (SELECT datconnlimit FROM pg_database WHERE datname = current_database()) AS database_limit,
            (SELECT count(*) FROM pg_stat_activity WHERE datname = current_database())::int AS database_in_use`,
  );
  const row = rows[0] ?? {};
  const otherLimits: Limits["otherLimits"] = [];
  if (Number(row.role_limit) >= 0)
    otherLimits.push({ name: "the role's CONNECTION LIMIT", limit: Number(row.role_limit), inUse: Number(row.role_in_use) });
  if (Number(row.database_limit) >= 0) {
    otherLimits.push({ name: "the database's CONNECTION LIMIT", limit: Number(row.database_limit), inUse: Number(row.database_in_use) });
  }
  return { maxConnections: Number(row.max_connections), reserved: Number(row.reserved), inUse: Number(row.in_use), otherLimits };
}

async function mysqlLimits(session: DatabaseSession): Promise<Limits> {
  // MySQL keeps one slot beyond max_connections for SUPER; nothing inside max_connections is reserved.
  const { rows } = await session.client.query<Record<string, string | number>>(
    `SELECT @@max_connections AS max_connections, @@max_user_connections AS user_limit,
            (SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE COMMAND <> 'Daemon') AS in_use,
            (SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE USER = SUBSTRING_INDEX(USER(), '@', 1)) AS user_in_use`,
  );
  const row = rows[0] ?? {};
  const otherLimits: Limits["otherLimits"] = [];
  if (Number(row.user_limit) > 0)
    otherLimits.push({ name: "max_user_connections", limit: Number(row.user_limit), inUse: Number(row.user_in_use) });
  return { maxConnections: Number(row.max_connections), reserved: 0, inUse: Number(row.in_use), otherLimits };
}

export interface OpenOptions {
  journal: UndoJournal;
  runtime: Map<string, unknown>;
  /** Key under which the open handles are kept in `runtime` (and journaled). */
  handles: string;
  /** Runs on each new connection, after its undo is journaled (timeouts, locks…). */
  setup?: (connection: SqlConnection) => Promise<void>;
  signal?: AbortSignal;
  /** Connections opened at once. */
  parallel?: number;
}

export interface OpenResult {
  connections: SqlConnection[];
  /** The error that stopped the opening early (server full, signal), if any. */
  stoppedBy?: string;
}

/**
 * Opens `count` connections tagged with the session's tag, journaling undo before each
 * becomes something only chaos knows of: on PostgreSQL the tag once before the first
 * connection; on MySQL each batch's ids right after connecting and before `setup` (a
 * connection whose id is not journaled yet still belongs to this live process, and dies
 * with it). Every handle goes into `runtime` as soon as it exists.
 */
export async function openHeldConnections(session: DatabaseSession, count: number, options: OpenOptions): Promise<OpenResult> {
  const { journal, runtime, handles } = options;
  const opened: SqlConnection[] = [];
  runtime.set(handles, opened);
  const base: HeldConnectionsUndo = { tag: session.connectionTag, handles, serverIds: [], serverStartedAt: 0, user: "" };
  if (session.dialect.kind === "postgres") await journal.record(base);
  else Object.assign(base, await mysqlIdentity(session));

  const parallel = options.parallel ?? 16;
  for (let done = 0; done < count; ) {
    if (options.signal?.aborted) return { connections: opened, stoppedBy: "stopped by signal" };
    const size = Math.min(parallel, count - done);
    const results = await Promise.allSettled(Array.from({ length: size }, () => session.client.connect(session.connectionTag)));
    const batch = results.flatMap((result) => (result.status === "fulfilled" ? [result.value] : []));
    opened.push(...batch);
    if (session.dialect.kind === "mysql" && batch.length > 0) {
      await journal.record({ ...base, serverIds: batch.map((connection) => connection.serverId) });
    }
    for (const connection of batch) await options.setup?.(connection);
    const failure = results.find((result) => result.status === "rejected");
    if (failure) return { connections: opened, stoppedBy: String((failure.reason as Error)?.message ?? failure.reason) };
    done += size;
  }
  return { connections: opened };
}

async function mysqlIdentity(session: DatabaseSession): Promise<Pick<HeldConnectionsUndo, "serverStartedAt" | "user">> {
  const { rows } = await session.client.query<{ user: string }>("SELECT SUBSTRING_INDEX(USER(), '@', 1) AS user");
  return { serverStartedAt: await mysqlStartedAt(session), user: rows[0]?.user ?? "" };
}

async function mysqlStartedAt(session: DatabaseSession): Promise<number> {
  const { rows } = await session.client.query<{ Value: string }>("SHOW GLOBAL STATUS LIKE 'Uptime'");
  return Math.round(Date.now() / 1000) - Number(rows[0]?.Value ?? 0);
}

/** An uptime read a second apart can differ by a second or two; a restart moves it by far more. */
const startJitterSeconds = 5;
const goneTimeoutMs = 10_000;
const closeGraceMs = 2000;

export interface ReleaseResult {
  /** Handles closed from `runtime`. */
  closed: number;
  /** Leftovers terminated on the server. */
  terminated: number;
}

/**
 * Closes the handles kept in `runtime` (if this is the process that opened them), then ends
 * on the server whatever still carries the tag (PostgreSQL) or a journaled id (MySQL), and
 * waits until none is left. Idempotent; touches only connections chaos opened.
 */
export async function releaseHeldConnections(
  session: DatabaseSession,
  runtime: Map<string, unknown>,
  undo: HeldConnectionsUndo,
): Promise<ReleaseResult> {
  const handles = runtime.get(undo.handles) as SqlConnection[] | undefined;
  runtime.delete(undo.handles);
  const closed = handles?.length ?? 0;
  await Promise.all((handles ?? []).map((connection) => withTimeout(connection.close(), 5000)));

  // A closed connection's server side ends a moment later: only what outlives that is a leftover.
  if (closed > 0 && (await waitUntilGone(session, undo, closeGraceMs)).length === 0) return { closed, terminated: 0 };
  const terminated = session.dialect.kind === "postgres" ? await terminatePostgres(session, undo.tag) : await killMysql(session, undo);
  const left = await waitUntilGone(session, undo, goneTimeoutMs);
  if (left.length > 0) throw new Error(`connection(s) ${left.join(", ")} of ${undo.tag} are still open after being terminated`);
  return { closed, terminated };
}

/** Polls until none of the step's connections is left or `milliseconds` passed; returns what is left. */
async function waitUntilGone(session: DatabaseSession, undo: HeldConnectionsUndo, milliseconds: number): Promise<number[]> {
  const deadline = Date.now() + milliseconds;
  for (;;) {
    const left = await leftovers(session, undo);
    if (left.length === 0 || Date.now() > deadline) return left;
    await sleep(50);
  }
}

async function terminatePostgres(session: DatabaseSession, tag: string): Promise<number> {
  // pg_terminate_backend belongs in the select list: in WHERE the planner may call it
  // before the application_name test (it does: cheaper quals first), ending every backend.
  const { rows } = await session.client.query<{ terminated: boolean }>(
    "SELECT pg_terminate_backend(pid) AS terminated FROM pg_stat_activity WHERE application_name = $1 AND pid <> pg_backend_pid()",
    [tag],
  );
  return rows.filter((row) => row.terminated).length;
}

/** Journaled ids that are still the same connections: same server run, same user. */
async function mysqlLiveIds(session: DatabaseSession, undo: HeldConnectionsUndo): Promise<number[]> {
  if (undo.serverIds.length === 0) return [];
  if (Math.abs((await mysqlStartedAt(session)) - undo.serverStartedAt) > startJitterSeconds) return [];
  const { rows } = await session.client.query<{ id: string | number }>(
    `SELECT ID AS id FROM information_schema.PROCESSLIST WHERE ID IN (${undo.serverIds.map(() => "?").join(", ")}) AND USER = ? AND ID <> CONNECTION_ID()`,
    [...undo.serverIds, undo.user],
  );
  return rows.map((row) => Number(row.id));
}

async function killMysql(session: DatabaseSession, undo: HeldConnectionsUndo): Promise<number> {
  let killed = 0;
  for (const id of await mysqlLiveIds(session, undo)) {
    try {
      await session.client.query(`KILL CONNECTION ${Math.trunc(id)}`);
      killed++;
    } catch (error) {
      // 1094 "Unknown thread id": it ended between the look-up and the KILL.
      if ((error as { errno?: number }).errno !== 1094) throw error;
    }
  }
  return killed;
}

async function leftovers(session: DatabaseSession, undo: HeldConnectionsUndo): Promise<number[]> {
  if (session.dialect.kind === "mysql") return mysqlLiveIds(session, undo);
  const { rows } = await session.client.query<{ pid: number }>(
    "SELECT pid FROM pg_stat_activity WHERE application_name = $1 AND pid <> pg_backend_pid()",
    [undo.tag],
  );
  return rows.map((row) => row.pid);
}

async function withTimeout(promise: Promise<unknown>, milliseconds: number): Promise<void> {
  const timer = new AbortController();
  await Promise.race([promise.catch(() => undefined), sleep(milliseconds, undefined, { signal: timer.signal }).catch(() => undefined)]);
  timer.abort();
}

/**
 * Server-side dead-man switch for a held connection: if chaos disappears without rolling
 * back (hung, partitioned), the server ends the connection itself `holdMs` + a minute later.
 */
export async function setIdleTimeout(
  connection: SqlConnection,
  session: DatabaseSession,
  holdMs: number,
  inTransaction: boolean,
): Promise<void> {
  const seconds = Math.ceil(holdMs / 1000) + 60;
  const statements =
    session.dialect.kind === "postgres"
      ? [`SET ${inTransaction ? "idle_in_transaction_session_timeout" : "idle_session_timeout"} = '${seconds}s'`]
      : [`SET SESSION wait_timeout = ${seconds}`];
  // idle_session_timeout is PostgreSQL 14+; an older server simply keeps the connection until rollback.
  for (const statement of statements) await connection.query(statement).catch(() => undefined);
}
