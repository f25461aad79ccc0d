import { randomBytes } from "node:crypto";
import { readdirSync, readFileSync, readlinkSync } from "node:fs";
import { createConnection } from "node:net";
import { setTimeout as sleep } from "node:timers/promises";
import { freePort } from "./free-port.js";
import { runCommand } from "./run-command.js";

/** A small TCP daemon a test owns, with a unique process name, like a service without an init system. */
export interface TestDaemon {
  /** Its argv[0] (and process name): `chaos-test-daemon-<random>`. */
  name: string;
  port: number;
  /** Current PIDs of processes with this name (a restarted daemon has a new one). */
  pids(): number[];
  /** Kills every process with this name (by PID). */
  stop(): Promise<void>;
}

/** PIDs whose argv[0] is exactly `name`. */
export function pidsNamed(name: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readFileSync(`/proc/${entry}/cmdline`, "utf8").split("\0")[0] === name) pids.push(Number(entry));
    } catch {
      // Gone meanwhile.
    }
  }
  return pids;
}

/** Environment variables of a process (empty when it is gone). */
export function environmentOf(pid: number): string[] {
  try {
    return readFileSync(`/proc/${pid}/environ`, "utf8").split("\0").filter(Boolean);
  } catch {
    return [];
  }
}

export function executableOf(pid: number): string {
  return readlinkSync(`/proc/${pid}/exe`);
}

async function waitForListening(port: number, address: string, namespace: string | undefined, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (namespace) {
      const listening = await runCommand("ip", ["netns", "exec", namespace, "ss", "-Htln", `sport = :${port}`]).catch(() => "");
      if (listening.trim()) return;
    } else {
      const open = await new Promise<boolean>((resolve) => {
        const socket = createConnection({ host: address, port }, () => {
          socket.destroy();
          resolve(true);
        });
        socket.on("error", () => resolve(false));
      });
      if (open) return;
    }
    await sleep(50);
  }
  throw new Error(`test daemon did not listen on ${port} within ${timeoutMs} ms`);
}

/**
 * Starts `node` as a detached TCP echo daemon named `chaos-test-daemon-<random>` (argv[0] set
 * through bash's `exec -a`), optionally inside a network namespace. `env` is added to its environment.
 */
export async function startTestDaemon(
  options: {
    namespace?: string;
    port?: number;
    env?: Record<string, string> /** Its stdout and stderr go here (a file it holds open). */;
    logFile?: string;
  } = {},
): Promise<TestDaemon> {
  const name = `chaos-test-daemon-${randomBytes(4).toString("hex")}`;
  // A port the kernel says is free (a random one collided now and then with other tests' listeners).
  const port = options.port ?? (await freePort());
  const program = `require("net").createServer((s)=>s.pipe(s)).listen(${port},"0.0.0.0")`;
  const environment = Object.entries(options.env ?? {}).map(([key, value]) => `${key}=${value}`);
  const launch = ["env", ...environment, "bash", "-c", 'exec -a "$0" "$@"', name, process.execPath, "-e", program];
  const prefix = options.namespace ? ["ip", "netns", "exec", options.namespace] : [];
  const output = options.logFile ?? "/dev/null";
  await runCommand("bash", ["-c", 'log="$1"; shift; setsid "$@" </dev/null >>"$log" 2>&1 &', "start-daemon", output, ...prefix, ...launch]);
  await waitForListening(port, "127.0.0.1", options.namespace, 30_000);
  return {
    name,
    port,
    pids: () => pidsNamed(name),
    stop: async () => {
      for (const pid of pidsNamed(name)) {
        try {
          process.kill(pid, "SIGKILL");
        } catch {
          // Already gone.
        }
      }
    },
  };
}

/**
 * PIDs of processes chaos started for one of `experimentIds` (they carry
 * `CHAOS_AGENTS_EXPERIMENT=<id>`); other test files run chaos in parallel, so tests count only theirs.
 */
export function chaosProcessesOf(experimentIds: ReadonlySet<string>): number[] {
  const prefix = "CHAOS_AGENTS_EXPERIMENT=";
  return readdirSync("/proc")
    .filter((entry) => /^\d+$/.test(entry) && Number(entry) !== process.pid)
    .filter((entry) =>
      environmentOf(Number(entry)).some((variable) => variable.startsWith(prefix) && experimentIds.has(variable.slice(prefix.length))),
    )
    .map(Number);
}

/** Adds the experiment ids found in a server work dir (one subdirectory per running experiment) to `ids`. */
export function collectExperimentIds(workDir: string, ids: Set<string>): Set<string> {
  try {
    for (const entry of readdirSync(workDir)) ids.add(entry);
  } catch {
    // Not created yet, or already removed by rollback.
  }
  return ids;
}
