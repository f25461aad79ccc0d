import { openApplicationSession } from "./application-session.js";
import type { TestDatabase } from "./test-database.js";

/**
 * A read-modify-write application of the tests' own: money moves between accounts, each
 * transfer reads both balances under a lock, writes the new absolute values and logs itself,
 * so the total stays constant and every account's final balance can be derived exactly from
 * its balance before and the log.
 */
export const transferSchema = {
  postgres: [
    "CREATE TABLE accounts (id int PRIMARY KEY, balance bigint NOT NULL, note varchar(40))",
    "CREATE TABLE transfers (id serial PRIMARY KEY, from_id int NOT NULL, to_id int NOT NULL, amount bigint NOT NULL)",
  ],
  mysql: [
    "CREATE TABLE accounts (id int PRIMARY KEY, balance bigint NOT NULL, note varchar(40))",
    "CREATE TABLE transfers (id int AUTO_INCREMENT PRIMARY KEY, from_id int NOT NULL, to_id int NOT NULL, amount bigint NOT NULL)",
  ],
};

/** Creates the schema with `accounts` accounts of 1,000 each. */
export async function createTransferTables(db: TestDatabase, accounts: number): Promise<void> {
  for (const statement of transferSchema[db.kind]) await db.execute(statement);
  const series = db.kind === "postgres" ? `generate_series(1, ${accounts}) AS n` : `(SELECT seq AS n FROM seq_1_to_${accounts}) AS numbers`;
  await db.execute(`INSERT INTO accounts (id, balance, note) SELECT n, 1000, CONCAT('account ', n) FROM ${series}`);
}

export interface WorkloadResult {
  transactions: number;
  /** Transactions the server rolled back (deadlock, lock timeout) and the worker dropped. */
  retried: number;
}

export interface RunningWorkload {
  stop(): Promise<WorkloadResult>;
}

/** Starts `workers` concurrent transfer loops, each on its own connection, until `stop`. */
export async function startTransferWorkload(db: TestDatabase, accounts: number, workers = 3): Promise<RunningWorkload> {
  const connections = await Promise.all(Array.from({ length: workers }, () => openApplicationSession(db)));
  const placeholder = (index: number) => (db.kind === "postgres" ? `$${index}` : "?");
  let stopped = false;
  const result: WorkloadResult = { transactions: 0, retried: 0 };
  const loops = connections.map(async (connection) => {
    while (!stopped) {
      const from = 1 + Math.floor(Math.random() * accounts);
      const to = 1 + ((from + Math.floor(Math.random() * (accounts - 1))) % accounts);
      const amount = 1 + Math.floor(Math.random() * 50);
      try {
        await connection.query("BEGIN");
        const rows = await connection.query(
          `SELECT id, balance FROM accounts WHERE id IN (${placeholder(1)}, ${placeholder(2)}) ORDER BY id FOR UPDATE`,
          [from, to],
        );
        const balance = new Map(rows.map((row) => [Number(row.id), BigInt(String(row.balance))]));
        const write = `UPDATE accounts SET balance = ${placeholder(1)} WHERE id = ${placeholder(2)}`;
        await connection.query(write, [String((balance.get(from) ?? 0n) - BigInt(amount)), from]);
        await connection.query(write, [String((balance.get(to) ?? 0n) + BigInt(amount)), to]);
        await connection.query(
          `INSERT INTO transfers (from_id, to_id, amount) VALUES (${placeholder(1)}, ${placeholder(2)}, ${placeholder(3)})`,
          [from, to, amount],
        );
        await connection.query("COMMIT");
        result.transactions++;
      } catch {
        await connection.query("ROLLBACK").catch(() => undefined);
        result.retried++;
      }
    }
  });
  return {
    async stop() {
      stopped = true;
      await Promise.all(loops);
      await Promise.all(connections.map((connection) => connection.close()));
      return result;
    },
  };
}

/** Each account's balance as the log says it must be: its balance before plus what came in minus what went out. */
export async function expectedBalances(db: TestDatabase, before: Map<number, bigint>): Promise<Map<number, bigint>> {
  const expected = new Map(before);
  for (const row of await db.execute("SELECT from_id, to_id, amount FROM transfers")) {
    const amount = BigInt(String(row.amount));
    expected.set(Number(row.from_id), (expected.get(Number(row.from_id)) ?? 0n) - amount);
    expected.set(Number(row.to_id), (expected.get(Number(row.to_id)) ?? 0n) + amount);
  }
  return expected;
}

/** Every account's id → balance, and id → note. */
export async function accountState(db: TestDatabase): Promise<{ balances: Map<number, bigint>; notes: Map<number, string | null> }> {
  const rows = await db.execute("SELECT id, balance, note FROM accounts ORDER BY id");
  return {
    balances: new Map(rows.map((row) => [Number(row.id), BigInt(String(row.balance))])),
    notes: new Map(rows.map((row) => [Number(row.id), row.note === null ? null : String(row.note)])),
  };
}
