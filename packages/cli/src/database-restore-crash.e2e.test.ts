import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { createTestDatabase, makeTempDirectory, runChaos, startChaos, type TestDatabase } from "@chaos-agents/testing";
import { afterAll, describe, expect, it } from "vitest";

// db.update_load's compensating restore (compensate: [balance]) subtracts chaos's change from the
// current value, keeping the application's deltas. Run twice it would subtract twice. Here the
// real binary is killed exactly after that restore's COMMIT and before the journal marks the step
// done (CHAOS_TEST_CRASH_AT); `chaos recover` must see that the restore committed and leave the
// balances alone: PostgreSQL asks pg_xact_status, MySQL/MariaDB finds chaos's marker row.
const temp = makeTempDirectory("chaos-restore-crash-");
afterAll(temp.remove);

const accounts = 20;
const delta = 7;

/** Each account's balance, by id. */
async function balances(db: TestDatabase): Promise<number[]> {
  const rows = await db.execute("SELECT id, balance FROM accounts ORDER BY id");
  return rows.map((row) => Number(row.balance));
}

/** What the application's own transfers leave: 1000, plus 7 on even accounts, minus 7 on odd ones. */
const expected = Array.from({ length: accounts }, (_, index) => 1000 + ((index + 1) % 2 === 0 ? delta : -delta));

describe.each(["postgres", "mysql"] as const)("%s: killed after the compensating restore's COMMIT", (kind) => {
  let db: TestDatabase | undefined;
  afterAll(async () => db?.drop());

  it("chaos recover does not compensate again: the application's balances are exact and their sum unchanged", async () => {
    db = await createTestDatabase(kind);
    await db.execute("CREATE TABLE accounts (id int PRIMARY KEY, balance bigint NOT NULL, note varchar(40))");
    const series = kind === "postgres" ? `generate_series(1, ${accounts}) AS n` : `(SELECT seq AS n FROM seq_1_to_${accounts}) AS numbers`;
    await db.execute(`INSERT INTO accounts SELECT n, 1000, CONCAT('account ', n) FROM ${series}`);
    const config = join(temp.path, `${kind}.yaml`);
    writeFileSync(
      config,
      `experiments:
  - name: restore-crash
    target: database
    target_config: { connection_url: "${db.url}", db_type: ${kind} }
    duration: 3s
    skills:
      - skill_name: db.update_load
        params: { tables: [accounts], rows_per_table: ${accounts}, mode: random, columns: [balance], compensate: [balance] }
`,
    );
    const journal = join(temp.path, `${kind}.sqlite`);
    const run = startChaos(["--output", "json", "run", config, "--journal", journal], { CHAOS_TEST_CRASH_AT: "update-restore-commit" });
    await run.waitFor('"hold_started"', 60_000);
    // The application adds its deltas on top of chaos's values, in one transaction (the total stays the same).
    await db.execute(kind === "postgres" ? "BEGIN" : "START TRANSACTION");
    await db.execute(`UPDATE accounts SET balance = balance + ${delta} WHERE id % 2 = 0`);
    await db.execute(`UPDATE accounts SET balance = balance - ${delta} WHERE id % 2 = 1`);
    await db.execute("COMMIT");
    const crashed = await run.done;
    expect(crashed.signal, crashed.stdout + crashed.stderr).toBe("SIGKILL");
    // The restore committed before the kill: chaos's change is already undone, the deltas kept.
    expect(await balances(db)).toEqual(expected);

    const recovered = await runChaos(["--output", "json", "recover", "--journal", journal]);
    const output = recovered.stdout + recovered.stderr;
    expect(recovered.exitCode, output).toBe(0);
    expect(output).toMatch(/its compensating restore had committed before the rollback was interrupted; nothing left to do/);
    expect(await balances(db)).toEqual(expected);
    expect((await balances(db)).reduce((sum, balance) => sum + balance, 0)).toBe(accounts * 1000);
    // Chaos's marker table (MySQL) is gone with the experiment; PostgreSQL never needed one.
    const leftovers = await db.execute(
      kind === "postgres"
        ? "SELECT tablename FROM pg_tables WHERE tablename LIKE 'chaos%'"
        : "SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_NAME LIKE 'chaos%'",
    );
    expect(leftovers).toEqual([]);
  });
});
