import { writeFileSync } from "node:fs";
import { join } from "node:path";
import {
  type ApplicationSession,
  createTestDatabase,
  databaseState,
  makeTempDirectory,
  openApplicationSession,
  runChaos,
  startChaos,
  type TestDatabase,
} from "@chaos-agents/testing";
import { afterAll, describe, expect, it } from "vitest";

// An application transaction holds row locks on rows the rollback must delete (insert_load) and
// restore (update_load), longer than the rollback's lock retry budget: it adds 1 to every
// item's qty (a delta on top of chaos's random values) and keeps its transaction open. The run
// must not hang: it exits with the rollback-incomplete code naming the holder, and once the
// application commits, `chaos recover` finishes exactly, compensating chaos's change and keeping
// the application's delta (on MySQL/MariaDB that needs the batch's commit proof, which the step
// journaled when the run first tried it).
const temp = makeTempDirectory("chaos-rollback-blocked-");
afterAll(temp.remove);

describe.each(["postgres", "mysql"] as const)("%s: rollback blocked by an application lock beyond its budget", (kind) => {
  let db: TestDatabase | undefined;
  let application: ApplicationSession | undefined;
  afterAll(async () => {
    await application?.close();
    await db?.drop();
  });

  it("exits 6 naming the blocking pid and its query; chaos recover completes exactly after the application commits", async () => {
    db = await createTestDatabase(kind);
    await db.execute("CREATE TABLE items (id int PRIMARY KEY, qty int NOT NULL, note varchar(40))");
    await db.execute("CREATE TABLE orders (id int PRIMARY KEY, item int NOT NULL, amount int NOT NULL)");
    const series = kind === "postgres" ? "generate_series(1, 20) AS n" : "(SELECT seq AS n FROM seq_1_to_20) AS numbers";
    await db.execute(`INSERT INTO items SELECT n, n * 10, CONCAT('item ', n) FROM ${series}`);
    await db.execute(`INSERT INTO orders SELECT n, n, n * 3 FROM ${series}`);
    const before = await databaseState(db.url, kind);
    const config = join(temp.path, `${kind}.yaml`);
    writeFileSync(
      config,
      `experiments:
  - name: blocked-rollback
    target: database
    target_config:
      connection_url: "${db.url}"
      db_type: ${kind}
      rollback: { lock_timeout: ${kind === "postgres" ? "300ms" : "1s"}, lock_retry_budget: 3s }
    duration: 4s
    skills:
      - { skill_name: db.insert_load, params: { tables: [orders], rows_per_table: 30 } }
      - { skill_name: db.update_load, params: { tables: [items], rows_per_table: 20, mode: random, columns: [qty], compensate: [qty] } }
`,
    );
    const journal = join(temp.path, `${kind}.sqlite`);
    const run = startChaos(["--output", "json", "run", config, "--journal", journal]);
    await run.waitFor('"hold_started"', 60_000);
    application = await openApplicationSession(db);
    await application.query("BEGIN");
    await application.query("SELECT id FROM orders ORDER BY id FOR UPDATE");
    await application.query("UPDATE items SET qty = qty + 1");
    // On MariaDB an idle transaction shows no statement; this one is busy while it holds the locks.
    const busy = kind === "mysql" ? application.query("SELECT SLEEP(600) AS busy") : undefined;
    const result = await run.done;
    const output = result.stdout + result.stderr;
    expect(result.exitCode, output).toBe(6);
    const blockedBy = new RegExp(
      kind === "postgres"
        ? `blocked by pid ${application.pid} \\(idle in transaction.*last query: UPDATE items SET qty = qty \\+ 1`
        : `blocked by pid ${application.pid} \\(.*query: SELECT SLEEP\\(600\\) AS busy`,
    );
    expect(output).toMatch(blockedBy);
    expect(output).toMatch(/db\.insert_load: rollback step waited for a lock .* and gave up/);
    expect(output).toMatch(/db\.update_load: rollback step waited for a lock .* and gave up/);
    // MySQL/MariaDB: the compensating restore's marker table stays until that restore is done.
    if (kind === "mysql") expect(output).toMatch(/keeping chaos's marker table\(s\) .*chaos_agents_restored_/);

    // The application commits its delta; recover completes.
    if (busy) {
      await db.execute(`KILL QUERY ${application.pid}`);
      // MariaDB ends the statement ("interrupted"), not the transaction: the locks stay until COMMIT.
      await expect(busy).rejects.toThrow(/interrupted/);
    }
    await application.query("COMMIT");
    const recovered = await runChaos(["--output", "json", "recover", "--journal", journal]);
    expect(recovered.exitCode, recovered.stdout + recovered.stderr).toBe(0);
    expect(recovered.stdout + recovered.stderr).toMatch(/compensated 20/);
    // Take the application's delta back out: what remains must be exactly the state before chaos.
    await db.execute("UPDATE items SET qty = qty - 1");
    expect(await databaseState(db.url, kind)).toEqual(before);
    const leftovers = await db.execute(
      kind === "postgres"
        ? "SELECT tablename FROM pg_tables WHERE tablename LIKE 'chaos%'"
        : "SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_NAME LIKE 'chaos%'",
    );
    expect(leftovers).toEqual([]);
  });
});
