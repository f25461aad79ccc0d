import { Cron } from "croner";
import { describe, expect, it } from "vitest";
import { scheduledTimeOf } from "./daemon-scheduler.js";

describe("scheduledTimeOf", () => {
  it("names a run by the schedule's own time, whatever the timer's jitter, so every daemon names it alike", () => {
    const cron = new Cron("*/5 * * * * *", { paused: true, timezone: "UTC" });
    for (const firedAt of ["2026-11-30T02:00:05.000Z", "2026-11-30T02:00:05.001Z", "2026-11-30T02:00:05.930Z"]) {
      expect(scheduledTimeOf(cron, new Date(firedAt))).toBe("2026-11-30T02:00:05.000Z");
    }
    const daily = new Cron("0 30 2 * * *", { paused: true, timezone: "UTC" });
    expect(scheduledTimeOf(daily, new Date("2026-11-30T02:30:00.412Z"))).toBe("2026-11-30T02:30:00.000Z");
  });
});
