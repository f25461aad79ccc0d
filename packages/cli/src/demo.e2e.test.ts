import { runChaos } from "@chaos-agents/testing";
import { describe, expect, it } from "vitest";

// The README's main job: it must keep working on a machine with no database of its own.
describe("chaos demo", () => {
  it("runs the shop experiment on an embedded PostgreSQL and proves every table and setting is as before", async () => {
    const result = await runChaos(["demo"]);
    expect(result.stderr).toContain("■ shop-chaos: succeeded");
    expect(result.stdout).toMatch(/public\.customers\s+200\s+2200\s+200\s+(\w{16})\s+\1\s+yes/);
    expect(result.stdout).toMatch(/work_mem\s+(\S+)\s+16384kB\s+\1\s+yes/);
    expect(result.stdout).toContain("The database is exactly as before");
    expect(result.exitCode).toBe(0);
  }, 120_000);
});
