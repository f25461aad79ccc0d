import { databaseState, runDatabaseExperiment, type TestDatabase, type TestDatabaseKind, useTestDatabases } from "@chaos-agents/testing";
import { describe, expect, it } from "vitest";

const kinds: TestDatabaseKind[] = ["postgres", "mysql"];
const { shop } = useTestDatabases();

/** Waits at most `seconds` for locks on the test's own connection (PostgreSQL in milliseconds precision). */
async function setLockWait(db: TestDatabase, seconds: number): Promise<void> {
  if (db.kind === "postgres") await db.execute(`SET lock_timeout = '${Math.round(seconds * 1000)}ms'`);
  else await db.execute(`SET SESSION lock_wait_timeout = ${Math.ceil(seconds)}, SESSION innodb_lock_wait_timeout = ${Math.ceil(seconds)}`);
}

/** A write that changes nothing (stock = stock) yet needs the row lock; resolves to "written" or the error. */
async function tryWrite(db: TestDatabase, sku: string): Promise<string> {
  const marker = db.kind === "postgres" ? "$1" : "?";
  return db
    .execute(`UPDATE products SET stock = stock WHERE sku = ${marker}`, [sku])
    .then(() => "written")
    .catch((error: Error) => error.message);
}

const lockWaitError = { postgres: /canceling statement due to lock timeout/, mysql: /Lock wait timeout exceeded/ };

describe.each(kinds)("%s", (kind) => {
  it("db.lock_contention on a table makes a writer time out during the hold; it writes after rollback", async () => {
    const db = await shop(kind);
    const before = await databaseState(db.url, kind);
    let during: Promise<string[]> | undefined;
    const { report, events } = await runDatabaseExperiment({
      url: db.url,
      dbType: kind,
      duration: "4s",
      skills: [{ skill_name: "db.lock_contention", params: { tables: ["products"] } }],
      onEvent: (event) => {
        if (event.type !== "hold_started") return;
        during = (async () => {
          await setLockWait(db, kind === "postgres" ? 0.2 : 1);
          const short = await tryWrite(db, "SKU-1");
          // A wait longer than the sampling interval, so the once-a-second sampler sees a session blocked on the lock.
          await setLockWait(db, 2);
          const long = await tryWrite(db, "SKU-2");
          return [short, long];
        })();
      },
    });
    expect(report.error).toBeUndefined();
    expect(report.status).toBe("succeeded");
    expect(report.skills[0]?.plan).toMatch(kind === "postgres" ? /in ACCESS EXCLUSIVE mode/ : /in WRITE mode/);
    const [short, long] = (await during) ?? [];
    expect(short).toMatch(lockWaitError[kind]);
    expect(long).toMatch(lockWaitError[kind]);
    expect(report.skills[0]?.metrics).toMatchObject({ tables_locked: 1, server_samples: expect.any(Number) });
    expect(report.skills[0]?.metrics?.peak_server_lock_waits).toBeGreaterThanOrEqual(1);
    expect(report.skills[0]?.metrics?.lock_wait_samples).toBeGreaterThanOrEqual(1);
    expect(events.some((event) => event.type === "observation" && Number(event.metrics.server_lock_waits) >= 1)).toBe(true);
    expect(report.rollback).toMatchObject({ steps: 1, done: 1, failed: [], conflicts: [] });
    await setLockWait(db, 1);
    expect(await tryWrite(db, "SKU-1")).toBe("written");
    expect(await databaseState(db.url, kind)).toEqual(before);
  });

  it("db.lock_contention with rows locks only those rows", async () => {
    const db = await shop(kind);
    let during: Promise<string[]> | undefined;
    const { report } = await runDatabaseExperiment({
      url: db.url,
      dbType: kind,
      duration: "2s",
      skills: [{ skill_name: "db.lock_contention", params: { tables: ["products"], rows: 3 } }],
      onEvent: (event) => {
        if (event.type !== "hold_started") return;
        during = (async () => {
          await setLockWait(db, kind === "postgres" ? 0.2 : 1);
          // Key order: SKU-1, SKU-10, SKU-11 are the first three; SKU-9 is not among them.
          return [await tryWrite(db, "SKU-1"), await tryWrite(db, "SKU-9")];
        })();
      },
    });
    expect(report.error).toBeUndefined();
    expect(report.skills[0]?.summary).toMatch(/locked 3 row\(s\) of \S*products \(sku SKU-1 … SKU-11\)/);
    const [locked, free] = (await during) ?? [];
    expect(locked).toMatch(lockWaitError[kind]);
    expect(free).toBe("written");
    expect(report.rollback).toMatchObject({ done: 1, failed: [] });
    expect(await tryWrite(db, "SKU-1")).toBe("written");
  });

  it("db.lock_contention refuses a mode the database does not have, and mode together with rows", async () => {
    const db = await shop(kind);
    const run = (params: Record<string, unknown>) =>
      runDatabaseExperiment({ url: db.url, dbType: kind, skills: [{ skill_name: "db.lock_contention", params }] });
    await expect(run({ tables: ["products"], mode: "exclusive", rows: 2 })).rejects.toThrow(/give either mode \(a table lock\) or rows/);
    if (kind === "mysql") {
      await expect(run({ tables: ["products"], mode: "share_row_exclusive" })).rejects.toThrow(
        /mode: share_row_exclusive is a PostgreSQL lock mode; on MySQL\/MariaDB use write or read/,
      );
    } else {
      await expect(run({ tables: ["nope"] })).rejects.toThrow(/unknown table "nope"/);
    }
  });
});
