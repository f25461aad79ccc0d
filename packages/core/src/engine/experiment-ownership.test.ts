import { type ChildProcess, spawn } from "node:child_process";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { createRecordingTarget, makeTempDirectory, newWorld } from "@chaos-agents/testing";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { EventBus } from "../events/event-bus.js";
import type { ExperimentOwner, Journal } from "../journal/journal.js";
import { openSqliteJournal } from "../journal/sqlite-journal.js";
import { currentOwner, heartbeatLapseMs, ownerOfProcess, ownerState } from "./experiment-owner.js";
import { recoverExperiments } from "./recover.js";

const temp = makeTempDirectory();
afterAll(temp.remove);
const children: ChildProcess[] = [];
afterEach(() => {
  for (const child of children.splice(0)) child.kill("SIGKILL");
});

/** A live process on this host standing in for a `chaos run` that owns an experiment. */
async function liveOwner(): Promise<{ owner: ExperimentOwner; child: ChildProcess; exited: Promise<NodeJS.Signals | null> }> {
  const child = spawn("sleep", ["60"], { stdio: "ignore" });
  children.push(child);
  const exited = new Promise<NodeJS.Signals | null>((resolve) => child.on("exit", (_code, signal) => resolve(signal)));
  await new Promise((resolve) => child.on("spawn", resolve));
  return { owner: ownerOfProcess(child.pid!), child, exited };
}

/** A journal holding one experiment whose step set `alpha` to "chaos" in the recording world. */
async function journaledExperiment(owner: ExperimentOwner | undefined, journalPath = ":memory:") {
  const world = newWorld();
  const { registry } = createRecordingTarget("server", world);
  const journal: Journal = openSqliteJournal(journalPath);
  await journal.beginExperiment({
    id: "e1",
    name: "held",
    target: "server",
    identity: "memory://world",
    targetConfig: { name: "world" },
    plugins: [],
    startedAt: new Date().toISOString(),
    deadline: new Date().toISOString(),
    owner,
  });
  world.values.set("alpha", "chaos");
  await journal.recordStep("e1", "server.set_value", { name: "alpha", before: "1", after: "chaos" });
  return { world, registry, journal, events: new EventBus() };
}

describe("experiment ownership", () => {
  it("recover leaves an experiment alone while its owner process lives, and says which process", async () => {
    const { owner } = await liveOwner();
    const { world, ...options } = await journaledExperiment(owner);
    const result = await recoverExperiments(options);
    expect(result.recovered).toEqual([]);
    expect(result.skipped).toEqual([
      expect.objectContaining({ experimentId: "e1", owner, reason: expect.stringContaining(`process ${owner.pid}`) }),
    ]);
    expect(world.values.get("alpha")).toBe("chaos");
    expect(await options.journal.pendingSteps("e1")).toHaveLength(1);
  });

  it("recover takes over a dead owner's experiment, and a pid reused by another process does not count as the owner", async () => {
    const { owner, child, exited } = await liveOwner();
    child.kill("SIGKILL");
    await exited;
    // The dead owner, and a live process (this one) whose start time is not the recorded owner's.
    for (const dead of [owner, { ...owner, pid: process.pid }]) {
      const { world, ...options } = await journaledExperiment(dead);
      expect(ownerState(dead, undefined)).toBe("gone");
      const result = await recoverExperiments(options);
      expect(result.skipped).toEqual([]);
      expect(result.recovered[0]?.rollback.failed).toEqual([]);
      expect(world.values.get("alpha")).toBe("1");
      expect((await options.journal.experiment("e1"))?.owner).toEqual(currentOwner());
    }
  });

  it("recover --force stops a live owner on this host first (SIGTERM), then rolls back", async () => {
    const { owner, exited } = await liveOwner();
    const { world, ...options } = await journaledExperiment(owner);
    const result = await recoverExperiments({ ...options, force: true });
    expect(await exited).toBe("SIGTERM");
    expect(result.skipped).toEqual([]);
    expect(world.values.get("alpha")).toBe("1");
  });

  it("another host's owner is alive while its heartbeat is fresh, even for --force, and is taken over once it lapsed", async () => {
    const remote: ExperimentOwner = { host: "elsewhere.invalid", pid: 4242, start: "boot:1" };
    const journalPath = join(temp.path, "remote-owner.sqlite");
    const { world, ...options } = await journaledExperiment(remote, journalPath);
    const forced = await recoverExperiments({ ...options, force: true });
    expect(forced.skipped[0]?.reason).toContain("heartbeat is not yet");
    expect(world.values.get("alpha")).toBe("chaos");

    // The remote owner's last heartbeat is now older than the lapse: it counts as gone.
    const lastHeartbeat = new Date(Date.now() - heartbeatLapseMs - 1000).toISOString();
    new DatabaseSync(journalPath).exec(`UPDATE experiments SET heartbeat_at = '${lastHeartbeat}'`);
    const result = await recoverExperiments(options);
    expect(result.skipped).toEqual([]);
    expect(result.recovered).toHaveLength(1);
    expect(world.values.get("alpha")).toBe("1");
  });

  it("of two recovers at once only one claims the experiment; the other skips it", async () => {
    const { owner, child, exited } = await liveOwner();
    child.kill("SIGKILL");
    await exited;
    const { world, ...options } = await journaledExperiment(owner);
    const [first, second] = await Promise.all([recoverExperiments(options), recoverExperiments(options)]);
    const recovered = [...first.recovered, ...second.recovered];
    const skipped = [...first.skipped, ...second.skipped];
    expect(recovered).toHaveLength(1);
    // The second finds the experiment claimed by a live recover (this process), or loses the
    // compare-and-swap to it when both read the journal before either claimed; it leaves it alone.
    const byThisProcess = new RegExp(`running in process ${process.pid}|another process \\(${process.pid} on [^)]+\\) claimed it first`);
    expect(skipped).toEqual([expect.objectContaining({ reason: expect.stringMatching(byThisProcess) })]);
    expect(world.values.get("alpha")).toBe("1");
  });

  it("the journal's claim is a compare-and-swap, and an owner's heartbeat fails once it was taken over", async () => {
    const { journal } = await journaledExperiment({ host: "h", pid: 1, start: "s" });
    const first = { host: "h", pid: 2, start: "a" };
    const second = { host: "h", pid: 3, start: "b" };
    expect(await journal.heartbeat("e1", { host: "h", pid: 1, start: "s" })).toBe(true);
    expect(await journal.claimExperiment("e1", { host: "h", pid: 1, start: "s" }, first)).toBe(true);
    expect(await journal.claimExperiment("e1", { host: "h", pid: 1, start: "s" }, second)).toBe(false);
    expect(await journal.heartbeat("e1", { host: "h", pid: 1, start: "s" })).toBe(false);
    expect((await journal.experiment("e1"))?.owner).toEqual(first);
  });
});
