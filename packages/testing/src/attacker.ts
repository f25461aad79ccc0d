import { execFileSync } from "node:child_process";
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** The unprivileged user whose files play the attacker in tests. */
export const attackerUid = 65534;

/** Runs a shell script as `nobody` (the attacker); returns its stdout. */
export function asAttacker(script: string, ...args: string[]): string {
  return execFileSync("runuser", ["-u", "nobody", "--", "sh", "-c", script, "attacker", ...args]).toString();
}

/** Mode (permission bits with setuid/setgid/sticky), owner, group and content of a file: what a victim must keep. */
export function fileState(path: string): { mode: number; uid: number; gid: number; content: string } {
  const stats = statSync(path);
  return { mode: stats.mode & 0o7777, uid: stats.uid, gid: stats.gid, content: readFileSync(path, "latin1") };
}

/** What `chaos_same_process` compares: a process's start time (clock ticks since boot) and the boot id. */
export function processIdentity(pid: number): { startTime: string; bootId: string } {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const startTime = stat.slice(stat.lastIndexOf(")") + 2).split(" ")[19] ?? "";
  return { startTime, bootId: readFileSync("/proc/sys/kernel/random/boot_id", "utf8").trim() };
}

/** True while the process exists and is not a zombie. */
export function processAlive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return !/^[ZX]/.test(stat.slice(stat.lastIndexOf(")") + 2));
  } catch {
    return false;
  }
}

/**
 * A temporary directory the attacker can traverse (0755, root's), holding `shared`:
 * world-writable with the sticky bit, like /tmp, where the attacker makes its files.
 */
export function makeAttackerPlayground(prefix: string): { path: string; shared: string; remove: () => void } {
  const path = mkdtempSync(join(tmpdir(), prefix));
  chmodSync(path, 0o755);
  const shared = join(path, "shared");
  mkdirSync(shared);
  chmodSync(shared, 0o1777);
  return { path, shared, remove: () => rmSync(path, { recursive: true, force: true }) };
}
