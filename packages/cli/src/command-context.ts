import {
  ChaosError,
  createConsoleSink,
  createJsonLinesSink,
  createWebhookSink,
  EventBus,
  type EventSink,
  ExitCode,
} from "@chaos-agents/core";

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
  /** Aborted on the first SIGINT/SIGTERM. */
  signal?: AbortSignal;
}

export function defaultIo(): CommandIo {
  return { stdout: process.stdout, stderr: process.stderr, env: process.env };
}

/** The sinks the flags ask for: human view on stderr, or JSON lines on stdout; plus file and webhook. */
export function createEventBus(options: GlobalOptions, io: CommandIo): EventBus {
  const events = new EventBus();
  if (options.output === "json") events.add(createJsonLinesSink(io.stdout));
  else events.add(createConsoleSink({ stream: io.stderr, verbose: options.verbose }));
  if (options.eventsFile) events.add(openEventsFile(options.eventsFile));
  if (options.webhook) {
    events.add(
      createWebhookSink({
        url: options.webhook,
        headers: io.env.CHAOS_WEBHOOK_TOKEN ? { authorization: `Bearer ${io.env.CHAOS_WEBHOOK_TOKEN}` } : undefined,
        onError: (message) => io.stderr.write(`warning: ${message}\n`),
      }),
    );
  }
  return events;
}

function openEventsFile(path: string): EventSink {
  try {
    return createJsonLinesSink(path);
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code === "EISDIR" ? "it is a directory" : (error as Error).message;
    throw new ChaosError(`cannot write the events file ${path}: ${reason}; pass --events-file with a file path`, {
      exitCode: ExitCode.usage,
      cause: error,
    });
  }
}
