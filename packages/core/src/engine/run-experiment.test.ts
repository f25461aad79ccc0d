import { createRecordingTarget, newWorld, type RecordingFaults } from "@chaos-agents/testing";
import { describe, expect, it } from "vitest";
import type { ParsedExperiment } from "../config/config-schema.js";
import { type ChaosError, ConnectionError, ExitCode, UnfinishedExperimentError } from "../errors/index.js";
import type { ChaosEvent } from "../events/chaos-event.js";
import { EventBus } from "../events/event-bus.js";
import { openSqliteJournal } from "../journal/sqlite-journal.js";
import { ExperimentSession } from "./experiment-session.js";
import { recoverExperiments } from "./recover.js";
import { runExperiment } from "./run-experiment.js";

function experiment(overrides: Partial<ParsedExperiment> = {}): ParsedExperiment {
  return {
    name: "test",
    target: "server",
    target_config: { name: "world" },
    skills: [{ skill_name: "server.set_value", params: { value: "chaos", repeat: 1 } }],
    duration: "0s",
    parallel: false,
    resource_filters: [],
    allow_dangerous: false,
    ...overrides,
  };
}

function setup(faults: RecordingFaults = {}) {
  const world = newWorld();
  const { registry } = createRecordingTarget("server", world, faults);
  const journal = openSqliteJournal(":memory:");
  const events: ChaosEvent[] = [];
  const bus = new EventBus([{ handle: (event) => events.push(event) }]);
  const before = new Map(world.values);
  return { world, registry, journal, events, bus, before, options: { registry, journal, events: bus } };
}

describe("runExperiment", () => {
  it("injects, holds, rolls back in LIFO order and leaves the target as it was", async () => {
    const { world, journal, events, before, options } = setup();
    const report = await runExperiment(experiment({ duration: "20ms" }), options);
    expect(report.status).toBe("succeeded");
    expect(world.calls).toEqual(["inject:alpha", "inject:beta", "inject:gamma", "rollback:gamma", "rollback:beta", "rollback:alpha"]);
    expect(world.values).toEqual(before);
    expect(report.heldMs).toBeGreaterThanOrEqual(15);
    expect(report.rollback).toMatchObject({ steps: 3, done: 3, failed: [], conflicts: [] });
    expect(await journal.unfinishedExperiments()).toEqual([]);
    expect(world.connections).toEqual({ opened: 1, closed: 1 });
    expect(events.map((event) => event.type)).toEqual([
      "experiment_started",
      "resources_discovered",
      "skill_planned",
      "skill_injected",
      "hold_started",
      "rollback_started",
      "rollback_step_done",
      "rollback_step_done",
      "rollback_step_done",
      "experiment_finished",
    ]);
  });

  it("acts only on resources the filters allow", async () => {
    const { world, options } = setup();
    await runExperiment(experiment({ resource_filters: ["^(alpha|gamma)$"] }), options);
    expect(world.calls.filter((call) => call.startsWith("inject"))).toEqual(["inject:alpha", "inject:gamma"]);
  });

  it("refuses bad params before changing anything, with an invalid-config exit code", async () => {
    const { world, journal, options } = setup();
    const run = runExperiment(
      experiment({ skills: [{ skill_name: "server.set_value", params: { value: "x", names: ["nope"] } }] }),
      options,
    );
    await expect(run).rejects.toMatchObject({ exitCode: ExitCode.invalidConfig, message: expect.stringContaining("no value named nope") });
    expect(world.calls).toEqual([]);
    expect(await journal.unfinishedExperiments()).toEqual([]);
  });

  it("rolls back everything already done when a skill fails, and reports the failure", async () => {
    const { world, before, options } = setup({ failInjectOf: "beta" });
    const report = await runExperiment(
      experiment({ skills: [{ skill_name: "server.set_value", params: { value: "x", names: ["alpha", "beta", "gamma"] } }] }),
      options,
    );
    expect(report.status).toBe("failed_rolled_back");
    expect(report.error).toBe("inject of beta failed");
    expect(world.calls).toEqual(["inject:alpha", "inject:beta", "rollback:beta", "rollback:alpha"]);
    expect(world.values).toEqual(before);
    expect(report.heldMs).toBe(0);
  });

  it("stops the other skills when one fails in parallel mode", async () => {
    const { world, before, options } = setup({ failInjectOf: "alpha" });
    const report = await runExperiment(
      experiment({
        parallel: true,
        skills: [
          { skill_name: "server.set_value", params: { value: "x", names: ["alpha"] } },
          { skill_name: "server.set_value", params: { value: "y", names: ["beta", "gamma"] } },
        ],
      }),
      options,
    );
    expect(report.status).toBe("failed_rolled_back");
    expect(world.values).toEqual(before);
    expect(world.calls).not.toContain("inject:gamma");
  });

  it("stops load started by inject when the hold ends, and keeps its measurements", async () => {
    const { world, options } = setup();
    const report = await runExperiment(
      experiment({ duration: "30ms", skills: [{ skill_name: "server.observe_values", params: {} }] }),
      options,
    );
    expect(world.calls).toEqual(["observe:start", "observe:stop"]);
    expect(report.skills[0]?.metrics?.reads).toBeGreaterThan(0);
    expect(report.rollback.steps).toBe(0);
  });

  it("on a signal, stops injecting, cuts the hold short and rolls back", async () => {
    const { world, before, options } = setup();
    const controller = new AbortController();
    const started = Date.now();
    const running = runExperiment(experiment({ duration: "1h" }), { ...options, signal: controller.signal });
    setTimeout(() => controller.abort("SIGINT"), 50);
    const report = await running;
    expect(Date.now() - started).toBeLessThan(5000);
    expect(report.status).toBe("interrupted_rolled_back");
    expect(world.values).toEqual(before);
  });

  it("dry run plans and changes nothing", async () => {
    const { world, journal, options, events } = setup();
    const report = await runExperiment(experiment(), { ...options, dryRun: true });
    expect(report.status).toBe("dry_run");
    expect(report.skills[0]?.targets).toEqual(["alpha", "beta", "gamma"]);
    expect(world.calls).toEqual([]);
    expect(await journal.unfinishedExperiments()).toEqual([]);
    expect(events.find((event) => event.type === "skill_planned")).toMatchObject({ summary: "set alpha, beta, gamma to chaos" });
  });

  it("retries a failing rollback step and succeeds when the fault clears", async () => {
    const { world, before, options } = setup({ failRollbackOf: { value: "beta", times: 2 } });
    const report = await runExperiment(experiment(), { ...options, rollbackAttempts: 3 });
    expect(report.status).toBe("succeeded");
    expect(world.calls.filter((call) => call === "rollback:beta")).toHaveLength(3);
    expect(world.values).toEqual(before);
  });

  it("reports a rollback that keeps failing loudly, refuses the next run on that target, and recover finishes it", async () => {
    const faults: RecordingFaults = { failRollbackOf: { value: "beta", times: Number.POSITIVE_INFINITY } };
    const { world, before, journal, registry, bus, options } = setup(faults);
    const report = await runExperiment(experiment(), { ...options, rollbackAttempts: 2 });
    expect(report.status).toBe("rollback_incomplete");
    expect(report.rollback.failed).toEqual([{ stepId: expect.any(Number), skill: "server.set_value", error: "rollback of beta failed" }]);
    expect(world.values.get("beta")).toBe("chaos");
    expect(world.values.get("alpha")).toBe("1"); // the other steps still ran

    await expect(runExperiment(experiment(), options)).rejects.toBeInstanceOf(UnfinishedExperimentError);

    faults.failRollbackOf = undefined; // the outage is over
    const { recovered } = await recoverExperiments({ journal, registry, events: bus });
    expect(recovered).toHaveLength(1);
    expect(recovered[0]?.rollback.failed).toEqual([]);
    expect(world.values).toEqual(before);
    expect(await recoverExperiments({ journal, registry, events: bus })).toEqual({ recovered: [], skipped: [] });
  });

  it("marks conflicts as rollback incomplete without retrying them", async () => {
    const { world, options } = setup({ conflictOn: "alpha" });
    const report = await runExperiment(experiment(), options);
    expect(report.status).toBe("rollback_incomplete");
    expect(report.rollback.conflicts).toEqual(["alpha was changed by someone else"]);
    expect(world.calls.filter((call) => call === "rollback:alpha")).toHaveLength(1);
  });

  it("wraps a connection failure without leaking the password", async () => {
    const { options } = setup({ refuseConnection: true });
    const error = await runExperiment(experiment(), options).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ConnectionError);
    expect((error as ChaosError).exitCode).toBe(ExitCode.connectionFailed);
    expect((error as Error).message).toContain("memory://user:***@world");
    expect((error as Error).message).not.toContain(":pw@");
  });
});

describe("ExperimentSession: the engine's steps one by one", () => {
  it("offers discover, plan, inject, hold and rollBack as separate calls, with the journal between them", async () => {
    const { world, journal, before, options } = setup();
    const run = await ExperimentSession.open(experiment({ duration: "1h" }), options);
    try {
      expect((await run.discover()).resources.map((resource) => resource.name)).toEqual(["alpha", "beta", "gamma"]);
      const planned = await run.plan();
      expect(planned.map((skill) => skill.plan.targets)).toEqual([["alpha", "beta", "gamma"]]);
      expect(world.calls).toEqual([]);
      expect(await journal.unfinishedExperiments()).toEqual([]);

      expect(await run.inject()).toBe(true);
      expect(world.values.get("beta")).toBe("chaos");
      expect((await journal.unfinishedExperiments()).map((record) => record.id)).toEqual([run.experimentId]);

      // A driver (the agent's model) ends the one-hour hold through the observer.
      await run.hold((hold) => setTimeout(() => hold.endHold("seen enough"), 20));
      expect(run.report.holdEndedEarly).toBe("seen enough");

      const report = await run.rollBack();
      expect(report.status).toBe("succeeded");
      expect(world.values).toEqual(before);
      expect(await journal.unfinishedExperiments()).toEqual([]);
      expect(await run.rollBack()).toBe(report); // a second call changes nothing
    } finally {
      await run.close();
    }
    expect(world.connections).toEqual({ opened: 1, closed: 1 });
  });

  it("refuses steps out of order before anything changes", async () => {
    const { world, options } = setup();
    const run = await ExperimentSession.open(experiment(), options);
    try {
      await expect(run.inject()).rejects.toThrow(/out of order/);
      await expect(run.plan()).rejects.toThrow(/out of order/);
      await expect(run.rollBack()).rejects.toThrow(/follows inject/);
      expect(world.calls).toEqual([]);
    } finally {
      await run.close();
    }
  });

  it("a dry run's session plans and refuses to inject", async () => {
    const { world, journal, options } = setup();
    const run = await ExperimentSession.open(experiment(), { ...options, dryRun: true });
    await run.discover();
    await run.plan();
    await expect(run.inject()).rejects.toThrow(/dry run/);
    expect(run.finishWithoutInjecting().status).toBe("dry_run");
    await run.close();
    expect(world.calls).toEqual([]);
    expect(await journal.unfinishedExperiments()).toEqual([]);
  });
});
