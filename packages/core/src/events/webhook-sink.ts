import type { ChaosEvent } from "./chaos-event.js";
import type { EventSink } from "./event-bus.js";

export interface WebhookSinkOptions {
  url: string;
  /** Extra headers, e.g. an Authorization token (never logged). */
  headers?: Record<string, string>;
  /** Events posted per request at most. */
  batchSize?: number;
  timeoutMs?: number;
  /** Called once per failed delivery; the experiment goes on regardless. */
  onError?: (message: string) => void;
}

/**
 * POSTs events as a JSON array, in order, one request at a time. Delivery problems are
 * reported, never thrown: a slow webhook must not hold a rollback back.
 */
export function createWebhookSink(options: WebhookSinkOptions): EventSink {
  const queue: ChaosEvent[] = [];
  const batchSize = options.batchSize ?? 50;
  let sending: Promise<void> | undefined;

  const post = async (events: ChaosEvent[]) => {
    try {
      const response = await fetch(options.url, {
        method: "POST",
        headers: { "content-type": "application/json", ...options.headers },
        body: JSON.stringify(events),
        signal: AbortSignal.timeout(options.timeoutMs ?? 5000),
      });
      if (!response.ok) options.onError?.(`webhook answered ${response.status} ${response.statusText}`);
    } catch (error) {
      options.onError?.(`webhook delivery failed: ${(error as Error).message}`);
    }
  };

  const drain = async () => {
    while (queue.length > 0) await post(queue.splice(0, batchSize));
    sending = undefined;
  };

  return {
    handle(event: ChaosEvent) {
      queue.push(event);
      sending ??= drain();
    },
    async close() {
      while (sending) await sending;
    },
  };
}
