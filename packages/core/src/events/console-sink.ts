import { styleText } from "node:util";
import { formatDuration } from "../duration.js";
import { summarizeConflicts } from "../engine/conflict-summary.js";
import { counted, formatMetrics, statusInWords } from "../engine/report-words.js";
import type { Metrics } from "../json.js";
import type { ChaosEvent } from "./chaos-event.js";
import type { EventSink } from "./event-bus.js";

export interface ConsoleSinkOptions {
  /** Where lines go; stderr keeps stdout free for `--output json`. */
  stream?: NodeJS.WritableStream & { isTTY?: boolean; columns?: number };
  verbose?: boolean;
  /** Colours (the caller decides: a terminal, and neither NO_COLOR nor --no-color). */
  colour?: boolean;
  /** How often the live hold line is redrawn on a terminal. */
  holdTickMs?: number;
}

type Style = Parameters<typeof styleText>[0];

/**
 * The human view: one line per moment, and on a terminal a line redrawn in place (progress, and
 * during the hold the time left with the latest measurements).
 */
export function createConsoleSink(options: ConsoleSinkOptions = {}): EventSink {
  const stream = options.stream ?? process.stderr;
  const interactive = Boolean(stream.isTTY);
  const paint = (style: Style, text: string) => (options.colour ? styleText(style, text, { validateStream: false }) : text);
  let liveLineShown = false;
  const lastDecile = new Map<string, number>();
  const latest = new Map<string, Metrics>();
  let hold: { endsAt: number; timer: NodeJS.Timeout } | undefined;

  const write = (line: string) => {
    if (liveLineShown) stream.write("\r\x1b[K");
    liveLineShown = false;
    stream.write(`${line}\n`);
  };
  const redraw = (line: string) => {
    const width = Math.max((stream.columns ?? 120) - 1, 20);
    stream.write(`\r${line.length > width ? `${line.slice(0, width - 1)}…` : line}\x1b[K`);
    liveLineShown = true;
  };
  const drawHold = () => {
    if (!hold) return;
    const left = Math.max(hold.endsAt - Date.now(), 0);
    const measured = [...latest.values()].map(formatMetrics).filter(Boolean).join(" ");
    redraw(`  ${paint("cyan", "◷")} holding: ${formatDuration(Math.ceil(left / 1000) * 1000)} left${measured ? ` · ${measured}` : ""}`);
  };
  const endHold = () => {
    if (!hold) return;
    clearInterval(hold.timer);
    hold = undefined;
  };

  return {
    handle(event: ChaosEvent) {
      if (event.type !== "observation" && event.type !== "log" && event.type !== "progress") endHold();
      switch (event.type) {
        case "experiment_started":
          return write(
            `${paint("bold", `▶ ${event.name}`)} on ${event.target} ${event.identity}${event.dryRun ? paint("yellow", " (dry run)") : ""} ${paint("dim", `[${event.experimentId}]`)}`,
          );
        case "resources_discovered":
          return write(
            `  discovered ${Object.entries(event.counts)
              .map(([kind, count]) => counted(count, kind))
              .join(", ")}; ${event.selected} selected`,
          );
        case "skill_planned":
          return write(`  plan ${event.skill}: ${event.summary}`);
        case "skill_injected":
          return write(`  ${paint("green", "✓")} injected ${event.skill}: ${event.summary} ${formatMetrics(event.metrics)}`.trimEnd());
        case "skill_failed":
          return write(`  ${paint("red", `✗ ${event.skill} failed`)}: ${event.error}`);
        case "progress": {
          const text = `  … ${event.skill} ${event.done}/${event.total}${event.note ? ` ${event.note}` : ""}`;
          if (interactive) return redraw(text);
          const decile = Math.floor((event.done / Math.max(event.total, 1)) * 10);
          if (decile !== lastDecile.get(event.skill)) {
            lastDecile.set(event.skill, decile);
            write(text);
          }
          return;
        }
        case "hold_started":
          write(`  holding faults for ${formatDuration(event.durationMs)}`);
          if (interactive && event.durationMs > 0) {
            hold = { endsAt: Date.now() + event.durationMs, timer: setInterval(drawHold, options.holdTickMs ?? 1000) };
            hold.timer.unref();
            drawHold();
          }
          return;
        case "observation":
          if (event.skill) latest.set(event.skill, { ...latest.get(event.skill), ...event.metrics });
          if (hold) return drawHold();
          return options.verbose ? write(`  · ${event.skill ?? "observe"} ${formatMetrics(event.metrics)}`) : undefined;
        case "rollback_started":
          return write(`  ${paint("cyan", "↺")} rolling back ${counted(event.steps, "step")}, newest first`);
        case "rollback_step_done": {
          const took =
            event.durationMs !== undefined && event.durationMs >= 1000 ? paint("dim", ` (${formatDuration(event.durationMs)})`) : "";
          if (event.conflicts?.length) {
            return write(
              `  ${paint("yellow", "!")} rollback #${event.stepId} ${event.skill}: ${counted(event.conflicts.length, "conflict")}: ${summarizeConflicts(event.conflicts).join("; ")}${took}`,
            );
          }
          return write(
            `  ${paint("green", "↺")} rolled back #${event.stepId} ${event.skill}${event.summary ? `: ${event.summary}` : ""}${took}`,
          );
        }
        case "rollback_step_failed":
          return write(`  ${paint("red", `✗ rollback #${event.stepId} ${event.skill} FAILED`)}: ${event.error}`);
        case "experiment_finished": {
          const style: Style =
            event.status === "succeeded" || event.status === "dry_run"
              ? "green"
              : event.status === "rollback_incomplete"
                ? "red"
                : "yellow";
          return write(`${paint(style, "■")} ${event.name}: ${paint(style, statusInWords(event.status))}`);
        }
        case "log":
          if (event.level === "debug" && !options.verbose) return;
          if (event.level === "info") return write(`  ${event.message}`);
          return write(`  ${paint(event.level === "warn" ? "yellow" : "red", `${event.level}:`)} ${event.message}`);
        case "command_finished":
          return;
      }
    },
    async close() {
      endHold();
      if (liveLineShown) stream.write("\n");
    },
  };
}
