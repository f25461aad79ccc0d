import { ChaosError, ExitCode } from "../errors/index.js";
import type { EventBus } from "../events/event-bus.js";
import type { ExperimentRecord, Journal } from "../journal/journal.js";
import { containsRedaction, redactText } from "../redact.js";
import type { Registry } from "../registry.js";
import type { RollbackReport } from "./report.js";
import { rollBackSteps } from "./roll-back-steps.js";

export interface RecoverOptions {
  journal: Journal;
  registry: Registry;
  events: EventBus;
  /**
   * The full target config (with secrets) for a journaled experiment, whose stored copy is
   * redacted. Usually read back from the experiment's config file.
   */
  resolveTargetConfig?: (record: ExperimentRecord) => Promise<unknown | undefined>;
  /** Adds the skills of a journaled experiment's plugins to the registry. */
  loadPlugins?: (paths: string[]) => Promise<void>;
  attempts?: number;
}

export interface RecoveredExperiment {
  experimentId: string;
  name: string;
  identity: string;
  rollback: RollbackReport;
  /** Leftovers a target sweep removed that the journal did not know of. */
  swept: string[];
  /** Why the experiment could not be recovered at all (connection refused, secrets missing). */
  error?: string;
}

/**
 * Finishes every rollback the journal holds that is not done, newest experiment first,
 * each LIFO. Safe to run any number of times: done steps are never run again.
 */
export async function recoverExperiments(options: RecoverOptions): Promise<RecoveredExperiment[]> {
  const results: RecoveredExperiment[] = [];
  for (const record of options.journal.unfinishedExperiments().reverse()) {
    results.push(await recoverOne(record, options));
  }
  return results;
}

async function recoverOne(record: ExperimentRecord, options: RecoverOptions): Promise<RecoveredExperiment> {
  const { journal, registry, events } = options;
  const result: RecoveredExperiment = {
    experimentId: record.id,
    name: record.name,
    identity: record.identity,
    rollback: { steps: 0, done: 0, failed: [], conflicts: [], notes: [] },
    swept: [],
  };
  const log = events.logger(record.id);
  log.info(`recovering ${record.name} [${record.id}] on ${record.target} ${record.identity}`);
  try {
    if (record.plugins.length > 0) await options.loadPlugins?.(record.plugins);
    const target = registry.target(record.target);
    if (!target) throw new ChaosError(`no agent for target ${record.target} is installed`);
    const config = (await options.resolveTargetConfig?.(record)) ?? record.targetConfig;
    if (containsRedaction(config)) {
      throw new ChaosError(
        `the journal keeps no secrets and the config file ${record.configFile ?? "(unknown)"} no longer has this experiment; pass --config with the file that holds its target_config`,
        { exitCode: ExitCode.rollbackIncomplete },
      );
    }
    const session = await target.connect(target.configSchema.parse(config), { experimentId: record.id, log });
    try {
      result.rollback = await rollBackSteps({ experimentId: record.id, journal, registry, session, events, attempts: options.attempts });
      if (result.rollback.failed.length === 0 && target.sweep) result.swept = await target.sweep(session, record.id);
    } finally {
      await session.close().catch(() => undefined);
    }
    journal.finishExperiment(record.id, result.rollback.failed.length === 0 ? "finished" : "rollback_incomplete");
  } catch (error) {
    result.error = redactText((error as Error).message ?? String(error));
    log.error(`cannot recover ${record.id}: ${result.error}`);
  }
  return result;
}
