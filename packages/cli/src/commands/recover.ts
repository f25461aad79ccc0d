import {
  defaultJournalPath,
  type EventBus,
  ExitCode,
  type Journal,
  journaledTargetConfig,
  loadPluginSkills,
  type Registry,
  recoverExperiments,
  summarizeConflicts,
} from "@chaos-agents/core";
import { createBuiltinRegistry } from "../builtin-registry.js";
import { type CommandIo, createEventBus, type GlobalOptions } from "../command-context.js";
import { openJournalForCommand } from "./open-journal.js";

export interface RecoverOptions extends GlobalOptions {
  /** A config that holds the experiments' target_config (with secrets), when the original file moved. */
  config?: string;
  /** Only this experiment. */
  experiment?: string;
  /** Take over experiments whose owner is alive (stopping it first on this host). */
  force?: boolean;
}

/**
 * Recovers what the journal holds, reconnecting through each experiment's config file (or
 * `config`) and loading its plugins: `chaos recover` and the daemon's start share it.
 */
export function recoverWithConfigFiles(
  { journal, registry, events }: { journal: Journal; registry: Registry; events: EventBus },
  options: { config?: string; experiment?: string; force?: boolean } = {},
) {
  return recoverExperiments({
    experimentId: options.experiment,
    force: options.force,
    journal,
    registry,
    events,
    loadPlugins: async (paths) => {
      for (const path of paths) for (const skill of await loadPluginSkills(path)) registry.addSkill(skill);
    },
    resolveTargetConfig: (record) => journaledTargetConfig(record, registry, options.config ?? record.configFile).catch(() => undefined),
  });
}

/** Finishes every unfinished rollback in the journal; running it twice does nothing the second time. */
export async function recover(options: RecoverOptions, io: CommandIo): Promise<number> {
  const registry = createBuiltinRegistry();
  const journal = await openJournalForCommand(defaultJournalPath(io.env, options.journal), io.env);
  const events = createEventBus(options, io);
  try {
    const { recovered: results, skipped } = await recoverWithConfigFiles({ journal, registry, events }, options);
    io.result?.({
      recovered: results.map((result) => ({
        experimentId: result.experimentId,
        name: result.name,
        error: result.error,
        steps: result.rollback.steps,
        done: result.rollback.done,
        failed: result.rollback.failed,
        conflicts: result.rollback.conflicts,
        swept: result.swept.length,
      })),
      skipped,
    });
    for (const entry of skipped)
      io.stdout.write(`- ${entry.name} [${entry.experimentId}] on ${entry.identity}: left alone: ${entry.reason}\n`);
    if (results.length === 0 && skipped.length === 0) {
      io.stdout.write("nothing to recover: every journaled rollback is finished\n");
      return ExitCode.success;
    }
    let incomplete = false;
    for (const result of results) {
      const failed = result.error !== undefined || result.rollback.failed.length > 0;
      incomplete ||= failed || result.rollback.conflicts.length > 0;
      io.stdout.write(
        `${failed ? "✗" : "✓"} ${result.name} [${result.experimentId}] on ${result.identity}: ` +
          (result.error ?? `${result.rollback.done}/${result.rollback.steps} steps done`) +
          (result.swept.length ? `; swept ${result.swept.length} leftover(s)` : "") +
          "\n",
      );
      for (const failure of result.rollback.failed) io.stdout.write(`  ✗ step #${failure.stepId} ${failure.skill}: ${failure.error}\n`);
      for (const conflict of summarizeConflicts(result.rollback.conflicts)) io.stdout.write(`  ! conflict: ${conflict}\n`);
    }
    if (incomplete) return ExitCode.rollbackIncomplete;
    return skipped.length > 0 ? ExitCode.liveExperimentsSkipped : ExitCode.success;
  } finally {
    await events.close();
    await journal.close();
  }
}
