/** What one command run on a host produced. */
export interface ExecResult {
  stdout: string;
  stderr: string;
  /** Exit status; null when the command was ended by a signal or the timeout. */
  exitCode: number | null;
}

export interface ExecOptions {
  /** Run through `sudo -n` (no prompt); defaults to the host's setting. */
  sudo?: boolean;
  /** Bytes written to the command's standard input. */
  stdin?: string;
  /** Milliseconds before the command is abandoned (and its channel closed). */
  timeoutMs?: number;
}

/**
 * A way to run commands on one host: the machine running `chaos` or an SSH server.
 * A command is either an argv (each word quoted) or a POSIX `sh` script.
 */
export interface HostConnection {
  /** Short, regex-friendly name of the host used in resource names: `local`, `10.0.1.50`, `10.0.1.50:2222`. */
  readonly key: string;
  /** Identity without secrets: `local://name` or `ssh://user@host:port`. */
  readonly identity: string;
  /** Whether commands run through sudo unless told otherwise. */
  readonly sudo: boolean;
  exec(command: readonly string[] | { script: string }, options?: ExecOptions): Promise<ExecResult>;
  close(): Promise<void>;
}

export const defaultExecTimeoutMs = 60_000;
