import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { chmodSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { Registry } from "@chaos-agents/core";
import {
  chaosProcessesOf,
  collectExperimentIds,
  networkNamespacesWork,
  runInProcess,
  runWhileWatching,
  type SshTestbed,
  startSshTestbed,
} from "@chaos-agents/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { serverSkills } from "../index.js";
import { createServerTarget } from "../server-target.js";

const registry = new Registry().addTarget(createServerTarget(), serverSkills);
let testbed: SshTestbed;
let sshd: SshTestbed["sshd"];
let daemon: NonNullable<SshTestbed["daemon"]>;
let namespace: SshTestbed["namespace"];
const namespacesWork = await networkNamespacesWork();
let scratch: string;
let mountPoint: string;
let workDir: string;
let onHost: SshTestbed["onHost"];
/** Processes a test started itself (listeners), killed by PID in afterAll. */
const started: ChildProcess[] = [];

beforeAll(async () => {
  testbed = await startSshTestbed({ prefix: "chaos-ssh-skills-" });
  ({ sshd, namespace, scratch, mountPoint, onHost } = testbed);
  daemon = testbed.daemon as NonNullable<SshTestbed["daemon"]>;
  workDir = String(testbed.targetConfig().work_dir);
});

afterAll(async () => {
  for (const child of started) child.kill("SIGKILL");
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

  // Network faults go only into a namespace the test made: where namespaces do not work, these are skipped, visibly.
  it.skipIf(!namespacesWork)("network_latency: loss via iptables spares the SSH session, rate via tbf; both removed exactly", async () => {
    if (!namespace) throw new Error("namespaces work here, but the test bed has none");
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

  it.skipIf(!namespacesWork)(
    "network_latency: without netem in the kernel, delay fails cleanly and leaves the qdiscs as they were",
    async () => {
      if (!namespace) throw new Error("namespaces work here, but the test bed has none");
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
    },
  );

  describe.skipIf(!namespacesWork)("port_saturation of the ephemeral range, in the test bed's namespace only", () => {
    const range = "40000 40199";
    // 200 ports; the skill keeps max(16, 5% of 200) = 16 of them free.
    const margin = 16;
    const listenerPort = 30_000 + Math.floor(Math.random() * 9_000);
    /** Experiment ids seen in the work dir, to find any process they left behind. */
    const experimentIds = new Set<string>();
    let rangeBefore = "";

    /** Opens connections to the listener from inside the namespace until one fails: "<opened> <error>". Resets, so nothing lingers. */
    const probe = () =>
      onHost("perl", [
        "-e",
        `use Socket; my ($n, @held) = (0); for (1 .. 300) { socket(my $s, PF_INET, SOCK_STREAM, 0) or last; setsockopt($s, SOL_SOCKET, SO_LINGER, pack("ii", 1, 0)); connect($s, sockaddr_in(${listenerPort}, inet_aton("127.0.0.1"))) or do { print "$n $!"; exit }; $n++; push @held, $s } print "$n none";`,
      ]).trim();
    /** The namespace's TCP sockets (state and ends), without the agent's own SSH sessions (which come and go with each experiment). */
    const sockets = () =>
      onHost("ss", ["-Htan"])
        .split("\n")
        .filter((line) => line.trim() && !line.includes(`:${sshd.port} `))
        .map((line) => {
          // State and both ends; queue lengths (Recv-Q, Send-Q) move on their own.
          const [state, , , local, peer] = line.trim().split(/\s+/);
          return `${state} ${local} ${peer}`;
        })
        .sort();

    beforeAll(async () => {
      if (!namespace) throw new Error("namespaces work here, but the test bed has none");
      rangeBefore = onHost("sysctl", ["-n", "net.ipv4.ip_local_port_range"]);
      const outside = readFileSync("/proc/sys/net/ipv4/ip_local_port_range", "utf8");
      onHost("sysctl", ["-qw", `net.ipv4.ip_local_port_range=${range}`]);
      // The sysctl is per network namespace: this machine's own range must not have moved.
      expect(readFileSync("/proc/sys/net/ipv4/ip_local_port_range", "utf8")).toBe(outside);
      expect(onHost("sysctl", ["-n", "net.ipv4.ip_local_port_range"]).split(/\s+/).join(" ").trim()).toBe(range);
      const listener = spawn(
        "ip",
        [
          "netns",
          "exec",
          namespace.name,
          "perl",
          "-MIO::Socket::INET",
          "-e",
          `my $listener = IO::Socket::INET->new(LocalAddr => "127.0.0.1", LocalPort => ${listenerPort}, Listen => 1024, ReuseAddr => 1) or die "$!"; my @accepted; alarm 120; while (my $client = $listener->accept) { push @accepted, $client }`,
        ],
        { stdio: "ignore" },
      );
      started.push(listener);
      for (let wait = 0; wait < 100 && !onHost("ss", ["-Htln", `sport = :${listenerPort}`]).trim(); wait++) await sleep(50);
    });

    afterAll(() => {
      if (namespace && rangeBefore) onHost("sysctl", ["-qw", `net.ipv4.ip_local_port_range=${rangeBefore.trim().split(/\s+/).join(" ")}`]);
    });

    it("holds every free ephemeral port but the margin, so the next connection gets EADDRNOTAVAIL; rollback frees them all", async () => {
      // Before: every port of the range nothing else holds can reach the listener, then EADDRNOTAVAIL.
      const [free, ...freeError] = probe().split(" ");
      expect(freeError.join(" ")).toMatch(/Cannot assign requested address/);
      expect(Number(free)).toBeGreaterThan(150);
      const before = sockets();
      const toListener = (lines: string[]) =>
        lines.filter((line) => line.startsWith("ESTAB") && line.endsWith(`127.0.0.1:${listenerPort}`));
      const { report, seen } = await runAndWatch(
        experiment("server.port_saturation", { ephemeral: { host: "127.0.0.1", port: listenerPort } }, { duration: "2s" }),
        () => {
          collectExperimentIds(workDir, experimentIds);
          const held = toListener(sockets()).length;
          return held >= Number(free) - margin ? { held, probe: probe() } : undefined;
        },
      );
      expect(report.skills[0]?.error).toBeUndefined();
      expect(report.status).toBe("succeeded");
      // All free ports but the margin were held, and the margin is exactly what was left.
      expect(seen?.held).toBe(Number(free) - margin);
      const [opened, ...error] = (seen?.probe ?? "").split(" ");
      expect(error.join(" ")).toMatch(/Cannot assign requested address/);
      expect(Number(opened)).toBe(margin);
      // Closed with resets: no FIN-WAIT or TIME-WAIT socket keeps a port, so everything is as before at once.
      expect(sockets()).toEqual(before);
      expect(probe()).toBe(`${free} ${freeError.join(" ")}`);
      expect(chaosProcessesOf(experimentIds)).toEqual([]);
      expect(readdirSync(workDir)).toEqual([]);
    });

    it("refuses `connections` over the free ports minus the margin before changing anything", async () => {
      const before = sockets();
      const error = await runInProcess(
        registry,
        experiment("server.port_saturation", { ephemeral: { host: "127.0.0.1", port: listenerPort }, connections: 190 }),
      ).catch((failure: Error) => failure);
      expect(String(error)).toMatch(
        /190 connections would leave fewer than 16 ephemeral ports free \(range 40000-40199, \d+ in use\); at most \d+/,
      );
      expect(sockets()).toEqual(before);
      expect(readdirSync(workDir)).toEqual([]);
    });

    it("leaves the margin free when part of the range is reserved (ip_local_reserved_ports)", async () => {
      const reservedBefore = onHost("sysctl", ["-n", "net.ipv4.ip_local_reserved_ports"]).trim();
      // 50 ports of the 200 the kernel will not hand out: counted as free, they would be the margin.
      onHost("sysctl", ["-qw", "net.ipv4.ip_local_reserved_ports=40100-40149"]);
      try {
        const [free, ...freeError] = probe().split(" ");
        expect(freeError.join(" ")).toMatch(/Cannot assign requested address/);
        expect(Number(free)).toBeLessThanOrEqual(150);
        const { report, seen } = await runAndWatch(
          experiment("server.port_saturation", { ephemeral: { host: "127.0.0.1", port: listenerPort } }, { duration: "2s" }),
          () => {
            collectExperimentIds(workDir, experimentIds);
            const held = sockets().filter((line) => line.startsWith("ESTAB") && line.endsWith(`127.0.0.1:${listenerPort}`)).length;
            return held >= Number(free) - margin ? { held, probe: probe() } : undefined;
          },
        );
        expect(report.skills[0]?.error).toBeUndefined();
        expect(report.status).toBe("succeeded");
        expect(seen?.held).toBe(Number(free) - margin);
        expect(Number((seen?.probe ?? "").split(" ")[0])).toBe(margin);
        expect(probe()).toBe(`${free} ${freeError.join(" ")}`);
        expect(chaosProcessesOf(experimentIds)).toEqual([]);
      } finally {
        onHost("sysctl", ["-qw", `net.ipv4.ip_local_reserved_ports=${reservedBefore}`]);
      }
      expect(onHost("sysctl", ["-n", "net.ipv4.ip_local_reserved_ports"]).trim()).toBe(reservedBefore);
    });
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
