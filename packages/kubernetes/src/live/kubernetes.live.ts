/**
 * `npm run test:k8s-live`: the agent's scenarios against a real cluster (kind, k3s, minikube…)
 * reachable through KUBECONFIG. Not part of `npm test`. It creates a namespace of its own
 * (chaos-live-XXXXXX) and deletes it at the end; it never touches other namespaces except:
 * node cordons (only with two schedulable nodes or more) and, only with
 * CHAOS_K8S_LIVE_CLUSTER_DNS=1, the CoreDNS Corefile (cluster-wide while held).
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { EventBus, Registry } from "@chaos-agents/core";
import { makeTempDirectory, runChaos, runInProcess, runWhileWatching, startChaos } from "@chaos-agents/testing";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { createKubernetesClients, type KubernetesClients } from "../kubernetes-client.js";
import { kubernetesConfigSchema } from "../kubernetes-config.js";
import { experimentLabel, managedByLabel } from "../kubernetes-labels.js";
import { kubernetesSkills } from "../kubernetes-skills.js";
import { createKubernetesTarget } from "../kubernetes-target.js";
import { createLiveFixture, liveState, newLiveNamespace, waitForSettled } from "./live-cluster.js";

const kubeconfig = process.env.KUBECONFIG;
if (!kubeconfig)
  console.warn(
    "test:k8s-live: KUBECONFIG is not set, so there is no cluster to test against; every scenario is skipped. Point KUBECONFIG at a kind/k3s cluster (or at `npm run k8s:sandbox`).",
  );

const namespace = newLiveNamespace();
const image = process.env.CHAOS_K8S_LIVE_IMAGE ?? "registry.k8s.io/pause:3.10";
const registry = new Registry().addTarget(createKubernetesTarget(), kubernetesSkills);
const temporary = makeTempDirectory("chaos-k8s-live-");
let clients: KubernetesClients;
let schedulableNodes: string[] = [];

function experiment(skills: { skill_name: string; params: Record<string, unknown> }[]) {
  return { name: "k8s-live", target: "kubernetes" as const, target_config: { namespace }, duration: "3s", skills };
}

describe.skipIf(!kubeconfig)(`the Kubernetes agent against the cluster of KUBECONFIG (${kubeconfig ?? "unset"})`, () => {
  beforeAll(async () => {
    clients = createKubernetesClients(kubernetesConfigSchema.parse({}));
    await createLiveFixture(clients, { namespace, image });
    schedulableNodes = (await clients.core.listNode({})).items
      .filter((node) => !node.spec?.unschedulable)
      .map((node) => node.metadata?.name ?? "");
  }, 240_000);

  afterAll(async () => {
    await clients?.core.deleteNamespace({ name: namespace }).catch(() => undefined);
    temporary.remove();
  });

  beforeEach(async () => {
    expect(await waitForSettled(clients, namespace)).toBe(true);
  });

  it("k8s.pod_kill: one web pod is replaced; the Deployment is ready and unchanged afterwards", async () => {
    const before = await liveState(clients, namespace);
    const { report } = await runInProcess(
      registry,
      experiment([{ skill_name: "k8s.pod_kill", params: { label_selector: "app=web", count: 1, recovery_timeout: "3m" } }]),
    );
    expect(report.status).toBe("succeeded");
    expect(report.rollback.conflicts).toEqual([]);
    expect(await waitForSettled(clients, namespace)).toBe(true);
    expect(await liveState(clients, namespace)).toEqual(before);
  }, 300_000);

  it.each([
    ["k8s.network_chaos", { pod_selector: { app: "web" } }, 1],
    ["k8s.network_partition", { side_a: { app: "web" }, side_b: { app: "api" } }, 2],
    ["k8s.dns_chaos", { mode: "block", pod_selector: { app: "web" } }, 1],
  ])(
    "%s: labelled policies while held, none afterwards",
    async (skill, params, count) => {
      const before = await liveState(clients, namespace);
      const { report, seen } = await runWhileWatching(registry, experiment([{ skill_name: skill, params }]), async () => {
        const { items } = await clients.networking.listNamespacedNetworkPolicy({
          namespace,
          labelSelector: `${managedByLabel}=chaos-agents`,
        });
        return items.length === count ? items : undefined;
      });
      expect(report.status).toBe("succeeded");
      expect(seen?.every((policy) => policy.metadata?.labels?.[experimentLabel] === report.experimentId)).toBe(true);
      expect(await liveState(clients, namespace)).toEqual(before);
    },
    120_000,
  );

  it("k8s.node_drain cordon_only: cordoned while held, uncordoned afterwards (needs two schedulable nodes)", async (context) => {
    if (schedulableNodes.length < 2) {
      context.skip(`only ${schedulableNodes.length} schedulable node(s): chaos never cordons the last one`);
      return;
    }
    const before = await liveState(clients, namespace);
    const node = schedulableNodes.at(-1) as string;
    const { report, seen } = await runWhileWatching(
      registry,
      experiment([{ skill_name: "k8s.node_drain", params: { node, cordon_only: true } }]),
      async () => ((await clients.core.readNode({ name: node })).spec?.unschedulable ? true : undefined),
    );
    expect(report.status).toBe("succeeded");
    expect(seen).toBe(true);
    expect(await liveState(clients, namespace)).toEqual(before);
  }, 120_000);

  it.skipIf(!process.env.CHAOS_K8S_LIVE_STRESS_IMAGE)(
    "k8s.resource_stress (CHAOS_K8S_LIVE_STRESS_IMAGE): the stress pod runs while held and is gone afterwards",
    async () => {
      const before = await liveState(clients, namespace);
      const { report } = await runInProcess(
        registry,
        experiment([
          {
            skill_name: "k8s.resource_stress",
            params: { cpu_workers: 1, cpu_load: 10, memory: "32Mi", image: process.env.CHAOS_K8S_LIVE_STRESS_IMAGE },
          },
        ]),
      );
      expect(report.status).toBe("succeeded");
      expect(await liveState(clients, namespace)).toEqual(before);
    },
    300_000,
  );

  it.skipIf(process.env.CHAOS_K8S_LIVE_CLUSTER_DNS !== "1")(
    "k8s.dns_chaos corrupt (CHAOS_K8S_LIVE_CLUSTER_DNS=1, cluster-wide while held): the exact Corefile comes back",
    async () => {
      const before = await liveState(clients, namespace);
      const { report } = await runInProcess(
        registry,
        experiment([{ skill_name: "k8s.dns_chaos", params: { mode: "corrupt", names: ["chaos-live.invalid"], allow_cluster_dns: true } }]),
      );
      expect(report.status).toBe("succeeded");
      expect(await liveState(clients, namespace)).toEqual(before);
    },
    120_000,
  );

  it("the sweep deletes a policy labelled with an experiment that no journal recorded, and nothing else", async () => {
    const experimentId = "c20261201t000000-11ve00";
    const target = createKubernetesTarget();
    const session = await target.connect(kubernetesConfigSchema.parse({ namespace }), {
      experimentId,
      log: new EventBus([]).logger(experimentId),
    });
    await clients.networking.createNamespacedNetworkPolicy({
      namespace,
      body: {
        metadata: { name: "orphan", labels: { [managedByLabel]: "chaos-agents", [experimentLabel]: experimentId } },
        spec: { podSelector: { matchLabels: { app: "none" } }, policyTypes: ["Ingress"] },
      },
    });
    expect(await target.sweep?.(session, experimentId)).toEqual([`networkpolicy ${namespace}/orphan`]);
    expect((await clients.networking.listNamespacedNetworkPolicy({ namespace })).items).toEqual([]);
  });

  it("kill -9 `chaos` while held, then `chaos recover`: the cluster is as before", async () => {
    const before = await liveState(clients, namespace);
    const config = join(temporary.path, "crash.yaml");
    writeFileSync(
      config,
      `experiments:
  - name: k8s-live-crash
    target: kubernetes
    target_config: { namespace: ${namespace} }
    duration: 120s
    skills:
      - { skill_name: k8s.pod_kill, params: { label_selector: "app=api", count: 1 } }
      - { skill_name: k8s.network_chaos, params: { pod_selector: { app: web } } }
`,
    );
    const journal = join(temporary.path, "crash.sqlite");
    const environment = { KUBECONFIG: kubeconfig, XDG_STATE_HOME: join(temporary.path, "state") };
    const run = startChaos(["run", config, "--journal", journal], environment);
    await run.waitFor("holding faults", 120_000);
    run.child.kill("SIGKILL");
    await run.done;
    const recovered = await runChaos(["recover", "--journal", journal], environment);
    expect(recovered.exitCode, recovered.stdout + recovered.stderr).toBe(0);
    expect(await waitForSettled(clients, namespace)).toBe(true);
    expect(await liveState(clients, namespace)).toEqual(before);
  }, 300_000);
});
