import type { JsonValue } from "../json.js";
import type { TargetKind } from "../target.js";

export interface JournalRetention {
  undoAfterMs: number;
  recordAfterMs: number;
}

/** The process that runs (or last recovered) an experiment. */
export interface ExperimentOwner {
  host: string;
  pid: number;
  /**
   * Tells this process apart from a later one that reuses its pid: the boot id and the start
   * time in clock ticks since boot (`/proc/PID/stat`), or "" where `/proc` is not there.
   */
  start: string;
}

export type ExperimentRecordStatus = "running" | "finished" | "rollback_incomplete";
export type StepStatus = "pending" | "done" | "failed";

/** What the journal knows of one experiment (no secrets: `targetConfig` is redacted). */
export interface ExperimentRecord {
  id: string;
  name: string;
  target: TargetKind;
  /** Target identity without secrets; `chaos run` refuses while an unfinished one shares it. */
  identity: string;
  /** The target config with secrets replaced by `***`; `chaos recover` reads secrets from `configFile`. */
  targetConfig: JsonValue;
  configFile?: string;
  configHash?: string;
  /** Absolute plugin paths, so `chaos recover` finds plugin skills' rollbacks. */
  plugins: string[];
  startedAt: string;
  /** When the faults are due to be rolled back (start + duration); dead-man timers key on it. */
  deadline: string;
  status: ExperimentRecordStatus;
  finishedAt?: string;
  /** Who runs or recovers it; absent in journals written before owners were recorded. */
  owner?: ExperimentOwner;
  /** The owner's last sign of life (written every few seconds while it runs). */
  heartbeatAt?: string;
  /** How the run ended (succeeded, failed_rolled_back, interrupted_rolled_back, rollback_incomplete). */
  outcome?: string;
  /** Where its JSON report was written. */
  reportPath?: string;
}

/** One journaled rollback step: undo data one skill recorded before its change became visible. */
export interface StepRecord {
  id: number;
  experimentId: string;
  skill: string;
  undo: JsonValue;
  status: StepStatus;
  /** Last rollback error, kept for `chaos recover` and the report. */
  error?: string;
  /** Conflicts reported by a rollback that otherwise succeeded. */
  conflicts?: string[];
  /**
   * What an earlier, unfinished try of this step's rollback saved (`saveCheckpoint`), e.g. the id
   * of a transaction it was about to commit, so the next try can tell whether that commit happened.
   */
  checkpoint?: JsonValue;
  createdAt: string;
}

/** One scheduled run (experiment name + scheduled time) a daemon asks to run. */
export interface ScheduledRunClaim {
  experimentName: string;
  /** The schedule's time for this run (ISO), the same on every daemon that reads the same file. */
  scheduledAt: string;
  /** Target identity: two runs on one target never go at once, whichever daemons run them. */
  identity: string;
  owner: ExperimentOwner;
  /** A claim whose heartbeat is older than this is a dead daemon's and no longer blocks others. */
  lapseMs: number;
}

/** Refused: `taken` (another daemon has this very run), `overlap` (the experiment's previous run goes on), `same_target`. */
export type ScheduledRunClaimResult = { claimed: true } | { claimed: false; kind: "taken" | "overlap" | "same_target"; reason: string };

/** What the journal keeps of a claimed scheduled run. */
export interface ScheduledRunRecord {
  experimentName: string;
  scheduledAt: string;
  identity: string;
  owner: ExperimentOwner;
  claimedAt: string;
  heartbeatAt: string;
  experimentId?: string;
  finishedAt?: string;
}

/**
 * The write-ahead store behind exact, crash-safe rollback. Every method returns a promise that
 * settles once the write is durable, so undo data is stored before the change it describes becomes
 * visible: callers await each write. SQLite writes synchronously inside the call (durable even
 * before the promise is awaited); PostgreSQL settles once its COMMIT is flushed.
 */
export interface Journal {
  /** Where it lives, with no secret in it (the file path, or the URL with its password masked). */
  readonly location: string;
  beginExperiment(record: Omit<ExperimentRecord, "status" | "heartbeatAt">): Promise<void>;
  /** Refreshes the owner's heartbeat; false when another process has taken the experiment over. */
  heartbeat(experimentId: string, owner: ExperimentOwner): Promise<boolean>;
  /**
   * Makes `claimant` the owner if the owner is still `expected` (compare and swap, atomic in the
   * store, so of two recovers only one wins), and marks it running again: it is being rolled back.
   * False when someone else changed it first.
   */
  claimExperiment(experimentId: string, expected: ExperimentOwner | undefined, claimant: ExperimentOwner): Promise<boolean>;
  recordStep(experimentId: string, skill: string, undo: JsonValue): Promise<number>;
  markStepDone(stepId: number, conflicts?: string[]): Promise<void>;
  /** Durably keeps what a rollback try of the step saved for the next try (see StepRecord.checkpoint). */
  recordStepCheckpoint(stepId: number, checkpoint: JsonValue): Promise<void>;
  markStepFailed(stepId: number, error: string): Promise<void>;
  finishExperiment(experimentId: string, status: Exclude<ExperimentRecordStatus, "running">, outcome?: string): Promise<void>;
  /** Remembers where the run's report went, for `chaos report ID`. */
  recordReportPath(experimentId: string, path: string): Promise<void>;
  /** Every experiment, newest first (at most `limit`), for `chaos history`. */
  history(limit: number): Promise<ExperimentRecord[]>;
  experiment(experimentId: string): Promise<ExperimentRecord | undefined>;
  /** Steps newest first: the order rollback runs in. */
  pendingSteps(experimentId: string): Promise<StepRecord[]>;
  steps(experimentId: string): Promise<StepRecord[]>;
  /**
   * Retention of finished experiments: their undo data (before-images are application data) is
   * dropped once they finished more than `undoAfterMs` ago, the whole record after `recordAfterMs`.
   * Unfinished experiments are never pruned. Returns what went.
   */
  prune(retention: JournalRetention, now?: Date): Promise<{ undoPruned: number; recordsDeleted: number }>;
  /** Experiments whose rollback has not finished, oldest first. */
  unfinishedExperiments(): Promise<ExperimentRecord[]>;
  /**
   * Claims one scheduled run for `claim.owner`, atomically in the store: of several daemons sharing
   * the journal exactly one gets each (name, scheduled time); none gets it while a live claim of the
   * same experiment or on the same target is unfinished.
   */
  claimScheduledRun(claim: ScheduledRunClaim): Promise<ScheduledRunClaimResult>;
  /** Refreshes the heartbeat of the owner's unfinished scheduled runs; returns how many. */
  heartbeatScheduledRuns(owner: ExperimentOwner): Promise<number>;
  /** Marks a claimed scheduled run finished, with the experiment it ran (if it began one). */
  finishScheduledRun(experimentName: string, scheduledAt: string, experimentId?: string): Promise<void>;
  /** Claimed scheduled runs, newest first (at most `limit`). */
  scheduledRuns(limit: number): Promise<ScheduledRunRecord[]>;
  close(): Promise<void>;
}
