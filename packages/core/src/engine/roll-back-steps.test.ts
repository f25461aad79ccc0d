import { join } from "node:path";
import { makeTempDirectory } from "@chaos-agents/testing";
import { afterAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { RollbackBlockedError } from "../errors/index.js";
import { EventBus } from "../events/event-bus.js";
import { openSqliteJournal } from "../journal/sqlite-journal.js";
import type { JsonValue } from "../json.js";
import { Registry } from "../registry.js";
import { type AnySkill, defineSkill } from "../skill.js";
import { rollBackSteps } from "./roll-back-steps.js";

const temp = makeTempDirectory("chaos-roll-back-steps-");
afterAll(temp.remove);

/** A skill whose rollback is scripted per try: it sees the checkpoint and may save one or throw. */
function scriptedSkill(tries: ((checkpoint: JsonValue | undefined, save: (value: JsonValue) => Promise<void>) => Promise<void>)[]) {
  const seen: (JsonValue | undefined)[] = [];
  const skill = defineSkill({
    name: "test.scripted",
    target: "server",
    description: "scripted rollback",
    reversible: true,
    params: z.object({}),
    inject: async () => ({ summary: "" }),
    async rollback({ checkpoint, saveCheckpoint }) {
      seen.push(checkpoint);
      await tries[seen.length - 1]?.(checkpoint, saveCheckpoint);
      return { summary: "undone" };
    },
  });
  return { skill: skill as AnySkill, seen };
}

async function journalWithOneStep(path: string) {
  const journal = openSqliteJournal(path);
  await journal.beginExperiment({
    id: "e1",
    name: "exp",
    target: "server",
    identity: "test://",
    targetConfig: {},
    plugins: [],
    startedAt: new Date().toISOString(),
    deadline: new Date().toISOString(),
  });
  return { journal, stepId: await journal.recordStep("e1", "test.scripted", { undo: true }) };
}

describe("rollBackSteps", () => {
  it("hands a step's next try the checkpoint its last try saved, also after the journal is reopened (chaos recover)", async () => {
    const path = join(temp.path, "checkpoint.sqlite");
    const { journal, stepId } = await journalWithOneStep(path);
    const { skill, seen } = scriptedSkill([
      async (_, save) => {
        await save({ restoreTransaction: "42" });
        throw new Error("connection lost after the checkpoint");
      },
      async (checkpoint) => {
        expect(checkpoint).toEqual({ restoreTransaction: "42" });
        throw new Error("still down");
      },
    ]);
    const registry = new Registry().addSkill(skill);
    const session = { identity: "test://", discover: async () => ({ resources: [] }), close: async () => undefined };
    const first = await rollBackSteps({
      experimentId: "e1",
      journal,
      registry,
      session,
      events: new EventBus(),
      attempts: 2,
      retryDelayMs: 1,
    });
    expect(first.failed).toEqual([{ stepId, skill: "test.scripted", error: "still down" }]);
    await journal.close();

    const reopened = openSqliteJournal(path);
    expect((await reopened.pendingSteps("e1"))[0]?.checkpoint).toEqual({ restoreTransaction: "42" });
    const second = await rollBackSteps({ experimentId: "e1", journal: reopened, registry, session, events: new EventBus(), attempts: 1 });
    expect(second.failed).toEqual([]);
    expect(seen).toEqual([undefined, { restoreTransaction: "42" }, { restoreTransaction: "42" }]);
    await reopened.close();
  });

  it("does not retry a step the skill reports blocked (it already spent its own budget); the step stays for recover", async () => {
    const { journal, stepId } = await journalWithOneStep(":memory:");
    const { skill, seen } = scriptedSkill([
      async () => {
        throw new RollbackBlockedError("test.scripted: blocked by pid 4242");
      },
    ]);
    const registry = new Registry().addSkill(skill);
    const session = { identity: "test://", discover: async () => ({ resources: [] }), close: async () => undefined };
    const report = await rollBackSteps({
      experimentId: "e1",
      journal,
      registry,
      session,
      events: new EventBus(),
      attempts: 3,
      retryDelayMs: 1,
    });
    expect(seen).toHaveLength(1);
    expect(report.failed).toEqual([{ stepId, skill: "test.scripted", error: "test.scripted: blocked by pid 4242" }]);
    expect((await journal.pendingSteps("e1"))[0]).toMatchObject({ status: "failed", error: "test.scripted: blocked by pid 4242" });
    await journal.close();
  });
});
