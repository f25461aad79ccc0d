import { ChaosError, ExitCode } from "../errors/index.js";
import type { EventBus } from "../events/event-bus.js";
import type { ExperimentOwner, ExperimentRecord, Journal } from "../journal/journal.js";
import { containsRedaction, redactText } from "../redact.js";
import type { Registry } from "../registry.js";
import { currentOwner, heartbeatIntervalMs, heartbeatLapseMs, ownerState, stopOwner } from "./experiment-owner.js";
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
  /** Only this experiment. */
  experimentId?: string;
  /**
   * Take over experiments whose owner is alive: on this host the owner is stopped first (SIGTERM,
   * then SIGKILL after a grace time); another host's owner only once its heartbeat has lapsed.
   */
  force?: boolean;
  /** How long a stopped owner may take to roll back and exit before it is killed. */
  stopGraceMs?: number;
}

/** An experiment `recover` left alone, and why. */
export interface SkippedExperiment {
  experimentId: string;
  name: string;
  identity: string;
  owner?: ExperimentOwner;
  reason: string;
}

export interface RecoverResult {
  recovered: RecoveredExperiment[];
  skipped: SkippedExperiment[];
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
 * each LIFO. Safe to run any number of times: done steps are never run again. An experiment
 * whose owner is alive belongs to it and is skipped (unless `force`); a dead owner's experiment
 * is claimed atomically first, so two recovers never roll back the same experiment at once.
 */
export async function recoverExperiments(options: RecoverOptions): Promise<RecoverResult> {
  const result: RecoverResult = { recovered: [], skipped: [] };
  const claimant = currentOwner();
  const records = (await options.journal.unfinishedExperiments()).reverse();
  if (options.experimentId && !records.some((record) => record.id === options.experimentId)) {
    throw new ChaosError(`the journal has no unfinished experiment ${options.experimentId} (see \`chaos status\`)`, {
      exitCode: ExitCode.usage,
    });
  }
  for (const record of records) {
    if (options.experimentId && record.id !== options.experimentId) continue;
    const decision = await takeOver(record, claimant, options);
    if (decision === "claimed") result.recovered.push(await recoverOne(record, claimant, options));
    else if (decision !== "finished by its owner") {
      result.skipped.push({ experimentId: record.id, name: record.name, identity: record.identity, owner: record.owner, reason: decision });
    }
  }
  return result;
}

/** Claims the experiment for this process, or says why not. */
async function takeOver(record: ExperimentRecord, claimant: ExperimentOwner, options: RecoverOptions): Promise<string> {
  const owner = record.owner;
  const log = options.events.logger(record.id);
  // Only a running experiment belongs to its owner: one whose run ended with an incomplete rollback
  // was given up by it (a run moves on to its next experiment, a daemon to its next schedule).
  if (record.status === "running" && owner && ownerState(owner, record.heartbeatAt) === "alive") {
    const who = `process ${owner.pid} on ${owner.host}`;
    if (!options.force)
      return `running in ${who} (heartbeat ${record.heartbeatAt ?? "never"}); it rolls back itself. --force takes it over`;
    if (owner.host !== claimant.host) {
      return `running in ${who}, whose heartbeat is not yet ${heartbeatLapseMs / 1000} s old; another host's owner can only be taken over once it has lapsed`;
    }
    log.warn(`--force: stopping ${who} (SIGTERM: it stops injecting and rolls back) before taking its experiment over`);
    const how = await stopOwner(owner, options.stopGraceMs);
    log.warn(`${who} ${how === "exited" ? "exited" : "did not exit in time and was killed"}`);
    const fresh = await options.journal.experiment(record.id);
    if (fresh?.status === "finished" && (await options.journal.pendingSteps(record.id)).length === 0) return "finished by its owner";
  }
  // Expect the owner judged above: if another recover claimed it since, it is alive and this claim fails.
  if (!(await options.journal.claimExperiment(record.id, owner, claimant))) {
    const winner = (await options.journal.experiment(record.id))?.owner;
    return `another process (${winner ? `${winner.pid} on ${winner.host}` : "unknown"}) claimed it first`;
  }
  return "claimed";
}

async function recoverOne(record: ExperimentRecord, claimant: ExperimentOwner, options: RecoverOptions): Promise<RecoveredExperiment> {
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
  // The claim is ours now: keep its heartbeat fresh, or another host would see it lapse mid-rollback.
  const heartbeat = setInterval(() => void journal.heartbeat(record.id, claimant).catch(() => undefined), heartbeatIntervalMs);
  heartbeat.unref();
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
    await journal.finishExperiment(record.id, result.rollback.failed.length === 0 ? "finished" : "rollback_incomplete");
  } catch (error) {
    result.error = redactText((error as Error).message ?? String(error));
    log.error(`cannot recover ${record.id}: ${result.error}`);
  } finally {
    clearInterval(heartbeat);
  }
  return result;
}
