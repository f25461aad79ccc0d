import { dirname, join } from "node:path";
import { ChaosError, type DaemonFile, defaultJournalPath, ExitCode, loadConfigFile } from "@chaos-agents/core";
import { createBuiltinRegistry } from "../builtin-registry.js";
import { type CommandIo, createEventBus, type GlobalOptions } from "../command-context.js";
import { DaemonMetrics, serveMetrics } from "../daemon/daemon-metrics.js";
import { DaemonScheduler } from "../daemon/daemon-scheduler.js";
import { acquirePidFile } from "../daemon/pid-file.js";
import { loadConfigForCommand } from "./load-config-for-command.js";
import { openJournalForCommand } from "./open-journal.js";
import { recoverWithConfigFiles } from "./recover.js";

export interface DaemonOptions extends GlobalOptions {
  pidFile?: string;
  /** host:port for /healthz and /metrics. */
  listen?: string;
}

/**
 * `chaos daemon FILE`: validates the whole file, takes the PID file, recovers what the journal left
 * unfinished, then runs the schedules until SIGTERM/SIGINT (running experiments roll back, exit 0).
 * SIGHUP reloads the file; an invalid one keeps the old schedules.
 */
export async function daemon(file: string, options: DaemonOptions, io: CommandIo): Promise<number> {
  const registry = createBuiltinRegistry();
  const loaded = await loadConfigForCommand(file, registry, io);
  const schedules = daemonForm(file, loaded.config);
  const journalPath = defaultJournalPath(io.env, options.journal);
  const pidFile = acquirePidFile(options.pidFile ?? join(dirname(journalPath), "daemon.pid"));
  const journal = openJournalForCommand(journalPath, io.env);
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
    reportDir: schedules.settings.report_dir ?? join(dirname(journalPath), "reports"),
    configFile: loaded.file,
    configHash: loaded.hash,
    plugins: loaded.config.plugins,
  });
  const server = options.listen ? await serveMetrics(options.listen, metrics, () => scheduler.status()) : undefined;
  let scheduling = false;
  const reload = async () => {
    if (!scheduling) return log.warn("SIGHUP before scheduling started: the file is read once recovery is done");
    try {
      const next = await loadConfigFile(file, { registry, env: io.env });
      scheduler.schedule(daemonForm(file, next.config));
      log.info(`SIGHUP: reloaded ${file}`);
    } catch (error) {
      log.error(`SIGHUP: ${file} is not valid, the old schedules stay: ${(error as Error).message}`);
    }
  };
  const onHangup = () => void reload();
  // Taken at once: a SIGHUP's default action would end the daemon.
  process.on("SIGHUP", onHangup);
  try {
    log.info(
      `chaos daemon ${process.pid} started with ${file}${pidFile.tookOverFrom ? `; took over the PID file of dead daemon ${pidFile.tookOverFrom}` : ""}`,
    );
    const { recovered, skipped } = await recoverWithConfigFiles({ journal, registry, events });
    if (recovered.length + skipped.length > 0) {
      log.info(`recovered ${recovered.length} unfinished experiment(s) before scheduling; ${skipped.length} left to their live owners`);
    }
    if (!io.signal?.aborted) scheduler.schedule(schedules);
    scheduling = true;
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
    process.off("SIGHUP", onHangup);
    server?.close();
    await events.close();
    journal.close();
    pidFile.release();
  }
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
