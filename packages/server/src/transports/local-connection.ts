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
    const child = spawn("/bin/sh", ["-c", commandText], { stdio: ["pipe", "pipe", "pipe"] });
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill("SIGKILL");
    }, options.timeoutMs ?? defaultExecTimeoutMs);
    child.stdout.on("data", (chunk: Buffer) => stdout.push(chunk));
    child.stderr.on("data", (chunk: Buffer) => stderr.push(chunk));
    child.on("error", (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.on("close", (code) => {
      clearTimeout(timer);
      const result = { stdout: Buffer.concat(stdout).toString(), stderr: Buffer.concat(stderr).toString(), exitCode: code };
      if (timedOut) reject(new Error(`command timed out after ${options.timeoutMs ?? defaultExecTimeoutMs} ms: ${commandText.slice(0, 120)}`));
      else resolve(result);
    });
    // A command that does not read stdin may close it early; that is not an error.
    child.stdin.on("error", () => undefined);
    child.stdin.end(options.stdin ?? "");
  });
}
