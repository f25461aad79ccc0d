import {
  defaultJournalPath,
  ExitCode,
  journaledTargetConfig,
  loadPluginSkills,
  openSqliteJournal,
  recoverExperiments,
  summarizeConflicts,
} from "@chaos-agents/core";
import { createBuiltinRegistry } from "../builtin-registry.js";
import { type CommandIo, createEventBus, type GlobalOptions } from "../command-context.js";

export interface RecoverOptions extends GlobalOptions {
  /** A config that holds the experiments' target_config (with secrets), when the original file moved. */
  config?: string;
}

/** Finishes every unfinished rollback in the journal; running it twice does nothing the second time. */
export async function recover(options: RecoverOptions, io: CommandIo): Promise<number> {
  const registry = createBuiltinRegistry();
  const journal = openSqliteJournal(defaultJournalPath(io.env, options.journal));
  const events = createEventBus(options, io);
  try {
    const results = await recoverExperiments({
      journal,
      registry,
      events,
      loadPlugins: async (paths) => {
        for (const path of paths) for (const skill of await loadPluginSkills(path)) registry.addSkill(skill);
      },
      resolveTargetConfig: (record) => journaledTargetConfig(record, registry, options.config ?? record.configFile).catch(() => undefined),
    });
    if (results.length === 0) {
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
    return incomplete ? ExitCode.rollbackIncomplete : ExitCode.success;
  } finally {
    await events.close();
    journal.close();
  }
}
