import { execFileSync } from "node:child_process";
import { chmodSync, chownSync, existsSync, mkdirSync, readdirSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { Registry } from "@chaos-agents/core";
import {
  asAttacker,
  attackerUid,
  fileState,
  makeAttackerPlayground,
  runInProcess,
  runWhileWatching,
  type SshTestbed,
  startSshTestbed,
  startTestDaemon,
} from "@chaos-agents/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { serverSkills } from "../index.js";
import { createServerTarget } from "../server-target.js";

/**
 * Issue #14: files, names and links that another user controls must never steer root's chmod
 * or chown to a file the experiment did not name. The attacker is `nobody`, working in a
 * world-writable sticky directory (like /tmp); the victim is a root-owned 0600 file.
 */
const registry = new Registry().addTarget(createServerTarget(), serverSkills);
let scratch: string;
let shared: string;
let testbed: SshTestbed;
/** A tmpfs whose top directory everyone may write, without the sticky bit. */
let openMount: string;

beforeAll(async () => {
  ({ path: scratch, shared } = makeAttackerPlayground("chaos-hostile-files-"));
  openMount = join(scratch, "open-mount");
  mkdirSync(openMount);
  // Mounted before sshd starts, so that the SSH host's mount namespace sees it too.
  execFileSync("mount", ["-t", "tmpfs", "-o", "size=4m,mode=0777", "tmpfs", openMount]);
  testbed = await startSshTestbed({ prefix: "chaos-hostile-files-ssh-", daemon: false });
});

afterAll(async () => {
  await testbed?.stop();
  try {
    execFileSync("umount", [openMount]);
  } catch {
    // Not mounted.
  }
  rmSync(scratch, { recursive: true, force: true });
});

const transports = [
  { transport: "local", targetConfig: () => ({ local: true, work_dir: join(scratch, "work-local") }), namespace: () => undefined },
  {
    transport: "ssh",
    targetConfig: () => testbed.targetConfig({ work_dir: join(scratch, "work-ssh") }),
    namespace: () => testbed.namespace?.name,
  },
];

/** A root-owned 0600 file no experiment names. */
function makeVictim(name: string): string {
  const path = join(scratch, name);
  writeFileSync(path, `root's ${name}`);
  chmodSync(path, 0o600);
  return path;
}

function experiment(targetConfig: Record<string, unknown>, params: Record<string, unknown>) {
  return {
    name: "hostile files",
    target: "server" as const,
    target_config: targetConfig,
    skills: [{ skill_name: "server.permission_change", params }],
    duration: "1s",
  };
}

describe.each(transports)("names and links another user controls ($transport)", ({ transport, targetConfig, namespace }) => {
  it("refuses a path whose resolved name holds a newline that would forge a second target, and names it", async () => {
    const victim = makeVictim(`${transport}-forged-victim`);
    // The name the old `ok<TAB>path<TAB>mode uid gid` lines split into a second target: the victim, "restored" to 4777 nobody.
    const forged = join(shared, `${transport}-evil\nok\t${victim}\t4777 65534 65534`);
    // Root's own link (in root's directory), so that only the name of what it points to is nobody's.
    const link = join(scratch, `${transport}-innocent.conf`);
    asAttacker('mkdir -p "$(dirname "$1")" && touch "$1"', forged);
    symlinkSync(forged, link);
    const before = fileState(victim);
    const outcome = await runWhileWatching(registry, experiment(targetConfig(), { paths: [link] }), () =>
      fileState(victim).mode !== before.mode ? fileState(victim) : undefined,
    ).catch((failure: Error) => failure);
    expect(String(outcome)).toMatch(/the path ".*-evil\\nok\\t.*" holds a newline or control character; refusing to act on it/);
    expect(fileState(victim)).toEqual(before);
  });

  it("refuses a named path that leads through a symlink another user made or can replace, naming the link, and changes nothing", async () => {
    const victim = makeVictim(`${transport}-link-victim`);
    // nobody's own directory (not sticky, so the kernel's protected_symlinks does not apply): its link, and a root link it could replace.
    const directory = join(scratch, `${transport}-links`);
    mkdirSync(directory, { mode: 0o755 });
    chownSync(directory, attackerUid, attackerUid);
    asAttacker('ln -s "$2" "$1/app.conf"', directory, victim);
    const rootLink = join(directory, "root.conf");
    symlinkSync(victim, rootLink);
    const before = fileState(victim);
    for (const [link, why] of [
      [join(directory, "app.conf"), "belongs to uid 65534"],
      [rootLink, `lies in the directory ${directory}, which belongs to uid 65534`],
    ] as const) {
      // Watched during the hold too: a chmod 777 restored afterwards would have let nobody write the victim meanwhile.
      let changed = false;
      const outcome = await runWhileWatching(registry, experiment(targetConfig(), { paths: [link], mode: "777" }), () => {
        if (fileState(victim).mode !== before.mode) changed = true;
        return undefined;
      }).catch((failure: Error) => failure);
      expect(String(outcome)).toContain(`${link} leads through the symlink ${link}, which ${why}`);
      expect(changed).toBe(false);
      expect(fileState(victim)).toEqual(before);
    }
  });

  it("a service's open file whose name forges a descriptor line changes nothing and is named in the refusal", async () => {
    const victim = makeVictim(`${transport}-service-victim`);
    const directory = join(shared, `${transport}-service`);
    // `ls -l /proc/PID/fd` printed this name on two lines; the second read as "descriptor 9 is the victim".
    const logFile = join(directory, `log\nl-wx------ 1 root root 64 Nov 30 21:00 9 -> ${victim}`);
    asAttacker('mkdir -p "$(dirname "$2")" && touch "$1/log"', directory, logFile);
    const daemon = await startTestDaemon({ logFile, namespace: namespace() });
    try {
      const before = fileState(victim);
      const outcome = await runWhileWatching(registry, experiment(targetConfig(), { service: daemon.name }), () =>
        fileState(victim).mode !== before.mode ? fileState(victim) : undefined,
      ).catch((failure: Error) => failure);
      expect(String(outcome)).toMatch(
        /has no open files chaos may change \(refused: ".*\/log\\nl-wx.*" holds a newline or control character/,
      );
      expect(fileState(victim)).toEqual(before);
    } finally {
      await daemon.stop();
    }
  });

  it("undo never follows a symlink swapped in for the file, nor a parent directory swapped for a symlink", async () => {
    const victim = makeVictim(`${transport}-swap-victim`);
    const victimDirectory = join(scratch, `${transport}-victim-dir`);
    mkdirSync(victimDirectory);
    const victimInDirectory = join(victimDirectory, "app.conf");
    writeFileSync(victimInDirectory, "root's app.conf");
    chmodSync(victimInDirectory, 0o600);
    // nobody's directory holds two root files the experiment names.
    const directory = join(shared, `${transport}-swap`);
    asAttacker('mkdir -m 755 "$1" "$1/sub"', directory);
    const swappedFile = join(directory, "target.conf");
    const underSwappedParent = join(directory, "sub", "app.conf");
    for (const file of [swappedFile, underSwappedParent]) {
      writeFileSync(file, "named by the experiment");
      chmodSync(file, 0o644);
    }
    const before = [fileState(victim), fileState(victimInDirectory)];
    // chaos sets 600, the victims' own mode: an undo that followed the swap would find "its" mode and chmod the victims to 644.
    const { report, seen } = await runWhileWatching(
      registry,
      experiment(targetConfig(), { paths: [swappedFile, underSwappedParent], mode: "600" }),
      () => {
        if (fileState(swappedFile).mode !== 0o600 || fileState(underSwappedParent).mode !== 0o600) return undefined;
        asAttacker(
          'mv "$1/target.conf" "$1/moved.conf" && ln -s "$2" "$1/target.conf" && mv "$1/sub" "$1/moved-sub" && ln -s "$3" "$1/sub"',
          directory,
          victim,
          victimDirectory,
        );
        return true;
      },
    );
    expect(seen).toBe(true);
    expect(report.status).toBe("rollback_incomplete");
    const conflicts = report.rollback.conflicts.join("\n");
    expect(conflicts).toContain(`${swappedFile} is no longer the file chaos changed`);
    expect(conflicts).toContain(`${underSwappedParent} is no longer the file chaos changed`);
    expect([fileState(victim), fileState(victimInDirectory)]).toEqual(before);
  });

  it("still restores exact modes of files in a directory others can write, when nothing was swapped", async () => {
    const directory = join(shared, `${transport}-plain`);
    asAttacker('mkdir -m 755 "$1"', directory);
    const file = join(directory, "setuid.bin");
    writeFileSync(file, "x");
    chmodSync(file, 0o4755);
    const before = fileState(file);
    const { report } = await runInProcess(registry, experiment(targetConfig(), { paths: [file] }));
    expect(report.status).toBe("succeeded");
    expect(fileState(file)).toEqual(before);
  });

  it("disk_fill refuses a mount others can write without the sticky bit, writing nothing", async () => {
    const error = await runInProcess(registry, {
      ...experiment(targetConfig(), {}),
      skills: [{ skill_name: "server.disk_fill", params: { target_mount: openMount, size: "1MiB" } }],
    }).catch((failure: Error) => failure);
    expect(String(error)).toMatch(/is writable by group or others without the sticky bit \(mode 777\)/);
    expect(readdirSync(openMount)).toEqual([]);
  });

  it("a restarted service never opens a log path another user swapped for a symlink", async () => {
    const directory = join(shared, `${transport}-service-logs`);
    asAttacker('mkdir -m 755 "$1"', directory);
    const logFile = join(directory, "daemon.log");
    const planted = join(scratch, `${transport}-created-by-root`);
    const daemon = await startTestDaemon({ logFile, namespace: namespace() });
    try {
      const { report, seen } = await runWhileWatching(
        registry,
        { ...experiment(targetConfig(), {}), skills: [{ skill_name: "server.service_stop", params: { services: [daemon.name] } }] },
        () => {
          if (daemon.pids().length > 0) return undefined;
          // While the service is down, its log becomes a symlink to where root must never create a file.
          asAttacker('rm -f "$1" && ln -s "$2" "$1"', logFile, planted);
          return true;
        },
      );
      expect(seen).toBe(true);
      expect(report.status).toBe("succeeded");
      expect(daemon.pids()).toHaveLength(1);
      expect(existsSync(planted)).toBe(false);
    } finally {
      await daemon.stop();
    }
  });
});
