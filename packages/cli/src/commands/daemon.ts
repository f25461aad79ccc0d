import { join } from "node:path";
import {
  ChaosError,
  type DaemonFile,
  defaultJournalPath,
  ExitCode,
  heartbeatIntervalMs,
  heartbeatLapseMs,
  type LoadedConfig,
  loadConfigFile,
  redactText,
  stateDirectoryOf,
} from "@chaos-agents/core";
import { createBuiltinRegistry } from "../builtin-registry.js";
import { type CommandIo, createEventBus, type GlobalOptions } from "../command-context.js";
import { DaemonMetrics, serveMetrics } from "../daemon/daemon-metrics.js";
import { DaemonScheduler, type LoadedSchedule } from "../daemon/daemon-scheduler.js";
import { takeOverDeadOwners } from "../daemon/daemon-takeover.js";
import { acquirePidFile } from "../daemon/pid-file.js";
import { refuseJournalOnAttackedServer } from "./journal-placement.js";
import { loadConfigForCommand } from "./load-config-for-command.js";
import { openJournalForCommand, retentionOf } from "./open-journal.js";
import { recoverWithConfigFiles } from "./recover.js";

export interface DaemonOptions extends GlobalOptions {
  pidFile?: string;
  /** host:port for /healthz and /metrics. */
  listen?: string;
}

/**
 * `chaos daemon FILE`: validates the whole file, takes the PID file, recovers what the journal left
 * unfinished, then runs the schedules until SIGTERM/SIGINT (running experiments roll back, exit 0).
 * SIGHUP reloads the file; an invalid one keeps the old schedules. With a shared (PostgreSQL)
 * journal, several daemons split the scheduled runs and take over each other's dead experiments.
 */
export async function daemon(file: string, options: DaemonOptions, io: CommandIo): Promise<number> {
  const registry = createBuiltinRegistry();
  const loaded = await loadConfigForCommand(file, registry, io);
  const schedules = daemonForm(file, loaded.config);
  // --journal, then the file's settings.journal, then CHAOS_JOURNAL and the default file.
  const journalLocation = options.journal ?? schedules.settings.journal ?? defaultJournalPath(io.env);
  await refuseJournalOnAttackedServer(journalLocation, scheduledExperiments(schedules), file);
  const stateDirectory = stateDirectoryOf(journalLocation, io.env);
  const pidFile = acquirePidFile(options.pidFile ?? join(stateDirectory, "daemon.pid"));
  let journal: Awaited<ReturnType<typeof openJournalForCommand>>;
  try {
    journal = await openJournalForCommand(journalLocation, io.env);
  } catch (error) {
    pidFile.release();
    throw error;
  }
  // Structured JSON lines when nobody watches a terminal.
  const events = createEventBus({ ...options, output: options.output === "json" || !isTty(io.stderr) ? "json" : "human" }, io);
  const log = events.logger();
  const metrics = new DaemonMetrics();
  const scheduler = new DaemonScheduler({
    registry,
    journal,
    events,
    metrics,
    log,
    reportDir: schedules.settings.report_dir ?? join(stateDirectory, "reports"),
  });
  let server: Awaited<ReturnType<typeof serveMetrics>> | undefined;
  let scheduling = false;
  const reload = async () => {
    if (!scheduling) return log.warn("SIGHUP before scheduling started: the file is read once recovery is done");
    try {
      const next = await loadConfigFile(file, { registry, env: io.env });
      const nextSchedules = daemonForm(file, next.config);
      await refuseJournalOnAttackedServer(journalLocation, scheduledExperiments(nextSchedules), file);
      if ((nextSchedules.settings.journal ?? journalLocation) !== journalLocation && !options.journal) {
        log.warn(`SIGHUP: settings.journal changed; the journal stays ${journal.location} until the daemon restarts`);
      }
      // New runs carry the hash of the file as loaded now; runs in progress keep theirs.
      scheduler.schedule(scheduleOf(nextSchedules, next));
      log.info(`SIGHUP: reloaded ${file}`);
    } catch (error) {
      log.error(`SIGHUP: ${file} is not valid, the old schedules stay: ${redactText((error as Error).message)}`);
    }
  };
  const onHangup = () => void reload();
  // Taken at once: a SIGHUP's default action would end the daemon.
  process.on("SIGHUP", onHangup);
  const watches: NodeJS.Timeout[] = [];
  try {
    // Inside the try: a port another program holds must not leave the PID file or the journal open.
    if (options.listen) server = await serveMetrics(options.listen, metrics, () => scheduler.status());
    log.info(
      `chaos daemon ${process.pid} started with ${file}, journal ${journal.location}` +
        (pidFile.tookOverFrom ? `; took over the PID file of dead daemon ${pidFile.tookOverFrom}` : ""),
    );
    const { recovered, skipped } = await recoverWithConfigFiles({ journal, registry, events });
    if (recovered.length + skipped.length > 0) {
      log.info(`recovered ${recovered.length} unfinished experiment(s) before scheduling; ${skipped.length} left to their live owners`);
    }
    if (!io.signal?.aborted) scheduler.schedule(scheduleOf(schedules, loaded));
    scheduling = true;
    watches.push(every(heartbeatIntervalMs, () => scheduler.heartbeat()));
    // Experiments of daemons that died (this host: the process is gone; others: the heartbeat
    // lapsed after heartbeatLapseMs) are claimed and rolled back here.
    watches.push(
      every(heartbeatIntervalMs, async () => {
        if (io.signal?.aborted) return;
        await takeOverDeadOwners({
          journal,
          log,
          recover: (experimentId) => recoverWithConfigFiles({ journal, registry, events }, { experiment: experimentId }),
        }).catch((error: Error) => log.warn(`could not look for dead daemons' experiments: ${redactText(error.message)}`));
      }),
    );
    // Retention applies all the time, not only at start: a daemon may run for weeks.
    const retention = retentionOf(io.env);
    watches.push(
      every(journalPruneIntervalMs, async () => {
        await journal.prune(retention).catch((error: Error) => log.warn(`could not prune the journal: ${redactText(error.message)}`));
      }),
    );
    log.info(
      `watching the journal for dead owners every ${heartbeatIntervalMs / 1000} s (another host's lapse after ${heartbeatLapseMs / 1000} s)`,
    );
    // Cron timers do not keep Node alive on their own; the daemon lives until it is told to stop.
    const keepAlive = setInterval(() => undefined, 2 ** 30);
    await new Promise<void>((resolve) => {
      if (!io.signal || io.signal.aborted) return resolve();
      io.signal.addEventListener("abort", () => resolve(), { once: true });
    }).finally(() => clearInterval(keepAlive));
    log.info("stopping: no new runs; running experiments roll back");
    await scheduler.stop();
    log.info("stopped");
    return ExitCode.success;
  } finally {
    for (const watch of watches) clearInterval(watch);
    process.off("SIGHUP", onHangup);
    server?.close();
    await events.close();
    await journal.close();
    pidFile.release();
  }
}

/** How often a running daemon drops what retention allows from the journal. */
const journalPruneIntervalMs = 3_600_000;

function scheduledExperiments(file: DaemonFile) {
  return file.experiments.map((entry, index) => ({ path: `experiments.${index}.experiment`, experiment: entry.experiment }));
}

function scheduleOf(file: DaemonFile, loaded: LoadedConfig): LoadedSchedule {
  return { file, configFile: loaded.file, configHash: loaded.hash, plugins: loaded.config.plugins };
}

/** Runs `work` every `intervalMs`, never two at once (a slow pass makes the next one wait). */
function every(intervalMs: number, work: () => Promise<void>): NodeJS.Timeout {
  let busy = false;
  return setInterval(async () => {
    if (busy) return;
    busy = true;
    try {
      await work();
    } finally {
      busy = false;
    }
  }, intervalMs);
}

function daemonForm(file: string, config: { form: string }): DaemonFile {
  if (config.form !== "daemon") {
    throw new ChaosError(`${file} is not a daemon config: it needs settings: and experiments: [{experiment, schedule}]`, {
      exitCode: ExitCode.invalidConfig,
    });
  }
  return config as unknown as DaemonFile;
}

function isTty(stream: NodeJS.WritableStream): boolean {
  return Boolean((stream as { isTTY?: boolean }).isTTY);
}
