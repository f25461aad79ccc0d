import { spawn } from "node:child_process";
import { hostname } from "node:os";
import { buildCommand } from "./build-command.js";
import { defaultExecTimeoutMs, type ExecOptions, type ExecResult, type HostConnection } from "./host-connection.js";

/** Runs commands on the machine running `chaos`, through `/bin/sh`, without SSH. */
export function createLocalConnection(options: { sudo?: boolean } = {}): HostConnection {
  const sudo = options.sudo ?? false;
  return {
    key: "local",
    identity: `local://${hostname()}`,
    sudo,
    exec: (command, execOptions = {}) => runLocally(buildCommand(command, execOptions.sudo ?? sudo), execOptions),
    close: async () => undefined,
  };
}

function runLocally(commandText: string, options: ExecOptions): Promise<ExecResult> {
  return new Promise((resolve, reject) => {
    // Its own process group, so a timeout ends the whole command, not only the shell.
    const child = spawn("/bin/sh", ["-c", commandText], { stdio: ["pipe", "pipe", "pipe"], detached: true });
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    const timeoutMs = options.timeoutMs ?? defaultExecTimeoutMs;
    const timer = setTimeout(() => {
      try {
        if (child.pid) process.kill(-child.pid, "SIGKILL");
      } catch {
        // Already gone.
      }
      reject(new Error(`command timed out after ${timeoutMs} ms: ${commandText.slice(0, 120)}`));
    }, timeoutMs);
    child.stdout.on("data", (chunk: Buffer) => stdout.push(chunk));
    child.stderr.on("data", (chunk: Buffer) => stderr.push(chunk));
    child.on("error", (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ stdout: Buffer.concat(stdout).toString(), stderr: Buffer.concat(stderr).toString(), exitCode: code });
    });
    // A command that does not read stdin may close it early; that is not an error.
    child.stdin.on("error", () => undefined);
    child.stdin.end(options.stdin ?? "");
  });
}
