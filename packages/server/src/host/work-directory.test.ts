import { type ChildProcess, spawn } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { Registry } from "@chaos-agents/core";
import {
  asAttacker,
  fileState,
  makeAttackerPlayground,
  processAlive,
  processIdentity,
  runInProcess,
  runWhileWatching,
  type SshTestbed,
  startSshTestbed,
} from "@chaos-agents/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { serverSkills } from "../index.js";
import { createServerTarget } from "../server-target.js";

const registry = new Registry().addTarget(createServerTarget(), serverSkills);
let scratch: string;
/** World-writable and sticky, like /tmp: where the attacker may create things. */
let shared: string;
let victimFile: string;
let victim: ChildProcess;
let testbed: SshTestbed;

beforeAll(async () => {
  ({ path: scratch, shared } = makeAttackerPlayground("chaos-work-dir-"));
  victimFile = join(scratch, "victim.conf");
  writeFileSync(victimFile, "root's secret");
  chmodSync(victimFile, 0o600);
  // A root process the forged timer file names: rollback must never signal it.
  victim = spawn("sleep", ["600"], { detached: true, stdio: "ignore" });
  testbed = await startSshTestbed({ prefix: "chaos-work-dir-ssh-", daemon: false });
});

afterAll(async () => {
  victim?.kill("SIGKILL");
  await testbed?.stop();
  rmSync(scratch, { recursive: true, force: true });
});

const transports = [
  { transport: "local", targetConfig: (workDir: string) => ({ local: true, work_dir: workDir }) },
  { transport: "ssh", targetConfig: (workDir: string) => testbed.targetConfig({ work_dir: workDir }) },
];

function experiment(targetConfig: Record<string, unknown>, extra: Record<string, unknown> = {}) {
  return {
    name: "work dir attack",
    target: "server" as const,
    target_config: { ...targetConfig, dead_man_switch: { enabled: true, grace: "1s" } },
    skills: [{ skill_name: "server.permission_change", params: { paths: [victimFile], mode: "0640" } }],
    duration: "1s",
    ...extra,
  };
}

/** The attacker's move during the hold (on code that let the run start): swap the experiment dir for one of its own. */
function replaceExperimentDir(workDir: string, deadManFiles: Record<string, string>): true | undefined {
  const [experimentId] = readdirSync(workDir).filter((entry) => !entry.startsWith("moved-"));
  if (!experimentId) return undefined;
  const files = Object.entries(deadManFiles)
    .map(([name, content]) => `printf '%s' '${content}' > "$1/${experimentId}/dead-man/${name}"`)
    .join("\n");
  asAttacker(`mv "$1/${experimentId}" "$1/moved-${experimentId}" && mkdir -p "$1/${experimentId}/dead-man" && ${files}`, workDir);
  return true;
}

describe.each(transports)("the work dir is root's alone ($transport)", ({ transport, targetConfig }) => {
  it("refuses a work dir another user created (or can write, or reaches through its symlink), changing nothing", async () => {
    const cases: [string, () => string][] = [
      [
        "created by nobody",
        () => {
          const path = join(shared, `${transport}-by-nobody`);
          asAttacker('mkdir -m 700 "$1"', path);
          return path;
        },
      ],
      [
        "root's but world-writable",
        () => {
          const path = join(scratch, `${transport}-open`);
          mkdirSync(path);
          chmodSync(path, 0o777);
          return path;
        },
      ],
      [
        "root's, below a directory of nobody",
        () => {
          const parent = join(shared, `${transport}-parent-of-nobody`);
          asAttacker('mkdir -m 755 "$1"', parent);
          return join(parent, "work");
        },
      ],
      [
        "a symlink nobody made to a root directory",
        () => {
          const target = join(scratch, `${transport}-real`);
          mkdirSync(target, { mode: 0o700 });
          const link = join(shared, `${transport}-link`);
          asAttacker('ln -s "$1" "$2"', target, link);
          return link;
        },
      ],
    ];
    const before = fileState(victimFile);
    for (const [what, makeWorkDir] of cases) {
      const workDir = makeWorkDir();
      const error = await runInProcess(registry, experiment(targetConfig(workDir))).catch((failure: Error) => failure);
      expect(String(error), what).toMatch(/work_dir .* is not safe: .*(belongs to uid 65534|writable by group or others|is a symlink)/);
      expect((error as { exitCode?: number }).exitCode, what).toBe(3);
      expect(fileState(victimFile), what).toEqual(before);
    }
  });

  it("never runs an undo-*.sh that another user planted for the dead-man's switch", async () => {
    const workDir = join(shared, `${transport}-planted`);
    asAttacker('mkdir -m 777 "$1"', workDir);
    const marker = join(scratch, `${transport}-planted-ran-as-root`);
    const before = fileState(victimFile);
    const outcome = await runWhileWatching(registry, experiment(targetConfig(workDir)), () =>
      replaceExperimentDir(workDir, { "undo-999999999999999-evil.sh": `touch ${marker}; chmod 4777 ${victimFile}` }),
    ).catch((failure: Error) => failure);
    expect(String(outcome)).toMatch(/work_dir .* is not safe: .*belongs to uid 65534/);
    // Past deadline + grace: a timer armed in that directory would have fired by now.
    await sleep(3_000);
    expect(existsSync(marker)).toBe(false);
    expect(fileState(victimFile)).toEqual(before);
  });

  it("never signals a root process that a forged `timer` file names", async () => {
    const workDir = join(shared, `${transport}-forged-timer`);
    asAttacker('mkdir -m 777 "$1"', workDir);
    const pid = victim.pid as number;
    const { startTime, bootId } = processIdentity(pid);
    const outcome = await runWhileWatching(registry, experiment(targetConfig(workDir)), () =>
      replaceExperimentDir(workDir, { timer: `${pid} ${startTime} ${bootId}` }),
    ).catch((failure: Error) => failure);
    expect(String(outcome)).toMatch(/work_dir .* is not safe: .*belongs to uid 65534/);
    expect(processAlive(pid)).toBe(true);
  });

  it("creates a missing work dir root-owned and 0700 below a sticky world-writable directory, and runs", async () => {
    const workDir = join(shared, `${transport}-fresh`, "work");
    const before = fileState(victimFile);
    const { report } = await runInProcess(registry, experiment(targetConfig(workDir)));
    expect(report.status).toBe("succeeded");
    expect(fileState(victimFile)).toEqual(before);
    expect(readdirSync(workDir)).toEqual([]);
    expect(statSync(workDir).mode & 0o7777).toBe(0o700);
    expect(statSync(workDir).uid).toBe(0);
  });
});
