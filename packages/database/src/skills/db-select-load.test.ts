import { databaseState, runDatabaseExperiment, type TestDatabaseKind, useTestDatabases } from "@chaos-agents/testing";
import { describe, expect, it } from "vitest";

const kinds: TestDatabaseKind[] = ["postgres", "mysql"];
const { shop } = useTestDatabases();

describe.each(kinds)("%s", (kind) => {
  it("db.select_load runs every query kind, measures latency and samples the server once a second", async () => {
    const db = await shop(kind);
    const before = await databaseState(db.url, kind);
    const { report, events } = await runDatabaseExperiment({
      url: db.url,
      dbType: kind,
      duration: "2500ms",
      skills: [{ skill_name: "db.select_load", params: { concurrency: 3 } }],
    });
    expect(report.error).toBeUndefined();
    expect(report.status).toBe("succeeded");
    const metrics = report.skills[0]?.metrics ?? {};
    expect(metrics.queries).toBeGreaterThan(100);
    expect(metrics.queries_per_second).toBeGreaterThan(0);
    expect(metrics.errors).toBe(0);
    for (const queryKind of ["point", "range", "full_scan", "aggregate", "join"])
      expect(metrics[`${queryKind}_queries`]).toBeGreaterThan(0);
    expect(metrics.latency_p99_ms).toBeGreaterThanOrEqual(Number(metrics.latency_p50_ms));
    expect(metrics.server_samples).toBeGreaterThanOrEqual(2);
    // The server saw the three workers (and the sampler) connected.
    expect(metrics.peak_server_connections).toBeGreaterThanOrEqual(4);
    const observations = events.filter((event) => event.type === "observation" && event.skill === "db.select_load");
    expect(observations.length).toBeGreaterThanOrEqual(2);
    expect(observations[0]).toMatchObject({ metrics: { server_connections: expect.any(Number), server_active: expect.any(Number) } });
    expect(report.rollback).toMatchObject({ steps: 0, failed: [] });
    expect(await databaseState(db.url, kind)).toEqual(before);
  });

  it("db.select_load stops after `queries` point lookups of real keys", async () => {
    const db = await shop(kind);
    const { report } = await runDatabaseExperiment({
      url: db.url,
      dbType: kind,
      duration: "3s",
      skills: [{ skill_name: "db.select_load", params: { concurrency: 2, queries: 300, mix: { point: 1 }, tables: ["customers"] } }],
    });
    expect(report.error).toBeUndefined();
    expect(report.skills[0]?.metrics).toMatchObject({ queries: 300, point_queries: 300, errors: 0 });
  });

  it("db.select_load refuses a mix no chosen table supports, before anything runs", async () => {
    const db = await shop(kind);
    await expect(
      runDatabaseExperiment({
        url: db.url,
        dbType: kind,
        skills: [{ skill_name: "db.select_load", params: { tables: ["products"], mix: { join: 1 } } }],
      }),
    ).rejects.toThrow(/db\.select_load: mix: none of the chosen query kinds can run on .*products.*no foreign key/);
  });
});
