import { chmodSync, closeSync, mkdirSync, openSync } from "node:fs";
import { dirname } from "node:path";
import { DatabaseSync } from "node:sqlite";
import type { JsonValue } from "../json.js";
import { redactSecrets } from "../redact.js";
import type { ExperimentRecord, ExperimentRecordStatus, Journal, StepRecord } from "./journal.js";

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

interface ExperimentRow {
  id: string;
  name: string;
  target: string;
  identity: string;
  target_config: string;
  config_file: string | null;
  config_hash: string | null;
  plugins: string;
  started_at: string;
  deadline: string;
  status: string;
  finished_at: string | null;
  owner_host: string | null;
  owner_pid: number | null;
  owner_start: string | null;
  heartbeat_at: string | null;
  outcome: string | null;
  report_path: string | null;
}

interface StepRow {
  id: number;
  experiment_id: string;
  skill: string;
  undo: string;
  status: string;
  error: string | null;
  conflicts: string | null;
  checkpoint: string | null;
  created_at: string;
}

/**
 * SQLite (Node's built-in `node:sqlite`, so no native module to compile) in WAL mode with
 * synchronous=FULL: each statement commits and fsyncs the WAL before returning, which is exactly
 * the write-ahead guarantee rollback needs.
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
    unfinished: database.prepare(
      `SELECT * FROM experiments e WHERE e.status != 'finished'
          OR EXISTS (SELECT 1 FROM steps s WHERE s.experiment_id = e.id AND s.status != 'done')
       ORDER BY e.started_at, e.rowid`,
    ),
  };

  return {
    beginExperiment(record) {
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
    heartbeat(experimentId, owner) {
      return statements.heartbeat.run(new Date().toISOString(), experimentId, owner.host, owner.pid, owner.start).changes === 1;
    },
    claimExperiment(experimentId, expected, claimant) {
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
    recordStep(experimentId, skill, undo) {
      // Undo data is stored exactly as given: a before-image must restore the real value, even
      // one that looks like a secret. Skills never put connection credentials in it.
      const info = statements.insertStep.run(experimentId, skill, JSON.stringify(undo), new Date().toISOString());
      return Number(info.lastInsertRowid);
    },
    markStepDone(stepId, conflicts) {
      statements.stepDone.run(conflicts?.length ? JSON.stringify(conflicts) : null, stepId);
    },
    markStepFailed(stepId, error) {
      statements.stepFailed.run(error, stepId);
    },
    recordStepCheckpoint(stepId, checkpoint) {
      statements.stepCheckpoint.run(JSON.stringify(checkpoint), stepId);
    },
    finishExperiment(experimentId, status, outcome) {
      statements.finish.run(status, new Date().toISOString(), outcome ?? null, experimentId);
    },
    recordReportPath(experimentId, path) {
      statements.reportPath.run(path, experimentId);
    },
    history: (limit) => (statements.history.all(limit) as unknown as ExperimentRow[]).map(toExperiment),
    experiment(experimentId) {
      const row = statements.experiment.get(experimentId) as ExperimentRow | undefined;
      return row && toExperiment(row);
    },
    prune(retention, now = new Date()) {
      const before = (milliseconds: number) => new Date(now.getTime() - milliseconds).toISOString();
      database.exec("BEGIN IMMEDIATE");
      try {
        const undoPruned = Number(statements.pruneUndo.run(before(retention.undoAfterMs)).changes);
        statements.deleteSteps.run(before(retention.recordAfterMs));
        const recordsDeleted = Number(statements.deleteExperiments.run(before(retention.recordAfterMs)).changes);
        database.exec("COMMIT");
        return { undoPruned, recordsDeleted };
      } catch (error) {
        database.exec("ROLLBACK");
        throw error;
      }
    },
    pendingSteps: (experimentId) => (statements.pendingSteps.all(experimentId) as unknown as StepRow[]).map(toStep),
    steps: (experimentId) => (statements.steps.all(experimentId) as unknown as StepRow[]).map(toStep),
    unfinishedExperiments: () => (statements.unfinished.all() as unknown as ExperimentRow[]).map(toExperiment),
    close: () => database.close(),
  };
}

function toExperiment(row: ExperimentRow): ExperimentRecord {
  return {
    id: row.id,
    name: row.name,
    target: row.target as ExperimentRecord["target"],
    identity: row.identity,
    targetConfig: JSON.parse(row.target_config) as JsonValue,
    configFile: row.config_file ?? undefined,
    configHash: row.config_hash ?? undefined,
    plugins: JSON.parse(row.plugins) as string[],
    startedAt: row.started_at,
    deadline: row.deadline,
    status: row.status as ExperimentRecordStatus,
    finishedAt: row.finished_at ?? undefined,
    owner:
      row.owner_host !== null && row.owner_pid !== null
        ? { host: row.owner_host, pid: row.owner_pid, start: row.owner_start ?? "" }
        : undefined,
    heartbeatAt: row.heartbeat_at ?? undefined,
    outcome: row.outcome ?? undefined,
    reportPath: row.report_path ?? undefined,
  };
}

function addMissingColumns(database: DatabaseSync, table: string, columns: string[]) {
  const existing = new Set((database.prepare(`PRAGMA table_info(${table})`).all() as { name: string }[]).map((column) => column.name));
  for (const column of columns) {
    if (!existing.has(column.split(" ")[0]!)) database.exec(`ALTER TABLE ${table} ADD COLUMN ${column}`);
  }
}

function toStep(row: StepRow): StepRecord {
  return {
    id: row.id,
    experimentId: row.experiment_id,
    skill: row.skill,
    undo: JSON.parse(row.undo) as JsonValue,
    status: row.status as StepRecord["status"],
    error: row.error ?? undefined,
    conflicts: row.conflicts ? (JSON.parse(row.conflicts) as string[]) : undefined,
    checkpoint: row.checkpoint ? (JSON.parse(row.checkpoint) as JsonValue) : undefined,
    createdAt: row.created_at,
  };
}
