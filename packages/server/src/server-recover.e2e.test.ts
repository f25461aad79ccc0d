import { chmodSync, readdirSync, statfsSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { chaosProcessesOf, collectExperimentIds, runChaos, type SshTestbed, startChaos, startSshTestbed } from "@chaos-agents/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

let testbed: SshTestbed;
let sshd: SshTestbed["sshd"];
let daemon: NonNullable<SshTestbed["daemon"]>;
let mountPoint: string;
let temp: { path: string };
let counter = 0;

beforeAll(async () => {
  testbed = await startSshTestbed({ prefix: "chaos-server-e2e-" });
  ({ sshd, mountPoint } = testbed);
  daemon = testbed.daemon as NonNullable<SshTestbed["daemon"]>;
  temp = { path: testbed.scratch };
});

afterAll(async () => {
  await testbed?.stop();
});

interface HostState {
  mode: number;
  freeBytes: number;
  daemonListening: boolean;
  daemonCount: number;
  taggedProcesses: number;
  workDirEntries: string[];
}

/** Experiment ids seen in this file's work dirs: other test files run chaos in parallel, and their processes are not ours to count. */
const ourExperimentIds = new Set<string>();

function taggedProcessesOf(workDir: string): number {
  return chaosProcessesOf(collectExperimentIds(workDir, ourExperimentIds)).length;
}

function hostState(file: string, workDir: string): HostState {
  const stats = statfsSync(mountPoint);
  const listening = testbed.onHost("ss", ["-Htln", `sport = :${daemon.port}`]);
  return {
    mode: statSync(file).mode,
    freeBytes: stats.bavail * stats.bsize,
    daemonListening: listening.trim() !== "",
    daemonCount: daemon.pids().length,
    taggedProcesses: taggedProcessesOf(workDir),
    workDirEntries: (() => {
      try {
        return readdirSync(workDir);
      } catch {
        return [];
      }
    })(),
  };
}

function writeExperiment(file: string, workDir: string, duration: string, deadMan: string): string {
  const path = join(temp.path, `experiment-${++counter}.yaml`);
  writeFileSync(
    path,
    `experiments:
  - name: crash-${counter}
    target: server
    duration: ${duration}
    target_config:
      hosts:
        - { host: "${sshd.host}", port: ${sshd.port}, username: "${sshd.username}",
            auth: { type: key, private_key_path: "${sshd.privateKeyPath}" } }
      known_hosts_path: "${sshd.knownHostsPath}"
      work_dir: "${workDir}"
      dead_man_switch: ${deadMan}
    skills:
      - skill_name: server.permission_change
        params: { paths: ["${file}"] }
      - skill_name: server.service_stop
        params: { services: ["${daemon.name}"] }
      - skill_name: server.disk_fill
        params: { target_mount: "${mountPoint}", size: "3MiB" }
      - skill_name: server.cpu_stress
        params: { workers: 1, load_percent: 20 }
`,
  );
  return path;
}

async function crashDuringHold(config: string, journal: string, before: HostState, file: string, workDir: string) {
  const run = startChaos(["run", config, "--journal", journal]);
  await run.waitFor("holding faults", 60_000);
  const during = hostState(file, workDir);
  run.child.kill("SIGKILL");
  await run.done;
  expect(during.mode & 0o777).toBe(0);
  expect(during.daemonListening).toBe(false);
  expect(during.freeBytes).toBeLessThan(before.freeBytes - 2 * 1024 ** 2);
  expect(during.taggedProcesses).toBeGreaterThan(0);
}

async function waitUntil(check: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check() && Date.now() < deadline) await sleep(200);
}

describe("server agent through the real binary, local transport", () => {
  it("`target_config: {local: true}` runs a skill on this machine and restores it", async () => {
    const file = join(temp.path, "local.conf");
    writeFileSync(file, "x\n");
    chmodSync(file, 0o604);
    const config = join(temp.path, "local.yaml");
    writeFileSync(
      config,
      `experiments:
  - name: local-permissions
    target: server
    duration: 1s
    target_config: { local: true, work_dir: "${join(temp.path, "work-local")}" }
    skills:
      - skill_name: server.permission_change
        params: { paths: ["${file}"], mode: "0400" }
`,
    );
    const run = startChaos(["run", config, "--journal", join(temp.path, "local.sqlite")]);
    await run.waitFor("holding faults", 60_000);
    expect(statSync(file).mode & 0o777).toBe(0o400);
    const result = await run.done;
    expect(result.exitCode).toBe(0);
    expect(statSync(file).mode & 0o777).toBe(0o604);
  });
});

describe("server agent: kill -9 `chaos` mid-experiment over SSH", () => {
  it("`chaos recover` restores the host exactly; a second recover finds nothing", async () => {
    const file = join(temp.path, `recover-${counter}.conf`);
    const workDir = join(temp.path, "work-recover");
    writeFileSync(file, "setting=1\n");
    chmodSync(file, 0o640);
    const before = hostState(file, workDir);
    const journal = join(temp.path, "recover.sqlite");
    await crashDuringHold(writeExperiment(file, workDir, "60s", "{ enabled: true, grace: 10m }"), journal, before, file, workDir);

    const recovered = await runChaos(["recover", "--journal", journal]);
    expect(recovered.stdout + recovered.stderr).toMatch(/✓ crash-\d+ .*5\/5 steps done/);
    expect(recovered.exitCode).toBe(0);
    await waitUntil(() => hostState(file, workDir).daemonListening, 10_000);
    expect(hostState(file, workDir)).toEqual(before);

    const again = await runChaos(["recover", "--journal", journal]);
    expect(again.stdout).toContain("nothing to recover");
  });

  it("kill -9 at random moments of inject and hold, then `chaos recover`: the host is exactly as before", async () => {
    const workDir = join(temp.path, "work-random");
    const journal = join(temp.path, "random.sqlite");
    for (const delay of [400 + Math.floor(Math.random() * 800), 1500 + Math.floor(Math.random() * 1500)]) {
      const file = join(temp.path, `random-${++counter}.conf`);
      writeFileSync(file, "x\n");
      chmodSync(file, 0o644);
      const before = hostState(file, workDir);
      const run = startChaos(["run", writeExperiment(file, workDir, "30s", "{ enabled: true, grace: 10m }"), "--journal", journal]);
      await sleep(delay);
      run.child.kill("SIGKILL");
      await run.done;
      const recovered = await runChaos(["recover", "--journal", journal]);
      expect(recovered.exitCode, `killed after ${delay} ms: ${recovered.stdout}${recovered.stderr}`).toBe(0);
      await waitUntil(() => hostState(file, workDir).daemonListening, 10_000);
      expect(hostState(file, workDir), `state after recover, killed after ${delay} ms`).toEqual(before);
    }
  });

  it("the dead-man's switch heals the host by itself, and a later `chaos recover` does no harm", async () => {
    const file = join(temp.path, `dead-man-${counter}.conf`);
    const workDir = join(temp.path, "work-dead-man");
    writeFileSync(file, "setting=2\n");
    chmodSync(file, 0o600);
    const before = hostState(file, workDir);
    const journal = join(temp.path, "dead-man.sqlite");
    await crashDuringHold(writeExperiment(file, workDir, "3s", "{ enabled: true, grace: 1s }"), journal, before, file, workDir);

    // Nobody runs chaos: the host's own timer fires at deadline + grace.
    await waitUntil(() => {
      const state = hostState(file, workDir);
      return state.mode === before.mode && state.daemonListening && state.taggedProcesses === 0 && state.freeBytes === before.freeBytes;
    }, 20_000);
    const healed = hostState(file, workDir);
    expect({ ...healed, workDirEntries: [] }).toEqual({ ...before, workDirEntries: [] });

    const recovered = await runChaos(["recover", "--journal", journal]);
    expect(recovered.exitCode).toBe(0);
    expect(recovered.stdout).not.toMatch(/conflict/);
    expect(hostState(file, workDir)).toEqual(before);
  });
});
