import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { shopSchema } from "@chaos-agents/database";
import { createTestDatabase, databaseState, makeTempDirectory, runChaos, startChaos, type TestDatabase } from "@chaos-agents/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

// kill -9 at random moments of insert, update and config_change, then `chaos recover`: the
// database must be exactly as before, every time, and a second recover must find nothing.
const temp = makeTempDirectory("chaos-crash-");
afterAll(temp.remove);

const iterations = Number(process.env.CHAOS_CRASH_ITERATIONS ?? 4);

const settings = {
  postgres: { names: ["seq_page_cost", "cpu_tuple_cost", "cpu_index_tuple_cost"], values: ["2.5", "0.05", "0.01"] },
  mysql: { names: ["net_write_timeout", "slow_launch_time", "max_connect_errors"], values: ["77", "9", "5000"] },
} as const;

async function readSettings(db: TestDatabase): Promise<string> {
  if (db.kind === "postgres") {
    const rows = await db.execute(
      `SELECT s.name, s.setting, (SELECT setting FROM pg_file_settings f WHERE f.name = s.name AND sourcefile LIKE '%auto.conf' ORDER BY seqno DESC LIMIT 1) AS auto
         FROM pg_settings s WHERE name = ANY($1) ORDER BY name`,
      [settings.postgres.names],
    );
    return JSON.stringify(rows);
  }
  const values = [];
  for (const name of settings.mysql.names) values.push((await db.execute(`SELECT CAST(@@GLOBAL.${name} AS CHAR) AS v`))[0]?.v);
  return JSON.stringify(values);
}

const skills = {
  insert: () => `{ skill_name: db.insert_load, params: { rows_per_table: 3000, batch_size: 50 } }`,
  update: () => `{ skill_name: db.update_load, params: { rows: 400, tables: [customers, products, orders] } }`,
  config: (kind: "postgres" | "mysql") =>
    `{ skill_name: db.config_change, params: { changes: [${settings[kind].names
      .map((name, index) => `{ param: ${name}, value: "${settings[kind].values[index]}" }`)
      .join(", ")}] } }`,
};

describe.each(["postgres", "mysql"] as const)("%s: kill -9 then chaos recover", (kind) => {
  let db: TestDatabase;
  let originalSettings: string;
  beforeAll(async () => {
    db = await createTestDatabase(kind);
    for (const statement of shopSchema[kind]) await db.execute(statement);
    originalSettings = await readSettings(db);
  });
  afterAll(async () => {
    const now = await readSettings(db);
    if (now !== originalSettings) console.error(`settings differ after the crash tests: ${now} vs ${originalSettings}`);
    await db.drop();
  });

  it.each(Object.keys(skills) as (keyof typeof skills)[])(
    "%s",
    async (skill) => {
      const before = await databaseState(db.url, kind);
      const config = join(temp.path, `${kind}-${skill}.yaml`);
      writeFileSync(
        config,
        `experiments:
  - name: crash-${skill}
    target: database
    target_config: { connection_url: "${db.url}", db_type: ${kind} }
    duration: 1h
    skills: [${skills[skill](kind)}]
`,
      );
      const journal = join(temp.path, `${kind}-${skill}.sqlite`);
      const delays: number[] = [];
      for (let iteration = 0; iteration < iterations; iteration++) {
        const run = startChaos(["--output", "json", "run", config, "--journal", journal]);
        await run.waitFor('"type":"skill_planned"');
        const delay = Math.floor(Math.random() * (skill === "config" ? 300 : 900));
        delays.push(delay);
        await new Promise((resolve) => setTimeout(resolve, delay));
        run.child.kill("SIGKILL");
        await run.done;

        const recovered = await runChaos(["recover", "--journal", journal]);
        expect(recovered.stdout + recovered.stderr, `iteration ${iteration}, killed after ${delay} ms`).toMatch(
          /✓ crash-|nothing to recover/,
        );
        expect(recovered.exitCode).toBe(0);
        expect(await databaseState(db.url, kind), `state after recover, killed after ${delay} ms`).toEqual(before);
        expect(await readSettings(db)).toBe(originalSettings);
        const again = await runChaos(["recover", "--journal", journal]);
        expect(again.stdout).toContain("nothing to recover");
      }
      expect(delays).toHaveLength(iterations);
      // Each iteration starts the real binary twice and recovers hundreds of journaled batches,
      // each in its own checked transaction: on a busy two-core machine four take over a minute.
    },
    180_000,
  );
});
