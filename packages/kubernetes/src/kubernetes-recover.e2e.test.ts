import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import {
  clusterState,
  type KubeObject,
  type KubernetesApiServer,
  makeTempDirectory,
  runChaos,
  startChaos,
  startKubernetesApiServer,
} from "@chaos-agents/testing";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { cordonedByLabel, experimentLabel, managedByLabel } from "./kubernetes-labels.js";

const seedExample = fileURLToPath(new URL("../../../config/kubernetes-staging.yaml", import.meta.url));
const temporary = makeTempDirectory("chaos-k8s-e2e-");
let server: KubernetesApiServer;
let environment: Record<string, string>;

beforeAll(async () => {
  server = await startKubernetesApiServer({ seed: "sandbox", readyDelayMs: 200 });
  const kubeconfig = join(temporary.path, "kubeconfig");
  await server.writeKubeconfig(kubeconfig);
  environment = { KUBECONFIG: kubeconfig, XDG_STATE_HOME: join(temporary.path, "state") };
});

afterAll(async () => {
  await server?.close();
  temporary.remove();
});

beforeEach(async () => {
  await server.waitForSettled("staging");
});

describe("the README's Kubernetes example through the real `chaos` binary", () => {
  it("validates, plans and runs as written against the sandbox (only the hold shortened)", async () => {
    expect((await runChaos(["validate", seedExample], environment)).exitCode).toBe(0);
    const dryRun = await runChaos(["run", "--dry-run", seedExample], environment);
    expect(dryRun.exitCode, dryRun.stdout + dryRun.stderr).toBe(0);
    expect(dryRun.stdout + dryRun.stderr).toMatch(/delete 1 of 3 pods matching app=web in staging/);

    const before = clusterState(server, "staging");
    const short = join(temporary.path, "seed-short.yaml");
    writeFileSync(short, readFileSync(seedExample, "utf8").replace('duration: "2m"', 'duration: "2s"'));
    const run = await runChaos(["run", short, "--journal", join(temporary.path, "seed.sqlite")], environment);
    expect(run.exitCode, run.stdout + run.stderr).toBe(0);
    expect(run.stdout).toMatch(/rollback: 2\/2 steps done/);
    await server.waitForSettled("staging");
    expect(clusterState(server, "staging")).toEqual(before);
  });
});

describe("Ctrl-C during the hold", () => {
  it("rolls every Kubernetes fault back and exits 130", async () => {
    const before = clusterState(server, "staging");
    const config = join(temporary.path, "interrupt.yaml");
    writeFileSync(
      config,
      `experiments:
  - name: k8s-interrupt
    target: kubernetes
    target_config: { namespace: staging }
    duration: 5m
    skills:
      - skill_name: k8s.network_partition
        params: { side_a: { app: web }, side_b: { app: api } }
      - skill_name: k8s.node_drain
        params: { node: node-2, cordon_only: true }
      - skill_name: k8s.pod_kill
        params: { label_selector: "app=web", count: 1 }
`,
    );
    const run = startChaos(["run", config, "--journal", join(temporary.path, "interrupt.sqlite")], environment);
    await run.waitFor("holding faults", 60_000);
    expect(server.list("NetworkPolicy", "staging")).toHaveLength(2);
    run.child.kill("SIGINT");
    const result = await run.done;
    expect(result.exitCode, result.stdout + result.stderr).toBe(130);
    expect(result.stdout).toMatch(/rollback: 4\/4 steps done/); // the partition is two policies
    await server.waitForSettled("staging");
    expect(clusterState(server, "staging")).toEqual(before);
  });
});

describe("kill -9 `chaos` while the faults are held, then `chaos recover`", () => {
  it("restores the cluster exactly, sweeps a labelled object the journal never recorded, and a second recover finds nothing", async () => {
    const before = clusterState(server, "staging");
    const config = join(temporary.path, "crash.yaml");
    writeFileSync(
      config,
      `experiments:
  - name: k8s-crash
    target: kubernetes
    target_config: { namespace: staging, label_selector: "app in (web, api)" }
    duration: 60s
    skills:
      - skill_name: k8s.pod_kill
        params: { label_selector: "app=api", count: 1 }
      - skill_name: k8s.network_chaos
        params: { pod_selector: { app: web } }
      - skill_name: k8s.node_drain
        params: { node: node-2, cordon_only: true }
`,
    );
    const journal = join(temporary.path, "crash.sqlite");
    const run = startChaos(["run", config, "--journal", journal], environment);
    await run.waitFor("holding faults", 60_000);
    expect(server.list("NetworkPolicy", "staging")).toHaveLength(1);
    expect(server.get("Node", undefined, "node-2")?.spec?.unschedulable).toBe(true);
    run.child.kill("SIGKILL");
    await run.done;
    const experimentId = server.list("NetworkPolicy", "staging")[0]?.metadata.labels?.[experimentLabel] ?? "";
    expect(experimentId).toMatch(/^c\d{8}t\d{6}-[0-9a-f]{6}$/);
    // An object created just before the crash whose name never reached the journal: only its labels say whose it is.
    server.create("NetworkPolicy", {
      metadata: {
        name: "never-journaled",
        namespace: "staging",
        labels: { [managedByLabel]: "chaos-agents", [experimentLabel]: experimentId },
      },
      spec: { podSelector: { matchLabels: { app: "api" } }, policyTypes: ["Egress"] },
    });

    const recovered = await runChaos(["recover", "--journal", journal], environment);
    expect(recovered.exitCode, recovered.stdout + recovered.stderr).toBe(0);
    expect(recovered.stdout + recovered.stderr).toMatch(/k8s-crash .*3\/3 steps done/);
    expect(server.list("NetworkPolicy")).toEqual([]);
    await server.waitForSettled("staging");
    expect(clusterState(server, "staging")).toEqual(before);

    const again = await runChaos(["recover", "--journal", journal], environment);
    expect(again.stdout).toContain("nothing to recover");
  });

  it("restores the exact Corefile and removes the stress pod and partition; uncordons a node labelled with the experiment that the journal never recorded", async () => {
    const before = clusterState(server, "staging");
    const config = join(temporary.path, "crash-dns.yaml");
    writeFileSync(
      config,
      `experiments:
  - name: k8s-crash-dns
    target: kubernetes
    target_config: { namespace: staging }
    duration: 60s
    skills:
      - skill_name: k8s.dns_chaos
        params: { mode: corrupt, names: ["payments.example.com"], answer: "203.0.113.7", allow_cluster_dns: true }
      - skill_name: k8s.resource_stress
        params: { node: node-1, cpu_workers: 1, memory: "64Mi" }
      - skill_name: k8s.network_partition
        params: { side_a: { app: web }, side_b: { app: api } }
`,
    );
    const journal = join(temporary.path, "crash-dns.sqlite");
    const run = startChaos(["run", config, "--journal", journal], environment);
    await run.waitFor("holding faults", 60_000);
    const corefile = server.get("ConfigMap", "kube-system", "coredns")?.data?.Corefile as string;
    expect(corefile).toContain('answer "{{ .Name }} 5 IN A 203.0.113.7"');
    const stress = server.list("Pod", "staging").find((pod) => pod.metadata.name.startsWith("chaos-stress-"));
    expect(stress?.spec?.nodeName).toBe("node-1");
    run.child.kill("SIGKILL");
    await run.done;
    const experimentId = stress?.metadata.labels?.[experimentLabel] ?? "";
    const node = server.get("Node", undefined, "node-2");
    server.update("Node", {
      ...(node as KubeObject),
      spec: { unschedulable: true },
      metadata: { ...(node as KubeObject).metadata, labels: { ...node?.metadata.labels, [cordonedByLabel]: experimentId } },
    });

    const recovered = await runChaos(["recover", "--journal", journal], environment);
    expect(recovered.exitCode, recovered.stdout + recovered.stderr).toBe(0);
    expect(recovered.stdout + recovered.stderr).toMatch(/swept 1 leftover/);
    await server.waitForSettled("staging");
    expect(clusterState(server, "staging")).toEqual(before);
  });

  it("kill -9 at random moments of connect, inject and hold (a drain retrying PDB refusals included), then `chaos recover`: the cluster is as before", async () => {
    const config = join(temporary.path, "crash-random.yaml");
    writeFileSync(
      config,
      `experiments:
  - name: k8s-crash-random
    target: kubernetes
    target_config: { namespace: staging }
    duration: 30s
    skills:
      - skill_name: k8s.network_chaos
        params: { pod_selector: { app: api } }
      - skill_name: k8s.dns_chaos
        params: { mode: corrupt, names: ["random.example.com"], allow_cluster_dns: true }
      - skill_name: k8s.node_drain
        params: { node: node-1, eviction_timeout: 20s }
`,
    );
    const journal = join(temporary.path, "crash-random.sqlite");
    for (const delay of [300 + Math.floor(Math.random() * 700), 1000 + Math.floor(Math.random() * 2000)]) {
      await server.waitForSettled("staging");
      const before = clusterState(server, "staging");
      const run = startChaos(["run", config, "--journal", journal], environment);
      await new Promise((resolve) => setTimeout(resolve, delay));
      run.child.kill("SIGKILL");
      await run.done;
      const recovered = await runChaos(["recover", "--journal", journal], environment);
      expect(recovered.exitCode, `killed after ${delay} ms: ${recovered.stdout}${recovered.stderr}`).toBe(0);
      await server.waitForSettled("staging");
      expect(clusterState(server, "staging"), `state after recover, killed after ${delay} ms`).toEqual(before);
    }
  });
});
