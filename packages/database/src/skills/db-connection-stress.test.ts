import { type Journal, openSqliteJournal } from "@chaos-agents/core";
import { databaseState, runDatabaseExperiment, type TestDatabase, type TestDatabaseKind, useTestDatabases } from "@chaos-agents/testing";
import { describe, expect, it } from "vitest";

const kinds: TestDatabaseKind[] = ["postgres", "mysql"];
const { shop } = useTestDatabases();

/** Connections the server itself shows as chaos's: by application_name on PostgreSQL, by journaled id on MySQL. */
async function chaosConnections(db: TestDatabase, journal: Journal, experimentId: string): Promise<number> {
  if (db.kind === "postgres") {
    const rows = await db.execute("SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = $1", [`chaos-${experimentId}`]);
    return Number(rows[0]?.n);
  }
  const ids = (await journal.steps(experimentId)).flatMap((step) => (step.undo as { serverIds: number[] }).serverIds);
  if (ids.length === 0) return 0;
  const rows = await db.execute(`SELECT COUNT(*) AS n FROM information_schema.PROCESSLIST WHERE ID IN (${ids.map(Number).join(", ")})`);
  return Number(rows[0]?.n);
}

describe.each(kinds)("%s", (kind) => {
  it("db.connection_stress holds the connections during the hold and closes every one at rollback", async () => {
    const db = await shop(kind);
    const before = await databaseState(db.url, kind);
    const journal = openSqliteJournal(":memory:");
    let experimentId = "";
    let during: Promise<number> | undefined;
    const { report, events } = await runDatabaseExperiment({
      url: db.url,
      dbType: kind,
      duration: "1500ms",
      journal,
      skills: [{ skill_name: "db.connection_stress", params: { connections: 12 } }],
      onEvent: (event) => {
        if (event.type === "hold_started") {
          experimentId = event.experimentId ?? "";
          during = chaosConnections(db, journal, experimentId);
        }
      },
    });
    expect(report.error).toBeUndefined();
    expect(report.status).toBe("succeeded");
    expect(await during).toBe(12);
    expect(report.skills[0]?.metrics).toMatchObject({
      connections_requested: 12,
      connections_opened: 12,
      server_samples: expect.any(Number),
    });
    expect(report.skills[0]?.metrics?.peak_server_connections).toBeGreaterThanOrEqual(12);
    expect(events.some((event) => event.type === "observation" && event.metrics.connections_held === 12)).toBe(true);
    expect(report.rollback).toMatchObject({ failed: [], conflicts: [] });
    expect(report.rollback.done).toBe(report.rollback.steps);
    expect(await chaosConnections(db, journal, experimentId)).toBe(0);
    expect(await databaseState(db.url, kind)).toEqual(before);
    await journal.close();
  });

  it("db.connection_stress caps a fraction at what the server can spare", async () => {
    const db = await shop(kind);
    const { report } = await runDatabaseExperiment({
      url: db.url,
      dbType: kind,
      skills: [{ skill_name: "db.connection_stress", params: { fraction: 1 } }],
    });
    expect(report.error).toBeUndefined();
    expect(report.skills[0]?.plan).toMatch(/capped from \d+: max_connections \d+ − \d+ reserved − \d+ in use − \d+ safety margin/);
    const { connections_opened: opened, connections_requested: requested } = report.skills[0]?.metrics ?? {};
    expect(opened).toBe(requested);
    expect(report.rollback).toMatchObject({ failed: [], conflicts: [] });
  });

  it("db.connection_stress refuses more connections than the server can spare, before any change", async () => {
    const db = await shop(kind);
    const before = await databaseState(db.url, kind);
    const journal = openSqliteJournal(":memory:");
    await expect(
      runDatabaseExperiment({
        url: db.url,
        dbType: kind,
        journal,
        skills: [{ skill_name: "db.connection_stress", params: { connections: 5000 } }],
      }),
    ).rejects.toThrow(/db\.connection_stress: connections: 5000 is more than the server can spare: at most \d+ \(max_connections/);
    expect(await journal.unfinishedExperiments()).toEqual([]);
    expect(await databaseState(db.url, kind)).toEqual(before);
    await journal.close();
  });
});
