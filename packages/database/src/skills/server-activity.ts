import { setTimeout as sleep } from "node:timers/promises";
import type { Metrics } from "@chaos-agents/core";
import type { DatabaseSession } from "../database-session.js";

/**
 * What the server itself says it is doing, from its own catalog:
 * - `server_connections`: client connections, server-wide;
 * - `server_active`: of those, the ones running a statement (MySQL: threads running);
 * - `server_lock_waits`: sessions of this database waiting for a lock (PostgreSQL: heavyweight
 *   lock waits, i.e. pg_locks not granted; MySQL: metadata/table lock waits in PROCESSLIST plus
 *   InnoDB row lock waits);
 * - `server_wait_events` (PostgreSQL): the commonest wait events of active sessions.
 */
export async function sampleServerActivity(session: DatabaseSession): Promise<Metrics> {
  return session.dialect.kind === "postgres" ? samplePostgres(session) : sampleMysql(session);
}

async function samplePostgres(session: DatabaseSession): Promise<Metrics> {
  const { rows } = await session.client.query<{ connections: number; active: number; lock_waits: number; wait_events: string | null }>(
    `SELECT count(*)::int AS connections,
            count(*) FILTER (WHERE state = 'active')::int AS active,
            count(*) FILTER (WHERE wait_event_type = 'Lock' AND datname = current_database())::int AS lock_waits,
            (SELECT string_agg(event || '=' || n, ', ' ORDER BY n DESC, event)
               FROM (SELECT wait_event_type || ':' || wait_event AS event, count(*) AS n
                       FROM pg_stat_activity
                      WHERE state = 'active' AND wait_event IS NOT NULL AND pid <> pg_backend_pid()
                      GROUP BY 1 ORDER BY 2 DESC LIMIT 3) AS top) AS wait_events
       FROM pg_stat_activity
      WHERE backend_type = 'client backend' AND pid <> pg_backend_pid()`,
  );
  const row = rows[0];
  return {
    server_connections: row?.connections ?? 0,
    server_active: row?.active ?? 0,
    server_lock_waits: row?.lock_waits ?? 0,
    server_wait_events: row?.wait_events ?? "none",
  };
}

async function sampleMysql(session: DatabaseSession): Promise<Metrics> {
  const { rows } = await session.client.query<{ connections: string | number; active: string | number; lock_waits: string | number }>(
    `SELECT COUNT(*) AS connections,
            COALESCE(SUM(COMMAND NOT IN ('Sleep', 'Daemon', 'Binlog Dump')), 0) AS active,
            COALESCE(SUM(DB = DATABASE() AND STATE LIKE 'Waiting for%lock%'), 0) AS lock_waits
       FROM information_schema.PROCESSLIST
      WHERE ID <> CONNECTION_ID() AND COMMAND <> 'Daemon'`,
  );
  const row = rows[0];
  const rowLockWaits = await session.client
    .query<{ n: string | number }>("SELECT COUNT(*) AS n FROM information_schema.INNODB_TRX WHERE trx_state = 'LOCK WAIT'")
    .then((result) => Number(result.rows[0]?.n ?? 0))
    // INNODB_TRX needs the PROCESS privilege; without it only metadata lock waits are seen.
    .catch(() => 0);
  return {
    server_connections: Number(row?.connections ?? 0),
    server_active: Number(row?.active ?? 0),
    server_lock_waits: Number(row?.lock_waits ?? 0) + rowLockWaits,
  };
}

export interface ActivitySummary {
  /** Samples taken (one a second). */
  samples: number;
  /** Samples in which at least one session waited for a lock. */
  lockWaitSamples: number;
  /** The highest value of each numeric sample field, as `peak_<field>`. */
  peaks: Metrics;
}

/**
 * Samples the server once a second until `stop` aborts, passing each sample (with `extra`,
 * the skill's own counters) to `observe`. A failed sample is skipped: the measurement must
 * never be what breaks an experiment.
 */
export async function watchServerActivity(
  session: DatabaseSession,
  stop: AbortSignal,
  observe: (metrics: Metrics) => void,
  extra: () => Metrics = () => ({}),
  intervalMs = 1000,
): Promise<ActivitySummary> {
  const summary: ActivitySummary = { samples: 0, lockWaitSamples: 0, peaks: {} };
  while (!stop.aborted) {
    const sample = await sampleServerActivity(session).catch(() => undefined);
    if (stop.aborted) break;
    if (sample) {
      summary.samples++;
      if (Number(sample.server_lock_waits) > 0) summary.lockWaitSamples++;
      for (const [name, value] of Object.entries(sample)) {
        if (typeof value === "number") summary.peaks[`peak_${name}`] = Math.max(Number(summary.peaks[`peak_${name}`] ?? 0), value);
      }
      observe({ ...extra(), ...sample });
    }
    await sleep(intervalMs, undefined, { signal: stop }).catch(() => undefined);
  }
  return summary;
}

/** The summary as final metrics of a skill. */
export function activityMetrics(summary: ActivitySummary): Metrics {
  return { server_samples: summary.samples, lock_wait_samples: summary.lockWaitSamples, ...summary.peaks };
}
