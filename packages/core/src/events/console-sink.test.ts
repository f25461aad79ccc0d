import { Writable } from "node:stream";
import { setTimeout as sleep } from "node:timers/promises";
import { describe, expect, it } from "vitest";
import type { ChaosEventInput } from "./chaos-event.js";
import { createConsoleSink } from "./console-sink.js";

/** A stream that records what is written, looking like a terminal or not. */
function screen(isTTY: boolean) {
  let text = "";
  const stream = Object.assign(
    new Writable({
      write(chunk, _encoding, done) {
        text += String(chunk);
        done();
      },
    }),
    { isTTY, columns: 100 },
  );
  return { stream, text: () => text };
}

const stamp = (event: ChaosEventInput) => ({ ...event, schema_version: 1 as const, at: new Date().toISOString() });

const rollback: ChaosEventInput[] = [
  { type: "rollback_started", experimentId: "x", steps: 2 },
  { type: "rollback_step_done", experimentId: "x", stepId: 2, skill: "db.insert_load", summary: "deleted 10 rows", durationMs: 2000 },
  {
    type: "rollback_step_done",
    experimentId: "x",
    stepId: 1,
    skill: "db.config_change",
    summary: "work_mem restored to 4096kB",
    durationMs: 3,
  },
  { type: "experiment_finished", experimentId: "x", name: "shop", status: "succeeded" },
];

describe("console sink", () => {
  it("shows each rollback step as it completes without -v, and the outcome in words", async () => {
    const { stream, text } = screen(false);
    const sink = createConsoleSink({ stream });
    for (const event of rollback) sink.handle(stamp(event));
    await sink.close?.();
    expect(text()).toBe(
      [
        "  ↺ rolling back 2 steps, newest first",
        "  ↺ rolled back #2 db.insert_load: deleted 10 rows (2s)",
        "  ↺ rolled back #1 db.config_change: work_mem restored to 4096kB",
        "■ shop: succeeded, rolled back",
        "",
      ].join("\n"),
    );
  });

  it("on a terminal, redraws a live hold line with the time left and the latest measurements, then clears it", async () => {
    const { stream, text } = screen(true);
    const sink = createConsoleSink({ stream, holdTickMs: 10 });
    sink.handle(stamp({ type: "hold_started", experimentId: "x", durationMs: 60_000 }));
    sink.handle(stamp({ type: "observation", experimentId: "x", skill: "db.select_load", metrics: { qps: 1234.5678 } }));
    await sleep(50);
    const during = text();
    expect(during).toContain("holding faults for 1m\n");
    expect(during).toContain("\r  ◷ holding: ");
    expect(during).toContain(" left · qps=1234.57\x1b[K");
    expect(during.split("\r").length).toBeGreaterThan(3); // redrawn, not printed once
    for (const event of rollback) sink.handle(stamp(event));
    const after = text().slice(during.length);
    await sleep(30);
    expect(text().slice(during.length)).toBe(after); // the hold line stopped with the rollback
    expect(after.startsWith("\r\x1b[K  ↺ rolling back 2 steps")).toBe(true);
    await sink.close?.();
  });

  it("colours only when asked", async () => {
    const coloured = screen(true);
    const plain = screen(false);
    const colourSink = createConsoleSink({ stream: coloured.stream, colour: true });
    const plainSink = createConsoleSink({ stream: plain.stream, colour: false });
    for (const event of rollback) {
      colourSink.handle(stamp(event));
      plainSink.handle(stamp(event));
    }
    expect(coloured.text()).toContain("\x1b[32m■\x1b[39m shop: \x1b[32msucceeded, rolled back\x1b[39m");
    expect(plain.text()).not.toContain("\x1b[");
  });

  it("counts discovered resources with their plural in words", async () => {
    const { stream, text } = screen(false);
    const sink = createConsoleSink({ stream });
    sink.handle(stamp({ type: "resources_discovered", experimentId: "x", counts: { process: 33, table: 1, index: 2 }, selected: 36 }));
    expect(text()).toBe("  discovered 33 processes, 1 table, 2 indexes; 36 selected\n");
  });
});
