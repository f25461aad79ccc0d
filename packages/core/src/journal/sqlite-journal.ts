import { chmodSync, closeSync, mkdirSync, openSync } from "node:fs";
import { dirname } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { redactSecrets } from "../redact.js";
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
import { claimRefusal } from "./scheduled-run-claims.js";

const schema = `
CREATE TABLE IF NOT EXISTS experiments (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  target TEXT NOT NULL,
  identity TEXT NOT NULL,
  target_config TEXT NOT NULL,
  config_file TEXT,
  config_hash TEXT,
  plugins TEXT NOT NULL,
  started_at TEXT NOT NULL,
  deadline TEXT NOT NULL,
  status TEXT NOT NULL,
  finished_at TEXT
);
CREATE TABLE IF NOT EXISTS steps (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  experiment_id TEXT NOT NULL REFERENCES experiments(id),
  skill TEXT NOT NULL,
  undo TEXT NOT NULL,
  status TEXT NOT NULL DEFAULT 'pending',
  error TEXT,
  conflicts TEXT,
  created_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS steps_by_experiment ON steps(experiment_id, status);
CREATE INDEX IF NOT EXISTS experiments_by_end ON experiments(status, finished_at);
CREATE TABLE IF NOT EXISTS scheduled_runs (
  experiment_name TEXT NOT NULL,
  scheduled_at TEXT NOT NULL,
  identity TEXT NOT NULL,
  owner_host TEXT NOT NULL,
  owner_pid INTEGER NOT NULL,
  owner_start TEXT NOT NULL,
  claimed_at TEXT NOT NULL,
  heartbeat_at TEXT NOT NULL,
  experiment_id TEXT,
  finished_at TEXT,
  PRIMARY KEY (experiment_name, scheduled_at)
);
`;

/** Columns added after the first release: journals written before them gain them on open. */
const addedExperimentColumns = [
  "owner_host TEXT",
  "owner_pid INTEGER",
  "owner_start TEXT",
  "heartbeat_at TEXT",
  "outcome TEXT",
  "report_path TEXT",
];

const addedStepColumns = ["checkpoint TEXT"];

/**
 * SQLite (Node's built-in `node:sqlite`, so no native module to compile) in WAL mode with
 * synchronous=FULL: each statement commits and fsyncs the WAL before returning, which is exactly
 * the write-ahead guarantee rollback needs. The methods are `async` only to share the interface
 * with PostgreSQL: each one writes synchronously, before its promise is even returned.
 */
export function openSqliteJournal(path: string): Journal {
  if (path !== ":memory:") {
    mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
    // Before-images are application data: only the owner may read the journal, from its first byte.
    closeSync(openSync(path, "a", 0o600));
  }
  const database = new DatabaseSync(path);
  database.exec("PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA busy_timeout = 5000;");
  database.exec(schema);
  addMissingColumns(database, "experiments", addedExperimentColumns);
  addMissingColumns(database, "steps", addedStepColumns);
  // Only now that it proved to be a journal: an older one may have been created with a looser mode.
  if (path !== ":memory:") chmodSync(path, 0o600);

  const statements = {
    insertExperiment: database.prepare(
      `INSERT INTO experiments (id, name, target, identity, target_config, config_file, config_hash, plugins, started_at, deadline, status,
                                owner_host, owner_pid, owner_start, heartbeat_at)
       VALUES (@id, @name, @target, @identity, @target_config, @config_file, @config_hash, @plugins, @started_at, @deadline, 'running',
               @owner_host, @owner_pid, @owner_start, @heartbeat_at)`,
    ),
    heartbeat: database.prepare(
      "UPDATE experiments SET heartbeat_at = ? WHERE id = ? AND owner_host IS ? AND owner_pid IS ? AND owner_start IS ?",
    ),
    claim: database.prepare(
      `UPDATE experiments SET owner_host = ?, owner_pid = ?, owner_start = ?, heartbeat_at = ?, status = 'running'
       WHERE id = ? AND owner_host IS ? AND owner_pid IS ? AND owner_start IS ?`,
    ),
    insertStep: database.prepare("INSERT INTO steps (experiment_id, skill, undo, created_at) VALUES (?, ?, ?, ?)"),
    stepDone: database.prepare("UPDATE steps SET status = 'done', error = NULL, conflicts = ? WHERE id = ?"),
    stepFailed: database.prepare("UPDATE steps SET status = 'failed', error = ? WHERE id = ?"),
    stepCheckpoint: database.prepare("UPDATE steps SET checkpoint = ? WHERE id = ?"),
    finish: database.prepare("UPDATE experiments SET status = ?, finished_at = ?, outcome = coalesce(?, outcome) WHERE id = ?"),
    reportPath: database.prepare("UPDATE experiments SET report_path = ? WHERE id = ?"),
    history: database.prepare("SELECT * FROM experiments ORDER BY started_at DESC, rowid DESC LIMIT ?"),
    pruneUndo: database.prepare(
      `UPDATE steps SET undo = 'null'
        WHERE undo != 'null' AND status = 'done'
          AND experiment_id IN (SELECT id FROM experiments WHERE status = 'finished' AND finished_at < ?)`,
    ),
    deleteSteps: database.prepare(
      "DELETE FROM steps WHERE experiment_id IN (SELECT id FROM experiments WHERE status = 'finished' AND finished_at < ?) AND status = 'done'",
    ),
    deleteExperiments: database.prepare(
      `DELETE FROM experiments WHERE status = 'finished' AND finished_at < ?
          AND NOT EXISTS (SELECT 1 FROM steps s WHERE s.experiment_id = experiments.id)`,
    ),
    experiment: database.prepare("SELECT * FROM experiments WHERE id = ?"),
    pendingSteps: database.prepare("SELECT * FROM steps WHERE experiment_id = ? AND status != 'done' ORDER BY id DESC"),
    steps: database.prepare("SELECT * FROM steps WHERE experiment_id = ? ORDER BY id"),
    claimTaken: database.prepare(
      "SELECT experiment_name, scheduled_at, owner_host, owner_pid, owner_start FROM scheduled_runs WHERE experiment_name = ? AND scheduled_at = ?",
    ),
    claimBusy: database.prepare(
      `SELECT experiment_name, scheduled_at, owner_host, owner_pid, owner_start FROM scheduled_runs
        WHERE finished_at IS NULL AND heartbeat_at > ? AND (experiment_name = ? OR identity = ?) ORDER BY scheduled_at LIMIT 1`,
    ),
    insertClaim: database.prepare(
      `INSERT INTO scheduled_runs (experiment_name, scheduled_at, identity, owner_host, owner_pid, owner_start, claimed_at, heartbeat_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
    ),
    heartbeatClaims: database.prepare(
      "UPDATE scheduled_runs SET heartbeat_at = ? WHERE finished_at IS NULL AND owner_host = ? AND owner_pid = ? AND owner_start = ?",
    ),
    finishClaim: database.prepare(
      "UPDATE scheduled_runs SET finished_at = ?, experiment_id = coalesce(?, experiment_id) WHERE experiment_name = ? AND scheduled_at = ?",
    ),
    scheduledRuns: database.prepare("SELECT * FROM scheduled_runs ORDER BY scheduled_at DESC, experiment_name LIMIT ?"),
    pruneClaims: database.prepare("DELETE FROM scheduled_runs WHERE finished_at < ?"),
    unfinished: database.prepare(
      `SELECT * FROM experiments e WHERE e.status != 'finished'
          OR EXISTS (SELECT 1 FROM steps s WHERE s.experiment_id = e.id AND s.status != 'done')
       ORDER BY e.started_at, e.rowid`,
    ),
  };

  return {
    location: path,
    async beginExperiment(record) {
      statements.insertExperiment.run({
        id: record.id,
        name: record.name,
        target: record.target,
        identity: record.identity,
        target_config: JSON.stringify(redactSecrets(record.targetConfig)),
        config_file: record.configFile ?? null,
        config_hash: record.configHash ?? null,
        plugins: JSON.stringify(record.plugins),
        started_at: record.startedAt,
        deadline: record.deadline,
        owner_host: record.owner?.host ?? null,
        owner_pid: record.owner?.pid ?? null,
        owner_start: record.owner?.start ?? null,
        heartbeat_at: record.owner ? new Date().toISOString() : null,
      });
    },
    async heartbeat(experimentId, owner) {
      return statements.heartbeat.run(new Date().toISOString(), experimentId, owner.host, owner.pid, owner.start).changes === 1;
    },
    async claimExperiment(experimentId, expected, claimant) {
      // One UPDATE compares and swaps: SQLite runs writers one at a time, so two claims never both win.
      const { changes } = statements.claim.run(
        claimant.host,
        claimant.pid,
        claimant.start,
        new Date().toISOString(),
        experimentId,
        expected?.host ?? null,
        expected?.pid ?? null,
        expected?.start ?? null,
      );
      return changes === 1;
    },
    async recordStep(experimentId, skill, undo) {
      // Undo data is stored exactly as given: a before-image must restore the real value, even
      // one that looks like a secret. Skills never put connection credentials in it.
      const info = statements.insertStep.run(experimentId, skill, JSON.stringify(undo), new Date().toISOString());
      return Number(info.lastInsertRowid);
    },
    async markStepDone(stepId, conflicts) {
      statements.stepDone.run(conflicts?.length ? JSON.stringify(conflicts) : null, stepId);
    },
    async markStepFailed(stepId, error) {
      statements.stepFailed.run(error, stepId);
    },
    async recordStepCheckpoint(stepId, checkpoint) {
      statements.stepCheckpoint.run(JSON.stringify(checkpoint), stepId);
    },
    async finishExperiment(experimentId, status, outcome) {
      statements.finish.run(status, new Date().toISOString(), outcome ?? null, experimentId);
    },
    async recordReportPath(experimentId, path) {
      statements.reportPath.run(path, experimentId);
    },
    history: async (limit) => (statements.history.all(limit) as unknown as ExperimentRow[]).map(toExperiment),
    async experiment(experimentId) {
      const row = statements.experiment.get(experimentId) as ExperimentRow | undefined;
      return row && toExperiment(row);
    },
    async prune(retention, now = new Date()) {
      const before = (milliseconds: number) => new Date(now.getTime() - milliseconds).toISOString();
      database.exec("BEGIN IMMEDIATE");
      try {
        const undoPruned = Number(statements.pruneUndo.run(before(retention.undoAfterMs)).changes);
        statements.deleteSteps.run(before(retention.recordAfterMs));
        const recordsDeleted = Number(statements.deleteExperiments.run(before(retention.recordAfterMs)).changes);
        statements.pruneClaims.run(before(retention.recordAfterMs));
        database.exec("COMMIT");
        return { undoPruned, recordsDeleted };
      } catch (error) {
        database.exec("ROLLBACK");
        throw error;
      }
    },
    pendingSteps: async (experimentId) => (statements.pendingSteps.all(experimentId) as unknown as StepRow[]).map(toStep),
    steps: async (experimentId) => (statements.steps.all(experimentId) as unknown as StepRow[]).map(toStep),
    unfinishedExperiments: async () => (statements.unfinished.all() as unknown as ExperimentRow[]).map(toExperiment),
    async claimScheduledRun(claim) {
      // BEGIN IMMEDIATE takes SQLite's write lock first: the check and the insert are one step.
      database.exec("BEGIN IMMEDIATE");
      try {
        const taken = statements.claimTaken.get(claim.experimentName, claim.scheduledAt) as HeldRow | undefined;
        const staleBefore = new Date(Date.now() - claim.lapseMs).toISOString();
        const busy = statements.claimBusy.get(staleBefore, claim.experimentName, claim.identity) as HeldRow | undefined;
        const result = claimRefusal(claim, toHeld(taken), toHeld(busy));
        if (result.claimed) {
          const now = new Date().toISOString();
          const { owner } = claim;
          statements.insertClaim.run(claim.experimentName, claim.scheduledAt, claim.identity, owner.host, owner.pid, owner.start, now, now);
        }
        database.exec("COMMIT");
        return result;
      } catch (error) {
        database.exec("ROLLBACK");
        throw error;
      }
    },
    heartbeatScheduledRuns: async (owner) =>
      Number(statements.heartbeatClaims.run(new Date().toISOString(), owner.host, owner.pid, owner.start).changes),
    async finishScheduledRun(experimentName, scheduledAt, experimentId) {
      statements.finishClaim.run(new Date().toISOString(), experimentId ?? null, experimentName, scheduledAt);
    },
    scheduledRuns: async (limit) => (statements.scheduledRuns.all(limit) as unknown as ScheduledRunRow[]).map(toScheduledRun),
    close: async () => database.close(),
  };
}

function addMissingColumns(database: DatabaseSync, table: string, columns: string[]) {
  const existing = new Set((database.prepare(`PRAGMA table_info(${table})`).all() as { name: string }[]).map((column) => column.name));
  for (const column of columns) {
    if (!existing.has(column.split(" ")[0]!)) database.exec(`ALTER TABLE ${table} ADD COLUMN ${column}`);
  }
}
