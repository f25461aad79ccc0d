import { execFileSync } from "node:child_process";
import { chmodSync, readdirSync } from "node:fs";
import { makeTempDirectory, runChaos, startChaos } from "@chaos-agents/testing";
import { afterAll, describe, expect, it } from "vitest";

const temp = makeTempDirectory("chaos-demo-");
afterAll(temp.remove);

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

  // The first command a new user runs, so the first one they will interrupt.
  it("interrupted with Ctrl-C during the hold, says what became of its server and leaves no server or folder behind", async () => {
    // The embedded server may run as the postgres user (as root): it must reach its folder in here.
    chmodSync(temp.path, 0o711);
    const demo = startChaos(["demo"], { TMPDIR: temp.path }, undefined, { processGroup: true });
    await demo.waitFor("holding faults", 90_000);
    expect(readdirSync(temp.path).filter((name) => name.startsWith("chaos-embedded-pg-"))).toHaveLength(1);
    // What Ctrl-C does: SIGINT to every process of the foreground group, the server's included.
    process.kill(-(demo.child.pid as number), "SIGINT");
    const result = await demo.done;
    expect(result.exitCode).toBe(130);
    expect(result.stderr).toContain("The demo's PostgreSQL is temporary and stops with the interrupt: it is discarded, with its folder.");
    expect(readdirSync(temp.path).filter((name) => name.startsWith("chaos-embedded-pg-"))).toEqual([]);
    const processes = execFileSync("ps", ["-eo", "args"]).toString();
    expect(processes.split("\n").filter((line) => line.includes(temp.path))).toEqual([]);
  }, 120_000);
});
