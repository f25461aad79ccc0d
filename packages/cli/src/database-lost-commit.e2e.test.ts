import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { createTestDatabase, databaseState, makeTempDirectory, runChaos, type TestDatabase } from "@chaos-agents/testing";
import { afterAll, describe, expect, it } from "vitest";

// Keys chaos counts itself are journaled before COMMIT. Here the real binary is killed exactly
// there (CHAOS_TEST_CRASH_AT), so its COMMIT never happens; the application then writes rows
// under the very keys the journal holds, and `chaos recover` must keep every one of them.
const temp = makeTempDirectory("chaos-lost-commit-");
afterAll(temp.remove);

describe.each(["postgres", "mysql"] as const)("%s: connection killed at COMMIT", (kind) => {
  let db: TestDatabase | undefined;
  afterAll(async () => db?.drop());

  it("chaos recover keeps the application's rows written under the journaled keys, and says why", async () => {
    db = await createTestDatabase(kind);
    await db.execute("CREATE TABLE parents (id int PRIMARY KEY, name varchar(40) NOT NULL)");
    await db.execute("INSERT INTO parents VALUES (1, 'application 1'), (2, 'application 2')");
    const config = join(temp.path, `${kind}.yaml`);
    writeFileSync(
      config,
      `experiments:
  - name: lost-commit
    target: database
    target_config: { connection_url: "${db.url}", db_type: ${kind} }
    duration: 1h
    skills: [{ skill_name: db.insert_load, params: { tables: [parents], rows_per_table: 300, batch_size: 300 } }]
`,
    );
    const journal = join(temp.path, `${kind}.sqlite`);
    const run = await runChaos(["--output", "json", "run", config, "--journal", journal], { CHAOS_TEST_CRASH_AT: "insert-commit" });
    expect(run.signal).toBe("SIGKILL");

    // Chaos counted keys 3–302 and journaled them; its transaction died with its connection.
    // The application now writes its own rows under exactly those keys.
    const application =
      kind === "postgres"
        ? "INSERT INTO parents SELECT n, 'application ' || n FROM generate_series(3, 302) n"
        : "INSERT INTO parents SELECT seq, CONCAT('application ', seq) FROM seq_3_to_302";
    await db.execute(application);
    const before = await databaseState(db.url, kind);

    const recovered = await runChaos(["--output", "json", "recover", "--journal", journal]);
    const output = recovered.stdout + recovered.stderr;
    if (kind === "postgres") {
      // The commit log proves chaos's transaction aborted: nothing of it exists, nothing to delete.
      expect(output).toMatch(
        /never committed, so none of its rows exist; the 300 row\(s\) now under its keys were written by the application and are kept/,
      );
      expect(recovered.exitCode).toBe(0);
    } else {
      // No commit log to ask: the fingerprints show these rows are not the ones chaos wrote.
      expect(output).toMatch(/parents: 300 rows kept: its content is no longer what chaos wrote/);
      expect(recovered.exitCode).toBe(6);
    }
    expect(await databaseState(db.url, kind)).toEqual(before);
    expect(Number((await db.execute("SELECT COUNT(*) AS n FROM parents WHERE name LIKE 'application %'"))[0]?.n)).toBe(302);
  });
});
