import { formatDuration } from "../duration.js";
import type { ExperimentStatus } from "../events/chaos-event.js";
import type { Metrics } from "../json.js";
import { summarizeConflicts } from "./conflict-summary.js";
import { formatMetrics, statusInWords } from "./report-words.js";

export interface SkillReport {
  skill: string;
  params: Record<string, unknown>;
  targets: string[];
  plan: string;
  injected: boolean;
  summary?: string;
  metrics?: Metrics;
  error?: string;
}

export interface RollbackFailure {
  stepId: number;
  skill: string;
  error: string;
}

export interface RollbackReport {
  /** Steps the journal held for this experiment. */
  steps: number;
  done: number;
  failed: RollbackFailure[];
  /** Things left alone because someone else changed them since; each needs a human look. */
  conflicts: string[];
  /** Per-skill rollback notes and measurements (rows deleted, settings restored…). */
  notes: string[];
}

/** The JSON report every run writes; the human summary is derived from it. */
export interface ExperimentReport {
  experimentId: string;
  name: string;
  target: string;
  identity: string;
  status: ExperimentStatus;
  startedAt: string;
  finishedAt: string;
  /** The hold the experiment asked for, and how long faults were really held. */
  durationMs: number;
  heldMs: number;
  skills: SkillReport[];
  rollback: RollbackReport;
  error?: string;
  /** Why the hold ended before its duration, when an observer ended it. */
  holdEndedEarly?: string;
  /** Set when a model planned the experiment (`chaos agent`). */
  planner?: PlannerReport;
  /** The schedule's time of this run, when a daemon ran it: with `name`, the run daemons claim. */
  scheduledAt?: string;
}

/** Who planned an experiment, why, and what it cost. */
export interface PlannerReport {
  model: string;
  rationale: string;
  turns: number;
  inputTokens: number;
  outputTokens: number;
  /** The model's reading of the run, after rollback. */
  analysis?: string;
  /** At list prices, where the model's are known. */
  estimatedCostUsd?: number;
}

export function emptyRollbackReport(): RollbackReport {
  return { steps: 0, done: 0, failed: [], conflicts: [], notes: [] };
}

/** What was injected where, for how long, what was rolled back and what could not be. */
export function formatReport(report: ExperimentReport): string {
  const lines = [
    `Experiment ${report.name} [${report.experimentId}] on ${report.target} ${report.identity}`,
    `  status: ${statusInWords(report.status)}; faults held ${formatDuration(report.heldMs)} of ${formatDuration(report.durationMs)}`,
  ];
  if (report.planner) {
    const { model, turns, inputTokens, outputTokens, rationale } = report.planner;
    const cost = report.planner.estimatedCostUsd === undefined ? "" : `, about $${report.planner.estimatedCostUsd.toFixed(4)}`;
    lines.push(`  planned by ${model} in ${turns} turns (${inputTokens} input, ${outputTokens} output tokens${cost}): ${rationale}`);
    if (report.planner.analysis) lines.push(`  analysis: ${report.planner.analysis}`);
  }
  if (report.holdEndedEarly) lines.push(`  hold ended early: ${report.holdEndedEarly}`);
  if (report.error) lines.push(`  error: ${report.error}`);
  for (const skill of report.skills) {
    const state = skill.error ? `FAILED: ${skill.error}` : skill.injected ? (skill.summary ?? "injected") : `not injected (${skill.plan})`;
    lines.push(`  - ${skill.skill}: ${state}`);
    if (skill.targets.length) lines.push(`      targets: ${skill.targets.join(", ")}`);
    if (skill.metrics && Object.keys(skill.metrics).length) lines.push(`      measured: ${formatMetrics(skill.metrics)}`);
  }
  const { rollback } = report;
  lines.push(`  rollback: ${rollback.done}/${rollback.steps} steps done`);
  for (const note of rollback.notes) lines.push(`      ${note}`);
  for (const failure of rollback.failed) lines.push(`  ✗ NOT ROLLED BACK: step #${failure.stepId} ${failure.skill}: ${failure.error}`);
  for (const conflict of summarizeConflicts(rollback.conflicts)) lines.push(`  ! CONFLICT (left as the application wrote it): ${conflict}`);
  if (rollback.failed.length) lines.push("  Run `chaos recover` to retry the steps that failed.");
  return lines.join("\n");
}
