import { statSync } from "node:fs";
import { join } from "node:path";
import { makeTempDirectory } from "@chaos-agents/testing";
import { afterAll, describe, expect, it } from "vitest";
import { openSqliteJournal } from "./sqlite-journal.js";

const temp = makeTempDirectory();
afterAll(temp.remove);

const experiment = (id: string, identity = "memory://a") => ({
  id,
  name: "exp",
  target: "database" as const,
  identity,
  targetConfig: { connection_url: "postgres://app:hunter2@db/shop", password: "hunter2" },
  plugins: [],
  startedAt: new Date().toISOString(),
  deadline: new Date().toISOString(),
});

describe("sqlite journal", () => {
  it("keeps steps across a reopen, returns pending ones newest first, and never stores the target's secrets", () => {
    const path = join(temp.path, "state", "journal.sqlite");
    const writer = openSqliteJournal(path);
    writer.beginExperiment(experiment("e1"));
    const first = writer.recordStep("e1", "db.insert_load", { keys: [1, 2] });
    const second = writer.recordStep("e1", "db.insert_load", { keys: [3] });
    const third = writer.recordStep("e1", "db.update_load", { password: "row value kept exactly" });
    writer.markStepDone(first);
    writer.close(); // as if the process died here

    const reader = openSqliteJournal(path);
    expect(reader.unfinishedExperiments().map((record) => record.id)).toEqual(["e1"]);
    expect(reader.pendingSteps("e1").map((step) => step.id)).toEqual([third, second]);
    // Undo data is application data and must round-trip exactly; target secrets must not be stored.
    expect(reader.pendingSteps("e1")[0]?.undo).toEqual({ password: "row value kept exactly" });
    expect(reader.experiment("e1")?.targetConfig).toEqual({ connection_url: "postgres://app:***@db/shop", password: "***" });
    expect(statSync(path).mode & 0o777).toBe(0o600);

    reader.markStepFailed(third, "connection lost");
    expect(reader.pendingSteps("e1")[0]).toMatchObject({ status: "failed", error: "connection lost" });
    reader.markStepDone(third, ["row 7 changed since"]);
    reader.markStepDone(second);
    reader.finishExperiment("e1", "finished");
    expect(reader.unfinishedExperiments()).toEqual([]);
    expect(reader.steps("e1").find((step) => step.id === third)?.conflicts).toEqual(["row 7 changed since"]);
    reader.close();
  });

  it("counts an experiment with a pending step as unfinished even if it was marked finished", () => {
    const journal = openSqliteJournal(":memory:");
    journal.beginExperiment(experiment("e2"));
    journal.recordStep("e2", "x.y", {});
    journal.finishExperiment("e2", "finished");
    expect(journal.unfinishedExperiments().map((record) => record.id)).toEqual(["e2"]);
    journal.close();
  });

  it("prunes finished experiments' undo data after the retention time and their records later, never unfinished ones", () => {
    const journal = openSqliteJournal(":memory:");
    for (const id of ["done", "stuck"]) {
      journal.beginExperiment(experiment(id));
      journal.recordStep(id, "db.update_load", { before: { balance: "100" } });
    }
    for (const step of journal.pendingSteps("done")) journal.markStepDone(step.id);
    journal.finishExperiment("done", "finished");
    journal.finishExperiment("stuck", "rollback_incomplete");
    const day = 86_400_000;
    const retention = { undoAfterMs: 7 * day, recordAfterMs: 90 * day };
    const inDays = (days: number) => new Date(Date.now() + days * day);

    expect(journal.prune(retention, inDays(6))).toEqual({ undoPruned: 0, recordsDeleted: 0 });
    expect(journal.prune(retention, inDays(8))).toEqual({ undoPruned: 1, recordsDeleted: 0 });
    expect(journal.steps("done")[0]?.undo).toBeNull(); // the before-image is gone…
    expect(journal.experiment("done")?.status).toBe("finished"); // …the summary stays
    expect(journal.prune(retention, inDays(91))).toEqual({ undoPruned: 0, recordsDeleted: 1 });
    expect(journal.experiment("done")).toBeUndefined();
    expect(journal.steps("stuck")[0]?.undo).toEqual({ before: { balance: "100" } }); // still needed by recover
    expect(journal.unfinishedExperiments().map((record) => record.id)).toEqual(["stuck"]);
    journal.close();
  });
});
