import { chmodSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { makeTempDirectory } from "@chaos-agents/testing";
import { afterAll, describe, expect, it } from "vitest";
import { openSqliteJournal } from "./sqlite-journal.js";

// The store's contract (steps, ownership, claims, retention) runs over SQLite and PostgreSQL alike
// in journal-contract.test.ts; here is what only a file has.
const temp = makeTempDirectory();
afterAll(temp.remove);

describe("sqlite journal", () => {
  it("is readable by its owner only, from its first byte, even when an older file was looser", async () => {
    const path = join(temp.path, "state", "journal.sqlite");
    const journal = openSqliteJournal(path);
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(journal.location).toBe(path);
    await journal.close();
    chmodSync(path, 0o644);
    await openSqliteJournal(path).close();
    expect(statSync(path).mode & 0o777).toBe(0o600);
  });

  it("writes before its promise is returned: a step is on disk even if nobody awaits it", async () => {
    const path = join(temp.path, "sync", "journal.sqlite");
    const writer = openSqliteJournal(path);
    void writer.beginExperiment({
      id: "e1",
      name: "exp",
      target: "database",
      identity: "memory://a",
      targetConfig: {},
      plugins: [],
      startedAt: new Date().toISOString(),
      deadline: new Date().toISOString(),
    });
    void writer.recordStep("e1", "db.insert_load", { keys: [1] });
    const reader = openSqliteJournal(path); // another connection, before the event loop ran anything
    expect((await reader.pendingSteps("e1")).map((step) => step.undo)).toEqual([{ keys: [1] }]);
    await reader.close();
    await writer.close();
  });

  it("refuses a file that is not a journal", async () => {
    const path = join(temp.path, "not-a-journal.sqlite");
    writeFileSync(path, "plain text, not SQLite\n".repeat(100));
    expect(() => openSqliteJournal(path)).toThrow();
  });
});
