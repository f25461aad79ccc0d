import { setTimeout as sleep } from "node:timers/promises";
import { RollbackBlockedError } from "../errors/rollback-blocked-error.js";
import type { EventBus } from "../events/event-bus.js";
import type { Journal } from "../journal/journal.js";
import type { JsonValue } from "../json.js";
import { redactText } from "../redact.js";
import type { Registry } from "../registry.js";
import type { TargetSession } from "../target.js";
import { emptyRollbackReport, type RollbackReport } from "./report.js";

export interface RollBackStepsOptions {
  experimentId: string;
  journal: Journal;
  registry: Registry;
  session: TargetSession;
  events: EventBus;
  runtime?: Map<string, unknown>;
  /** Tries per step before it is left for `chaos recover` (a dropped connection deserves another go). */
  attempts?: number;
  retryDelayMs?: number;
}

/**
 * Runs every journaled step that is not done, newest first (LIFO), marking each in the
 * journal as it succeeds or fails. Never throws: what could not be undone is reported.
 */
export async function rollBackSteps(options: RollBackStepsOptions): Promise<RollbackReport> {
  const { experimentId, journal, registry, session, events } = options;
  const report = emptyRollbackReport();
  const all = await journal.steps(experimentId);
  report.steps = all.length;
  report.done = all.filter((step) => step.status === "done").length;
  const log = events.logger(experimentId);
  const attempts = options.attempts ?? 3;
  // One map for every step of this rollback, also in `chaos recover`: a newer step may leave
  // what an older one needs (LIFO), such as a proof that a batch committed.
  const runtime = options.runtime ?? new Map<string, unknown>();

  const pending = await journal.pendingSteps(experimentId);
  if (pending.length > 0) events.emit({ type: "rollback_started", experimentId, steps: pending.length });
  for (const step of pending) {
    const skill = registry.skill(step.skill);
    const stepStart = Date.now();
    let lastError = `skill ${step.skill} is not available (is the plugin that provides it still there?)`;
    let checkpoint = step.checkpoint;
    // Durable when its promise settles: a skill awaits it before the COMMIT it describes.
    const saveCheckpoint = async (saved: JsonValue) => {
      await journal.recordStepCheckpoint(step.id, saved);
      checkpoint = saved;
    };
    for (let attempt = 1; skill && attempt <= attempts; attempt++) {
      try {
        const result = await skill.rollback({ experimentId, session, runtime, log, checkpoint, saveCheckpoint }, step.undo);
        await journal.markStepDone(step.id, result?.conflicts);
        report.done++;
        report.conflicts.push(...(result?.conflicts ?? []));
        if (result?.summary) report.notes.push(`${step.skill}: ${result.summary}`);
        events.emit({
          type: "rollback_step_done",
          experimentId,
          stepId: step.id,
          skill: step.skill,
          summary: result?.summary,
          conflicts: result?.conflicts,
          durationMs: Date.now() - stepStart,
        });
        lastError = "";
        break;
      } catch (error) {
        lastError = redactText((error as Error).message ?? String(error));
        // The skill already retried within its own budget (a lock the application holds): left for `chaos recover`.
        if (RollbackBlockedError.isBlocked(error)) break;
        if (attempt < attempts) {
          log.warn(`rollback step #${step.id} ${step.skill} failed (attempt ${attempt}/${attempts}): ${lastError}; retrying`);
          await sleep((options.retryDelayMs ?? 500) * attempt);
        }
      }
    }
    if (lastError) {
      await journal.markStepFailed(step.id, lastError);
      report.failed.push({ stepId: step.id, skill: step.skill, error: lastError });
      events.emit({ type: "rollback_step_failed", experimentId, stepId: step.id, skill: step.skill, error: lastError });
    }
  }
  return report;
}
