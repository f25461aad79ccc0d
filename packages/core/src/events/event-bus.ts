import { redactSecrets } from "../redact.js";
import { type ChaosEvent, type ChaosEventInput, eventSchemaVersion } from "./chaos-event.js";
import type { Logger } from "./logger.js";

/** Receives every event, already redacted. One no-op-able hook, like chaostoolkit's handlers. */
export interface EventSink {
  handle(event: ChaosEvent): void;
  /** Flushes anything buffered (files, webhook posts). */
  close?(): Promise<void>;
}

/** Fans events out to sinks. Redaction happens here, once, so no sink can leak a secret. */
export class EventBus {
  private readonly sinks: EventSink[];

  constructor(sinks: EventSink[] = []) {
    this.sinks = [...sinks];
  }

  add(sink: EventSink): void {
    this.sinks.push(sink);
  }

  emit(input: ChaosEventInput): void {
    const event = redactSecrets({ schema_version: eventSchemaVersion, ...input, at: new Date().toISOString() } as ChaosEvent);
    for (const sink of this.sinks) {
      try {
        sink.handle(event);
      } catch {
        // A broken sink must never break the experiment or its rollback.
      }
    }
  }

  logger(experimentId?: string): Logger {
    const log = (level: "debug" | "info" | "warn" | "error") => (message: string) =>
      this.emit({ type: "log", level, message, experimentId });
    return { debug: log("debug"), info: log("info"), warn: log("warn"), error: log("error") };
  }

  async close(): Promise<void> {
    await Promise.allSettled(this.sinks.map((sink) => sink.close?.()));
  }
}
