// Kept free of the engine's modules: `main` and `bin` import it before any command loads.

/** Options every command shares, as commander parses them. */
export interface GlobalOptions {
  journal?: string;
  output?: "human" | "json";
  eventsFile?: string;
  webhook?: string;
  verbose?: boolean;
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
}

export function defaultIo(): CommandIo {
  return { stdout: process.stdout, stderr: process.stderr, env: process.env };
}
