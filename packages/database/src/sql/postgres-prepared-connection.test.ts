import { useTestDatabases } from "@chaos-agents/testing";
import { describe, expect, it } from "vitest";
import { openPreparedConnection } from "./postgres-prepared-connection.js";

const databases = useTestDatabases();

/** The backends tagged `tag`, as the server sees them. */
async function backends(execute: (sql: string, params?: unknown[]) => Promise<Record<string, unknown>[]>, tag: string) {
  return (await execute("SELECT pid FROM pg_stat_activity WHERE application_name = $1", [tag])).map((row) => Number(row.pid));
}

/** A connection whose 30-second statement the server is running. */
async function sleepingStatement() {
  const database = await databases.empty("postgres");
  const connection = await openPreparedConnection({ connectionString: database.url }, ["SELECT pg_sleep($1::float8)"]);
  const sleeping = connection.execute(0, ["30"]);
  // The test makes it fail and checks how: until it looks, the failure is expected, not unhandled.
  sleeping.catch(() => undefined);
  await expect
    .poll(async () => (await database.execute("SELECT state FROM pg_stat_activity WHERE pid = $1", [connection.serverId]))[0]?.state)
    .toBe("active");
  return { database, connection, sleeping };
}

describe("prepared connection (the load workers' lean PostgreSQL path)", () => {
  it("binds text, NULL and multi-byte values exactly and runs each statement by its index", async () => {
    const database = await databases.empty("postgres");
    await database.execute("CREATE TABLE t (id int PRIMARY KEY, body text)");
    const connection = await openPreparedConnection({ connectionString: database.url, application_name: "chaos-prepared-test" }, [
      "INSERT INTO t VALUES ($1, $2)",
      "UPDATE t SET body = body || '!' WHERE id = $1",
    ]);
    expect(await backends(database.execute, "chaos-prepared-test")).toEqual([connection.serverId]);
    await connection.execute(0, ["1", "tab\tnew\nline 'quoted' ünïcødé 🦀"]);
    await connection.execute(0, ["2", null]);
    await connection.execute(0, ["3", ""]);
    await connection.execute(1, ["1"]);
    expect(await database.execute("SELECT id, body FROM t ORDER BY id")).toEqual([
      { id: 1, body: "tab\tnew\nline 'quoted' ünïcødé 🦀!" },
      { id: 2, body: null },
      { id: 3, body: "" },
    ]);
    await connection.close();
    await expect.poll(() => backends(database.execute, "chaos-prepared-test")).toEqual([]);
  });

  it("keeps its place through replies that span many reads", async () => {
    const database = await databases.empty("postgres");
    await database.execute("CREATE TABLE t (id int PRIMARY KEY)");
    const connection = await openPreparedConnection({ connectionString: database.url }, [
      "SELECT repeat('ü', 100000) FROM generate_series(1, $1::int)",
      "INSERT INTO t VALUES ($1)",
    ]);
    // About 10 MB of rows, then a write whose effect shows the reply was read to its end.
    for (let round = 1; round <= 3; round++) {
      await connection.execute(0, ["50"]);
      await connection.execute(1, [String(round)]);
    }
    await expect(connection.execute(0, ["-1 not an int"])).rejects.toThrow(/invalid input syntax for type integer: "-1 not an int"/);
    expect(await database.execute("SELECT id FROM t ORDER BY id")).toEqual([{ id: 1 }, { id: 2 }, { id: 3 }]);
    await connection.close();
  });

  it("rejects a failing statement with the server's error and stays usable", async () => {
    const database = await databases.empty("postgres");
    await database.execute("CREATE TABLE t (id int PRIMARY KEY)");
    const connection = await openPreparedConnection({ connectionString: database.url }, ["INSERT INTO t VALUES ($1)"]);
    await connection.execute(0, ["1"]);
    await expect(connection.execute(0, ["1"])).rejects.toThrow(/duplicate key value violates unique constraint "t_pkey"/);
    await expect(connection.execute(0, ["not a number"])).rejects.toThrow(/invalid input syntax for type integer/);
    await connection.execute(0, ["2"]);
    expect(await database.execute("SELECT id FROM t ORDER BY id")).toEqual([{ id: 1 }, { id: 2 }]);
    await connection.close();
  });

  it("refuses a statement the server cannot prepare, leaving no connection behind", async () => {
    const database = await databases.empty("postgres");
    await expect(
      openPreparedConnection({ connectionString: database.url, application_name: "chaos-prepared-bad" }, [
        "SELECT 1",
        "SELECT * FROM no_such_table WHERE id = $1",
      ]),
    ).rejects.toThrow(/relation "no_such_table" does not exist/);
    await expect.poll(() => backends(database.execute, "chaos-prepared-bad")).toEqual([]);
  });

  it("fails a statement in flight, and every later one, when its backend is terminated", async () => {
    const { database, connection, sleeping } = await sleepingStatement();
    await database.execute("SELECT pg_terminate_backend($1)", [connection.serverId]);
    await expect(sleeping).rejects.toThrow(/terminating connection due to administrator command|closed/);
    await expect(connection.execute(0, ["0"])).rejects.toThrow(/closed/);
    await connection.close();
  });

  it("reports a cancelled statement as an error of that statement only", async () => {
    const { database, connection, sleeping } = await sleepingStatement();
    await database.execute("SELECT pg_cancel_backend($1)", [connection.serverId]);
    await expect(sleeping).rejects.toThrow(/canceling statement due to user request/);
    await connection.execute(0, ["0"]);
    await connection.close();
  });
});
