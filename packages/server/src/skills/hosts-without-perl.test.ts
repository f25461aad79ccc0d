import { execFileSync } from "node:child_process";
import { chmodSync, chownSync, mkdirSync, renameSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { Registry } from "@chaos-agents/core";
import {
  asAttacker,
  attackerUid,
  fileState,
  makeAttackerPlayground,
  pathWithout,
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
 * Issue #14: where a host has no perl (no no-follow descriptor), permission_change works by
 * name, and so only on paths whose directories no one but root can write; others are refused
 * and named. The host is made perl-less by a PATH of symlinks to every program but perl: the
 * local transport's shell inherits it, and the SSH host's sshd sets it for its sessions
 * (nothing is uninstalled).
 */
const registry = new Registry().addTarget(createServerTarget(), serverSkills);
let scratch: string;
let shared: string;
let noPerlPath: string;
let testbed: SshTestbed;
const originalPath = process.env.PATH;

beforeAll(async () => {
  ({ path: scratch, shared } = makeAttackerPlayground("chaos-no-perl-"));
  noPerlPath = pathWithout(/^perl/, join(scratch, "bin"));
  testbed = await startSshTestbed({ prefix: "chaos-no-perl-ssh-", daemon: false, environment: { PATH: noPerlPath } });
});

afterAll(async () => {
  process.env.PATH = originalPath;
  await testbed?.stop();
  execFileSync("rm", ["-rf", scratch]);
});

const transports = [
  {
    transport: "local",
    targetConfig: () => ({ local: true, work_dir: join(scratch, "work-local") }),
    hostName: () => "local",
    namespace: () => undefined,
    // The local transport's shell inherits this process's PATH.
    usePath: (path: string | undefined) => {
      process.env.PATH = path;
    },
    perlOnHost: () => {
      try {
        return execFileSync("sh", ["-c", "command -v perl"]).toString().trim();
      } catch {
        return "";
      }
    },
  },
  {
    transport: "ssh",
    targetConfig: () => testbed.targetConfig({ work_dir: join(scratch, "work-ssh") }),
    hostName: () => `${testbed.sshd.host}:${testbed.sshd.port}`,
    namespace: () => testbed.namespace?.name,
    usePath: () => undefined,
    perlOnHost: () =>
      execFileSync("ssh", [
        ...["-i", testbed.sshd.privateKeyPath, "-p", String(testbed.sshd.port), "-o", `UserKnownHostsFile=${testbed.sshd.knownHostsPath}`],
        ...["-o", "BatchMode=yes", `root@${testbed.sshd.host}`, "command -v perl || true"],
      ])
        .toString()
        .trim(),
  },
];

function experiment(targetConfig: Record<string, unknown>, params: Record<string, unknown>) {
  return {
    name: "no perl",
    target: "server" as const,
    target_config: targetConfig,
    skills: [{ skill_name: "server.permission_change", params }],
    duration: "1s",
  };
}

/** A root-owned file of `mode` at `path`. */
function rootFile(path: string, mode: number, content = "named by the experiment"): string {
  writeFileSync(path, content);
  chmodSync(path, mode);
  return path;
}

describe.each(transports)(
  "permission_change on a host without perl ($transport)",
  ({ transport, targetConfig, hostName, namespace, usePath, perlOnHost }) => {
    beforeAll(() => usePath(noPerlPath));
    afterAll(() => usePath(originalPath));

    it("the host really has no perl on its PATH", () => {
      expect(perlOnHost()).toBe("");
    });

    it("changes and restores exactly a path whose directories only root can write (setuid, another owner, a root entry of a sticky directory)", async () => {
      const directory = join(scratch, `${transport}-root-only`);
      mkdirSync(directory, { mode: 0o755 });
      const setuid = rootFile(join(directory, "tool.bin"), 0o4755);
      const nobodys = rootFile(join(directory, "app.conf"), 0o640);
      chownSync(nobodys, attackerUid, attackerUid);
      // Root's entry in a sticky, world-writable directory: no one else may rename or remove it.
      const inSticky = rootFile(join(shared, `${transport}-root-entry.conf`), 0o644);
      const files = [setuid, nobodys, inSticky];
      const before = files.map(fileState);
      const { report, seen } = await runWhileWatching(registry, experiment(targetConfig(), { paths: files }), () =>
        files.every((file) => fileState(file).mode === 0) ? true : undefined,
      );
      expect(seen).toBe(true);
      expect(report.status).toBe("succeeded");
      expect(files.map(fileState)).toEqual(before);
    });

    it.each([
      {
        case: "a directory another user owns",
        make: (base: string) => {
          const directory = join(scratch, `${base}-owned`);
          mkdirSync(directory, { mode: 0o755 });
          chownSync(directory, attackerUid, attackerUid);
          return { directory, file: rootFile(join(directory, "app.conf"), 0o644) };
        },
        why: "belongs to uid 65534, who can change its entries",
      },
      {
        case: "a root directory everyone may write, without the sticky bit",
        make: (base: string) => {
          const directory = join(scratch, `${base}-open`);
          mkdirSync(directory);
          chmodSync(directory, 0o777);
          return { directory, file: rootFile(join(directory, "app.conf"), 0o644) };
        },
        why: "is writable by group or others (mode 777, owner uid 0)",
      },
      {
        case: "nobody's directory in a sticky directory",
        make: (base: string) => {
          const inner = join(shared, `${base}-nobody`);
          asAttacker('mkdir -m 755 "$1"', inner);
          return { directory: shared, file: rootFile(join(inner, "app.conf"), 0o644) };
        },
        why: "is writable by others (mode 1777) and the entry on the way belongs to another user",
      },
    ])("refuses a path under $case, naming the path, the directory and why, and changes nothing", async ({ make, why }) => {
      const { directory, file } = make(`${transport}-${Math.random().toString(36).slice(2, 8)}`);
      const before = fileState(file);
      const error = await runInProcess(registry, experiment(targetConfig(), { paths: [file] })).catch((failure: Error) => failure);
      expect(String(error)).toContain(
        `${hostName()} has no perl, so chaos can change modes there only by name, and ${file} is refused: the directory ${directory} on its way ${why}`,
      );
      expect(fileState(file)).toEqual(before);
    });

    it("refuses a named path through a symlink (links on the way cannot be checked without perl), naming the file to name instead", async () => {
      const directory = join(scratch, `${transport}-linked`);
      mkdirSync(directory, { mode: 0o755 });
      const file = rootFile(join(directory, "real.conf"), 0o644);
      const link = join(directory, "link.conf");
      symlinkSync(file, link);
      const before = fileState(file);
      const error = await runInProcess(registry, experiment(targetConfig(), { paths: [link] })).catch((failure: Error) => failure);
      expect(String(error)).toContain(
        `${hostName()}: ${link} leads through a symlink to ${file}, and ${hostName()} has no perl to check who made the links on the way; name ${file} itself`,
      );
      expect(fileState(file)).toEqual(before);
    });

    it("a service's open file in a directory another user can write is left out and named, and none left refuses", async () => {
      const directory = join(shared, `${transport}-service-logs`);
      asAttacker('mkdir -m 755 "$1"', directory);
      const logFile = join(directory, "daemon.log");
      const daemon = await startTestDaemon({ logFile, namespace: namespace() });
      try {
        const before = fileState(logFile);
        const error = await runInProcess(registry, experiment(targetConfig(), { service: daemon.name })).catch((failure: Error) => failure);
        expect(String(error)).toContain(
          `none of the files on ${hostName()} may be changed: ${hostName()} has no perl, so chaos can change modes there only by name, and ${logFile} is refused`,
        );
        expect(fileState(logFile)).toEqual(before);
      } finally {
        await daemon.stop();
      }
    });

    it("undo still checks the file's identity: a file replaced since, or a symlink put in its place, is a conflict left alone", async () => {
      const directory = join(scratch, `${transport}-replaced`);
      mkdirSync(directory, { mode: 0o755 });
      const victim = rootFile(join(scratch, `${transport}-victim`), 0o600, "root's victim");
      const replacedByFile = rootFile(join(directory, "a.conf"), 0o644);
      const replacedByLink = rootFile(join(directory, "b.conf"), 0o644);
      const before = fileState(victim);
      // chaos sets 600, the victim's mode: an undo that followed the link would "restore" the victim to 644.
      const { report, seen } = await runWhileWatching(
        registry,
        experiment(targetConfig(), { paths: [replacedByFile, replacedByLink], mode: "600" }),
        () => {
          if (fileState(replacedByFile).mode !== 0o600 || fileState(replacedByLink).mode !== 0o600) return undefined;
          // Root (say, a configuration manager) replaces both during the hold; no one else could here.
          renameSync(replacedByFile, `${replacedByFile}.old`);
          rootFile(replacedByFile, 0o600, "a new file");
          renameSync(replacedByLink, `${replacedByLink}.old`);
          symlinkSync(victim, replacedByLink);
          return true;
        },
      );
      expect(seen).toBe(true);
      expect(report.status).toBe("rollback_incomplete");
      const conflicts = report.rollback.conflicts.join("\n");
      expect(conflicts).toContain(`${replacedByFile} is no longer the file chaos changed`);
      expect(conflicts).toContain(`${replacedByLink} is no longer the file chaos changed`);
      expect(fileState(victim)).toEqual(before);
      expect(fileState(replacedByFile).mode).toBe(0o600);
    });
  },
);
