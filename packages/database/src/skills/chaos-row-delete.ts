import type { RollbackResult } from "@chaos-agents/core";
import type { DatabaseSession } from "../database-session.js";
import type { Column, Table } from "../discovery/database-schema.js";
import { type LiveReference, liveReferences } from "../discovery/live-references.js";
import { type Dialect, postgresDialect } from "../sql/dialect.js";
import { expandRuns, type KeyRun } from "../sql/key-runs.js";
import { type Condition, keysIn, keyText, runsCondition, toKeys } from "../sql/key-sets.js";
import { fingerprintAt, fingerprintLength, rowFingerprint, rowHash } from "../sql/row-fingerprint.js";
import type { SqlExecutor } from "../sql/sql-client.js";
import { type ChaosRows, chaosRowCount } from "./chaos-rows.js";
import { rowsWrittenInTransaction, type WriteCounts, writeCounts, writesSince } from "./transaction-writes.js";
import { describeTriggerWrites, type TriggerWrites } from "./trigger-writes.js";

/** What one rollback of chaos's rows did and what it kept. */
export interface DeleteOutcome {
  deleted: number;
  /** Rows that DELETE triggers inserted, removed again in the same transaction. */
  triggerRowsRemoved: number;
  conflicts: string[];
}

/** What tells chaos's rows from others: the writing transaction (PostgreSQL), else the content's fingerprint. */
function identity(context: ChunkContext): string {
  if (context.writtenBy) return "t.xmin::text";
  return context.columns.length ? rowFingerprint(context.session.dialect, context.columns, "t") : "''";
}

/** Thrown when a delete by key range found more rows than chaos locked: rolled back, then done key by key. */
class DeletedMore extends Error {}

/** Thrown inside a delete transaction to roll it back and keep every row of the chunk. */
class KeptChunk extends Error {
  constructor(readonly conflict: string) {
    super(conflict);
  }
}

/** Keys per delete transaction: PostgreSQL takes a key array as one parameter, MySQL a list of tuples. */
function keysPerTransaction(session: DatabaseSession): number {
  return session.dialect.kind === "postgres" ? 10_000 : 500;
}

/**
 * Deletes chaos's rows, and only while they are chaos's: in one transaction per chunk it locks
 * the journaled rows (a new reference to them now waits), keeps those whose content is no longer
 * what chaos wrote, reads the foreign keys pointing at the table from the live catalog, keeps the
 * rows any row references, deletes the rest, and then checks from the transaction's own write
 * counts (PostgreSQL) that nothing else changed; if something did (a cascade, a trigger's update),
 * the chunk is rolled back and kept. Idempotent: rows already gone are simply not found.
 */
export async function deleteChaosRows(session: DatabaseSession, rows: ChaosRows): Promise<DeleteOutcome> {
  const outcome: DeleteOutcome = { deleted: 0, triggerRowsRemoved: 0, conflicts: [] };
  const table = await tableNamed(session, rows.table);
  // `?? []`: journals of older versions have neither columns nor fingerprints.
  const missing =
    table && [...rows.keyColumns, ...(rows.columns ?? [])].filter((name) => !table.columns.some((column) => column.name === name));
  if (!table) {
    outcome.conflicts.push(`table ${rows.table} no longer exists; ${chaosRowCount(rows)} chaos row(s) went with it`);
    return outcome;
  }
  if (missing?.length) {
    outcome.conflicts.push(
      `${rows.table}: ${chaosRowCount(rows)} chaos row(s) kept: column(s) ${missing.join(", ")} no longer exist, so chaos cannot tell its rows from the application's`,
    );
    return outcome;
  }
  const byName = (name: string) => table.columns.find((column) => column.name === name) as Column;
  const context: ChunkContext = {
    session,
    table,
    keyColumns: rows.keyColumns.map(byName),
    columns: (rows.columns ?? []).map(byName),
    // The 32-bit xid `xmin` shows, of the 64-bit transaction id journaled.
    writtenBy: session.dialect.kind === "postgres" && rows.transaction ? String(BigInt(rows.transaction) % 4294967296n) : undefined,
    contentHash: rows.contentHash,
    rowCount: chaosRowCount(rows),
  };
  // A batch's content hash covers the whole batch, so on PostgreSQL a batch (at most 50,000 rows) stays one chunk.
  const keysPerList = rows.contentHash ? Math.max(rows.keys.length, 1) : keysPerTransaction(session);
  for (const chunk of chunksOf(rows, keysPerList)) {
    const attempt = (exact: boolean) => session.client.transaction((executor) => deleteChunk(executor, context, chunk, exact));
    try {
      const done = await attempt(false).catch((error: unknown) => {
        if (error instanceof DeletedMore) return attempt(true);
        throw error;
      });
      outcome.deleted += done.deleted;
      outcome.triggerRowsRemoved += done.triggerRowsRemoved;
      outcome.conflicts.push(...done.conflicts);
    } catch (error) {
      if (!(error instanceof KeptChunk)) throw error;
      outcome.conflicts.push(error.conflict);
    }
  }
  return outcome;
}

/** Some of chaos's rows, deleted in one transaction. */
interface Chunk {
  keys: string[][];
  /** Their journaled fingerprints, concatenated; undefined in journals of older versions. */
  fingerprints?: string;
  /** Set when the keys are one run of consecutive integers: then ranges replace key lists. */
  run?: KeyRun;
}

/** Run keys larger than this are split: one undo step's batch (at most 50,000 rows) stays one chunk. */
const keysPerRunChunk = 50_000;

/** The rows' keys with their fingerprints, in transaction-sized chunks; runs stay runs. */
function* chunksOf(rows: ChaosRows, keysPerList: number): Generator<Chunk> {
  let offset = 0;
  const fingerprintsOf = (count: number) => {
    const slice = rows.fingerprints?.slice(offset * fingerprintLength, (offset + count) * fingerprintLength);
    offset += count;
    return slice;
  };
  for (let start = 0; start < rows.keys.length; start += keysPerList) {
    const keys = rows.keys.slice(start, start + keysPerList);
    yield { keys, fingerprints: fingerprintsOf(keys.length) };
  }
  for (const [first, last] of rows.keyRuns ?? []) {
    if (first === last) {
      // A single key, possibly beyond a safe JavaScript integer: kept exactly as written.
      yield { keys: [[first]], fingerprints: fingerprintsOf(1), run: [first, last] };
      continue;
    }
    for (let from = Number(first); from <= Number(last); from += keysPerRunChunk) {
      const run: KeyRun = [String(from), String(Math.min(Number(last), from + keysPerRunChunk - 1))];
      const keys = [...expandRuns([run])];
      yield { keys, fingerprints: fingerprintsOf(keys.length), run };
    }
  }
}

interface ChunkContext {
  session: DatabaseSession;
  table: Table;
  keyColumns: Column[];
  columns: Column[];
  /** PostgreSQL: the `xmin` every row chaos wrote carries while it is unchanged. */
  writtenBy?: string;
  /** PostgreSQL: the batch's content hash sum (see ChaosRows). */
  contentHash?: string;
  /** How many rows the journaled batch holds. */
  rowCount: number;
}

async function deleteChunk(executor: SqlExecutor, context: ChunkContext, chunk: Chunk, exact: boolean): Promise<DeleteOutcome> {
  const { session, table, keyColumns } = context;
  const { keys, fingerprints, run } = chunk;
  const { dialect } = session;
  const outcome: DeleteOutcome = { deleted: 0, triggerRowsRemoved: 0, conflicts: [] };
  const name = dialect.table(table);
  // ROW EXCLUSIVE (what the DELETE takes anyway) first: a foreign key being added to point at
  // this table waits for it, so the catalog read below cannot miss one committed before the delete.
  if (dialect.kind === "postgres") await executor.query(`LOCK TABLE ${name} IN ROW EXCLUSIVE MODE`);
  // A run of integer keys is read as an index range: far cheaper than a list of 50,000 keys.
  const condition = run ? runsCondition(dialect, keyColumns[0] as Column, [run], "t") : keysIn(dialect, keyColumns, keys, "t");
  const { rows: present } = await executor.query<Record<string, string>>(
    `SELECT ${keyText(dialect, keyColumns, "t")}, ${identity(context)} AS fp FROM ${name} t WHERE ${condition.sql} FOR UPDATE${dialect.kind === "postgres" ? " OF t" : ""}`,
    condition.params,
  );
  const journaled = fingerprints && new Map(keys.map((key, index) => [key.join("\u0000"), fingerprintAt(fingerprints, index)]));
  const presentKeys = toKeys(present, keyColumns.length);
  const matching: string[][] = [];
  const changed: string[][] = [];
  presentKeys.forEach((key, index) => {
    const found = present[index]?.fp;
    const same = context.writtenBy ? found === context.writtenBy : !journaled || journaled.get(key.join("\u0000")) === found;
    (same ? matching : changed).push(key);
  });
  if (changed.length && (await restoredExactly(executor, context, chunk, condition, present.length))) {
    matching.push(...changed.splice(0));
  }
  if (changed.length) {
    outcome.conflicts.push(
      describeKept(
        table,
        changed,
        "its content is no longer what chaos wrote (the application changed it, or wrote a row of its own under chaos's key)",
      ),
    );
  }
  if (matching.length === 0) return outcome;

  const references = await liveReferences(executor, dialect, table);
  const hidden = references.filter((reference) => reference.hiddenRows);
  if (hidden.length) {
    outcome.conflicts.push(
      describeKept(
        table,
        matching,
        `row-level security hides rows of ${hidden.map((reference) => reference.table).join(", ")} from chaos's role, so chaos cannot prove no application row references it`,
      ),
    );
    return outcome;
  }
  const referenced = await referencedKeys(executor, context, references, matching, run);
  const free = matching.filter((key) => !referenced.has(key.join("\u0000")));
  if (referenced.size) {
    const kept = matching.filter((key) => referenced.has(key.join("\u0000")));
    outcome.conflicts.push(
      describeKept(
        table,
        kept,
        `an application row references it (${[...new Set(references.map((reference) => reference.table))].join(", ")})`,
      ),
    );
  }
  if (free.length === 0) return outcome;

  const deletable = deletion(
    dialect,
    keyColumns,
    free,
    exact ? undefined : run,
    presentKeys.length - free.length === 0 ? [] : except(presentKeys, free),
  );
  if (dialect.kind === "mysql") {
    outcome.deleted = (await executor.query(`DELETE t FROM ${name} t WHERE ${deletable.sql}`, deletable.params)).rowCount;
    if (outcome.deleted !== free.length) throw new DeletedMore();
    const triggers = await mysqlDeleteTriggers(executor, table);
    if (triggers.length) {
      outcome.conflicts.push(
        `${table.qualifiedName}: DELETE trigger(s) ${triggers.join(", ")} fired for ${outcome.deleted} chaos row(s); MySQL cannot tell what they wrote, so it is left in place`,
      );
    }
    return outcome;
  }
  // The reference check above is exact (the rows are locked, the catalog is live), so where the
  // role may, the per-row foreign-key triggers are skipped: on an unindexed referencing column
  // each of them scans the whole referencing table. Only without user DELETE triggers, whose
  // effects (a counter put back, an audit row) the application may rely on.
  // With no trigger, rule or foreign-key action able to fire, the DELETE can write nothing else:
  // then there are no side effects to count either.
  const bypass = await mayBypassForeignKeyTriggers(executor, session, table);
  if (bypass) await executor.query("SET LOCAL session_replication_role = replica");
  const before = bypass ? undefined : await writeCounts(executor);
  outcome.deleted = (await executor.query(`DELETE FROM ${name} t WHERE ${deletable.sql}`, deletable.params)).rowCount;
  if (outcome.deleted !== free.length) throw new DeletedMore();
  if (before) {
    const effects = await undoSideEffects(executor, context, before, outcome.deleted, matching, references);
    outcome.triggerRowsRemoved = effects.removed;
    outcome.conflicts.push(...effects.listed);
  }
  return outcome;
}

/**
 * PostgreSQL: whether the rows of a batch whose `xmin` changed hold exactly what chaos wrote
 * again (written back by `db.update_load`'s rollback, say). The batch's content hash sum minus
 * the untouched rows' hashes must equal the touched rows' hashes now. Only when the chunk is the
 * whole batch and none of its rows is gone; otherwise the touched rows stay suspect.
 */
async function restoredExactly(
  executor: SqlExecutor,
  context: ChunkContext,
  chunk: Chunk,
  condition: Condition,
  present: number,
): Promise<boolean> {
  const { session, table, columns, writtenBy, contentHash } = context;
  if (!writtenBy || !contentHash || chunk.keys.length !== context.rowCount || present !== context.rowCount || columns.length === 0)
    return false;
  const { dialect } = session;
  const { rows } = await executor.query<{ untouched: string; touched: string }>(
    `SELECT COALESCE(SUM(h) FILTER (WHERE x = '${writtenBy}'), 0)::text AS untouched, COALESCE(SUM(h) FILTER (WHERE x <> '${writtenBy}'), 0)::text AS touched
       FROM (SELECT t.xmin::text AS x, ${rowHash(dialect, columns, "t")} AS h FROM ${dialect.table(table)} t WHERE ${condition.sql}) rows`,
    condition.params,
  );
  return BigInt(contentHash) - BigInt(rows[0]?.untouched ?? 0) === BigInt(rows[0]?.touched ?? 0);
}

/**
 * The matching rows that some row references, through any foreign key the live catalog knows.
 * One semi-join per foreign key and chunk; where the referencing column has no index, nested
 * loops are ruled out, so the referencing table is hashed once instead of scanned once per key.
 */
async function referencedKeys(
  executor: SqlExecutor,
  context: ChunkContext,
  references: LiveReference[],
  keys: string[][],
  run?: KeyRun,
): Promise<Set<string>> {
  const { session, table, keyColumns } = context;
  const { dialect } = session;
  const found = new Set<string>();
  for (const reference of references) {
    const keyColumn = keyColumns[0] as Column;
    if (run && keyColumns.length === 1 && reference.columns.length === 1 && reference.referencedColumns[0] === keyColumn.name) {
      // Every value in the run's range that some row points at: one pass over the referencing
      // table with a plain range filter, whatever its indexes.
      const column = { ...keyColumn, name: reference.columns[0] as string };
      const range = runsCondition(dialect, column, [run], "c");
      const { rows } = await executor.query(
        `SELECT DISTINCT ${keyText(dialect, [column], "c")} FROM ${dialect.table({ schema: reference.tableSchema, name: reference.tableName })} c WHERE ${range.sql}`,
        range.params,
      );
      for (const key of toKeys(rows, 1)) found.add(key.join("\u0000"));
      continue;
    }
    const pairs = reference.columns.map(
      (column, index) => `c.${dialect.quote(column)} = t.${dialect.quote(reference.referencedColumns[index] ?? column)}`,
    );
    const condition = keysIn(dialect, keyColumns, keys, "t");
    const unindexed = dialect.kind === "postgres" && !reference.indexed;
    if (unindexed) await executor.query("SET LOCAL enable_nestloop = off");
    const { rows } = await executor.query(
      `SELECT ${keyText(dialect, keyColumns, "t")} FROM ${dialect.table(table)} t WHERE ${condition.sql}
          AND EXISTS (SELECT 1 FROM ${dialect.table({ schema: reference.tableSchema, name: reference.tableName })} c WHERE ${pairs.join(" AND ")})`,
      condition.params,
    );
    if (unindexed) await executor.query("SET LOCAL enable_nestloop TO DEFAULT");
    for (const key of toKeys(rows, keyColumns.length)) found.add(key.join("\u0000"));
  }
  return found;
}

const superusers = new WeakMap<DatabaseSession, Promise<boolean>>();

/**
 * A superuser may skip foreign-key triggers (`session_replication_role`), and sees every row,
 * RLS or not; only on a table without DELETE triggers or rules.
 */
async function mayBypassForeignKeyTriggers(executor: SqlExecutor, session: DatabaseSession, table: Table): Promise<boolean> {
  let superuser = superusers.get(session);
  if (!superuser) {
    superuser = executor
      .query<{ superuser: boolean }>("SELECT rolsuper AS superuser FROM pg_roles WHERE rolname = current_user")
      .then(({ rows }) => rows[0]?.superuser === true);
    superusers.set(session, superuser);
  }
  if (!(await superuser)) return false;
  const { rows } = await executor.query<{ triggered: boolean }>(
    // tgtype bit 3 (8) is DELETE; internal triggers are the foreign keys' own. Rules fire
    // whatever session_replication_role says, so a DELETE rule rules the shortcut out too.
    `SELECT EXISTS (SELECT 1 FROM pg_trigger WHERE tgrelid = $1::regclass AND NOT tgisinternal AND (tgtype::int & 8) <> 0)
         OR EXISTS (SELECT 1 FROM pg_rewrite WHERE ev_class = $1::regclass AND ev_type = '4') AS triggered`,
    [session.dialect.table(table)],
  );
  return rows[0]?.triggered === false;
}

/**
 * Checks from the transaction's write counts what the DELETE changed besides chaos's rows.
 * Rows a DELETE trigger inserted elsewhere are this transaction's own (their `xmin` is its id,
 * and their table saw no update or delete): they are removed again. Rows a trigger updated in a
 * table that does not reference this one (a counter put back) are listed and left as written.
 * Anything else, a change in a referencing table (a cascade chaos could not see) or a row
 * deleted elsewhere, rolls the chunk back and keeps it, reported.
 */
async function undoSideEffects(
  executor: SqlExecutor,
  context: ChunkContext,
  before: WriteCounts,
  deleted: number,
  keys: string[][],
  references: LiveReference[],
): Promise<{ removed: number; listed: string[] }> {
  const { session, table } = context;
  const referencing = new Set(references.map((reference) => reference.table));
  const first = await writesSince(executor, before);
  const insertedOnly = first.filter((write) => write.table !== table.qualifiedName && write.updated === 0 && write.deleted === 0);
  let removed = 0;
  for (const write of insertedOnly) {
    removed += (await executor.query(`DELETE FROM ${postgresDialect.table(write)} WHERE xmin::text::bigint = txid_current() % 4294967296`))
      .rowCount;
  }
  const writes = insertedOnly.length ? await writesSince(executor, before) : first;
  const unexpected = writes.filter((write) =>
    write.table === table.qualifiedName
      ? write.deleted !== deleted || write.updated > 0 || write.inserted > 0
      : write.inserted !== write.deleted || (referencing.has(write.table) && write.updated > 0),
  );
  if (unexpected.length) {
    throw new KeptChunk(
      describeKept(
        table,
        keys,
        `deleting it would also change ${unexpected
          .map((write) => `${write.table} (${write.inserted} inserted, ${write.updated} updated, ${write.deleted} deleted)`)
          .join(", ")}, by a cascade or trigger; nothing was deleted`,
      ),
    );
  }
  const listed: TriggerWrites = {};
  const schema = await session.schema();
  for (const write of writes.filter((candidate) => candidate.table !== table.qualifiedName && candidate.updated > 0)) {
    const other = schema.tables.find((candidate) => candidate.qualifiedName === write.table);
    listed[write.table] = (other && (await rowsWrittenInTransaction(executor, session, other))) ?? [];
  }
  return { removed, listed: describeTriggerWrites(listed, `DELETE from ${table.qualifiedName} (rollback)`) };
}

async function mysqlDeleteTriggers(executor: SqlExecutor, table: Table): Promise<string[]> {
  const { rows } = await executor.query<{ name: string }>(
    `SELECT TRIGGER_NAME AS name FROM information_schema.TRIGGERS
      WHERE EVENT_OBJECT_SCHEMA = ? AND EVENT_OBJECT_TABLE = ? AND EVENT_MANIPULATION = 'DELETE' ORDER BY TRIGGER_NAME`,
    [table.schema, table.name],
  );
  return rows.map((row) => row.name);
}

/** The table as discovery knows it, read again when it is not there (created during the hold). */
async function tableNamed(session: DatabaseSession, name: string): Promise<Table | undefined> {
  const find = (schema: Awaited<ReturnType<DatabaseSession["schema"]>>) => schema.tables.find((table) => table.qualifiedName === name);
  return find(await session.schema()) ?? find(await session.schema(true));
}

/**
 * The DELETE's condition: the run's range minus the rows to keep, or the free keys one by one.
 * A range could also catch a row the application inserted into a gap after chaos locked the
 * rest; the caller compares the count deleted with the count expected and, if it differs,
 * rolls back and deletes key by key.
 */
function deletion(dialect: Dialect, keyColumns: Column[], free: string[][], run: KeyRun | undefined, kept: string[][]): Condition {
  if (!run) return keysIn(dialect, keyColumns, free, "t");
  const range = runsCondition(dialect, keyColumns[0] as Column, [run], "t");
  if (kept.length === 0) return range;
  const excluded = keysIn(dialect, keyColumns, kept, "t", range.params.length + 1);
  return { sql: `${range.sql} AND NOT ${excluded.sql}`, params: [...range.params, ...excluded.params] };
}

/** The keys of `all` that are not in `some`. */
function except(all: string[][], some: string[][]): string[][] {
  const set = new Set(some.map((key) => key.join("\u0000")));
  return all.filter((key) => !set.has(key.join("\u0000")));
}

/** One conflict line for rows kept for one reason; long lists are cut to their first keys. */
export function describeKept(table: Table, keys: string[][], reason: string): string {
  if (keys.length === 1) return `${table.qualifiedName} row (${keys[0]?.join(", ")}) kept: ${reason}`;
  const shown = keys
    .slice(0, 20)
    .map((key) => `(${key.join(", ")})`)
    .join(" ");
  return `${table.qualifiedName}: ${keys.length} rows kept: ${reason.replace(/\bit\b/, "them")}; keys ${shown}${keys.length > 20 ? " …" : ""}`;
}

/** Sums outcomes into a rollback result. */
export function rollbackResult(table: string, outcomes: DeleteOutcome[], extraConflicts: string[] = []): RollbackResult {
  const deleted = outcomes.reduce((sum, outcome) => sum + outcome.deleted, 0);
  const removed = outcomes.reduce((sum, outcome) => sum + outcome.triggerRowsRemoved, 0);
  return {
    summary: `deleted ${deleted} chaos row(s) from ${table}${removed ? `; removed ${removed} row(s) DELETE triggers wrote` : ""}`,
    conflicts: [...outcomes.flatMap((outcome) => outcome.conflicts), ...extraConflicts],
    metrics: { rows_deleted: deleted },
  };
}
