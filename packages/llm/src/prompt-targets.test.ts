import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { makeTempDirectory } from "@chaos-agents/testing";
import { afterAll, describe, expect, it } from "vitest";
import { extractPromptTargets, kubeconfigTarget } from "./prompt-targets.js";

const temp = makeTempDirectory("chaos-prompt-targets-");
afterAll(temp.remove);
const kubeconfig = join(temp.path, "kubeconfig");
writeFileSync(kubeconfig, "apiVersion: v1\nkind: Config\n");

describe("targets from the goal", () => {
  it("takes connection URLs out of the goal, so the model sees only an alias", () => {
    const { goal, aliases } = extractPromptTargets("Test postgres://app:s3cret@db.internal:5432/shop under write load.");
    expect(goal).toBe('Test the database target "db-1" under write load.');
    expect(aliases["db-1"]).toEqual({
      target: "database",
      target_config: { connection_url: "postgres://app:s3cret@db.internal:5432/shop", db_type: "postgres" },
    });
  });

  it("offers the cluster of KUBECONFIG in the namespace the goal names, in either word order", () => {
    const env = { KUBECONFIG: kubeconfig };
    expect(kubeconfigTarget("Kill random pods in the staging namespace", env, temp.path)).toEqual({
      cluster: { target: "kubernetes", target_config: { namespace: "staging" } },
    });
    expect(kubeconfigTarget("Partition namespace payments from namespace orders", env, temp.path)).toEqual({
      cluster: { target: "kubernetes", target_config: { namespace: ["payments", "orders"] } },
    });
    expect(kubeconfigTarget("Kill pods in the namespace", env, temp.path)).toEqual({
      cluster: { target: "kubernetes", target_config: {} },
    });
  });

  it("offers no cluster when there is no kubeconfig", () => {
    expect(kubeconfigTarget("Kill random pods in the staging namespace", {}, temp.path)).toEqual({});
    expect(kubeconfigTarget("Kill pods", { KUBECONFIG: join(temp.path, "missing") }, temp.path)).toEqual({});
  });
});
