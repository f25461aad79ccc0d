import { setTimeout as sleep } from "node:timers/promises";

const unitMilliseconds: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };
const durationPattern = /^(?:\d+(?:\.\d+)?(?:ms|s|m|h|d))+$/;
const partPattern = /(\d+(?:\.\d+)?)(ms|s|m|h|d)/g;

/**
 * Parses "90s", "5m", "1h30m", "250ms" into milliseconds. Returns undefined for anything
 * else so the caller can report the problem where it knows the path.
 */
export function parseDuration(text: string): number | undefined {
  const trimmed = text.trim();
  if (!durationPattern.test(trimmed)) return undefined;
  let total = 0;
  for (const [, amount, unit] of trimmed.matchAll(partPattern)) {
    total += Number(amount) * (unitMilliseconds[unit as string] ?? 0);
  }
  return Math.round(total);
}

/** Formats milliseconds back into the same notation: 5400000 → "1h30m". */
export function formatDuration(milliseconds: number): string {
  if (milliseconds < 1000) return `${Math.round(milliseconds)}ms`;
  let rest = Math.round(milliseconds / 1000);
  const parts: string[] = [];
  for (const [unit, seconds] of [
    ["d", 86_400],
    ["h", 3_600],
    ["m", 60],
    ["s", 1],
  ] as const) {
    if (rest >= seconds) {
      parts.push(`${Math.floor(rest / seconds)}${unit}`);
      rest %= seconds;
    }
  }
  return parts.join("");
}

/** The longest delay one Node timer takes; a longer one fires after 1 ms instead (with a warning). */
const longestTimerMs = 2 ** 31 - 1;

/**
 * Waits `milliseconds` (any length: a hold of weeks is slept in timer-sized slices) or until the
 * signal aborts; never rejects.
 */
export async function sleepFor(milliseconds: number, signal?: AbortSignal, sliceMs = longestTimerMs): Promise<void> {
  const end = Date.now() + milliseconds;
  for (let left = milliseconds; left > 0 && !signal?.aborted; left = end - Date.now()) {
    await sleep(Math.min(left, sliceMs), undefined, { signal }).catch(() => undefined);
  }
}
