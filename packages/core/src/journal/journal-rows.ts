import type { JsonValue } from "../json.js";
import type { ExperimentRecord, ExperimentRecordStatus, ScheduledRunRecord, StepRecord } from "./journal.js";

// The journal's rows as both stores read them (timestamps as ISO text), and the records they make.

export interface ExperimentRow {
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

export interface HeldRow {
  experiment_name: string;
  scheduled_at: string;
  owner_host: string;
  owner_pid: number;
  owner_start: string;
}

export interface ScheduledRunRow extends HeldRow {
  identity: string;
  claimed_at: string;
  heartbeat_at: string;
  experiment_id: string | null;
  finished_at: string | null;
}

export interface StepRow {
  /** A number in SQLite, a bigint's text in PostgreSQL. */
  id: number | string;
  experiment_id: string;
  skill: string;
  undo: string;
  status: string;
  error: string | null;
  conflicts: string | null;
  checkpoint: string | null;
  created_at: string;
}

export function toExperiment(row: ExperimentRow): ExperimentRecord {
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

export function toHeld(row: HeldRow | undefined) {
  return (
    row && {
      experimentName: row.experiment_name,
      scheduledAt: row.scheduled_at,
      owner: { host: row.owner_host, pid: row.owner_pid, start: row.owner_start },
    }
  );
}

export function toScheduledRun(row: ScheduledRunRow): ScheduledRunRecord {
  return {
    ...toHeld(row)!,
    identity: row.identity,
    claimedAt: row.claimed_at,
    heartbeatAt: row.heartbeat_at,
    experimentId: row.experiment_id ?? undefined,
    finishedAt: row.finished_at ?? undefined,
  };
}

export function toStep(row: StepRow): StepRecord {
  return {
    id: Number(row.id),
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
