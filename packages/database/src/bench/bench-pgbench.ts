import { execFile } from "node:child_process";
import { readdirSync } from "node:fs";
import { promisify } from "node:util";

const run = promisify(execFile);

/** The newest pgbench of the machine's PostgreSQL installations (Debian layout), or the one on PATH. */
export function findPgbench(): string {
  const root = "/usr/lib/postgresql";
  try {
    const versions = readdirSync(root)
      .filter((name) => /^\d+$/.test(name))
      .sort((left, right) => Number(right) - Number(left));
    for (const version of versions) {
      if (readdirSync(`${root}/${version}/bin`).includes("pgbench")) return `${root}/${version}/bin/pgbench`;
    }
  } catch {
    // No Debian layout: fall back to PATH.
  }
  return "pgbench";
}

export interface CopyResult {
  rows: number;
  /** pgbench's own times: the client-side COPY of every table, plus building the primary keys. */
  seconds: number;
}

// pgbench takes a postgres:// URL wherever it takes a database name.

/**
 * `pgbench -i -I dtgp`: drop, create, client-side COPY of `scale` × 100,000 accounts, then the
 * primary keys, so the reference ends with the same indexed table db.insert_load fills.
 */
export async function pgbenchInit(pgbench: string, url: string, scale: number): Promise<CopyResult> {
  const { stdout, stderr } = await run(pgbench, ["-i", "-I", "dtgp", "-s", String(scale), "-q", url]);
  const output = `${stdout}\n${stderr}`;
  const generate = /client-side generate ([\d.]+) s/.exec(output);
  const keys = /primary keys ([\d.]+) s/.exec(output);
  if (!generate || !keys) throw new Error(`pgbench -i printed no "client-side generate" or "primary keys" time:\n${output}`);
  return { rows: scale * 100_000, seconds: Number(generate[1]) + Number(keys[1]) };
}

export interface SelectResult {
  transactionsPerSecond: number;
}

/** `pgbench -S`: primary-key lookups on pgbench_accounts from `clients` clients, one thread each. */
export async function pgbenchSelect(
  pgbench: string,
  url: string,
  clients: number,
  seconds: number,
  protocol: "simple" | "prepared",
): Promise<SelectResult> {
  const { stdout, stderr } = await run(pgbench, [
    "-S",
    "-n",
    "-M",
    protocol,
    "-c",
    String(clients),
    "-j",
    String(clients),
    "-T",
    String(seconds),
    url,
  ]);
  const tps = /tps = ([\d.]+) \(without initial connection time\)/.exec(`${stdout}\n${stderr}`);
  if (!tps) throw new Error(`pgbench -S printed no tps:\n${stdout}\n${stderr}`);
  return { transactionsPerSecond: Number(tps[1]) };
}

export interface TpcbResult {
  transactionsPerSecond: number;
  /** Transactions pgbench counted as failed after its retries (deadlocks, serialization). */
  failed: number;
}

/**
 * pgbench's built-in TPC-B-like script (`-b tpcb-like`): each transaction adds a delta to one
 * account, teller and branch and logs it in pgbench_history, so sum(abalance) = sum(tbalance)
 * = sum(bbalance) = sum(delta) holds after any number of them. Deadlocks are retried.
 */
export async function pgbenchTpcb(pgbench: string, url: string, clients: number, seconds: number): Promise<TpcbResult> {
  const { stdout, stderr } = await run(pgbench, [
    "-n",
    "-b",
    "tpcb-like",
    "-M",
    "prepared",
    "--max-tries=20",
    "-c",
    String(clients),
    "-j",
    String(Math.min(clients, 2)),
    "-T",
    String(seconds),
    url,
  ]);
  const output = `${stdout}\n${stderr}`;
  const tps = /tps = ([\d.]+) \(without initial connection time\)/.exec(output);
  if (!tps) throw new Error(`pgbench tpcb-like printed no tps:\n${output}`);
  const failed = /number of failed transactions: (\d+)/.exec(output);
  return { transactionsPerSecond: Number(tps[1]), failed: Number(failed?.[1] ?? 0) };
}
