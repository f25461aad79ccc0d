import { randomUUID } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import type { Pool, PoolClient } from "pg";
import { redactSecrets, redactText } from "../redact.js";
import type { Journal } from "./journal.js";
import {
  type ExperimentRow,
  type HeldRow,
  type ScheduledRunRow,
  type StepRow,
  toExperiment,
  toHeld,
  toScheduledRun,
  toStep,
} from "./journal-rows.js";
import { journalMigrations, journalSchema } from "./postgres-journal-schema.js";
import { claimRefusal } from "./scheduled-run-claims.js";

const s = journalSchema;

/** True when the journal setting names a PostgreSQL server rather than a file. */
export function isPostgresJournalUrl(location: string): boolean {
  return /^postgres(ql)?:\/\//i.test(location);
}

/**
 * The journal in PostgreSQL, for several daemons (on several machines) to share. Every write is one
 * autocommitted statement or one explicit transaction, with `synchronous_commit = on` forced on
 * each connection, so a call settles only once its COMMIT is flushed: undo data is durable before
 * the change it describes becomes visible, as with SQLite. Compare-and-swap claims are single
 * UPDATEs (PostgreSQL re-checks the WHERE on the row a concurrent writer left); scheduled-run claims
 * are unique rows taken under a transaction-scoped advisory lock.
 */
export async function openPostgresJournal(url: string): Promise<Journal> {
  const location = redactText(url);
  const { default: pg } = await import("pg");
  const parseTimestamp = pg.types.getTypeParser(pg.types.builtins.TIMESTAMPTZ) as (text: string) => Date;
  const pool: Pool = new pg.Pool({
    ...withDurableCommits(url),
    max: 4,
    connectionTimeoutMillis: 15_000,
    application_name: "chaos-agents journal",
    // Timestamps as ISO text, as SQLite keeps them, so both stores share one row mapping.
    types: {
      getTypeParser: ((oid: number, format?: "text" | "binary") =>
        oid === pg.types.builtins.TIMESTAMPTZ
          ? (text: string) => parseTimestamp(text).toISOString()
          : pg.types.getTypeParser(oid, format)) as typeof pg.types.getTypeParser,
    },
  });
  // An idle connection the server dropped must not end the process; the next query reconnects.
  pool.on("error", () => undefined);

  // Every call is safe to repeat (see `reconnecting`): each runs again after a lost connection.
  const query = <Row>(sql: string, values: unknown[] = []) => reconnecting(async () => (await pool.query(sql, values)).rows as Row[]);
  const changed = (sql: string, values: unknown[]) => reconnecting(async () => (await pool.query(sql, values)).rowCount ?? 0);
  const transaction = <T>(work: (client: PoolClient) => Promise<T>): Promise<T> => reconnecting(() => transactionOnce(work));
  const transactionOnce = async <T>(work: (client: PoolClient) => Promise<T>): Promise<T> => {
    const client = await pool.connect();
    let failure: Error | undefined;
    try {
      await client.query("BEGIN");
      const result = await work(client);
      await client.query("COMMIT");
      return result;
    } catch (error) {
      failure = error as Error;
      await client.query("ROLLBACK").catch(() => undefined);
      throw error;
    } finally {
      // A connection that failed mid-transaction may be broken: drop it rather than reuse it.
      client.release(failure);
    }
  };

  try {
    await migrate(transaction);
  } catch (error) {
    await pool.end().catch(() => undefined);
    throw new Error(`cannot prepare the journal in ${location}: ${redactText((error as Error).message)}`, { cause: error });
  }

  const ownerMatches = (first: number) =>
    `owner_host IS NOT DISTINCT FROM $${first} AND owner_pid IS NOT DISTINCT FROM $${first + 1} AND owner_start IS NOT DISTINCT FROM $${first + 2}`;

  return {
    location,
    async beginExperiment(record) {
      await query(
        `INSERT INTO ${s}.experiments (id, name, target, identity, target_config, config_file, config_hash, plugins, started_at, deadline, status,
                                      owner_host, owner_pid, owner_start, heartbeat_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, 'running', $11, $12, $13, CASE WHEN $11::text IS NULL THEN NULL ELSE clock_timestamp() END)
         ON CONFLICT (id) DO NOTHING`,
        [
          record.id,
          record.name,
          record.target,
          record.identity,
          JSON.stringify(redactSecrets(record.targetConfig)),
          record.configFile ?? null,
          record.configHash ?? null,
          JSON.stringify(record.plugins),
          record.startedAt,
          record.deadline,
          record.owner?.host ?? null,
          record.owner?.pid ?? null,
          record.owner?.start ?? null,
        ],
      );
    },
    async heartbeat(experimentId, owner) {
      const sql = `UPDATE ${s}.experiments SET heartbeat_at = clock_timestamp() WHERE id = $1 AND ${ownerMatches(2)}`;
      return (await changed(sql, [experimentId, owner.host, owner.pid, owner.start])) === 1;
    },
    async claimExperiment(experimentId, expected, claimant) {
      // One UPDATE compares and swaps: a second concurrent claim waits for the first's row lock,
      // then re-reads the row, finds the owner changed, and updates nothing.
      const sql = `UPDATE ${s}.experiments SET owner_host = $1, owner_pid = $2, owner_start = $3, heartbeat_at = clock_timestamp(), status = 'running'
                    WHERE id = $4 AND ${ownerMatches(5)}`;
      const values = [claimant.host, claimant.pid, claimant.start, experimentId];
      if ((await changed(sql, [...values, expected?.host ?? null, expected?.pid ?? null, expected?.start ?? null])) === 1) return true;
      // Repeated after a lost connection, the first try may have won: then the owner is the claimant.
      const [row] = await query<ExperimentRow>(`SELECT owner_host, owner_pid, owner_start FROM ${s}.experiments WHERE id = $1`, [
        experimentId,
      ]);
      return row?.owner_host === claimant.host && row.owner_pid === claimant.pid && row.owner_start === claimant.start;
    },
    async recordStep(experimentId, skill, undo) {
      // Undo data is stored exactly as given (text, not jsonb, so nothing is reordered or normalised).
      // A request id makes the insert safe to repeat after a lost connection: one step, whatever happened.
      const requestId = randomUUID();
      const rows = await query<{ id: string }>(
        `WITH inserted AS (
           INSERT INTO ${s}.steps (experiment_id, skill, undo, created_at, request_id) VALUES ($1, $2, $3, $4, $5)
           ON CONFLICT (request_id) DO NOTHING RETURNING id)
         SELECT id FROM inserted UNION ALL SELECT id FROM ${s}.steps WHERE request_id = $5 LIMIT 1`,
        [experimentId, skill, JSON.stringify(undo), new Date().toISOString(), requestId],
      );
      return Number(rows[0]?.id);
    },
    async markStepDone(stepId, conflicts) {
      await query(`UPDATE ${s}.steps SET status = 'done', error = NULL, conflicts = $1 WHERE id = $2`, [
        conflicts?.length ? JSON.stringify(conflicts) : null,
        stepId,
      ]);
    },
    async recordStepCheckpoint(stepId, checkpoint) {
      await query(`UPDATE ${s}.steps SET checkpoint = $1 WHERE id = $2`, [JSON.stringify(checkpoint), stepId]);
    },
    async markStepFailed(stepId, error) {
      await query(`UPDATE ${s}.steps SET status = 'failed', error = $1 WHERE id = $2`, [error, stepId]);
    },
    async finishExperiment(experimentId, status, outcome) {
      await query(`UPDATE ${s}.experiments SET status = $1, finished_at = $2, outcome = coalesce($3, outcome) WHERE id = $4`, [
        status,
        new Date().toISOString(),
        outcome ?? null,
        experimentId,
      ]);
    },
    async recordReportPath(experimentId, path) {
      await query(`UPDATE ${s}.experiments SET report_path = $1 WHERE id = $2`, [path, experimentId]);
    },
    history: async (limit) =>
      (
        await query<ExperimentRow & HeartbeatAge>(
          `SELECT ${experimentColumns} FROM ${s}.experiments ORDER BY started_at DESC, seq DESC LIMIT $1`,
          [limit],
        )
      ).map((row) => withServerHeartbeat(toExperiment(row), row)),
    async experiment(experimentId) {
      const [row] = await query<ExperimentRow & HeartbeatAge>(`SELECT ${experimentColumns} FROM ${s}.experiments WHERE id = $1`, [
        experimentId,
      ]);
      return row && withServerHeartbeat(toExperiment(row), row);
    },
    pendingSteps: async (experimentId) =>
      (await query<StepRow>(`SELECT * FROM ${s}.steps WHERE experiment_id = $1 AND status != 'done' ORDER BY id DESC`, [experimentId])).map(
        toStep,
      ),
    steps: async (experimentId) =>
      (await query<StepRow>(`SELECT * FROM ${s}.steps WHERE experiment_id = $1 ORDER BY id`, [experimentId])).map(toStep),
    unfinishedExperiments: async () =>
      (
        await query<ExperimentRow & HeartbeatAge>(
          `SELECT ${experimentColumns} FROM ${s}.experiments e WHERE e.status != 'finished'
              OR EXISTS (SELECT 1 FROM ${s}.steps st WHERE st.experiment_id = e.id AND st.status != 'done')
           ORDER BY e.started_at, e.seq`,
        )
      ).map((row) => withServerHeartbeat(toExperiment(row), row)),
    prune(retention, now = new Date()) {
      const before = (milliseconds: number) => new Date(now.getTime() - milliseconds).toISOString();
      return transaction(async (client) => {
        const finishedBefore = `SELECT id FROM ${s}.experiments WHERE status = 'finished' AND finished_at < $1`;
        const undo = await client.query(
          `UPDATE ${s}.steps SET undo = 'null' WHERE undo != 'null' AND status = 'done' AND experiment_id IN (${finishedBefore})`,
          [before(retention.undoAfterMs)],
        );
        const recordsBefore = before(retention.recordAfterMs);
        await client.query(`DELETE FROM ${s}.steps WHERE experiment_id IN (${finishedBefore}) AND status = 'done'`, [recordsBefore]);
        const records = await client.query(
          `DELETE FROM ${s}.experiments e WHERE status = 'finished' AND finished_at < $1
              AND NOT EXISTS (SELECT 1 FROM ${s}.steps st WHERE st.experiment_id = e.id)`,
          [recordsBefore],
        );
        await client.query(`DELETE FROM ${s}.scheduled_runs WHERE finished_at < $1`, [recordsBefore]);
        return { undoPruned: undo.rowCount ?? 0, recordsDeleted: records.rowCount ?? 0 };
      });
    },
    claimScheduledRun(claim) {
      return transaction(async (client) => {
        // Claims are decided one at a time across every daemon sharing this journal; the lock is
        // released with the transaction, so a daemon dying here holds nothing.
        await client.query("SELECT pg_advisory_xact_lock(hashtext($1))", [`${s}.scheduled_runs`]);
        const held = `SELECT experiment_name, scheduled_at, owner_host, owner_pid, owner_start FROM ${s}.scheduled_runs`;
        const taken = await client.query<HeldRow>(`${held} WHERE experiment_name = $1 AND scheduled_at = $2`, [
          claim.experimentName,
          claim.scheduledAt,
        ]);
        const busy = await client.query<HeldRow>(
          `${held} WHERE finished_at IS NULL AND heartbeat_at > clock_timestamp() - make_interval(secs => $1 / 1000.0)
              AND (experiment_name = $2 OR identity = $3) ORDER BY scheduled_at LIMIT 1`,
          [claim.lapseMs, claim.experimentName, claim.identity],
        );
        const mine = toHeld(taken.rows[0]);
        // Repeated after a lost connection: the first try's COMMIT went through.
        if (mine && mine.owner.host === claim.owner.host && mine.owner.pid === claim.owner.pid && mine.owner.start === claim.owner.start) {
          return { claimed: true } as const;
        }
        const result = claimRefusal(claim, mine, toHeld(busy.rows[0]));
        if (!result.claimed) return result;
        // ON CONFLICT: the primary key is the last word even if the lock were ever bypassed.
        const inserted = await client.query(
          `INSERT INTO ${s}.scheduled_runs (experiment_name, scheduled_at, identity, owner_host, owner_pid, owner_start, claimed_at, heartbeat_at)
           VALUES ($1, $2, $3, $4, $5, $6, clock_timestamp(), clock_timestamp()) ON CONFLICT DO NOTHING`,
          [claim.experimentName, claim.scheduledAt, claim.identity, claim.owner.host, claim.owner.pid, claim.owner.start],
        );
        return inserted.rowCount === 1
          ? result
          : { claimed: false, kind: "taken", reason: `the run scheduled at ${claim.scheduledAt} was claimed by another daemon` };
      });
    },
    heartbeatScheduledRuns: (owner) =>
      changed(`UPDATE ${s}.scheduled_runs SET heartbeat_at = clock_timestamp() WHERE finished_at IS NULL AND ${ownerMatches(1)}`, [
        owner.host,
        owner.pid,
        owner.start,
      ]),
    async finishScheduledRun(experimentName, scheduledAt, experimentId) {
      await query(
        `UPDATE ${s}.scheduled_runs SET finished_at = $1, experiment_id = coalesce($2, experiment_id) WHERE experiment_name = $3 AND scheduled_at = $4`,
        [new Date().toISOString(), experimentId ?? null, experimentName, scheduledAt],
      );
    },
    scheduledRuns: async (limit) =>
      (
        await query<ScheduledRunRow & HeartbeatAge>(
          `SELECT *, ${heartbeatAge} FROM ${s}.scheduled_runs ORDER BY scheduled_at DESC, experiment_name LIMIT $1`,
          [limit],
        )
      ).map((row) => withServerHeartbeat(toScheduledRun(row), row)),
    close: () => pool.end(),
  };
}

/**
 * Runs `work` again when the connection to the server was lost (a restart, a failover, an idle
 * connection the server dropped), for up to about 10 s. Only for work that is safe to repeat, even
 * when the lost try did commit: every call of this store is (updates set values, inserts carry a
 * unique key, claims recognise their own earlier win).
 */
async function reconnecting<T>(work: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await work();
    } catch (error) {
      if (attempt >= 6 || !isConnectionLoss(error)) throw error;
      await sleep(100 * 2 ** (attempt - 1));
    }
  }
}

function isConnectionLoss(error: unknown): boolean {
  const { code, message } = error as { code?: unknown; message?: unknown };
  if (
    typeof code === "string" &&
    (code.startsWith("08") || ["57P01", "57P02", "57P03", "ECONNRESET", "ECONNREFUSED", "EPIPE"].includes(code))
  )
    return true;
  return (
    typeof message === "string" &&
    /Connection terminated|connection (?:is )?(?:closed|ended)|Client has encountered a connection error/i.test(message)
  );
}

/**
 * Connection settings that make every COMMIT wait for its WAL flush, whatever the server's or the
 * database's default (`synchronous_commit = off` would let a crash lose undo data already acted on).
 * Set at connection start-up, merged with any `options` the URL carries.
 */
export function withDurableCommits(url: string): { connectionString: string; options: string } {
  const durable = "-c synchronous_commit=on";
  if (!/[?&]options=/.test(url)) return { connectionString: url, options: durable };
  const parsed = new URL(url);
  const own = parsed.searchParams.get("options");
  parsed.searchParams.delete("options");
  return { connectionString: parsed.toString(), options: `${own} ${durable}` };
}

async function migrate(transaction: <T>(work: (client: PoolClient) => Promise<T>) => Promise<T>) {
  await transaction(async (client) => {
    // Serialises daemons that start together: CREATE … IF NOT EXISTS alone still races in the catalog.
    await client.query("SELECT pg_advisory_xact_lock(hashtext($1))", [`${s} migrations`]);
    await client.query(`CREATE SCHEMA IF NOT EXISTS ${s}`);
    await client.query(
      `CREATE TABLE IF NOT EXISTS ${s}.migrations (version integer PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())`,
    );
    const applied = new Set(
      (await client.query<{ version: number }>(`SELECT version FROM ${s}.migrations`)).rows.map((row) => row.version),
    );
    for (const migration of journalMigrations) {
      if (applied.has(migration.version)) continue;
      await client.query(migration.sql);
      await client.query(`INSERT INTO ${s}.migrations (version) VALUES ($1)`, [migration.version]);
    }
  });
}

/**
 * Heartbeats are written with the database server's clock and read back as an age on that same
 * clock, then placed on this machine's clock (now − age): daemons on machines whose clocks
 * disagree still judge a lapse alike, since only the server's clock ever measured it.
 */
const heartbeatAge = "(extract(epoch FROM clock_timestamp() - heartbeat_at) * 1000)::float8 AS heartbeat_age_ms";
const experimentColumns = `*, ${heartbeatAge}`;
const heartbeatOnThisClock = (ageMs: number | null) => (ageMs === null ? undefined : new Date(Date.now() - ageMs).toISOString());

/** What PostgreSQL adds to a row: the heartbeat's age on the server's clock. */
interface HeartbeatAge {
  heartbeat_age_ms: number | null;
}

function withServerHeartbeat<Record extends { heartbeatAt?: string }>(record: Record, row: HeartbeatAge): Record {
  return { ...record, heartbeatAt: heartbeatOnThisClock(row.heartbeat_age_ms) ?? record.heartbeatAt };
}
