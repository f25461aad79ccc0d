import { type ChaosEvent, EventBus, type ExperimentReport, type Journal, Registry } from "@chaos-agents/core";
import { createDatabaseTarget, type DatabaseSession, databaseSkills, tableChecksums } from "@chaos-agents/database";
import { runInProcess } from "./run-in-process.js";

export interface DatabaseExperimentOptions {
  url: string;
  dbType: "postgres" | "mysql";
  skills: { skill_name: string; params: Record<string, unknown> }[];
  duration?: string;
  parallel?: boolean;
  resourceFilters?: string[];
  allowDangerous?: boolean;
  /** More target_config fields (e.g. `rollback` deadlines). */
  targetConfig?: Record<string, unknown>;
  journal?: Journal;
  /** Called with each event as it happens (e.g. to inspect the database during the hold). */
  onEvent?: (event: ChaosEvent) => void;
}

export function databaseRegistry(): Registry {
  return new Registry().addTarget(createDatabaseTarget(), databaseSkills);
}

/** Runs one database experiment in-process through the real engine; returns the report and events. */
export async function runDatabaseExperiment(
  options: DatabaseExperimentOptions,
): Promise<{ report: ExperimentReport; events: ChaosEvent[] }> {
  return runInProcess(
    databaseRegistry(),
    {
      name: "test",
      target: "database",
      target_config: { connection_url: options.url, db_type: options.dbType, ...options.targetConfig },
      skills: options.skills,
      duration: options.duration ?? "1ms",
      parallel: options.parallel ?? false,
      resource_filters: options.resourceFilters ?? [],
      allow_dangerous: options.allowDangerous ?? false,
    },
    { journal: options.journal, onEvent: options.onEvent },
  );
}

/** Opens a session on a database (for checksums and inspection) and closes it after `work`. */
export async function withDatabaseSession<T>(
  url: string,
  dbType: "postgres" | "mysql",
  work: (session: DatabaseSession) => Promise<T>,
): Promise<T> {
  const target = createDatabaseTarget();
  const session = await target.connect(target.configSchema.parse({ connection_url: url, db_type: dbType }), {
    experimentId: "inspect",
    log: new EventBus().logger(),
  });
  try {
    return await work(session);
  } finally {
    await session.close();
  }
}

/** Every table's checksum, as a plain object for `toEqual`. */
export async function databaseState(
  url: string,
  dbType: "postgres" | "mysql",
): Promise<Record<string, { rows: number; checksum: string }>> {
  return withDatabaseSession(url, dbType, async (session) => Object.fromEntries(await tableChecksums(session)));
}
