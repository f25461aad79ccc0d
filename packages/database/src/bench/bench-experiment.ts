import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  type ChaosEvent,
  EventBus,
  type ExperimentReport,
  openSqliteJournal,
  parseExperiment,
  Registry,
  runExperiment,
} from "@chaos-agents/core";
import pg from "pg";
import { createDatabaseTarget } from "../database-target.js";
import { databaseSkills } from "../skills/index.js";

/** A database of the bench's own on the server at `serverUrl`, dropped (with its connections) by `drop`. */
export async function createBenchDatabase(serverUrl: string): Promise<{ url: string; drop(): Promise<void> }> {
  const name = `chaos_bench_${randomBytes(4).toString("hex")}`;
  const admin = async (sql: string) => {
    const client = new pg.Client({ connectionString: `${serverUrl}/postgres` });
    await client.connect();
    try {
      await client.query(sql);
    } finally {
      await client.end();
    }
  };
  await admin(`CREATE DATABASE ${name}`);
  return { url: `${serverUrl}/${name}`, drop: () => admin(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`) };
}

/**
 * Runs one skill through the real engine, journaling to a real SQLite file (WAL,
 * synchronous=FULL) in a temporary directory, as `chaos run` does.
 */
export async function runBenchSkill(
  url: string,
  skillName: string,
  params: Record<string, unknown>,
  duration: string,
  onEvent?: (event: ChaosEvent) => void,
): Promise<ExperimentReport> {
  const registry = new Registry().addTarget(createDatabaseTarget(), databaseSkills);
  const directory = mkdtempSync(join(tmpdir(), "chaos-bench-"));
  const journal = openSqliteJournal(join(directory, "journal.db"));
  try {
    const experiment = parseExperiment(
      {
        name: `bench ${skillName}`,
        target: "database",
        target_config: { connection_url: url, db_type: "postgres" },
        skills: [{ skill_name: skillName, params }],
        duration,
      },
      registry,
    );
    const events = new EventBus(onEvent ? [{ handle: onEvent }] : []);
    return await runExperiment(experiment, { registry, journal, events });
  } finally {
    await journal.close();
    rmSync(directory, { recursive: true, force: true });
  }
}
