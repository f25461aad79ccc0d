import { execFileSync } from "node:child_process";
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statfsSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { Registry } from "@chaos-agents/core";
import {
  chaosProcessesOf,
  collectExperimentIds,
  environmentOf,
  runCommand,
  runInProcess,
  runWhileWatching,
  startTestDaemon,
  type TestDaemon,
} from "@chaos-agents/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { serverSkills } from "../index.js";
import { createServerTarget } from "../server-target.js";

const registry = new Registry().addTarget(createServerTarget(), serverSkills);
let scratch: string;
let workDir: string;
let mountPoint: string;
let daemon: TestDaemon;

beforeAll(async () => {
  scratch = mkdtempSync(join(tmpdir(), "chaos-local-skills-"));
  workDir = join(scratch, "work");
  mountPoint = join(scratch, "fill");
  mkdirSync(mountPoint);
  await runCommand("mount", ["-t", "tmpfs", "-o", "size=16m", "tmpfs", mountPoint]);
  daemon = await startTestDaemon({ env: { CHAOS_TEST_SECRET: "s3cret-value" } });
});

afterAll(async () => {
  await daemon?.stop();
  await runCommand("umount", [mountPoint]).catch(() => undefined);
  rmSync(scratch, { recursive: true, force: true });
});

function experiment(skill: string, params: Record<string, unknown>, extra: Record<string, unknown> = {}) {
  return {
    name: `local ${skill}`,
    target: "server" as const,
    target_config: { local: true, work_dir: workDir },
    skills: [{ skill_name: skill, params }],
    duration: "1s",
    ...extra,
  };
}

/** Runs the experiment and, while the fault is held, waits until `during` sees it (returning what it saw). */
function runAndWatch<Seen>(input: ReturnType<typeof experiment>, during: () => Seen | undefined) {
  return runWhileWatching(registry, input, during);
}

/** Experiment ids of this file (seen in its work dir): other test files run chaos in parallel. */
const ourExperimentIds = new Set<string>();

/** PIDs chaos started for one of this file's experiments. */
function chaosTaggedPids(): number[] {
  return chaosProcessesOf(collectExperimentIds(workDir, ourExperimentIds));
}

function freeBytes(path: string): number {
  const stats = statfsSync(path);
  return stats.bavail * stats.bsize;
}

function listening(port: number): boolean {
  return (
    execFileSync("ss", ["-Htln", `sport = :${port}`])
      .toString()
      .trim() !== ""
  );
}

describe("server skills on the local host", () => {
  it("disk_fill fills the tmpfs down to its floor and rollback gives every byte back", async () => {
    const before = freeBytes(mountPoint);
    const { report, seen } = await runAndWatch(
      experiment("server.disk_fill", { target_mount: mountPoint, percent: 100, keep_free: "2MiB" }),
      () => (freeBytes(mountPoint) < before - 8 * 1024 ** 2 ? freeBytes(mountPoint) : undefined),
    );
    expect(report.status).toBe("succeeded");
    expect(seen).toBeGreaterThanOrEqual(2 * 1024 ** 2);
    expect(seen).toBeLessThan(3 * 1024 ** 2);
    expect(freeBytes(mountPoint)).toBe(before);
    expect(readdirSync(mountPoint)).toEqual([]);
    expect(readdirSync(workDir)).toEqual([]);
  });

  it("disk_fill refuses an unknown mount and a filesystem already at its floor, changing nothing", async () => {
    const unknown = await runInProcess(registry, experiment("server.disk_fill", { target_mount: "/no/such/mount", size: "1MB" })).catch(
      (error: Error) => error,
    );
    expect(String(unknown)).toMatch(/no discovered filesystem is mounted at \/no\/such\/mount/);
    const full = await runInProcess(
      registry,
      experiment("server.disk_fill", { target_mount: mountPoint, size: "1MB", keep_free: "100%" }),
    ).catch((error: Error) => error);
    expect(String(full)).toMatch(/free-space floor .* leaves nothing to fill/);
    expect(readdirSync(mountPoint)).toEqual([]);
  });

  it("permission_change sets 000 and restores exact modes (setuid included) and owners", async () => {
    const directory = join(scratch, "perm");
    mkdirSync(directory);
    const files = ["a.conf", "b; rm -rf x", "c.bin"].map((name) => join(directory, name));
    for (const file of files) writeFileSync(file, "data");
    chmodSync(files[0] as string, 0o640);
    chmodSync(files[1] as string, 0o604);
    chmodSync(files[2] as string, 0o4755);
    execFileSync("chown", ["65534:65534", files[1] as string]);
    const state = () => files.map((file) => ({ mode: statSync(file).mode, uid: statSync(file).uid, gid: statSync(file).gid }));
    const before = state();
    const { report, seen } = await runAndWatch(experiment("server.permission_change", { paths: files }), () =>
      files.every((file) => (statSync(file).mode & 0o7777) === 0) ? true : undefined,
    );
    expect(report.status).toBe("succeeded");
    expect(seen).toBe(true);
    expect(state()).toEqual(before);
  });

  it("permission_change leaves a file someone else changed meanwhile alone and reports the conflict", async () => {
    const file = join(scratch, "contested.conf");
    writeFileSync(file, "x");
    chmodSync(file, 0o644);
    const { report } = await runAndWatch(experiment("server.permission_change", { paths: [file] }), () => {
      if ((statSync(file).mode & 0o777) !== 0) return undefined;
      chmodSync(file, 0o600);
      return true;
    });
    expect(report.status).toBe("rollback_incomplete");
    expect(report.rollback.conflicts.join("\n")).toMatch(/has mode 600 now \(chaos set 0, it was 644\)/);
    expect(statSync(file).mode & 0o777).toBe(0o600);
  });

  it("permission_change refuses critical paths, also through a symlink", async () => {
    const link = join(scratch, "innocent-link");
    execFileSync("ln", ["-s", "/etc/shadow", link]);
    const shadowMode = statSync("/etc/shadow").mode;
    for (const paths of [["/etc/shadow"], [link], ["/usr/bin/env"], ["/"]]) {
      const error = await runInProcess(registry, experiment("server.permission_change", { paths })).catch((failure: Error) => failure);
      expect(String(error)).toMatch(/protected system path/);
    }
    expect(statSync("/etc/shadow").mode).toBe(shadowMode);
  });

  it("service_stop stops the test daemon (plain-process backend) and restarts it with its command line and environment", async () => {
    const [originalPid] = daemon.pids();
    expect(originalPid).toBeDefined();
    const { report, seen } = await runAndWatch(experiment("server.service_stop", { services: [daemon.name] }), () =>
      daemon.pids().length === 0 && !listening(daemon.port) ? true : undefined,
    );
    expect(report.status).toBe("succeeded");
    expect(seen).toBe(true);
    const [restartedPid] = daemon.pids();
    expect(restartedPid).toBeDefined();
    expect(restartedPid).not.toBe(originalPid);
    expect(listening(daemon.port)).toBe(true);
    // Same environment (the secret came back from the host-side file, never from the journal).
    expect(environmentOf(restartedPid as number)).toContain("CHAOS_TEST_SECRET=s3cret-value");
    expect(environmentOf(restartedPid as number).some((variable) => variable.startsWith("CHAOS_AGENTS_"))).toBe(false);
    expect(report.skills[0]?.params).toMatchObject({ services: [daemon.name] });
    expect(JSON.stringify(report)).not.toContain("s3cret-value");
    expect(readdirSync(workDir)).toEqual([]);
  });

  it("service_stop refuses protected and unknown services, and the machine's own services are never touched by a named stop", async () => {
    for (const name of ["sshd", "init", "no-such-service"]) {
      const error = await runInProcess(registry, experiment("server.service_stop", { services: [name] })).catch(
        (failure: Error) => failure,
      );
      expect(String(error)).toMatch(/no running service named/);
    }
  });

  it("process_kill kills the daemon by name and rollback restarts its service, even with only processes selected", async () => {
    const [originalPid] = daemon.pids();
    const { report, seen } = await runAndWatch(
      experiment("server.process_kill", { name: daemon.name, signal: "KILL" }, { resource_filters: ["/process:"] }),
      () => (!daemon.pids().includes(originalPid as number) ? true : undefined),
    );
    expect(report.status).toBe("succeeded");
    expect(seen).toBe(true);
    expect(daemon.pids()).toHaveLength(1);
    expect(listening(daemon.port)).toBe(true);
  });

  it("process_kill never matches PID 1, kernel threads, sshd or its own process chain", async () => {
    const ownCommand = readFileSync(`/proc/${process.pid}/cmdline`, "utf8").split("\0").join(" ");
    for (const params of [
      { pattern: "^/process_api" },
      { pattern: "kthreadd" },
      { name: "sshd" },
      { pattern: ownCommand.replace(/[.*+?^${}()|[\]\\]/g, "\\$&") },
    ]) {
      const error = await runInProcess(registry, experiment("server.process_kill", params)).catch((failure: Error) => failure);
      expect(String(error)).toMatch(/no process chaos may signal matches/);
    }
  });

  it("cpu_stress loads CPUs with stress-ng and with the built-in loop, and stops every worker", async () => {
    for (const method of ["stress-ng", "builtin"]) {
      // A 3 s hold: with the whole suite loading two cores, a scan of /proc can take most of a second.
      const { report, seen } = await runAndWatch(experiment("server.cpu_stress", { workers: 1, method }, { duration: "3s" }), () =>
        chaosTaggedPids().length > 0 ? chaosTaggedPids().length : undefined,
      );
      expect(report.status).toBe("succeeded");
      expect(seen).toBeGreaterThan(0);
      expect(chaosTaggedPids()).toEqual([]);
      // Two steps undo one load (the tag, journaled before the start, then the PID): the newer
      // one stops it; the older says it found it stopped, rather than claiming to stop it again.
      expect(report.rollback.notes).toEqual([
        "server.cpu_stress: local: stopped 1 CPU worker(s)",
        "server.cpu_stress: local: 1 CPU worker(s): already stopped",
      ]);
    }
  });

  it("memory_stress holds memory (stress-ng and tmpfs file) and frees it; refuses what would starve the host", async () => {
    for (const method of ["stress-ng", "builtin"]) {
      const { report, seen } = await runAndWatch(experiment("server.memory_stress", { size: "32MiB", method }, { duration: "3s" }), () =>
        chaosTaggedPids().length > 0 ? true : undefined,
      );
      expect(report.status).toBe("succeeded");
      expect(seen).toBe(true);
      expect(chaosTaggedPids()).toEqual([]);
    }
    expect(readdirSync("/dev/shm").filter((entry) => entry.startsWith("chaos-agents-"))).toEqual([]);
    const error = await runInProcess(registry, experiment("server.memory_stress", { percent: 90 })).catch((failure: Error) => failure);
    expect(String(error)).toMatch(/under the floor .* OOM killer/);
  });

  it("port_saturation holds connections to the daemon's port and closes them all", async () => {
    const established = () =>
      execFileSync("ss", ["-Htn", "state", "established", `dport = :${daemon.port}`])
        .toString()
        .trim()
        .split("\n")
        .filter(Boolean).length;
    const before = established();
    const { report, seen } = await runAndWatch(experiment("server.port_saturation", { port: daemon.port, connections: 50 }), () =>
      established() >= before + 50 ? established() : undefined,
    );
    expect(report.status).toBe("succeeded");
    expect(seen).toBeGreaterThanOrEqual(50);
    for (let wait = 0; wait < 20 && established() !== before; wait++) await sleep(100);
    expect(established()).toBe(before);
    expect(chaosTaggedPids()).toEqual([]);
  });

  it("permission_change on a discovered service's files, and exclude_services hides a service", async () => {
    const logFile = join(scratch, "logging-daemon.log");
    const logging = await startTestDaemon({ logFile });
    try {
      const modeBefore = statSync(logFile).mode;
      const { report, seen } = await runAndWatch(experiment("server.permission_change", { service: logging.name }), () =>
        (statSync(logFile).mode & 0o777) === 0 ? true : undefined,
      );
      expect(report.skills[0]?.targets).toEqual([`local/path:${logFile}`]);
      expect(report.status).toBe("succeeded");
      expect(seen).toBe(true);
      expect(statSync(logFile).mode).toBe(modeBefore);
      const hidden = await runInProcess(registry, {
        ...experiment("server.service_stop", { services: [logging.name] }),
        target_config: { local: true, work_dir: workDir, discovery: { exclude_services: [logging.name] } },
      }).catch((error: Error) => error);
      expect(String(hidden)).toMatch(/no running service named/);
      expect(logging.pids()).toHaveLength(1);
    } finally {
      await logging.stop();
    }
  });

  it("bad parameters are refused before anything changes", async () => {
    const error = await runInProcess(registry, experiment("server.disk_fill", { target_mount: mountPoint })).catch(
      (failure: Error) => failure,
    );
    expect(String(error)).toMatch(/exactly one of `size` or `percent`/);
    expect(readdirSync(mountPoint)).toEqual([]);
  });
});
