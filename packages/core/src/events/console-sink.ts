import { formatDuration } from "../duration.js";
import { summarizeConflicts } from "../engine/conflict-summary.js";
import type { Metrics } from "../json.js";
import type { ChaosEvent } from "./chaos-event.js";
import type { EventSink } from "./event-bus.js";

export interface ConsoleSinkOptions {
  /** Where lines go; stderr keeps stdout free for `--output json`. */
  stream?: NodeJS.WritableStream & { isTTY?: boolean };
  verbose?: boolean;
}

export function formatMetrics(metrics: Metrics | undefined): string {
  if (!metrics) return "";
  return Object.entries(metrics)
    .map(([key, value]) => `${key}=${typeof value === "number" ? Number(value.toFixed(2)) : value}`)
    .join(" ");
}

/** The human view: one line per moment, progress redrawn in place on a terminal. */
export function createConsoleSink(options: ConsoleSinkOptions = {}): EventSink {
  const stream = options.stream ?? process.stderr;
  const interactive = Boolean(stream.isTTY);
  let progressShown = false;
  const lastDecile = new Map<string, number>();

  const write = (line: string) => {
    if (progressShown) stream.write("\n");
    progressShown = false;
    stream.write(`${line}\n`);
  };

  return {
    handle(event: ChaosEvent) {
      switch (event.type) {
        case "experiment_started":
          return write(`▶ ${event.name} on ${event.target} ${event.identity}${event.dryRun ? " (dry run)" : ""} [${event.experimentId}]`);
        case "resources_discovered":
          return write(
            `  discovered ${Object.entries(event.counts)
              .map(([kind, count]) => `${count} ${kind}${count === 1 ? "" : "s"}`)
              .join(", ")}; ${event.selected} selected`,
          );
        case "skill_planned":
          return write(`  plan ${event.skill}: ${event.summary}`);
        case "skill_injected":
          return write(`  ✓ injected ${event.skill}: ${event.summary} ${formatMetrics(event.metrics)}`.trimEnd());
        case "skill_failed":
          return write(`  ✗ ${event.skill} failed: ${event.error}`);
        case "progress": {
          const text = `  … ${event.skill} ${event.done}/${event.total}${event.note ? ` ${event.note}` : ""}`;
          if (interactive) {
            stream.write(`\r${text}\x1b[K`);
            progressShown = true;
            return;
          }
          const decile = Math.floor((event.done / Math.max(event.total, 1)) * 10);
          if (decile !== lastDecile.get(event.skill)) {
            lastDecile.set(event.skill, decile);
            write(text);
          }
          return;
        }
        case "hold_started":
          return write(`  holding faults for ${formatDuration(event.durationMs)}`);
        case "observation":
          return options.verbose ? write(`  · ${event.skill ?? "observe"} ${formatMetrics(event.metrics)}`) : undefined;
        case "rollback_step_done":
          if (event.conflicts?.length) {
            return write(
              `  ! rollback #${event.stepId} ${event.skill}: ${event.conflicts.length} conflict(s): ${summarizeConflicts(event.conflicts).join("; ")}`,
            );
          }
          return options.verbose ? write(`  ↺ rolled back #${event.stepId} ${event.skill} ${event.summary ?? ""}`.trimEnd()) : undefined;
        case "rollback_step_failed":
          return write(`  ✗ rollback #${event.stepId} ${event.skill} FAILED: ${event.error}`);
        case "experiment_finished":
          return write(`■ ${event.name}: ${event.status.replaceAll("_", " ")}`);
        case "log":
          if (event.level === "debug" && !options.verbose) return;
          return write(`  ${event.level === "info" ? "" : `${event.level}: `}${event.message}`);
      }
    },
    async close() {
      if (progressShown) stream.write("\n");
    },
  };
}
