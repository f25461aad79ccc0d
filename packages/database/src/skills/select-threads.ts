import { availableParallelism } from "node:os";
import { Worker } from "node:worker_threads";
import type { DatabaseConfig } from "../database-config.js";
import { type QueryKind, queryKinds, type SelectQuery } from "./select-queries.js";
import type { SelectThreadInput, SharedLoad, ThreadMessage, ThreadTotals } from "./select-thread.js";

/**
 * The compiled thread entry. Under vitest this module runs from its TypeScript source, which a
 * worker thread cannot load: it then takes the package's build (`npm test` builds first).
 */
const threadEntry = new URL(import.meta.url.endsWith(".ts") ? "../../dist/skills/select-thread.js" : "./select-thread.js", import.meta.url);

/** Enough to keep a big server busy; more threads would only cost memory and start-up time. */
const maxThreads = 8;

/** Latencies kept for percentiles, over all threads: bounded memory on long runs. */
const latencySamples = 100_000;

export interface SelectLoadInput {
  config: DatabaseConfig;
  tag: string;
  queries: SelectQuery[];
  keys: Record<string, string[][]>;
  mix: Record<QueryKind, number>;
  concurrency: number;
  budget?: number;
}

/** A select load running in threads of its own: counters to read while it runs, totals at the end. */
export interface ThreadedSelectLoad {
  /** Server ids of every worker connection, to cancel their statements at the end. */
  readonly serverIds: number[];
  completed(): number;
  errors(): number;
  /** Tells every worker to finish its current query and stop. */
  stop(): void;
  /** The totals of all threads together, once all have stopped and closed their connections. */
  readonly finished: Promise<ThreadTotals>;
}

/**
 * Opens the load's connections in up to one thread per CPU (at most 8) and, once every one is open,
 * starts them all. One Node.js thread driving every connection was the load's bottleneck:
 * while the server's backends held the CPU, every worker's reply waited for the same thread
 * (pgbench -S drives 4 clients ~35% faster from 4 threads than from one).
 */
export async function startSelectThreads(input: SelectLoadInput): Promise<ThreadedSelectLoad> {
  const threads = Math.max(1, Math.min(input.concurrency, availableParallelism(), maxThreads));
  const shared: SharedLoad = {
    control: new Int32Array(new SharedArrayBuffer(4)),
    claimed: new BigInt64Array(new SharedArrayBuffer(8)),
    progress: new Float64Array(new SharedArrayBuffer(16 * threads)),
  };
  const workers = Array.from({ length: threads }, (_, thread) => {
    const data: SelectThreadInput = {
      role: "chaos-select-thread",
      thread,
      workers: Math.floor(input.concurrency / threads) + (thread < input.concurrency % threads ? 1 : 0),
      config: input.config,
      tag: input.tag,
      queries: input.queries,
      keys: input.keys,
      mix: input.mix,
      ...(input.budget !== undefined ? { budget: input.budget } : {}),
      latencySamples: Math.ceil(latencySamples / threads),
      shared,
    };
    return new Worker(threadEntry, { workerData: data });
  });
  const runs = workers.map((worker) => followThread(worker));
  const stop = () => Atomics.store(shared.control, 0, 1);
  const start = () => {
    for (const worker of workers) worker.postMessage("start");
  };
  const finished = Promise.all(runs.map((run) => run.done)).then(mergeTotals);
  // Awaited by the caller, or below on a failed start; a rejection must not count as unhandled meanwhile.
  finished.catch(() => undefined);

  const opened = await Promise.allSettled(runs.map((run) => run.ready));
  const failure = opened.find((result) => result.status === "rejected");
  if (failure) {
    // Threads that did open must close their connections before the error is told.
    stop();
    start();
    await finished.catch(() => undefined);
    throw failure.reason;
  }
  start();
  const sum = (offset: number) => {
    let total = 0;
    for (let thread = 0; thread < threads; thread++) total += shared.progress[2 * thread + offset] as number;
    return total;
  };
  return {
    serverIds: opened.flatMap((result) => (result.status === "fulfilled" ? result.value : [])),
    completed: () => sum(0),
    errors: () => sum(1),
    stop,
    finished,
  };
}

function mergeTotals(threads: ThreadTotals[]): ThreadTotals {
  const sum = (count: (totals: ThreadTotals) => number) => threads.reduce((total, thread) => total + count(thread), 0);
  const lastError = threads.find((thread) => thread.lastError)?.lastError;
  return {
    completed: sum((thread) => thread.completed),
    errors: sum((thread) => thread.errors),
    byKind: Object.fromEntries(queryKinds.map((kind) => [kind, sum((thread) => thread.byKind[kind])])) as Record<QueryKind, number>,
    latencies: threads.flatMap((thread) => thread.latencies),
    ...(lastError ? { lastError } : {}),
  };
}

/** One thread's two milestones: its connections open (their server ids), then its totals. */
function followThread(worker: Worker): { ready: Promise<number[]>; done: Promise<ThreadTotals> } {
  let ready!: { resolve(ids: number[]): void; reject(error: Error): void };
  const readyPromise = new Promise<number[]>((resolve, reject) => {
    ready = { resolve, reject };
  });
  const done = new Promise<ThreadTotals>((resolve, reject) => {
    worker.on("message", (message: ThreadMessage) => {
      if (message.type === "ready") ready.resolve(message.serverIds);
      else if (message.type === "failed") ready.reject(new Error(message.message));
      else resolve(message.totals);
    });
    worker.once("error", (error) => {
      ready.reject(error);
      reject(error);
    });
    // Settled promises ignore this; it only speaks for a thread that ended without reporting.
    worker.once("exit", (code) => {
      const error = new Error(`a select load thread exited (code ${code}) before it reported`);
      ready.reject(error);
      reject(error);
    });
  });
  // Either may never be awaited (a failed start); neither may crash the process unobserved.
  readyPromise.catch(() => undefined);
  done.catch(() => undefined);
  return { ready: readyPromise, done };
}
