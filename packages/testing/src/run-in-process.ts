import {
  type ChaosEvent,
  EventBus,
  type ExperimentInput,
  type ExperimentReport,
  type Journal,
  openSqliteJournal,
  parseExperiment,
  type Registry,
  runExperiment,
} from "@chaos-agents/core";

export interface RunInProcessOptions {
  /** A journal file to use (default: in memory); ignored when `journal` is given. */
  journalPath?: string;
  /** A journal the caller keeps open (and closes). */
  journal?: Journal;
  signal?: AbortSignal;
  /** Called with each event as it happens (e.g. to inspect the target during the hold). */
  onEvent?: (event: ChaosEvent) => void;
}

/**
 * Runs one experiment through the real engine, validated as a config file's would be (target
 * config and each skill's params through their schemas); returns the report and every event.
 */
export async function runInProcess(
  registry: Registry,
  experiment: ExperimentInput,
  options: RunInProcessOptions = {},
): Promise<{ report: ExperimentReport; events: ChaosEvent[] }> {
  const events: ChaosEvent[] = [];
  const bus = new EventBus([
    {
      handle: (event) => {
        events.push(event);
        options.onEvent?.(event);
      },
    },
  ]);
  const journal = options.journal ?? openSqliteJournal(options.journalPath ?? ":memory:");
  try {
    const report = await runExperiment(parseExperiment(experiment, registry), {
      registry,
      journal,
      events: bus,
      signal: options.signal,
      rollbackAttempts: 2,
    });
    return { report, events };
  } finally {
    if (!options.journal) await journal.close();
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
): Promise<{ report: ExperimentReport; events: ChaosEvent[]; seen: Seen | undefined }> {
  const running = runInProcess(registry, experiment);
  let seen: Seen | undefined;
  let finished = false;
  // A run that is refused rejects: the caller sees that through `await running` below, not as an unhandled rejection here.
  running.then(
    () => {
      finished = true;
    },
    () => {
      finished = true;
    },
  );
  while (!finished && seen === undefined) {
    seen = await during();
    if (seen === undefined) await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return { ...(await running), seen };
}
