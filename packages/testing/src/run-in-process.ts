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
    // Validated the way the config loader does it: target_config and each skill's params through their schemas.
    const parsed = experimentSchema.parse(experiment);
    const target = registry.target(parsed.target);
    if (target) parsed.target_config = target.configSchema.parse(parsed.target_config) as Record<string, unknown>;
    for (const entry of parsed.skills) {
      const skill = registry.skill(entry.skill_name);
      if (skill) entry.params = skill.params.parse(entry.params) as Record<string, unknown>;
    }
    const report = await runExperiment(parsed, {
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

/**
 * Runs the experiment and, while it runs, polls `during` until it returns something (the fault
 * as the test saw it while held); resolves with the run's result and what was seen.
 */
export async function runWhileWatching<Seen>(
  registry: Registry,
  experiment: ExperimentInput,
  during: () => Seen | undefined | Promise<Seen | undefined>,
): Promise<{ report: ExperimentReport; events: string[]; seen: Seen | undefined }> {
  const running = runInProcess(registry, experiment);
  let seen: Seen | undefined;
  let finished = false;
  void running.finally(() => {
    finished = true;
  });
  while (!finished && seen === undefined) {
    seen = await during();
    if (seen === undefined) await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return { ...(await running), seen };
}
