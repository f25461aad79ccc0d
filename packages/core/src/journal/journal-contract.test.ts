import { join } from "node:path";
import { createTestDatabase, makeTempDirectory } from "@chaos-agents/testing";
import pg from "pg";
import { afterAll, afterEach, describe, expect, it, vi } from "vitest";
import { ownerState } from "../engine/experiment-owner.js";
import type { ExperimentOwner, Journal } from "./journal.js";
import { openPostgresJournal, withDurableCommits } from "./postgres-journal.js";
import { openSqliteJournal } from "./sqlite-journal.js";

/**
 * One contract, two stores: every test below runs against SQLite (a file of its own) and against
 * PostgreSQL (a database of its own on the machine's server).
 */
interface JournalPlace {
  /** Opens a journal there; several may be open at once, like several processes. */
  open(): Promise<Journal>;
  remove(): Promise<void>;
}

const temp = makeTempDirectory();
afterAll(temp.remove);

let places = 0;
const stores: { name: string; place: () => Promise<JournalPlace> }[] = [
  {
    name: "sqlite",
    place: async () => {
      const path = join(temp.path, `journal-${++places}`, "journal.sqlite");
      return { open: async () => openSqliteJournal(path), remove: async () => undefined };
    },
  },
  {
    name: "postgres",
    place: async () => {
      const database = await createTestDatabase("postgres");
      return { open: () => openPostgresJournal(database.url), remove: () => database.drop() };
    },
  },
];

const experiment = (id: string, owner?: ExperimentOwner, identity = "postgres://db:5432/shop") => ({
  id,
  name: `exp-${id}`,
  target: "database" as const,
  identity,
  targetConfig: { connection_url: "postgres://app:hunter2@db/shop", password: "hunter2" },
  configFile: "/etc/chaos/daemon.yaml",
  configHash: "abc123",
  plugins: ["/opt/plugin.js"],
  startedAt: new Date().toISOString(),
  deadline: new Date(Date.now() + 60_000).toISOString(),
  owner,
});

const ownerA: ExperimentOwner = { host: "host-a", pid: 101, start: "boot:1" };
const ownerB: ExperimentOwner = { host: "host-b", pid: 202, start: "boot:2" };
const day = 86_400_000;

describe.each(stores)("journal contract on $name", ({ place: makePlace }) => {
  let place: JournalPlace | undefined;
  const opened: Journal[] = [];
  const open = async () => {
    place ??= await makePlace();
    const journal = await place.open();
    opened.push(journal);
    return journal;
  };
  afterEach(async () => {
    for (const journal of opened.splice(0)) await journal.close().catch(() => undefined);
    await place?.remove();
    place = undefined;
  });

  it("keeps steps across a reopen, returns pending ones newest first, and never stores the target's secrets", async () => {
    const writer = await open();
    await writer.beginExperiment(experiment("e1", ownerA));
    const first = await writer.recordStep("e1", "db.insert_load", { keys: [1, 2] });
    const second = await writer.recordStep("e1", "db.insert_load", { keys: [3] });
    // Undo data is application data: key order, big numbers as text and look-alike secrets round-trip exactly.
    const image = { z: 1, a: "9007199254740993123", password: "row value kept exactly", nested: { b: null, a: [true, 1.5] } };
    const third = await writer.recordStep("e1", "db.update_load", image);
    await writer.markStepDone(first);
    await writer.recordStepCheckpoint(second, { restoreTransaction: "42" });
    await writer.close(); // as if the process died here
    opened.splice(opened.indexOf(writer), 1);

    const reader = await open();
    expect((await reader.unfinishedExperiments()).map((record) => record.id)).toEqual(["e1"]);
    expect((await reader.pendingSteps("e1")).map((step) => step.id)).toEqual([third, second]);
    const undo = (await reader.pendingSteps("e1"))[0]?.undo;
    expect((await reader.pendingSteps("e1"))[1]?.checkpoint).toEqual({ restoreTransaction: "42" });
    expect(JSON.stringify(undo)).toBe(JSON.stringify(image));
    const record = await reader.experiment("e1");
    expect(record).toMatchObject({
      name: "exp-e1",
      identity: "postgres://db:5432/shop",
      targetConfig: { connection_url: "postgres://app:***@db/shop", password: "***" },
      configFile: "/etc/chaos/daemon.yaml",
      configHash: "abc123",
      plugins: ["/opt/plugin.js"],
      status: "running",
      owner: ownerA,
    });
    expect(Date.parse(record?.heartbeatAt ?? "")).toBeGreaterThan(Date.now() - 60_000);

    await reader.markStepFailed(third, "connection lost");
    expect((await reader.pendingSteps("e1"))[0]).toMatchObject({ status: "failed", error: "connection lost" });
    await reader.markStepDone(third, ["row 7 changed since"]);
    await reader.markStepDone(second);
    await reader.finishExperiment("e1", "finished", "succeeded");
    await reader.recordReportPath("e1", "/var/lib/chaos/reports/e1.json");
    expect(await reader.unfinishedExperiments()).toEqual([]);
    expect((await reader.steps("e1")).find((step) => step.id === third)?.conflicts).toEqual(["row 7 changed since"]);
    expect(await reader.experiment("e1")).toMatchObject({
      status: "finished",
      outcome: "succeeded",
      reportPath: "/var/lib/chaos/reports/e1.json",
    });
  });

  it("counts an experiment with a pending step as unfinished even if it was marked finished", async () => {
    const journal = await open();
    await journal.beginExperiment(experiment("e2"));
    await journal.recordStep("e2", "x.y", {});
    await journal.finishExperiment("e2", "finished");
    expect((await journal.unfinishedExperiments()).map((record) => record.id)).toEqual(["e2"]);
  });

  it("lists history newest first, up to the limit", async () => {
    const journal = await open();
    for (const [index, id] of ["old", "mid", "new"].entries()) {
      await journal.beginExperiment({ ...experiment(id), startedAt: new Date(Date.now() - (3 - index) * 1000).toISOString() });
    }
    expect((await journal.history(2)).map((record) => record.id)).toEqual(["new", "mid"]);
    expect(await journal.experiment("nothing")).toBeUndefined();
  });

  it("beats the heart only for the owner, and lets exactly one of two concurrent claims win", async () => {
    const first = await open();
    const second = await open();
    await first.beginExperiment(experiment("e3", ownerA));
    expect(await first.heartbeat("e3", ownerA)).toBe(true);
    expect(await first.heartbeat("e3", ownerB)).toBe(false);
    await first.finishExperiment("e3", "rollback_incomplete");

    const claimants = Array.from({ length: 8 }, (_, index) => ({ host: `claimant-${index}`, pid: index, start: "" }));
    const results = await Promise.all(
      claimants.map((claimant, index) => (index % 2 ? first : second).claimExperiment("e3", ownerA, claimant)),
    );
    expect(results.filter(Boolean)).toHaveLength(1);
    const winner = claimants[results.indexOf(true)];
    const record = await second.experiment("e3");
    expect(record).toMatchObject({ owner: winner, status: "running" });
    expect(await first.heartbeat("e3", ownerA)).toBe(false); // the old owner learns it was taken over
    // An experiment begun without an owner is claimed by expecting none.
    await first.beginExperiment(experiment("e4"));
    expect(await second.claimExperiment("e4", undefined, ownerB)).toBe(true);
    expect(await first.claimExperiment("e4", undefined, ownerA)).toBe(false);
  });

  it("prunes finished experiments' undo data after the retention time and their records later, never unfinished ones", async () => {
    const journal = await open();
    for (const id of ["done", "stuck"]) {
      await journal.beginExperiment(experiment(id));
      await journal.recordStep(id, "db.update_load", { before: { balance: "100" } });
    }
    for (const step of await journal.pendingSteps("done")) await journal.markStepDone(step.id);
    await journal.finishExperiment("done", "finished");
    await journal.finishExperiment("stuck", "rollback_incomplete");
    const retention = { undoAfterMs: 7 * day, recordAfterMs: 90 * day };
    const inDays = (days: number) => new Date(Date.now() + days * day);

    expect(await journal.prune(retention, inDays(6))).toEqual({ undoPruned: 0, recordsDeleted: 0 });
    expect(await journal.prune(retention, inDays(8))).toEqual({ undoPruned: 1, recordsDeleted: 0 });
    expect((await journal.steps("done"))[0]?.undo).toBeNull(); // the before-image is gone…
    expect((await journal.experiment("done"))?.status).toBe("finished"); // …the summary stays
    expect(await journal.prune(retention, inDays(91))).toEqual({ undoPruned: 0, recordsDeleted: 1 });
    expect(await journal.experiment("done")).toBeUndefined();
    expect((await journal.steps("stuck"))[0]?.undo).toEqual({ before: { balance: "100" } }); // still needed by recover
    expect((await journal.unfinishedExperiments()).map((record) => record.id)).toEqual(["stuck"]);
  });

  it("gives each scheduled run to exactly one of many concurrent claimants", async () => {
    const journals = [await open(), await open(), await open()];
    const scheduledAt = "2026-11-30T02:00:00.000Z";
    const claimants = Array.from({ length: 12 }, (_, index) => ({ host: `daemon-${index}`, pid: 1000 + index, start: "s" }));
    const results = await Promise.all(
      claimants.map((owner, index) =>
        journals[index % 3]!.claimScheduledRun({ experimentName: "nightly", scheduledAt, identity: "db-1", owner, lapseMs: 30_000 }),
      ),
    );
    expect(results.filter((result) => result.claimed)).toHaveLength(1);
    const runs = await journals[0]!.scheduledRuns(10);
    expect(runs).toHaveLength(1);
    expect(runs[0]).toMatchObject({
      experimentName: "nightly",
      scheduledAt,
      owner: claimants[results.findIndex((result) => result.claimed)],
    });
    const refusal = results.find((result) => !result.claimed);
    expect(refusal).toMatchObject({ claimed: false, reason: expect.stringContaining("was claimed by process") });
  });

  it("keeps a live claim's experiment and target busy until it finishes or its heartbeat lapses", async () => {
    const journal = await open();
    const claim = (experimentName: string, second: number, identity: string, owner: ExperimentOwner, lapseMs = 30_000) =>
      journal.claimScheduledRun({ experimentName, scheduledAt: `2026-11-30T02:00:0${second}.000Z`, identity, owner, lapseMs });

    expect(await claim("a", 1, "db-1", ownerA)).toEqual({ claimed: true });
    expect(await claim("a", 2, "db-2", ownerB)).toMatchObject({
      claimed: false,
      reason: expect.stringContaining("is still going in process 101 on host-a"),
    });
    expect(await claim("b", 2, "db-1", ownerB)).toMatchObject({ claimed: false, reason: expect.stringContaining("same target db-1") });
    expect(await claim("b", 2, "db-2", ownerB)).toEqual({ claimed: true });
    expect(await journal.heartbeatScheduledRuns(ownerA)).toBe(1);
    // A dead daemon's claim stops blocking once its heartbeat is older than the lapse time.
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(await claim("a", 3, "db-1", ownerB, 10)).toEqual({ claimed: true });

    await journal.finishScheduledRun("b", "2026-11-30T02:00:02.000Z", "exp-123");
    expect(await claim("b", 4, "db-2", ownerA)).toEqual({ claimed: true });
    const finished = (await journal.scheduledRuns(10)).find((run) => run.experimentName === "b" && run.scheduledAt.endsWith("02.000Z"));
    expect(finished).toMatchObject({ experimentId: "exp-123", finishedAt: expect.any(String) });
    // A finished claim stays, so the same scheduled run is never claimed again.
    expect(await claim("b", 2, "db-2", ownerA)).toMatchObject({ claimed: false });
  });
});

describe("postgres journal", () => {
  it("creates its schema once when several daemons start together, in its own schema, idempotently", async () => {
    const database = await createTestDatabase("postgres");
    try {
      const journals = await Promise.all([1, 2, 3].map(() => openPostgresJournal(database.url)));
      for (const journal of journals) await journal.close();
      await (await openPostgresJournal(database.url)).close(); // a restart migrates nothing
      const versions = await database.execute("SELECT version FROM chaos_journal.migrations ORDER BY version");
      expect(versions).toEqual([{ version: 1 }, { version: 2 }, { version: 3 }]);
      // A journal made by the first release (version 1 only) gains what came later, its rows kept.
      const old = await openPostgresJournal(database.url);
      await old.beginExperiment(experiment("from-v1"));
      await old.recordStep("from-v1", "x.y", { kept: true });
      await old.close();
      await database.execute(
        "ALTER TABLE chaos_journal.steps DROP COLUMN checkpoint, DROP COLUMN request_id; DELETE FROM chaos_journal.migrations WHERE version > 1",
      );
      const upgraded = await openPostgresJournal(database.url);
      const [step] = await upgraded.pendingSteps("from-v1");
      await upgraded.recordStepCheckpoint(step!.id, { after: "upgrade" });
      expect(await upgraded.pendingSteps("from-v1")).toMatchObject([{ undo: { kept: true }, checkpoint: { after: "upgrade" } }]);
      await upgraded.close();
      const tables = await database.execute(
        "SELECT table_schema, table_name FROM information_schema.tables WHERE table_schema NOT IN ('pg_catalog', 'information_schema') ORDER BY 2",
      );
      expect(tables).toEqual(
        ["experiments", "migrations", "scheduled_runs", "steps"].map((table_name) => ({ table_schema: "chaos_journal", table_name })),
      );
    } finally {
      await database.drop();
    }
  });

  it("never shows the URL's password: not in its location, not in a connection error", async () => {
    const database = await createTestDatabase("postgres");
    try {
      const url = database.url.replace("postgres@", "postgres:Sw0rdfish-s3cret@");
      const journal = await openPostgresJournal(url);
      expect(journal.location).not.toContain("Sw0rdfish-s3cret");
      expect(journal.location).toContain("***");
      await journal.close();
      const unreachable = "postgres://chaos:Sw0rdfish-s3cret@127.0.0.1:1/journal";
      const error = await openPostgresJournal(unreachable).then(
        () => undefined,
        (failure: Error) => failure,
      );
      expect(error?.message).toMatch(/cannot prepare the journal in postgres:\/\/chaos:\*\*\*@127\.0\.0\.1:1\/journal/);
      expect(`${error?.message} ${String((error?.cause as Error | undefined)?.message)}`).not.toContain("Sw0rdfish-s3cret");
    } finally {
      await database.drop();
    }
  });

  it("commits durably: its connections run with synchronous_commit on even where the database turns it off", async () => {
    const database = await createTestDatabase("postgres");
    try {
      await database.execute(`ALTER DATABASE ${database.name} SET synchronous_commit = off`);
      for (const url of [database.url, `${database.url}?options=-c%20statement_timeout%3D5000`]) {
        const client = new pg.Client(withDurableCommits(url));
        await client.connect();
        const settings = await client.query(
          "SELECT current_setting('synchronous_commit') AS commit, current_setting('statement_timeout') AS timeout",
        );
        await client.end();
        expect(settings.rows[0].commit).toBe("on");
        if (url.includes("options")) expect(settings.rows[0].timeout).toBe("5s"); // the URL's own options are kept
      }
      const plain = new pg.Client({ connectionString: database.url });
      await plain.connect();
      const fallback = await plain.query("SELECT current_setting('synchronous_commit') AS commit");
      await plain.end();
      expect(fallback.rows[0].commit).toBe("off"); // so the test above could fail
    } finally {
      await database.drop();
    }
  });

  it("judges heartbeats by the database server's clock, so a daemon whose clock is an hour off still sees a live owner alive", async () => {
    const database = await createTestDatabase("postgres");
    try {
      const owner = { host: "elsewhere.invalid", pid: 7, start: "s" };
      const writer = await openPostgresJournal(database.url);
      await writer.beginExperiment(experiment("skewed", owner));
      expect(await writer.heartbeat("skewed", owner)).toBe(true);
      await writer.claimScheduledRun({
        experimentName: "x",
        scheduledAt: "2026-11-30T02:00:00.000Z",
        identity: "db",
        owner,
        lapseMs: 30_000,
      });
      vi.useFakeTimers({ toFake: ["Date"] });
      try {
        for (const skew of [3_600_000, -3_600_000]) {
          vi.setSystemTime(new Date(Date.now() + skew)); // this "machine's" clock is an hour off
          const record = await writer.experiment("skewed");
          expect(ownerState(owner, record?.heartbeatAt)).toBe("alive");
          const [run] = await writer.scheduledRuns(1);
          expect(ownerState(run!.owner, run!.heartbeatAt)).toBe("alive");
          const other = { ...owner, host: "other.invalid" };
          const claim = { experimentName: "x", scheduledAt: "2026-11-30T02:00:01.000Z", identity: "db", owner: other, lapseMs: 30_000 };
          expect(await writer.claimScheduledRun(claim)).toMatchObject({ claimed: false, kind: "overlap" });
          vi.setSystemTime(new Date(Date.now() - skew));
        }
      } finally {
        vi.useRealTimers();
      }
      // …and a heartbeat older than the lapse on the server's clock is gone, whatever this clock says.
      await database.execute("UPDATE chaos_journal.experiments SET heartbeat_at = clock_timestamp() - interval '40 seconds'");
      expect(ownerState(owner, (await writer.experiment("skewed"))?.heartbeatAt)).toBe("gone");
      await writer.close();
    } finally {
      await database.drop();
    }
  });

  it("goes on after the server dropped its connections (a restart, a failover): the next call reconnects", async () => {
    const database = await createTestDatabase("postgres");
    try {
      const journal = await openPostgresJournal(database.url);
      await journal.beginExperiment(experiment("dropped"));
      await journal.recordStep("dropped", "x.y", { before: 1 });
      const dropped = await database.execute(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND application_name = 'chaos-agents journal'",
      );
      expect(dropped.length).toBeGreaterThan(0);
      await journal.recordStep("dropped", "x.y", { before: 2 });
      expect((await journal.pendingSteps("dropped")).map((step) => step.undo)).toEqual([{ before: 2 }, { before: 1 }]);
      await journal.close();
    } finally {
      await database.drop();
    }
  });
});
