import { randomUUID } from "node:crypto";
import { defineSkill, fraction, positiveInteger, SkillError } from "@chaos-agents/core";
import { z } from "zod";
import type { DatabaseSession } from "../database-session.js";
import {
  connectionCapacity,
  type HeldConnectionsUndo,
  openHeldConnections,
  releaseHeldConnections,
  setIdleTimeout,
} from "./held-connections.js";
import { activityMetrics, watchServerActivity } from "./server-activity.js";

const defaultFraction = 0.8;

const params = z
  .strictObject({
    connections: positiveInteger()
      .max(100_000)
      .optional()
      .describe("connections to open and hold; refused when more than the server can spare"),
    fraction: fraction()
      .positive("expected a number between 0 and 1")
      .optional()
      .describe("or a fraction of max_connections, capped at what the server can spare (default 0.8)"),
  })
  .refine((value) => value.connections === undefined || value.fraction === undefined, {
    message: "give either connections or fraction, not both",
    path: ["fraction"],
  });
type Params = z.output<typeof params>;

interface StressDetails {
  [key: string]: number | string;
  connections: number;
  available: number;
}

export const dbConnectionStress = defineSkill<Params, DatabaseSession, HeldConnectionsUndo>({
  name: "db.connection_stress",
  target: "database",
  description:
    "Open and hold many idle connections (a number or a fraction of max_connections), always leaving reserved slots, those in use and a safety margin free",
  reversible: true,
  params,

  async plan({ params, session }) {
    const capacity = await connectionCapacity(session);
    const wanted = params.connections ?? Math.floor((params.fraction ?? defaultFraction) * capacity.maxConnections);
    if (params.connections !== undefined && params.connections > capacity.available) {
      throw new SkillError(
        "db.connection_stress",
        `connections: ${params.connections} is more than the server can spare: at most ${capacity.available} (${capacity.limitedBy}); ask for ${capacity.available} or fewer, or use fraction`,
      );
    }
    const connections = Math.min(wanted, capacity.available);
    if (connections < 1) {
      throw new SkillError("db.connection_stress", `the server has no connection to spare (${capacity.limitedBy})`);
    }
    const capped = connections < wanted ? ` (capped from ${wanted}: ${capacity.limitedBy})` : "";
    return {
      targets: [session.connectionTag],
      summary: `open and hold ${connections} connections of ${capacity.maxConnections} max_connections${capped}`,
      details: { connections, available: capacity.available } satisfies StressDetails,
    };
  },

  async inject({ session, plan, journal, runtime, signal, holdEnded, durationMs, observe, log }) {
    const details = plan.details as StressDetails;
    // Others may have connected since plan: never take what is no longer free.
    const capacity = await connectionCapacity(session);
    const count = Math.min(details.connections, capacity.available);
    if (count < details.connections)
      log.warn(`db.connection_stress opens ${count} instead of ${details.connections}: ${capacity.limitedBy}`);
    const started = performance.now();
    const { connections, stoppedBy } = await openHeldConnections(session, count, {
      journal,
      runtime,
      handles: `db.connection_stress:${randomUUID()}`,
      setup: (connection) => setIdleTimeout(connection, session, durationMs, false),
      signal,
    });
    const openSeconds = (performance.now() - started) / 1000;
    if (stoppedBy) log.warn(`db.connection_stress stopped opening after ${connections.length}: ${stoppedBy}`);
    const metrics = {
      connections_requested: count,
      connections_opened: connections.length,
      connections_per_second: Math.round(connections.length / Math.max(openSeconds, 0.001)),
    };
    return {
      summary: `holding ${connections.length} connections tagged ${session.connectionTag}${stoppedBy ? ` (stopped opening: ${stoppedBy})` : ""}`,
      metrics,
      running: watchServerActivity(session, holdEnded, observe, () => ({ connections_held: connections.length })).then((summary) => ({
        ...metrics,
        ...activityMetrics(summary),
      })),
    };
  },

  async rollback({ session, runtime }, undo) {
    const { closed, terminated } = await releaseHeldConnections(session, runtime, undo);
    return {
      summary: `closed ${closed} held connection(s)${terminated ? `, terminated ${terminated} left on the server` : ""}`,
      metrics: { connections_closed: closed, connections_terminated: terminated },
    };
  },
});
