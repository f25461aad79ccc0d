import {
  ChaosError,
  createConsoleSink,
  createJsonLinesSink,
  createWebhookSink,
  EventBus,
  type EventSink,
  ExitCode,
} from "@chaos-agents/core";

export type { CommandIo, GlobalOptions } from "./io.js";

import { type CommandIo, type GlobalOptions, useColour } from "./io.js";

/** The sinks the flags ask for: human view on stderr, or JSON lines on stdout; plus file and webhook. */
export function createEventBus(options: GlobalOptions, io: CommandIo): EventBus {
  const events = new EventBus();
  if (options.output === "json") events.add(createJsonLinesSink(io.stdout));
  else events.add(createConsoleSink({ stream: io.stderr, verbose: options.verbose, colour: useColour(io.env, io.stderr, options.color) }));
  if (options.eventsFile) events.add(openEventsFile(options.eventsFile));
  if (options.webhook) events.add(webhookWithOneWarning(options.webhook, io));
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

/** A dead webhook is said once, and counted at the end: it never stops or fails an experiment. */
function webhookWithOneWarning(url: string, io: CommandIo): EventSink {
  let failures = 0;
  const sink = createWebhookSink({
    url,
    headers: io.env.CHAOS_WEBHOOK_TOKEN ? { authorization: `Bearer ${io.env.CHAOS_WEBHOOK_TOKEN}` } : undefined,
    onError: (message) => {
      if (failures++ === 0) io.stderr.write(`warning: ${message}; the experiment goes on, further webhook failures are counted\n`);
    },
  });
  return {
    handle: (event) => sink.handle(event),
    async close() {
      await sink.close?.();
      if (failures > 1) io.stderr.write(`warning: ${failures} webhook deliveries failed in all\n`);
    },
  };
}
