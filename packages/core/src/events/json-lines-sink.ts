import { closeSync, fsyncSync, openSync, writeSync } from "node:fs";
import type { ChaosEvent } from "./chaos-event.js";
import type { EventSink } from "./event-bus.js";

/** One JSON object per line, to a stream (`--output json`) or appended to a file. */
export function createJsonLinesSink(destination: NodeJS.WritableStream | string): EventSink {
  if (typeof destination !== "string") {
    return { handle: (event: ChaosEvent) => void destination.write(`${JSON.stringify(event)}\n`) };
  }
  // Events carry what the report carries (application values in rollback notes): owner-only, like the journal.
  const descriptor = openSync(destination, "a", 0o600);
  return {
    handle: (event: ChaosEvent) => void writeSync(descriptor, `${JSON.stringify(event)}\n`),
    async close() {
      fsyncSync(descriptor);
      closeSync(descriptor);
    },
  };
}
