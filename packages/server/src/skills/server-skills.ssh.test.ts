import { execFileSync } from "node:child_process";
import { chmodSync, readdirSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { Registry } from "@chaos-agents/core";
import { runInProcess, runWhileWatching, type SshTestbed, startSshTestbed } from "@chaos-agents/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { serverSkills } from "../index.js";
import { createServerTarget } from "../server-target.js";

const registry = new Registry().addTarget(createServerTarget(), serverSkills);
let testbed: SshTestbed;
let sshd: SshTestbed["sshd"];
let daemon: NonNullable<SshTestbed["daemon"]>;
let namespace: SshTestbed["namespace"];
let scratch: string;
let mountPoint: string;
let workDir: string;
let onHost: SshTestbed["onHost"];

beforeAll(async () => {
  testbed = await startSshTestbed({ prefix: "chaos-ssh-skills-" });
  ({ sshd, namespace, scratch, mountPoint, onHost } = testbed);
  daemon = testbed.daemon as NonNullable<SshTestbed["daemon"]>;
  workDir = String(testbed.targetConfig().work_dir);
});

afterAll(async () => {
  await testbed?.stop();
});

function experiment(skill: string, params: Record<string, unknown>, extra: Record<string, unknown> = {}) {
  return {
    name: `ssh ${skill}`,
    target: "server" as const,
    target_config: testbed.targetConfig(),
    skills: [{ skill_name: skill, params }],
    duration: "1s",
    ...extra,
  };
}

function runAndWatch<Seen>(input: ReturnType<typeof experiment>, during: () => Seen | undefined | Promise<Seen | undefined>) {
  return runWhileWatching(registry, input, during);
}

describe("server skills over SSH", () => {
  it("discovers the host through SSH and never lists sshd, PID 1 or its own session", async () => {
    const target = createServerTarget();
    const log = { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined };
    const session = await target.connect(target.configSchema.parse(testbed.targetConfig()), { experimentId: "discovery", log });
    try {
      const inventory = await session.discover();
      const names = inventory.resources.map((resource) => resource.name);
      const key = session.hosts[0]?.key;
      expect(names).toContain(`${key}/service:${daemon.name}`);
      expect(names).toContain(`${key}/port:${daemon.port}`);
      expect(names).not.toContain(`${key}/port:${sshd.port}`);
      expect(names).not.toContain(`${key}/process:1`);
      expect(names).not.toContain(`${key}/process:${sshd.pid}`);
      for (const pid of await sshd.sessionPids()) expect(names).not.toContain(`${key}/process:${pid}`);
      const processes = inventory.resources.filter((resource) => resource.kind === "process");
      expect(processes.some((resource) => /^sshd/.test(String(resource.details?.command)))).toBe(false);
      expect(processes.some((resource) => resource.details?.ppid === 2)).toBe(false);
      expect((await session.hosts[0]?.facts())?.sshPort).toBe(sshd.port);
    } finally {
      await session.close();
    }
  });

  it("service_stop and process_kill over SSH restart the daemon inside its namespace", async () => {
    const listening = () => onHost("ss", ["-Htln", `sport = :${daemon.port}`]).trim() !== "";
    // The namespace's whole table of listening sockets (sshd and the daemon): the same after each experiment.
    const sockets = () =>
      onHost("ss", ["-Htln"])
        .split("\n")
        .map((line) => line.trim().split(/\s+/).slice(3, 4).join())
        .sort();
    const socketsBefore = sockets();
    const stopped = await runAndWatch(experiment("server.service_stop", { services: [daemon.name] }), () =>
      !listening() ? true : undefined,
    );
    expect(stopped.report.status).toBe("succeeded");
    expect(stopped.seen).toBe(true);
    expect(listening()).toBe(true);
    const [before] = daemon.pids();
    const killed = await runAndWatch(experiment("server.process_kill", { name: daemon.name, signal: "TERM" }), () =>
      !daemon.pids().includes(before as number) ? true : undefined,
    );
    expect(killed.report.status).toBe("succeeded");
    expect(sockets()).toEqual(socketsBefore);
    expect(listening()).toBe(true);
    expect(daemon.pids()).toHaveLength(1);
  });

  it("rollback reconnects when the SSH connection drops mid-experiment", async () => {
    const file = join(scratch, "dropped.conf");
    writeFileSync(file, "x");
    chmodSync(file, 0o644);
    const { report, seen } = await runAndWatch(experiment("server.permission_change", { paths: [file] }, { duration: "2s" }), async () => {
      if ((statSync(file).mode & 0o777) !== 0) return undefined;
      const sessions = await sshd.sessionPids();
      for (const pid of sessions) process.kill(pid, "SIGKILL");
      return sessions.length;
    });
    expect(seen).toBeGreaterThan(0);
    expect(report.status).toBe("succeeded");
    expect(statSync(file).mode & 0o777).toBe(0o644);
  });

  it("network_latency: loss via iptables spares the SSH session, rate via tbf; both removed exactly", async () => {
    if (!namespace) return;
    const device = namespace.namespaceInterface;
    const rules = () => onHost("iptables", ["-S"]);
    const qdiscs = () => onHost("tc", ["qdisc", "show", "dev", device]);
    const beforeRules = rules();
    const beforeQdiscs = qdiscs();
    // A TCP handshake with the daemon in the namespace: its SYN-ACK leaves through the degraded interface.
    const ping = () => {
      try {
        execFileSync("timeout", ["3", "bash", "-c", `exec 3<>/dev/tcp/${namespace?.namespaceAddress}/${daemon.port}`], { stdio: "ignore" });
        return true;
      } catch {
        return false;
      }
    };
    expect(ping()).toBe(true);
    const { report, seen } = await runAndWatch(
      experiment("server.network_latency", { interface: device, loss_percent: 100, rate: "1mbit" }, { duration: "3s" }),
      () => (rules().includes("--probability 1.0") && qdiscs().includes("tbf") ? { pinged: ping(), qdiscs: qdiscs() } : undefined),
    );
    expect(report.skills[0]?.error).toBeUndefined();
    expect(report.status).toBe("succeeded");
    // Every packet out of the host is dropped, except the agent's own SSH session, which rolled everything back.
    expect(seen?.pinged).toBe(false);
    expect(seen?.qdiscs).toMatch(/qdisc htb c4a0: root/);
    expect(rules()).toBe(beforeRules);
    expect(qdiscs()).toBe(beforeQdiscs);
    expect(ping()).toBe(true);
  });

  it("network_latency: without netem in the kernel, delay fails cleanly and leaves the qdiscs as they were", async () => {
    if (!namespace) return;
    const device = namespace.namespaceInterface;
    const before = onHost("tc", ["qdisc", "show", "dev", device]);
    const { report } = await runInProcess(
      registry,
      experiment("server.network_latency", { interface: device, delay_ms: 100, jitter_ms: 10 }),
    );
    const netemMissing = /no netem qdisc/.test(report.skills[0]?.error ?? "");
    if (netemMissing) expect(report.status).toBe("failed_rolled_back");
    else expect(report.status).toBe("succeeded");
    expect(onHost("tc", ["qdisc", "show", "dev", device])).toBe(before);
  });

  it("disk_fill and cpu_stress over SSH, through sudo, leave nothing behind", async () => {
    {
      const free = () => Number(execFileSync("df", ["-Pk", mountPoint]).toString().split("\n")[1]?.split(/\s+/)[3]);
      const before = free();
      const { report } = await runInProcess(registry, {
        ...experiment("server.disk_fill", { target_mount: mountPoint, size: "4MiB" }),
        target_config: testbed.targetConfig({ sudo: true }),
        skills: [
          { skill_name: "server.disk_fill", params: { target_mount: mountPoint, size: "4MiB" } },
          { skill_name: "server.cpu_stress", params: { workers: 1, load_percent: 50 } },
        ],
      });
      expect(report.status).toBe("succeeded");
      expect(report.rollback).toMatchObject({ steps: 3, done: 3 });
      expect(free()).toBe(before);
      expect(readdirSync(mountPoint)).toEqual([]);
      expect(readdirSync(workDir)).toEqual([]);
    }
  });
});
