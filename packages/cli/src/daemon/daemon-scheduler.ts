import { chmodSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import {
  type DaemonFile,
  type EventBus,
  type ExperimentReport,
  type Journal,
  type Logger,
  type Registry,
  redactText,
  runExperiment,
} from "@chaos-agents/core";
import { Cron } from "croner";
import type { DaemonMetrics } from "./daemon-metrics.js";

type ScheduledEntry = DaemonFile["experiments"][number];

interface RunningExperiment {
  identity: string;
  controller: AbortController;
  done: Promise<void>;
}

export interface DaemonSchedulerOptions {
  registry: Registry;
  journal: Journal;
  events: EventBus;
  metrics: DaemonMetrics;
  reportDir: string;
  log: Logger;
  configFile: string;
  configHash: string;
  plugins: string[];
}

/**
 * Runs scheduled experiments: at most `max_concurrent` at once, an experiment never beside itself,
 * two experiments on the same target never at once; a run that cannot start is skipped and said.
 * Each run goes through the ordinary engine and journal (ownership, rollback, recover).
 */
export class DaemonScheduler {
  private jobs: { name: string; cron: Cron }[] = [];
  private readonly running = new Map<string, RunningExperiment>();
  private maxConcurrent = 1;
  private stopping = false;

  constructor(private readonly options: DaemonSchedulerOptions) {}

  /** Replaces every schedule with the file's (runs in progress go on). */
  schedule(file: DaemonFile): void {
    for (const job of this.jobs) job.cron.stop();
    this.options.metrics.nextRun.reset();
    this.maxConcurrent = file.settings.max_concurrent;
    this.jobs = file.experiments
      .filter((entry) => entry.enabled)
      .map((entry) => ({
        name: entry.experiment.name,
        cron: new Cron(entry.schedule, { timezone: entry.timezone }, () => this.fire(entry)),
      }));
    this.updateNextRuns();
    const disabled = file.experiments.length - this.jobs.length;
    this.options.log.info(
      `scheduled ${this.jobs.map((job) => `${job.name} (next ${job.cron.nextRun()?.toISOString() ?? "never"})`).join(", ") || "nothing"}` +
        (disabled ? `; ${disabled} disabled` : ""),
    );
  }

  /** Stops scheduling, interrupts running experiments (they roll back) and waits for them. */
  async stop(): Promise<void> {
    this.stopping = true;
    for (const job of this.jobs) job.cron.stop();
    for (const run of this.running.values()) run.controller.abort("SIGTERM");
    await Promise.all([...this.running.values()].map((run) => run.done));
  }

  status() {
    return {
      running: [...this.running.keys()],
      scheduled: this.jobs.map((job) => ({ experiment: job.name, next: job.cron.nextRun()?.toISOString() ?? null })),
    };
  }

  private fire(entry: ScheduledEntry) {
    const { experiment } = entry;
    const { registry, metrics, log } = this.options;
    this.updateNextRuns();
    if (this.stopping) return;
    const identity = registry.target(experiment.target)?.identify(experiment.target_config) ?? experiment.target;
    const busyTarget = [...this.running].find(([, run]) => run.identity === identity)?.[0];
    const reason = this.running.has(experiment.name)
      ? "its previous run is still going"
      : this.running.size >= this.maxConcurrent
        ? `max_concurrent (${this.maxConcurrent}) experiments are running`
        : busyTarget
          ? `${busyTarget} is running on the same target ${identity}`
          : undefined;
    if (reason) {
      metrics.skipped.inc({
        experiment: experiment.name,
        reason: reason.startsWith("its") ? "overlap" : reason.startsWith("max") ? "max_concurrent" : "same_target",
      });
      log.warn(`skipped ${experiment.name}: ${reason}`);
      return;
    }
    const controller = new AbortController();
    const run: RunningExperiment = { identity, controller, done: Promise.resolve() };
    this.running.set(experiment.name, run);
    metrics.running.set(this.running.size);
    run.done = this.runOnce(entry, controller.signal).finally(() => {
      this.running.delete(experiment.name);
      metrics.running.set(this.running.size);
    });
  }

  private async runOnce(entry: ScheduledEntry, signal: AbortSignal) {
    const { registry, journal, events, metrics, log } = this.options;
    const name = entry.experiment.name;
    try {
      const report = await runExperiment(entry.experiment, {
        registry,
        journal,
        events,
        signal,
        configFile: this.options.configFile,
        configHash: this.options.configHash,
        plugins: this.options.plugins,
      });
      metrics.experiments.inc({ experiment: name, result: report.status });
      const unfinished = report.rollback.failed.length + report.rollback.conflicts.length;
      if (unfinished) metrics.rollbackFailures.inc({ experiment: name }, unfinished);
      for (const skill of report.skills) metrics.skillDuration.observe({ skill: skill.skill }, report.heldMs / 1000);
      this.writeReport(report);
    } catch (error) {
      metrics.experiments.inc({ experiment: name, result: "error" });
      log.error(`${name} did not run: ${redactText((error as Error).message)}`);
    }
  }

  private writeReport(report: ExperimentReport) {
    try {
      mkdirSync(this.options.reportDir, { recursive: true, mode: 0o700 });
      const path = join(this.options.reportDir, `${report.experimentId}.json`);
      writeFileSync(path, `${JSON.stringify({ experiments: [report] }, null, 2)}\n`, { mode: 0o600 });
      chmodSync(path, 0o600);
      this.options.journal.recordReportPath(report.experimentId, path);
    } catch (error) {
      this.options.log.warn(`cannot write the report of ${report.experimentId}: ${(error as Error).message}`);
    }
  }

  private updateNextRuns() {
    for (const job of this.jobs) {
      const next = job.cron.nextRun();
      if (next) this.options.metrics.nextRun.set({ experiment: job.name }, next.getTime() / 1000);
    }
  }
}
