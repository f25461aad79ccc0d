import { once } from "node:events";
import { setTimeout as sleep } from "node:timers/promises";
import { isMainThread, parentPort, workerData } from "node:worker_threads";
import type { DatabaseConfig } from "../database-config.js";
import { noMatchPattern, type QueryKind, type SelectQuery } from "./select-queries.js";
import { openWorker, type WorkerConnection } from "./select-workers.js";

/** What one load thread is given: its share of the workers and the memory all threads share. */
export interface SelectThreadInput {
  /** Marks the data of a chaos load thread: only such a thread runs this module's load. */
  role: "chaos-select-thread";
  thread: number;
  workers: number;
  config: DatabaseConfig;
  tag: string;
  queries: SelectQuery[];
  /** Sampled row keys (as text) by table. */
  keys: Record<string, string[][]>;
  mix: Record<QueryKind, number>;
  /** Total queries for all threads together, if the experiment set one. */
  budget?: number;
  latencySamples: number;
  shared: SharedLoad;
}

/** Memory the main thread and the load threads share, so counting costs no messages. */
export interface SharedLoad {
  /** [0] is 1 once the load must stop. */
  control: Int32Array;
  /** [0] counts queries claimed against the budget. */
  claimed: BigInt64Array;
  /** Thread t writes its completed queries at [2t] and its errors at [2t + 1]; only it writes there. */
  progress: Float64Array;
}

export interface ThreadTotals {
  completed: number;
  errors: number;
  byKind: Record<QueryKind, number>;
  /** A uniform sample of this thread's latencies, in milliseconds. */
  latencies: number[];
  lastError?: string;
}

export type ThreadMessage =
  | { type: "ready"; serverIds: number[] }
  | { type: "failed"; message: string }
  | { type: "done"; totals: ThreadTotals };

/** Runs this thread's workers: opens their connections, waits for the start, loads until stopped. */
async function runThread(input: SelectThreadInput, post: (message: ThreadMessage) => void, started: Promise<unknown>): Promise<void> {
  const workers: WorkerConnection[] = [];
  try {
    for (let index = 0; index < input.workers; index++) workers.push(await openWorker(input.config, input.tag, input.queries));
  } catch (error) {
    await Promise.all(workers.map((worker) => worker.close()));
    post({ type: "failed", message: (error as Error).message });
    return;
  }
  post({ type: "ready", serverIds: workers.map((worker) => worker.serverId) });
  await started;
  const load = new ThreadLoad(input);
  await Promise.all(workers.map((worker) => runWorker(worker, load)));
  await Promise.all(workers.map((worker) => worker.close()));
  post({ type: "done", totals: load.totals() });
}

/** This thread's counters, and its view of what all threads share. */
class ThreadLoad {
  readonly byKind: Record<QueryKind, number> = { point: 0, range: 0, full_scan: 0, aggregate: 0, join: 0 };
  lastError?: string;
  private completed = 0;
  private errors = 0;
  private seen = 0;
  private readonly reservoir: number[] = [];
  private readonly budget?: bigint;
  readonly pick: () => number;

  constructor(private readonly input: SelectThreadInput) {
    this.budget = input.budget === undefined ? undefined : BigInt(input.budget);
    this.pick = weightedPicker(input.queries, input.mix);
  }

  get stopped(): boolean {
    return Atomics.load(this.input.shared.control, 0) === 1;
  }

  /** Takes one query from the budget all threads share; false when it is spent. */
  claim(): boolean {
    return this.budget === undefined || Atomics.add(this.input.shared.claimed, 0, 1n) < this.budget;
  }

  query(index: number): SelectQuery {
    return this.input.queries[index] as SelectQuery;
  }

  values(query: SelectQuery): string[] {
    if (query.parameters === "none") return query.kind === "full_scan" ? [noMatchPattern] : [];
    const list = this.input.keys[query.table] as string[][];
    const key = list[Math.floor(Math.random() * list.length)] as string[];
    return query.parameters === "key" ? key : [key[0] as string];
  }

  record(query: SelectQuery, milliseconds: number): void {
    this.byKind[query.kind]++;
    this.input.shared.progress[2 * this.input.thread] = ++this.completed;
    // Reservoir sampling (algorithm R): memory stays bounded on long runs.
    this.seen++;
    if (this.reservoir.length < this.input.latencySamples) this.reservoir.push(milliseconds);
    else {
      const slot = Math.floor(Math.random() * this.seen);
      if (slot < this.input.latencySamples) this.reservoir[slot] = milliseconds;
    }
  }

  fail(error: Error): void {
    this.input.shared.progress[2 * this.input.thread + 1] = ++this.errors;
    this.lastError = error.message;
  }

  totals(): ThreadTotals {
    return {
      completed: this.completed,
      errors: this.errors,
      byKind: this.byKind,
      latencies: this.reservoir,
      ...(this.lastError ? { lastError: this.lastError } : {}),
    };
  }
}

/** Runs one query at a time until stopped; a failing connection is given a moment, not a hot loop. */
async function runWorker(worker: WorkerConnection, load: ThreadLoad): Promise<void> {
  let failuresInARow = 0;
  while (!load.stopped && load.claim()) {
    const index = load.pick();
    const query = load.query(index);
    const values = load.values(query);
    const started = performance.now();
    try {
      await worker.run(index, values);
      load.record(query, performance.now() - started);
      failuresInARow = 0;
    } catch (error) {
      if (load.stopped) break;
      load.fail(error as Error);
      failuresInARow++;
      if (failuresInARow >= 3) await sleep(Math.min(1000, 50 * failuresInARow));
    }
  }
}

/** A kind's weight is shared by the tables that support it; returns a function that picks a query index. */
function weightedPicker(queries: SelectQuery[], mix: Record<QueryKind, number>): () => number {
  const perKind = new Map<QueryKind, number>();
  for (const query of queries) perKind.set(query.kind, (perKind.get(query.kind) ?? 0) + 1);
  const cumulative: number[] = [];
  let total = 0;
  for (const query of queries) {
    total += mix[query.kind] / (perKind.get(query.kind) ?? 1);
    cumulative.push(total);
  }
  if (queries.length === 1) return () => 0;
  return () => {
    const target = Math.random() * total;
    let low = 0;
    let high = cumulative.length - 1;
    while (low < high) {
      const middle = (low + high) >> 1;
      if ((cumulative[middle] as number) > target) high = middle;
      else low = middle + 1;
    }
    return low;
  };
}

if (!isMainThread && parentPort && (workerData as Partial<SelectThreadInput> | null)?.role === "chaos-select-thread") {
  const port = parentPort;
  const started = once(port, "message");
  // Closing the port lets the thread end once its work is done (the wait for "start" holds it open).
  void runThread(workerData as SelectThreadInput, (message) => port.postMessage(message), started).finally(() => port.close());
}
