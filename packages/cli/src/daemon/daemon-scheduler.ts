import { chmodSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import {
  currentOwner,
  type DaemonFile,
  type EventBus,
  type ExperimentReport,
  heartbeatLapseMs,
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
}

/** The config file as loaded (first, or at the last good SIGHUP): what new journal records carry. */
export interface LoadedSchedule {
  file: DaemonFile;
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
  private readonly owner = currentOwner();

  constructor(private readonly options: DaemonSchedulerOptions) {}

  /** Replaces every schedule with the file's (runs in progress go on, with the file they started from). */
  schedule(loaded: LoadedSchedule): void {
    const { file } = loaded;
    for (const job of this.jobs) job.cron.stop();
    this.options.metrics.nextRun.reset();
    this.maxConcurrent = file.settings.max_concurrent;
    this.jobs = file.experiments
      .filter((entry) => entry.enabled)
      .map((entry) => ({
        name: entry.experiment.name,
        cron: new Cron(entry.schedule, { timezone: entry.timezone }, (cron: Cron) => this.fire(entry, loaded, scheduledTimeOf(cron))),
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

  /**
   * Keeps this daemon's scheduled-run claims alive in the journal, so other daemons sharing it know
   * they still run. Called every few seconds; a failing journal is only logged.
   */
  async heartbeat(): Promise<void> {
    if (this.running.size === 0) return;
    try {
      await this.options.journal.heartbeatScheduledRuns(this.owner);
    } catch (error) {
      this.options.log.warn(`could not write the daemon's heartbeat to the journal: ${redactText((error as Error).message)}`);
    }
  }

  private fire(entry: ScheduledEntry, loaded: LoadedSchedule, scheduledAt: string) {
    const { experiment } = entry;
    const { registry, metrics, log } = this.options;
    this.updateNextRuns();
    if (this.stopping) return;
    const identity = registry.target(experiment.target)?.identify(experiment.target_config) ?? experiment.target;
    const busyTarget = [...this.running].find(([, run]) => run.identity === identity)?.[0];
    const localReason = this.running.has(experiment.name)
      ? "its previous run is still going"
      : this.running.size >= this.maxConcurrent
        ? `max_concurrent (${this.maxConcurrent}) experiments are running`
        : busyTarget
          ? `${busyTarget} is running on the same target ${identity}`
          : undefined;
    if (localReason) {
      metrics.skipped.inc({
        experiment: experiment.name,
        reason: localReason.startsWith("its") ? "overlap" : localReason.startsWith("max") ? "max_concurrent" : "same_target",
      });
      log.warn(`skipped ${experiment.name}: ${localReason}`);
      return;
    }
    const controller = new AbortController();
    const run: RunningExperiment = { identity, controller, done: Promise.resolve() };
    this.running.set(experiment.name, run);
    metrics.running.set(this.running.size);
    run.done = this.claimAndRun(entry, loaded, scheduledAt, identity, controller.signal).finally(() => {
      this.running.delete(experiment.name);
      metrics.running.set(this.running.size);
    });
  }

  /**
   * Claims the scheduled run in the journal first: of the daemons sharing it, exactly one runs each
   * (name, scheduled time), and none while another daemon's run of it, or on its target, goes on.
   */
  private async claimAndRun(entry: ScheduledEntry, loaded: LoadedSchedule, scheduledAt: string, identity: string, signal: AbortSignal) {
    const { journal, metrics, log } = this.options;
    const name = entry.experiment.name;
    let claim: Awaited<ReturnType<typeof journal.claimScheduledRun>>;
    try {
      claim = await journal.claimScheduledRun({
        experimentName: name,
        scheduledAt,
        identity,
        owner: this.owner,
        lapseMs: heartbeatLapseMs,
      });
    } catch (error) {
      metrics.experiments.inc({ experiment: name, result: "error" });
      log.error(
        `${name} did not run: cannot claim its run scheduled at ${scheduledAt} in the journal: ${redactText((error as Error).message)}`,
      );
      return;
    }
    if (!claim.claimed) {
      // Another daemon runs this very run: nothing was skipped, it is done elsewhere.
      if (claim.kind !== "taken") {
        metrics.skipped.inc({ experiment: name, reason: claim.kind });
        log.warn(`skipped ${name}: ${claim.reason}`);
      }
      return;
    }
    let experimentId: string | undefined;
    try {
      experimentId = await this.runOnce(entry, loaded, scheduledAt, signal);
    } finally {
      await journal
        .finishScheduledRun(name, scheduledAt, experimentId)
        .catch((error: Error) => log.warn(`could not mark ${name}'s run of ${scheduledAt} finished: ${redactText(error.message)}`));
    }
  }

  private async runOnce(
    entry: ScheduledEntry,
    loaded: LoadedSchedule,
    scheduledAt: string,
    signal: AbortSignal,
  ): Promise<string | undefined> {
    const { registry, journal, events, metrics, log } = this.options;
    const name = entry.experiment.name;
    try {
      const report = await runExperiment(entry.experiment, {
        registry,
        journal,
        events,
        signal,
        configFile: loaded.configFile,
        configHash: loaded.configHash,
        plugins: loaded.plugins,
      });
      report.scheduledAt = scheduledAt;
      metrics.experiments.inc({ experiment: name, result: report.status });
      const unfinished = report.rollback.failed.length + report.rollback.conflicts.length;
      if (unfinished) metrics.rollbackFailures.inc({ experiment: name }, unfinished);
      for (const skill of report.skills) metrics.skillDuration.observe({ skill: skill.skill }, report.heldMs / 1000);
      await this.writeReport(report);
      return report.experimentId;
    } catch (error) {
      metrics.experiments.inc({ experiment: name, result: "error" });
      log.error(`${name} did not run: ${redactText((error as Error).message)}`);
      return undefined;
    }
  }

  private async writeReport(report: ExperimentReport) {
    try {
      mkdirSync(this.options.reportDir, { recursive: true, mode: 0o700 });
      const path = join(this.options.reportDir, `${report.experimentId}.json`);
      writeFileSync(path, `${JSON.stringify({ experiments: [report] }, null, 2)}\n`, { mode: 0o600 });
      chmodSync(path, 0o600);
      await this.options.journal.recordReportPath(report.experimentId, path);
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

/**
 * The schedule's own time for the run that fires now (croner fires at or just after it), so every
 * daemon reading the same schedule names the run alike, whatever its timer's jitter.
 */
export function scheduledTimeOf(cron: Cron, now = new Date()): string {
  return (cron.previousRuns(1, new Date(now.getTime() + 1))[0] ?? now).toISOString();
}
