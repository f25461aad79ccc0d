import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { shopSchema } from "@chaos-agents/database";
import {
  crashExperimentYaml,
  crashSkills,
  createTestDatabase,
  databaseState,
  makeTempDirectory,
  readCrashSettings,
  restoreCrashSettings,
  runChaos,
  startChaos,
  type TestDatabase,
} from "@chaos-agents/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

// kill -9 at random moments of insert, update and config_change, then `chaos recover`: the
// database must be exactly as before, every time, and a second recover must find nothing.
// (`npm run soak` does the same at hundreds of moments, across the server skills too.)
const temp = makeTempDirectory("chaos-crash-");
afterAll(temp.remove);

const iterations = Number(process.env.CHAOS_CRASH_ITERATIONS ?? 4);

describe.each(["postgres", "mysql"] as const)("%s: kill -9 then chaos recover", (kind) => {
  let db: TestDatabase;
  let originalSettings: string;
  beforeAll(async () => {
    db = await createTestDatabase(kind);
    for (const statement of shopSchema[kind]) await db.execute(statement);
    originalSettings = await readCrashSettings(db);
  });
  afterAll(async () => {
    const now = await readCrashSettings(db);
    if (now !== originalSettings) await restoreCrashSettings(db, originalSettings);
    await db.drop();
    expect(now, "server settings after the crash tests").toBe(originalSettings);
  });

  it.each(crashSkills)(
    "%s",
    async (skill) => {
      const before = await databaseState(db.url, kind);
      const config = join(temp.path, `${kind}-${skill}.yaml`);
      writeFileSync(config, crashExperimentYaml(skill, kind, db.url));
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
        expect(await readCrashSettings(db)).toBe(originalSettings);
        const again = await runChaos(["recover", "--journal", journal]);
        expect(again.stdout, `second recover: ${again.stderr}`).toContain("nothing to recover");
      }
      expect(delays).toHaveLength(iterations);
    },
    180_000,
  ); // four kills and recovers, on a busy machine
});
