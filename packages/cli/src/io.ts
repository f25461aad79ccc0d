// Kept free of the engine's modules: `main` and `bin` import it before any command loads.

/** Options every command shares, as commander parses them. */
export interface GlobalOptions {
  journal?: string;
  output?: "human" | "json";
  eventsFile?: string;
  webhook?: string;
  verbose?: boolean;
  /** False with `--no-color`. */
  color?: boolean;
}

/** Where a command writes: tests pass buffers, the binary passes the process streams. */
export interface CommandIo {
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
  env: NodeJS.ProcessEnv;
  /** Where questions are answered (`chaos agent`'s approval); the process's stdin by default. */
  stdin?: NodeJS.ReadableStream;
  /** Aborted on the first SIGINT/SIGTERM. */
  signal?: AbortSignal;
  /** With `--output json`: adds structured facts to the command's final event (its text goes there too). */
  result?: (details: Record<string, unknown>) => void;
}

export function defaultIo(): CommandIo {
  return { stdout: process.stdout, stderr: process.stderr, env: process.env };
}

/**
 * Colours only on a terminal, and never with `--no-color` or a non-empty NO_COLOR (no-color.org);
 * FORCE_COLOR (not "0") asks for them anywhere, as in other Node tools.
 */
export function useColour(env: NodeJS.ProcessEnv, stream: NodeJS.WritableStream & { isTTY?: boolean }, flag = true): boolean {
  if (!flag || env.NO_COLOR) return false;
  if (env.FORCE_COLOR !== undefined && env.FORCE_COLOR !== "0") return true;
  return Boolean(stream.isTTY) && env.TERM !== "dumb";
}
