import { type ChildProcess, spawn } from "node:child_process";
import { fileURLToPath } from "node:url";

/** The built `chaos` binary: end-to-end tests run exactly what users run. */
export const chaosBinary = fileURLToPath(new URL("../../cli/bin/chaos.js", import.meta.url));

export interface ChaosResult {
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface ChaosProcess {
  child: ChildProcess;
  /** Output so far; grows while the process runs. */
  output: { stdout: string; stderr: string };
  done: Promise<ChaosResult>;
  /** Resolves once stderr or stdout contains the text (rejects after the timeout). */
  waitFor(text: string | RegExp, timeoutMs?: number): Promise<void>;
}

/**
 * Starts `chaos ARGS…` with a clean environment plus `env`. With `processGroup`, it leads a
 * process group of its own. With `hostname`, it runs in a UTS
 * namespace of its own under that host name (root only): to chaos it is another machine.
 */
export function startChaos(
  args: string[],
  env: NodeJS.ProcessEnv = {},
  cwd?: string,
  options: { hostname?: string; processGroup?: boolean } = {},
): ChaosProcess {
  const command = [process.execPath, chaosBinary, ...args];
  if (options.hostname) command.unshift("unshare", "--uts", "--", "bash", "-c", 'hostname "$0" && exec "$@"', options.hostname);
  const child = spawn(command[0]!, command.slice(1), {
    cwd,
    env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env },
    stdio: ["ignore", "pipe", "pipe"],
    // A group of its own, so a test can send what Ctrl-C sends: a signal to every process of it.
    detached: options.processGroup ?? false,
  });
  const output = { stdout: "", stderr: "" };
  const waiters = new Set<() => void>();
  const onData = (stream: "stdout" | "stderr") => (chunk: Buffer) => {
    output[stream] += chunk.toString();
    for (const waiter of waiters) waiter();
  };
  child.stdout?.on("data", onData("stdout"));
  child.stderr?.on("data", onData("stderr"));
  const done = new Promise<ChaosResult>((resolve) => {
    child.on("close", (exitCode, signal) => resolve({ exitCode, signal, ...output }));
  });
  const waitFor = (text: string | RegExp, timeoutMs = 30_000) =>
    new Promise<void>((resolve, reject) => {
      const matches = () => {
        const all = output.stdout + output.stderr;
        return typeof text === "string" ? all.includes(text) : text.test(all);
      };
      if (matches()) return resolve();
      const timer = setTimeout(() => {
        waiters.delete(check);
        reject(new Error(`timed out waiting for ${text}; output so far:\n${output.stdout}\n${output.stderr}`));
      }, timeoutMs);
      const check = () => {
        if (!matches()) return;
        clearTimeout(timer);
        waiters.delete(check);
        resolve();
      };
      waiters.add(check);
      void done.then(() => {
        if (!matches() && waiters.has(check)) {
          clearTimeout(timer);
          waiters.delete(check);
          reject(new Error(`chaos exited before printing ${text}:\n${output.stdout}\n${output.stderr}`));
        }
      });
    });
  return { child, output, done, waitFor };
}

/** Runs `chaos ARGS…` to completion. */
export function runChaos(args: string[], env: NodeJS.ProcessEnv = {}, cwd?: string): Promise<ChaosResult> {
  return startChaos(args, env, cwd).done;
}
