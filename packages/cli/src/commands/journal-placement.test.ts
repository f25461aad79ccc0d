import { type ChaosError, ExitCode, type ParsedExperiment } from "@chaos-agents/core";
import { describe, expect, it } from "vitest";
import { refuseJournalOnAttackedServer } from "./journal-placement.js";

const attacking = (connectionUrl: string, target: ParsedExperiment["target"] = "database") => [
  {
    path: "experiments.0",
    experiment: { name: "drill", target, target_config: { connection_url: connectionUrl } } as unknown as ParsedExperiment,
  },
];

async function refusal(journal: string, target: string, kind?: ParsedExperiment["target"]): Promise<ChaosError | undefined> {
  return refuseJournalOnAttackedServer(journal, attacking(target, kind), "daemon.yaml").then(
    () => undefined,
    (error: ChaosError) => error,
  );
}

describe("journal placement", () => {
  it("refuses a journal on the attacked server: the same database, another database on it, any name for it", async () => {
    const cases: [string, string, string][] = [
      ["postgres://chaos:pw@127.0.0.1:5432/journal", "postgres://app@127.0.0.1:5432/journal", "the very database"],
      ["postgres://chaos:pw@localhost/journal", "postgres://app@127.0.0.1:5432/shop", "database shop on the same server"],
      ["postgresql://chaos@[::1]:6000/journal", "postgres://app@127.0.0.1:6000/shop", "database shop on the same server"],
    ];
    for (const [journal, target, says] of cases) {
      const error = await refusal(journal, target);
      expect(error?.exitCode, `${journal} vs ${target}`).toBe(ExitCode.invalidConfig);
      expect(error?.message).toContain(`daemon.yaml: experiments.0 (drill) attacks ${says} as the journal`);
      expect(error?.message).not.toContain(":pw@"); // the journal's password never shows
    }
  });

  it("lets a journal be on another server: another port, another host, a file; other targets are not databases", async () => {
    expect(await refusal("postgres://chaos@127.0.0.1:5433/journal", "postgres://app@127.0.0.1:5432/shop")).toBeUndefined();
    expect(await refusal("postgres://chaos@127.0.0.1/journal", "mysql://root@127.0.0.1/shop")).toBeUndefined();
    expect(await refusal("postgres://chaos@journal.invalid/journal", "postgres://app@shop.invalid/shop")).toBeUndefined();
    expect(await refusal("/var/lib/chaos/journal.sqlite", "postgres://app@127.0.0.1/shop")).toBeUndefined();
    expect(await refusal("postgres://chaos@127.0.0.1/journal", "postgres://app@127.0.0.1/shop", "server")).toBeUndefined();
  });
});
