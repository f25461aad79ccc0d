import { readFileSync } from "node:fs";
import { hostname } from "node:os";
import { setTimeout as sleep } from "node:timers/promises";
import type { ExperimentOwner } from "../journal/journal.js";

/** How often an owner writes its heartbeat, and how long after the last one it counts as gone. */
export const heartbeatIntervalMs = 5_000;
export const heartbeatLapseMs = 30_000;

export type OwnerState = "alive" | "gone";

/** The owner record of this process. */
export function currentOwner(): ExperimentOwner {
  return ownerOfProcess(process.pid);
}

/** The owner record of a process on this host. */
export function ownerOfProcess(pid: number): ExperimentOwner {
  return { host: hostname(), pid, start: processStart(pid) ?? "" };
}

/**
 * On this host, the process itself answers (exists, and is the same process as recorded); on
 * another host only the heartbeat can: gone once it is older than `heartbeatLapseMs`.
 */
export function ownerState(owner: ExperimentOwner, heartbeatAt: string | undefined, now = Date.now()): OwnerState {
  if (owner.host === hostname()) return isSameProcessRunning(owner) ? "alive" : "gone";
  const last = heartbeatAt ? Date.parse(heartbeatAt) : Number.NaN;
  return Number.isFinite(last) && now - last < heartbeatLapseMs ? "alive" : "gone";
}

/**
 * Stops a live owner on this host so that it never injects again: SIGTERM (it stops injecting and
 * rolls back), then SIGKILL if it has not exited in `graceMs`. Resolves once it is gone.
 */
export async function stopOwner(owner: ExperimentOwner, graceMs = 60_000): Promise<"exited" | "killed"> {
  signal(owner.pid, "SIGTERM");
  const deadline = Date.now() + graceMs;
  while (Date.now() < deadline) {
    if (!isSameProcessRunning(owner)) return "exited";
    await sleep(100);
  }
  signal(owner.pid, "SIGKILL");
  while (isSameProcessRunning(owner)) await sleep(50);
  return "killed";
}

function isSameProcessRunning(owner: ExperimentOwner): boolean {
  try {
    process.kill(owner.pid, 0);
  } catch (error) {
    // EPERM: it exists but belongs to someone else, so it is running.
    if ((error as NodeJS.ErrnoException).code !== "EPERM") return false;
  }
  const start = processStart(owner.pid);
  // A zombie has exited already: it will never inject again.
  if (processState(owner.pid) === "Z") return false;
  return !owner.start || start === undefined || start === owner.start;
}

function signal(pid: number, name: NodeJS.Signals) {
  try {
    process.kill(pid, name);
  } catch {
    // Exited in between: nothing to stop.
  }
}

/** `/proc/PID/stat` fields after the command name, which may itself hold spaces and parentheses. */
function statFields(pid: number): string[] | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  } catch {
    return undefined;
  }
}

function processState(pid: number): string | undefined {
  return statFields(pid)?.[0];
}

function processStart(pid: number): string | undefined {
  // Field 22 of stat is the start time; after the command name it is the 20th (index 19).
  const startTicks = statFields(pid)?.[19];
  if (!startTicks) return undefined;
  return `${bootId()}:${startTicks}`;
}

let cachedBootId: string | undefined;
function bootId(): string {
  if (cachedBootId === undefined) {
    try {
      cachedBootId = readFileSync("/proc/sys/kernel/random/boot_id", "utf8").trim();
    } catch {
      cachedBootId = "";
    }
  }
  return cachedBootId;
}
