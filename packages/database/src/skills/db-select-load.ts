import { setTimeout as sleep } from "node:timers/promises";
import { defineSkill, durationText, type Metrics, parseDuration, positiveInteger, SkillError } from "@chaos-agents/core";
import { z } from "zod";
import { type DatabaseSession, resolveTables } from "../database-session.js";
import type { DatabaseSchema, Table } from "../discovery/database-schema.js";
import { LatencyRecorder } from "../values/latency.js";
import { cancelRunningStatements } from "./cancel-running-statements.js";
import { connectionCapacity } from "./held-connections.js";
import { type QueryKind, queryKinds, type SelectQuery, sampleKeys, selectQueries } from "./select-queries.js";
import { startSelectThreads, type ThreadedSelectLoad } from "./select-threads.js";
import { activityMetrics, watchServerActivity } from "./server-activity.js";

const weight = () => z.number({ error: "expected a weight ≥ 0" }).min(0, "expected a weight ≥ 0");

const defaultMix: Record<QueryKind, number> = { point: 60, range: 15, full_scan: 5, aggregate: 10, join: 10 };

const params = z
  .strictObject({
    concurrency: positiveInteger()
      .max(512, "at most 512 workers")
      .default(4)
      .describe("workers, each on its own connection, each running one query at a time"),
    duration: durationText().optional().describe("how long the load runs, e.g. 30s (default: the whole hold)"),
    queries: positiveInteger()
      .optional()
      .describe("stop after this many queries in total (whichever of duration, queries and the hold ends first)"),
    tables: z
      .array(z.string().min(1))
      .min(1, "name at least one table, or leave `tables` out")
      .optional()
      .describe("tables to read (default: every table resource_filters allow)"),
    mix: z
      .strictObject({
        point: weight().describe("primary-key lookups"),
        range: weight().describe("range scans on an indexed column"),
        full_scan: weight().describe("full table scans"),
        aggregate: weight().describe("aggregates (count, sum) over a table"),
        join: weight().describe("joins along foreign keys"),
      })
      .partial()
      .refine((mix) => Object.values(mix).some((value) => (value ?? 0) > 0), "give at least one query kind a weight above 0")
      .optional()
      .describe("relative weights of the query kinds (default point 60, range 15, full_scan 5, aggregate 10, join 10)"),
  })
  .transform(({ mix, ...rest }) => ({
    ...rest,
    mix: mix ? (Object.fromEntries(queryKinds.map((kind) => [kind, mix[kind] ?? 0])) as Record<QueryKind, number>) : defaultMix,
  }));
type Params = z.output<typeof params>;

interface LoadDetails {
  [key: string]: string[] | string;
  tables: string[];
  skipped: string[];
}

export const dbSelectLoad = defineSkill<Params, DatabaseSession>({
  name: "db.select_load",
  target: "database",
  description:
    "Heavy read load: concurrent workers run a weighted mix of primary-key lookups, range scans, full scans, aggregates and foreign-key joins",
  reversible: false,
  params,

  async plan({ params, session, inventory }) {
    const schema = await session.schema();
    const allowed = new Set(inventory.resources.map((resource) => resource.name));
    const tables = resolveTables("db.select_load", schema, allowed, params.tables);
    if (tables.length === 0) throw new SkillError("db.select_load", "no table to read (resource_filters keep none)");
    const queries = plannedQueries(session, schema, tables, allowed);
    const wanted = queryKinds.filter((kind) => params.mix[kind] > 0);
    const available = wanted.filter((kind) => queries.some((query) => query.kind === kind));
    const skipped = wanted
      .filter((kind) => !available.includes(kind))
      .map((kind) => `${kind}: ${kind === "join" ? "no foreign key between the chosen tables" : "no table with a primary or unique key"}`);
    if (available.length === 0) {
      throw new SkillError(
        "db.select_load",
        `mix: none of the chosen query kinds can run on ${tables.map((table) => table.qualifiedName).join(", ")} (${skipped.join("; ")})`,
      );
    }
    const capacity = await connectionCapacity(session);
    if (params.concurrency > capacity.available) {
      throw new SkillError(
        "db.select_load",
        `concurrency: ${params.concurrency} connections is more than the server can spare: at most ${capacity.available} (${capacity.limitedBy})`,
      );
    }
    const mix = available.map((kind) => `${kind} ${params.mix[kind]}`).join(", ");
    const until = [params.duration ? `for ${params.duration}` : "for the hold", params.queries ? `or ${params.queries} queries` : ""]
      .filter(Boolean)
      .join(" ");
    return {
      targets: tables.map((table) => table.qualifiedName),
      summary: `${params.concurrency} workers run SELECTs (${mix}) on ${tables.map((table) => table.qualifiedName).join(", ")} ${until}${skipped.length ? ` (skipped ${skipped.join("; ")})` : ""}`,
      details: { tables: tables.map((table) => table.qualifiedName), skipped } satisfies LoadDetails,
    };
  },

  async inject({ params, session, plan, inventory, holdEnded, observe, progress }) {
    const schema = await session.schema();
    const allowed = new Set(inventory.resources.map((resource) => resource.name));
    const tables = plan.targets.map((name) => schema.tables.find((table) => table.qualifiedName === name) as Table);
    const keys = new Map<string, string[][]>();
    for (const table of tables) keys.set(table.qualifiedName, await sampleKeys(session, table));
    // A table without rows has no key to look up: its keyed queries would only measure misses.
    const queries = plannedQueries(session, schema, tables, allowed).filter(
      (query) => params.mix[query.kind] > 0 && (query.parameters === "none" || (keys.get(query.table)?.length ?? 0) > 0),
    );
    if (queries.length === 0)
      throw new SkillError("db.select_load", "the chosen tables have no rows to look up and no other query kind was asked for");
    let load: ThreadedSelectLoad;
    try {
      load = await startSelectThreads({
        config: session.config,
        tag: session.connectionTag,
        queries,
        keys: Object.fromEntries(keys),
        mix: params.mix,
        concurrency: params.concurrency,
        ...(params.queries !== undefined ? { budget: params.queries } : {}),
      });
    } catch (error) {
      throw new SkillError("db.select_load", `could not open worker connections: ${(error as Error).message}`, { cause: error });
    }

    const durationMs = params.duration ? parseDuration(params.duration) : undefined;
    const stop = durationMs === undefined ? holdEnded : AbortSignal.any([holdEnded, AbortSignal.timeout(durationMs)]);
    const started = performance.now();
    const done = new AbortController();
    let lastCount = 0;
    let lastTime = started;
    const watching = watchServerActivity(session, AbortSignal.any([stop, done.signal]), observe, () => {
      const now = performance.now();
      const completed = load.completed();
      const rate = Math.round(((completed - lastCount) * 1000) / Math.max(now - lastTime, 1));
      lastCount = completed;
      lastTime = now;
      if (params.queries) progress(completed, params.queries, "queries");
      return { queries: completed, queries_per_second: rate, errors: load.errors() };
    });

    const running = (async (): Promise<Metrics> => {
      const stopped = new Promise((resolve) => stop.addEventListener("abort", resolve, { once: true }));
      await Promise.race([load.finished.catch(() => undefined), stopped]);
      load.stop();
      done.abort();
      // A full scan of a huge table may still run: let it finish briefly, then cancel it.
      if ((await Promise.race([load.finished.then(() => true), sleep(2000).then(() => false)])) === false)
        await cancelRunningStatements(session, load.serverIds);
      const totals = await load.finished;
      const seconds = (performance.now() - started) / 1000;
      const activity = await watching;
      const latency = new LatencyRecorder();
      for (const sample of totals.latencies) latency.record(sample);
      return {
        queries: totals.completed,
        queries_per_second: Math.round(totals.completed / Math.max(seconds, 0.001)),
        errors: totals.errors,
        ...Object.fromEntries(queryKinds.filter((kind) => params.mix[kind] > 0).map((kind) => [`${kind}_queries`, totals.byKind[kind]])),
        ...latency.percentiles("latency"),
        ...(totals.lastError ? { last_error: totals.lastError } : {}),
        ...activityMetrics(activity),
      };
    })();

    const sampled = [...keys.values()].reduce((sum, list) => sum + list.length, 0);
    return {
      summary: `${params.concurrency} workers reading ${plan.targets.join(", ")} with ${queries.length} kinds of query (${sampled} keys sampled)`,
      metrics: { workers: params.concurrency, sampled_keys: sampled },
      running,
    };
  },

  async rollback() {
    // Read-only: nothing is journaled, so nothing is ever rolled back.
    return undefined;
  },
});

/** The queries of every chosen table; a join may read any parent table resource_filters allow. */
function plannedQueries(session: DatabaseSession, schema: DatabaseSchema, tables: Table[], allowed: Set<string>): SelectQuery[] {
  const readable = new Map(schema.tables.filter((table) => allowed.has(table.qualifiedName)).map((table) => [table.qualifiedName, table]));
  return tables.flatMap((table) => selectQueries(session.dialect, table, readable));
}
