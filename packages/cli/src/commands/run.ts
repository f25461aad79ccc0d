import { chmodSync, mkdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import {
  ChaosError,
  closest,
  defaultJournalPath,
  ExitCode,
  type ExperimentReport,
  formatReport,
  runExperiment,
  stateDirectoryOf,
} from "@chaos-agents/core";
import { createBuiltinRegistry } from "../builtin-registry.js";
import { type CommandIo, createEventBus, type GlobalOptions } from "../command-context.js";
import { refuseJournalOnAttackedServer } from "./journal-placement.js";
import { loadConfigForCommand } from "./load-config-for-command.js";
import { openJournalForCommand } from "./open-journal.js";

export interface RunOptions extends GlobalOptions {
  dryRun?: boolean;
  force?: boolean;
  /** Where the JSON report goes; defaults to the state folder beside the journal. */
  report?: string;
  /** Run only the experiment of this name. */
  experiment?: string;
}

/** Runs every experiment of a config, one after another, and reports. */
export async function run(file: string, options: RunOptions, io: CommandIo): Promise<number> {
  const registry = createBuiltinRegistry();
  const loaded = await loadConfigForCommand(file, registry, io);
  if (loaded.config.form !== "experiments") {
    throw new ChaosError(`${file} is a ${loaded.config.form} config; \`chaos run\` takes a file with a list of experiments`, {
      exitCode: ExitCode.invalidConfig,
    });
  }
  const journalPath = defaultJournalPath(io.env, options.journal);
  const chosen = chosenExperiments(loaded.config.experiments, options.experiment, file);
  if (!options.dryRun) {
    const experiments = loaded.config.experiments;
    await refuseJournalOnAttackedServer(
      journalPath,
      chosen.map((experiment) => ({ path: `experiments.${experiments.indexOf(experiment)}`, experiment })),
      file,
    );
  }
  const journal = await openJournalForCommand(journalPath, io.env);
  const events = createEventBus(options, io);
  const reports: ExperimentReport[] = [];
  try {
    for (const experiment of chosen) {
      if (io.signal?.aborted) break;
      reports.push(
        await runExperiment(experiment, {
          registry,
          journal,
          events,
          dryRun: options.dryRun,
          force: options.force,
          signal: io.signal,
          configFile: loaded.file,
          configHash: loaded.hash,
          plugins: loaded.config.plugins,
        }),
      );
    }
  } finally {
    await events.close();
    // A dry run changes nothing and leaves no report file behind, unless one is asked for.
    if (reports.length > 0 && (options.report || !options.dryRun)) {
      const path = writeReport(reports, options.report ?? defaultReportPath(journalPath, reports), io);
      if (path && !options.dryRun) for (const report of reports) await journal.recordReportPath(report.experimentId, path);
      io.result?.({ reportPath: path });
    }
    await journal.close();
  }
  io.result?.({
    experiments: reports.map((report) => ({
      experimentId: report.experimentId,
      name: report.name,
      status: report.status,
      error: report.error,
    })),
  });
  const summaries = reports.map(formatReport).join("\n\n");
  (options.output === "json" ? io.stderr : io.stdout).write(`${summaries}\n`);
  return exitCodeOf(reports, io.signal);
}

export function defaultReportPath(journalPath: string, reports: ExperimentReport[]): string {
  return join(stateDirectoryOf(journalPath), "reports", `${reports[0]?.experimentId ?? "report"}.json`);
}

/** Where the report went, or undefined when it could not be written (a warning says why). */
export function writeReport(reports: ExperimentReport[], path: string, io: CommandIo): string | undefined {
  try {
    mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
    // Reports hold what rollback found (application values in conflicts): owner-only, like the journal.
    writeFileSync(path, `${JSON.stringify({ experiments: reports }, null, 2)}\n`, { mode: 0o600 });
    chmodSync(path, 0o600);
    io.stderr.write(`report: ${path}\n`);
    return path;
  } catch (error) {
    // The experiment is over and rolled back; a report that cannot be written must not change that.
    io.stderr.write(`warning: cannot write the report ${path}: ${(error as Error).message}\n`);
    return undefined;
  }
}

/** All experiments of the file, or the one `--experiment` names. */
function chosenExperiments<T extends { name: string }>(experiments: T[], name: string | undefined, file: string): T[] {
  if (name === undefined) return experiments;
  const chosen = experiments.filter((experiment) => experiment.name === name);
  if (chosen.length === 0) {
    const names = experiments.map((experiment) => experiment.name);
    const suggestion = closest(name, names);
    throw new ChaosError(
      `${file} has no experiment named "${name}"${suggestion ? `; did you mean "${suggestion}"?` : ""} (it has: ${names.join(", ")})`,
      { exitCode: ExitCode.usage },
    );
  }
  return chosen;
}

/** The worst outcome wins: an incomplete rollback must never hide behind a later success. */
export function exitCodeOf(reports: ExperimentReport[], signal?: AbortSignal): number {
  if (reports.some((report) => report.status === "rollback_incomplete")) return ExitCode.rollbackIncomplete;
  if (signal?.aborted) return signal.reason === "SIGTERM" ? ExitCode.terminated : ExitCode.interrupted;
  if (reports.some((report) => report.status === "failed_rolled_back")) return ExitCode.experimentFailedRolledBack;
  return ExitCode.success;
}
