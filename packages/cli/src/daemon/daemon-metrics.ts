import { createServer, type Server } from "node:http";
import { ChaosError, ExitCode } from "@chaos-agents/core";
import { Counter, Gauge, Histogram, Registry } from "prom-client";

/** What the daemon exposes on /metrics (Prometheus text format). */
export class DaemonMetrics {
  readonly registry = new Registry();
  readonly experiments = new Counter({
    name: "chaos_experiments_total",
    help: "Experiments the daemon ran, by name and result",
    labelNames: ["experiment", "result"],
    registers: [this.registry],
  });
  readonly skipped = new Counter({
    name: "chaos_runs_skipped_total",
    help: "Scheduled runs not started, by name and reason",
    labelNames: ["experiment", "reason"],
    registers: [this.registry],
  });
  readonly rollbackFailures = new Counter({
    name: "chaos_rollback_failures_total",
    help: "Rollback steps that failed or found a conflict",
    labelNames: ["experiment"],
    registers: [this.registry],
  });
  readonly running = new Gauge({ name: "chaos_running_experiments", help: "Experiments running now", registers: [this.registry] });
  readonly nextRun = new Gauge({
    name: "chaos_next_run_timestamp_seconds",
    help: "When each enabled experiment runs next (Unix time)",
    labelNames: ["experiment"],
    registers: [this.registry],
  });
  readonly skillDuration = new Histogram({
    name: "chaos_skill_duration_seconds",
    help: "How long each skill's faults were held",
    labelNames: ["skill"],
    buckets: [1, 5, 15, 60, 300, 900, 3600],
    registers: [this.registry],
  });
}

/** Serves /healthz and /metrics on host:port (loopback by default in the docs). */
export async function serveMetrics(listen: string, metrics: DaemonMetrics, health: () => Record<string, unknown>): Promise<Server> {
  const match = /^(.*):(\d+)$/.exec(listen);
  if (!match) throw new ChaosError(`--listen ${listen}: expected host:port, e.g. 127.0.0.1:9464`, { exitCode: ExitCode.usage });
  const server = createServer(async (request, response) => {
    if (request.url === "/healthz") {
      response.setHeader("content-type", "application/json");
      response.end(JSON.stringify({ status: "ok", ...health() }));
    } else if (request.url === "/metrics") {
      response.setHeader("content-type", metrics.registry.contentType);
      response.end(await metrics.registry.metrics());
    } else {
      response.statusCode = 404;
      response.end("not found: try /healthz or /metrics\n");
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", (error) =>
      reject(new ChaosError(`cannot listen on ${listen}: ${listenErrorInWords(error)}`, { exitCode: ExitCode.usage, cause: error })),
    );
    server.listen(Number(match[2]), match[1]!.replace(/^\[|\]$/g, ""), resolve);
  });
  return server;
}

/** Why a listening socket could not be opened, as a person says it, with what to do. */
function listenErrorInWords(error: NodeJS.ErrnoException): string {
  const words: Record<string, string> = {
    EADDRINUSE: "another program listens there already (EADDRINUSE): choose another port",
    EADDRNOTAVAIL: "no network interface of this machine has that address (EADDRNOTAVAIL): use one of its own, or 0.0.0.0",
    EACCES: "this user may not listen on that port (EACCES): ports below 1024 need root; choose a higher one",
  };
  return (error.code && words[error.code]) ?? error.message;
}
