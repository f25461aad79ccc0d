import {
  type ChaosEvent,
  EventBus,
  type ExperimentReport,
  type Journal,
  openSqliteJournal,
  Registry,
  runExperiment,
} from "@chaos-agents/core";
import { createDatabaseTarget, type DatabaseSession, databaseSkills, tableChecksums } from "@chaos-agents/database";

export interface DatabaseExperimentOptions {
  url: string;
  dbType: "postgres" | "mysql";
  skills: { skill_name: string; params: Record<string, unknown> }[];
  duration?: string;
  parallel?: boolean;
  resourceFilters?: string[];
  allowDangerous?: boolean;
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
  const registry = databaseRegistry();
  const target = registry.target("database");
  const events: ChaosEvent[] = [];
  const journal = options.journal ?? openSqliteJournal(":memory:");
  const report = await runExperiment(
    {
      name: "test",
      target: "database",
      target_config: target?.configSchema.parse({ connection_url: options.url, db_type: options.dbType }) as Record<string, unknown>,
      skills: options.skills.map((skill) => ({
        skill_name: skill.skill_name,
        params: registry.skill(skill.skill_name)?.params.parse(skill.params) as Record<string, unknown>,
      })),
      duration: options.duration ?? "0s",
      parallel: options.parallel ?? false,
      resource_filters: options.resourceFilters ?? [],
      allow_dangerous: options.allowDangerous ?? false,
    },
    {
      registry,
      journal,
      events: new EventBus([
        {
          handle: (event) => {
            events.push(event);
            options.onEvent?.(event);
          },
        },
      ]),
      rollbackAttempts: 2,
    },
  );
  if (!options.journal) journal.close();
  return { report, events };
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
