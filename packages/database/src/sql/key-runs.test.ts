import { describe, expect, it } from "vitest";
import { expandRuns, KeyRunCollector, runLength } from "./key-runs.js";

function collect(values: string[]) {
  const collector = new KeyRunCollector();
  for (const value of values) collector.add(value);
  return collector;
}

describe("key runs", () => {
  it("journals counted keys as runs and gives back exactly the same keys", () => {
    const values = ["41", "42", "43", "7", "-2", "-1", "0", "1", "100"];
    const collector = collect(values);
    const runs = collector.finish();
    expect(runs).toEqual([
      ["41", "43"],
      ["7", "7"],
      ["-2", "1"],
      ["100", "100"],
    ]);
    expect([...expandRuns(runs)]).toEqual(values.map((value) => [value]));
    expect(runLength(runs)).toBe(values.length);
    expect(collector.count).toBe(values.length);
  });

  it("keeps a value that is not a plain safe integer exactly as written", () => {
    const values = ["9007199254740991", "9007199254740992", "9007199254740993", "007", "8", "1e3", "-0"];
    const runs = collect(values).finish();
    expect([...expandRuns(runs)]).toEqual(values.map((value) => [value]));
    expect(runLength(runs)).toBe(values.length);
  });

  it("gives nothing back for no keys", () => {
    const runs = collect([]).finish();
    expect(runs).toEqual([]);
    expect([...expandRuns(runs)]).toEqual([]);
  });
});
