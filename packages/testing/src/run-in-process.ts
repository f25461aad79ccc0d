import {
  EventBus,
  type ExperimentInput,
  type ExperimentReport,
  experimentSchema,
  openSqliteJournal,
  type Registry,
  runExperiment,
} from "@chaos-agents/core";

/** Runs one experiment through the real engine with a SQLite journal, collecting every event's text. */
export async function runInProcess(
  registry: Registry,
  experiment: ExperimentInput,
  options: { journalPath?: string; signal?: AbortSignal } = {},
): Promise<{ report: ExperimentReport; events: string[] }> {
  const events: string[] = [];
  const bus = new EventBus([{ handle: (event) => events.push(JSON.stringify(event)) }]);
  const journal = openSqliteJournal(options.journalPath ?? ":memory:");
  try {
    const report = await runExperiment(experimentSchema.parse(experiment), {
      registry,
      journal,
      events: bus,
      signal: options.signal,
      rollbackAttempts: 2,
    });
    return { report, events };
  } finally {
    journal.close();
  }
}
