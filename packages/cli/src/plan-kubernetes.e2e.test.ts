import { readFileSync } from "node:fs";
import { join } from "node:path";
import {
  type KubernetesApiServer,
  makeTempDirectory,
  providerEnvironment,
  runChaos,
  type ScriptedReply,
  startKubernetesApiServer,
  startScriptedLlmServer,
} from "@chaos-agents/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

// The seed's `chaos plan "Kill random pods in the staging namespace"` with no config: the cluster
// KUBECONFIG points at (here the Kubernetes API simulator) is the target, in the namespace the goal
// names; a scripted model (Anthropic's wire protocol) plans through the real adapter and binary.
const temp = makeTempDirectory("chaos-plan-k8s-");
let cluster: KubernetesApiServer;
const kubeconfig = join(temp.path, "kubeconfig");

beforeAll(async () => {
  cluster = await startKubernetesApiServer({ seed: "sandbox" });
  await cluster.writeKubeconfig(kubeconfig);
  await cluster.waitForSettled("staging");
});
afterAll(async () => {
  await cluster?.close();
  temp.remove();
});

const call = (name: string, input: Record<string, unknown> = {}): ScriptedReply => ({ toolCalls: [{ name, input }] });

describe("chaos plan against the cluster of KUBECONFIG", () => {
  it("offers the cluster as `cluster` in the namespace the goal names, and saves a plan chaos run takes", async () => {
    const saved = join(temp.path, "plan.yaml");
    const server = await startScriptedLlmServer("anthropic", [
      call("list_targets"),
      call("discover", { target_alias: "cluster" }),
      call("submit_experiment", {
        experiment: {
          name: "kill-a-web-pod",
          target_alias: "cluster",
          duration: "5s",
          skills: [{ skill_name: "k8s.pod_kill", params: { label_selector: "app=web", count: 1 } }],
        },
        rationale: "One web pod at a time shows whether the service rides out a restart.",
      }),
    ]);
    const environment = { ...providerEnvironment("anthropic", server.baseUrl), KUBECONFIG: kubeconfig };
    const result = await runChaos(
      ["plan", "Kill random pods in the staging namespace", "--provider", "anthropic", "--save", saved],
      environment,
    );
    await server.close();
    expect(result.exitCode, result.stderr).toBe(0);
    expect(result.stderr).toContain("targets: cluster");
    const [targetsList, discovery] = server.toolResults();
    expect(targetsList).toContain("cluster");
    expect(targetsList).toContain("kubernetes");
    expect(discovery).toContain('"name": "web"'); // the web Deployment, discovered in staging
    expect(discovery).toMatch(/"name": "web-\w+-\w+"/); // and its pods
    const plan = readFileSync(saved, "utf8");
    expect(plan).toContain("target: kubernetes");
    expect(plan).toContain("namespace: staging");
    expect(plan).toContain("skill_name: k8s.pod_kill");
    expect(plan).not.toContain("token"); // nothing of the kubeconfig is copied into the plan

    const dryRun = await runChaos(["run", saved, "--dry-run", "--journal", join(temp.path, "journal.sqlite")], { KUBECONFIG: kubeconfig });
    expect(dryRun.exitCode, dryRun.stderr).toBe(0);
    expect(dryRun.stderr).toContain("plan k8s.pod_kill");
  });

  it("without a config, a kubeconfig or a URL in the goal, says what to give it", async () => {
    const result = await runChaos(["plan", "Kill random pods in the staging namespace", "--provider", "anthropic"], {
      ANTHROPIC_API_KEY: "k",
      HOME: temp.path,
    });
    expect(result.exitCode).toBe(3);
    expect(result.stderr).toContain("no target to plan against");
    expect(result.stderr).toContain("set KUBECONFIG");
    expect(result.stderr).not.toContain("which does not exist");
    const missing = join(temp.path, "no-such-kubeconfig");
    const named = await runChaos(["plan", "Kill random pods in the staging namespace", "--provider", "anthropic"], {
      ANTHROPIC_API_KEY: "k",
      HOME: temp.path,
      KUBECONFIG: missing,
    });
    expect(named.exitCode).toBe(3);
    expect(named.stderr).toContain(`set KUBECONFIG (it names ${missing}, which does not exist)`);
  });
});
