import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { readdirSync, readFileSync } from "node:fs";
import { setTimeout as sleep } from "node:timers/promises";
import { attackerUid, processAlive } from "./attacker.js";
import { runCommand } from "./run-command.js";

/** A process a test started and kills by PID. */
export interface TestProcess {
  pid: number;
  /** Kills it (by PID) and waits until it is gone. */
  stop(): Promise<void>;
}

async function stopProcess(pid: number): Promise<void> {
  try {
    process.kill(pid, "SIGKILL");
  } catch {
    // Already gone.
  }
  for (let attempt = 0; attempt < 100 && processAlive(pid); attempt++) await sleep(20);
}

/**
 * A root process that listens nowhere (`sleep`, with argv[0] `chaos-bystander-<random>`): the
 * victim whose PID an attacker writes into its own process name.
 */
export async function startRootBystander(): Promise<TestProcess & { name: string }> {
  const name = `chaos-bystander-${randomBytes(4).toString("hex")}`;
  const child = spawn("bash", ["-c", 'exec -a "$0" sleep 900', name], { detached: true, stdio: "ignore" });
  child.unref();
  const pid = child.pid as number;
  // Until bash has exec'd sleep, /proc/PID/cmdline still shows bash.
  for (let attempt = 0; attempt < 250; attempt++) {
    if (readFileSync(`/proc/${pid}/cmdline`, "utf8").startsWith(`${name}\0`)) return { pid, name, stop: () => stopProcess(pid) };
    await sleep(20);
  }
  await stopProcess(pid);
  throw new Error(`the bystander ${name} did not start`);
}

/** PIDs of the attacker's processes whose process name (comm) is exactly `comm`. */
function attackerPidsNamed(comm: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const status = readFileSync(`/proc/${entry}/status`, "utf8");
      const uid = /^Uid:\s+(\d+)/m.exec(status)?.[1];
      if (Number(uid) === attackerUid && readFileSync(`/proc/${entry}/comm`, "utf8") === `${comm}\n`) pids.push(Number(entry));
    } catch {
      // Gone meanwhile.
    }
  }
  return pids;
}

/**
 * A TCP listener run by `nobody` that gives itself the process name `comm` (through
 * /proc/self/comm, as any unprivileged process may; at most 15 bytes), optionally inside a
 * network namespace. `ss -p` prints that name unescaped in the port's owner list.
 */
export async function startForgedNameListener(options: { comm: string; port: number; namespace?: string }): Promise<TestProcess> {
  if (Buffer.byteLength(options.comm) > 15) throw new Error(`a process name holds at most 15 bytes: ${JSON.stringify(options.comm)}`);
  const program = `use strict; use Socket;
open(my $comm, ">", "/proc/self/comm") or die "comm: $!"; print $comm $ARGV[0]; close $comm;
socket(my $server, PF_INET, SOCK_STREAM, 0) or die "socket: $!";
setsockopt($server, SOL_SOCKET, SO_REUSEADDR, 1);
bind($server, sockaddr_in($ARGV[1], INADDR_ANY)) or die "bind: $!";
listen($server, 16) or die "listen: $!";
sleep 900;`;
  const prefix = options.namespace ? ["ip", "netns", "exec", options.namespace] : [];
  const launch = [...prefix, "runuser", "-u", "nobody", "--", "perl", "-e", program, options.comm, String(options.port)];
  const child = spawn(launch[0] as string, launch.slice(1), { detached: true, stdio: "ignore" });
  child.unref();
  const listening = [...prefix, "ss", "-Htln", `sport = :${options.port}`];
  for (let attempt = 0; attempt < 250; attempt++) {
    const [pid] = attackerPidsNamed(options.comm);
    const open = (await runCommand(listening[0] as string, listening.slice(1)).catch(() => "")).trim() !== "";
    if (pid !== undefined && open) return { pid, stop: () => stopProcess(pid) };
    if (child.exitCode !== null) break;
    await sleep(20);
  }
  for (const pid of attackerPidsNamed(options.comm)) await stopProcess(pid);
  throw new Error(`the forged-name listener on port ${options.port} did not start`);
}
