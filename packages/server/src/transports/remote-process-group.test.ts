import { execFileSync, spawn, spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { shellQuote } from "../shell-quote.js";
import { killProcessGroupCommand, reportingProcessGroup, takeProcessGroup } from "./remote-process-group.js";

/** The start time (field 22) of a process, from its stat line. */
function startTimeOf(pid: number): string {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  return stat.slice(stat.lastIndexOf(")") + 2).split(" ")[19] as string;
}

/** A group of our own: a shell leading it and a child in it. */
function startGroup() {
  const leader = spawn("sh", ["-c", "sleep 60 & sleep 61"], { detached: true, stdio: "ignore" });
  return leader.pid as number;
}

const alive = (pid: number) => existsSync(`/proc/${pid}`) && !readFileSync(`/proc/${pid}/stat`, "utf8").includes(") Z ");

describe("process groups of commands run on a host", () => {
  const wrapped = reportingProcessGroup("echo out; echo err >&2; exit 3");

  it("a command that leads its group (as in an SSH session) names it and its leader's start time on stderr, then runs as it would have", () => {
    const result = spawnSync("setsid", ["sh", "-c", wrapped], { encoding: "utf8" });
    const { group, rest } = takeProcessGroup(result.stderr);
    expect(group?.id).toBeGreaterThan(1);
    expect(group?.leaderStart).toMatch(/^\d+$/);
    expect(rest).toBe("err\n");
    expect(result.stdout).toBe("out\n");
    expect(result.status).toBe(3);
  });

  it("names no group it does not lead, nor its login shell: such a group may hold anything", () => {
    // Here the group is the test runner's.
    const result = spawnSync("sh", ["-c", `sh -c ${shellQuote(wrapped)}`], { encoding: "utf8" });
    expect(result.stderr).toBe("err\n");
    expect(takeProcessGroup(result.stderr).group).toBeUndefined();
  });

  it("kills every process of the group while its leader is the one that started", async () => {
    const leader = startGroup();
    await new Promise((resolve) => setTimeout(resolve, 200));
    const output = execFileSync("sh", ["-c", killProcessGroupCommand({ id: leader, leaderStart: startTimeOf(leader) }, false)]).toString();
    expect(Number(output)).toBeGreaterThanOrEqual(2);
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(alive(leader)).toBe(false);
  });

  it("kills nothing when the group's number now belongs to a process of another start time", async () => {
    const leader = startGroup();
    await new Promise((resolve) => setTimeout(resolve, 200));
    try {
      const earlier = String(Number(startTimeOf(leader)) - 1);
      const output = execFileSync("sh", ["-c", killProcessGroupCommand({ id: leader, leaderStart: earlier }, false)]).toString();
      expect(output.trim()).toBe("reused");
      expect(alive(leader)).toBe(true);
    } finally {
      process.kill(-leader, "SIGKILL");
    }
  });
});
