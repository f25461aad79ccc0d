import { readFileSync } from "node:fs";
import { ChaosError, defaultJournalPath, ExitCode, type ExperimentReport, formatReport, statusInWords } from "@chaos-agents/core";
import type { CommandIo, GlobalOptions } from "../command-context.js";
import { openJournalForCommand } from "./open-journal.js";

/** `chaos history`: past experiments from the journal, newest first. */
export async function history(options: GlobalOptions & { limit?: string }, io: CommandIo): Promise<number> {
  const limit = options.limit ? Number(options.limit) : 20;
  if (!Number.isInteger(limit) || limit < 1)
    throw new ChaosError(`--limit ${options.limit}: expected a positive whole number`, { exitCode: ExitCode.usage });
  const journal = await openJournalForCommand(defaultJournalPath(io.env, options.journal));
  try {
    const records = await journal.history(limit);
    const stepsOf = await Promise.all(records.map((record) => journal.steps(record.id)));
    const rows = records.map((record, index) => {
      const steps = stepsOf[index] ?? [];
      return {
        experimentId: record.id,
        name: record.name,
        target: record.target,
        identity: record.identity,
        startedAt: record.startedAt,
        finishedAt: record.finishedAt ?? null,
        skills: [...new Set(steps.map((step) => step.skill))],
        outcome: record.outcome ?? (record.status === "running" ? "running" : record.status),
        rollback: { steps: steps.length, done: steps.filter((step) => step.status === "done").length },
      };
    });
    if (options.output === "json") {
      // In the final event, as every command's facts: stdout holds only events (schema_version on each).
      io.result?.({ experiments: rows });
      return ExitCode.success;
    }
    if (rows.length === 0) io.stdout.write("the journal holds no experiments yet\n");
    for (const row of rows) {
      io.stdout.write(
        `${row.startedAt}  ${statusInWords(row.outcome).padEnd(24)} ${row.name} [${row.experimentId}] on ${row.target} ${row.identity}\n` +
          `    skills: ${row.skills.join(", ") || "(none recorded)"}; rollback ${row.rollback.done}/${row.rollback.steps} steps\n`,
      );
    }
    return ExitCode.success;
  } finally {
    await journal.close();
  }
}

/** `chaos report ID`: a past run's summary again, from the report file the journal points to. */
export async function report(experimentId: string, options: GlobalOptions, io: CommandIo): Promise<number> {
  const journal = await openJournalForCommand(defaultJournalPath(io.env, options.journal));
  let path: string | undefined;
  try {
    const record = await journal.experiment(experimentId);
    if (!record)
      throw new ChaosError(`the journal has no experiment ${experimentId} (see \`chaos history\`)`, { exitCode: ExitCode.usage });
    path = record.reportPath;
    if (!path) throw new ChaosError(`experiment ${experimentId} has no report on record (it may still run)`, { exitCode: ExitCode.usage });
  } finally {
    await journal.close();
  }
  let found: ExperimentReport | undefined;
  try {
    found = (JSON.parse(readFileSync(path, "utf8")) as { experiments: ExperimentReport[] }).experiments.find(
      (candidate) => candidate.experimentId === experimentId,
    );
  } catch (error) {
    throw new ChaosError(`cannot read the report ${path}: ${(error as Error).message}`, { exitCode: ExitCode.usage, cause: error });
  }
  if (!found) throw new ChaosError(`${path} does not hold experiment ${experimentId}`, { exitCode: ExitCode.usage });
  if (options.output === "json") io.result?.({ report: found });
  else io.stdout.write(`${formatReport(found)}\n`);
  return ExitCode.success;
}
