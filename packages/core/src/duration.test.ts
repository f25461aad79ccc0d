import { describe, expect, it } from "vitest";
import { formatDuration, parseDuration, sleepFor } from "./duration.js";

describe("parseDuration", () => {
  it.each([
    ["90s", 90_000],
    ["5m", 300_000],
    ["1h30m", 5_400_000],
    ["250ms", 250],
    ["1d", 86_400_000],
    ["1.5s", 1_500],
    ["0s", 0],
  ])("%s is %d ms", (text, expected) => {
    expect(parseDuration(text)).toBe(expected);
  });

  it.each(["", "5", "5 minutes", "m5", "-1s", "1h 30m", "1x"])("rejects %j", (text) => {
    expect(parseDuration(text)).toBeUndefined();
  });

  it("formats back to the same notation", () => {
    expect(formatDuration(5_400_000)).toBe("1h30m");
    expect(formatDuration(90_000)).toBe("1m30s");
    expect(formatDuration(250)).toBe("250ms");
  });
});

describe("sleepFor", () => {
  it("holds a duration longer than one timer can take (30 days) instead of firing at once", async () => {
    const controller = new AbortController();
    let finished = false;
    const holding = sleepFor(parseDuration("30d")!, controller.signal).then(() => {
      finished = true;
    });
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(finished).toBe(false);
    controller.abort();
    await holding;
    expect(finished).toBe(true);
  });

  it("sleeps a long wait in slices and still ends on time", async () => {
    const started = Date.now();
    await sleepFor(90, undefined, 25);
    expect(Date.now() - started).toBeGreaterThanOrEqual(89);
  });
});
