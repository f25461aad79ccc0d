import type { TestDatabase, TestDatabaseKind } from "./test-database.js";

/**
 * What the kill -9 tests and the soak do to a database: one experiment per skill, and the server
 * settings `db.config_change` touches, read back exactly (auto.conf entries on PostgreSQL).
 */
export const crashSettings = {
  postgres: { names: ["seq_page_cost", "cpu_tuple_cost", "cpu_index_tuple_cost"], values: ["2.5", "0.05", "0.01"] },
  mysql: { names: ["net_write_timeout", "slow_launch_time", "max_connect_errors"], values: ["77", "9", "5000"] },
} as const;

export type CrashSkill = "insert" | "update" | "config";
export const crashSkills: CrashSkill[] = ["insert", "update", "config"];

/** The skill entry (YAML flow map) of each crash experiment. */
export function crashSkillEntry(skill: CrashSkill, kind: TestDatabaseKind): string {
  switch (skill) {
    case "insert":
      return "{ skill_name: db.insert_load, params: { rows_per_table: 3000, batch_size: 50 } }";
    case "update":
      return "{ skill_name: db.update_load, params: { mode: random, rows: 400, batch_size: 100, tables: [customers, products, orders] } }";
    case "config":
      return `{ skill_name: db.config_change, params: { changes: [${crashSettings[kind].names
        .map((name, index) => `{ param: ${name}, value: "${crashSettings[kind].values[index]}" }`)
        .join(", ")}] } }`;
  }
}

/** A one-experiment config that holds its fault for an hour: the kill always comes first. */
export function crashExperimentYaml(skill: CrashSkill, kind: TestDatabaseKind, url: string): string {
  return `experiments:
  - name: crash-${skill}
    target: database
    target_config: { connection_url: "${url}", db_type: ${kind} }
    duration: 1h
    skills: [${crashSkillEntry(skill, kind)}]
`;
}

/** The settings the crash experiments change, as text that compares equal when nothing changed. */
export async function readCrashSettings(db: TestDatabase): Promise<string> {
  if (db.kind === "postgres") {
    const rows = await db.execute(
      `SELECT s.name, s.setting, (SELECT setting FROM pg_file_settings f WHERE f.name = s.name AND sourcefile LIKE '%auto.conf' ORDER BY seqno DESC LIMIT 1) AS auto
         FROM pg_settings s WHERE name = ANY($1) ORDER BY name`,
      [crashSettings.postgres.names],
    );
    return JSON.stringify(rows);
  }
  const values = [];
  for (const name of crashSettings.mysql.names) values.push((await db.execute(`SELECT CAST(@@GLOBAL.${name} AS CHAR) AS v`))[0]?.v);
  return JSON.stringify(values);
}

/** Puts the settings `readCrashSettings` returned back (after a failed test, so the machine is not left changed). */
export async function restoreCrashSettings(db: TestDatabase, saved: string): Promise<void> {
  if (db.kind === "postgres") {
    for (const row of JSON.parse(saved) as { name: string; auto: string | null }[]) {
      await db.execute(row.auto === null ? `ALTER SYSTEM RESET ${row.name}` : `ALTER SYSTEM SET ${row.name} = '${row.auto}'`);
    }
    await db.execute("SELECT pg_reload_conf()");
    return;
  }
  const values = JSON.parse(saved) as string[];
  for (const [index, name] of crashSettings.mysql.names.entries()) await db.execute(`SET GLOBAL ${name} = ${values[index]}`);
}
