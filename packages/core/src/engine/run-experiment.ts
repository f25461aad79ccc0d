import type { ParsedExperiment } from "../config/config-schema.js";
import { ExperimentSession, type ExperimentSessionOptions, type HoldObservation } from "./experiment-session.js";
import type { ExperimentReport } from "./report.js";

export interface RunExperimentOptions extends ExperimentSessionOptions {
  /**
   * Watches the hold (`chaos agent`'s model): reads what the skills measured and may end the hold
   * early. Started when the hold starts; rollback never waits for it.
   */
  observer?: (hold: HoldObservation) => void;
}

/**
 * The engine's steps in their plain order: connect → discover → plan → inject → hold → roll back
 * (LIFO) → report. Whatever happens after the first injection, rollback runs (from a `finally`).
 */
export async function runExperiment(experiment: ParsedExperiment, options: RunExperimentOptions): Promise<ExperimentReport> {
  const run = await ExperimentSession.open(experiment, options);
  try {
    await run.discover();
    await run.plan();
    if (options.dryRun) return run.finishWithoutInjecting();
    try {
      if (await run.inject()) await run.hold(options.observer);
    } finally {
      await run.rollBack();
    }
    return run.report;
  } finally {
    await run.close();
  }
}
