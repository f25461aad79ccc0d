import { createHash } from "node:crypto";
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { createInterface } from "node:readline/promises";
import {
  ChaosError,
  defaultJournalPath,
  ExitCode,
  type ExperimentReport,
  ExperimentSession,
  formatReport,
  newExperimentId,
  parseDuration,
  type Registry,
  redactText,
  stateDirectoryOf,
} from "@chaos-agents/core";
import { analyseRun, estimateCostUsd, type ObservationUsage, observeHold } from "@chaos-agents/llm";
import { createBuiltinRegistry } from "../builtin-registry.js";
import { type CommandIo, createEventBus } from "../command-context.js";
import { openJournalForCommand } from "./open-journal.js";
import { describePlan, type PlanningOptions, type PlanningResult, planFromGoal } from "./planning-session.js";
import { defaultReportPath, exitCodeOf, writeReport } from "./run.js";

export interface AgentOptions extends PlanningOptions {
  /** Approve the plan without asking. */
  yes?: boolean;
  /** Plan and show it; run nothing. */
  dryRun?: boolean;
  report?: string;
}

/**
 * `chaos agent "<goal>"`: plan with a model, show the plan, run it after approval with the
 * ordinary engine and journal (so `chaos recover` can finish it), report.
 */
export async function agent(goal: string, options: AgentOptions, io: CommandIo): Promise<number> {
  const registry = createBuiltinRegistry();
  const planned = await planFromGoal(goal, options, registry, io);
  try {
    io.stderr.write(`\n${planned.planFile}\n${describePlan(planned)}\n`);
    if (options.dryRun) return ExitCode.success;
    if (!(await approved(options, io))) {
      io.stderr.write("not approved: nothing was changed\n");
      return ExitCode.success;
    }
    return await runPlanned(planned, options, registry, io);
  } finally {
    await planned.close();
  }
}

/** Runs an approved plan with the engine, the model watching the hold; then its analysis and the report. */
async function runPlanned(planned: PlanningResult, options: AgentOptions, registry: Registry, io: CommandIo): Promise<number> {
  // The plan is the experiment's config file: `chaos recover` reconnects through it (no secret in the journal).
  const journalPath = defaultJournalPath(io.env, options.journal);
  const planPath = resolve(options.save ?? join(stateDirectoryOf(journalPath, io.env), "plans", `${newExperimentId()}.yaml`));
  mkdirSync(dirname(planPath), { recursive: true, mode: 0o700 });
  writeFileSync(planPath, planned.planFile, { mode: 0o600 });
  io.stderr.write(`plan: ${planPath}\n`);

  const journal = await openJournalForCommand(journalPath, io.env);
  const events = createEventBus(options, io);
  const usage = { turns: planned.outcome.turns, inputTokens: planned.outcome.inputTokens, outputTokens: planned.outcome.outputTokens };
  let watching: Promise<ObservationUsage> | undefined;
  try {
    // The agent drives the engine's steps itself: the model watches the hold between inject and rollback.
    const run = await ExperimentSession.open(planned.outcome.parsed, {
      registry,
      journal,
      events,
      signal: io.signal,
      configFile: planPath,
      configHash: createHash("sha256").update(planned.planFile).digest("hex"),
    });
    try {
      await run.discover();
      await run.plan();
      try {
        if (await run.inject())
          await run.hold((hold) => {
            watching = observeHold({
              model: planned.model,
              hold,
              durationMs: parseDuration(planned.outcome.parsed.duration) ?? 0,
              goal: planned.goal,
              contextTools: planned.contextTools,
              maxTokens: planned.maxTokens,
              log: events.logger(hold.experimentId),
              onTurn: (line) => io.stderr.write(`  ${line}\n`),
            });
          });
      } finally {
        await run.rollBack();
      }
    } finally {
      await run.close();
    }
    const report = run.report;
    const reading = await analysis(planned, report, io);
    for (const part of [await watching, reading?.usage]) {
      usage.turns += part?.turns ?? 0;
      usage.inputTokens += part?.inputTokens ?? 0;
      usage.outputTokens += part?.outputTokens ?? 0;
    }
    report.planner = {
      model: planned.modelName,
      rationale: planned.outcome.rationale,
      ...usage,
      analysis: reading?.analysis,
      estimatedCostUsd: estimateCostUsd(planned.provider, planned.modelId, usage.inputTokens, usage.outputTokens),
    };
    const reportPath = writeReport([report], options.report ?? defaultReportPath(journalPath, [report]), io);
    if (reportPath) await journal.recordReportPath(report.experimentId, reportPath);
    (options.output === "json" ? io.stderr : io.stdout).write(`${formatReport(report)}\n`);
    return exitCodeOf([report], io.signal);
  } finally {
    await events.close();
    await journal.close();
  }
}

/** The model's reading of the run; a failure here is a warning, the run's outcome stands. */
async function analysis(planned: PlanningResult, report: ExperimentReport, io: CommandIo) {
  try {
    const result = await analyseRun({ model: planned.model, goal: planned.goal, report, maxTokens: planned.maxTokens });
    return { analysis: result.analysis, usage: { turns: 1, inputTokens: result.inputTokens, outputTokens: result.outputTokens } };
  } catch (error) {
    io.stderr.write(`warning: the model's analysis failed: ${redactText((error as Error).message)}\n`);
    return undefined;
  }
}

/** `-y`, or a yes typed on a terminal; without a terminal to ask on, no. */
async function approved(options: AgentOptions, io: CommandIo): Promise<boolean> {
  if (options.yes) return true;
  const input = io.stdin ?? process.stdin;
  if (!(input as NodeJS.ReadStream).isTTY) {
    throw new ChaosError("chaos agent runs a plan only when approved: pass -y, or run it on a terminal to be asked", {
      exitCode: ExitCode.usage,
    });
  }
  const prompt = createInterface({ input, output: io.stderr });
  try {
    return /^y(es)?$/i.test((await prompt.question("Run this experiment? [y/N] ")).trim());
  } finally {
    prompt.close();
  }
}
