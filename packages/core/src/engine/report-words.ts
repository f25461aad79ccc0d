import type { ExperimentStatus } from "../events/chaos-event.js";
import type { Metrics } from "../json.js";

/** Measurements as `key=value` pairs, numbers to two decimals. */
export function formatMetrics(metrics: Metrics | undefined): string {
  if (!metrics) return "";
  return Object.entries(metrics)
    .map(([key, value]) => `${key}=${typeof value === "number" ? Number(value.toFixed(2)) : value}`)
    .join(" ");
}

/** Each outcome in words, for people (the JSON keeps the status names). */
export function statusInWords(status: string): string {
  const words: Record<ExperimentStatus, string> = {
    succeeded: "succeeded, rolled back",
    dry_run: "dry run, nothing changed",
    failed_rolled_back: "failed, rolled back",
    interrupted_rolled_back: "interrupted, rolled back",
    rollback_incomplete: "rollback incomplete (run `chaos recover`)",
  };
  return words[status as ExperimentStatus] ?? status.replaceAll("_", " ");
}

/** "1 table", "33 processes": the count with its noun. */
export function counted(count: number, noun: string): string {
  if (count === 1) return `${count} ${noun}`;
  return `${count} ${/(s|x|z|ch|sh)$/.test(noun) ? `${noun}es` : `${noun}s`}`;
}
