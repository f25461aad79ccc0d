import { randomBytes } from "node:crypto";
import type { KubernetesClients } from "../kubernetes-client.js";
import { cordonedByLabel, experimentLabel } from "../kubernetes-labels.js";
import { pollUntil } from "../skills/skill-support.js";

/** Workloads the live scenarios create in a namespace of their own: web (3 replicas, a PDB) and api (2). */
export interface LiveFixture {
  namespace: string;
  image: string;
}

export function newLiveNamespace(): string {
  return `chaos-live-${randomBytes(3).toString("hex")}`;
}

/** Creates the namespace, its two Deployments and web's PodDisruptionBudget, and waits until all pods are ready. */
export async function createLiveFixture(clients: KubernetesClients, fixture: LiveFixture): Promise<void> {
  const { namespace, image } = fixture;
  await clients.core.createNamespace({
    body: { metadata: { name: namespace, labels: { "app.kubernetes.io/part-of": "chaos-agents-live-test" } } },
  });
  for (const [app, replicas] of [
    ["web", 3],
    ["api", 2],
  ] as const) {
    await clients.apps.createNamespacedDeployment({
      namespace,
      body: {
        metadata: { name: app, labels: { app } },
        spec: {
          replicas,
          selector: { matchLabels: { app } },
          template: {
            metadata: { labels: { app } },
            spec: { containers: [{ name: app, image, resources: { requests: { cpu: "5m", memory: "8Mi" } } }] },
          },
        },
      },
    });
  }
  await clients.policy.createNamespacedPodDisruptionBudget({
    namespace,
    body: { metadata: { name: "web" }, spec: { minAvailable: 2, selector: { matchLabels: { app: "web" } } } },
  });
  if (!(await waitForSettled(clients, namespace, 180_000)))
    throw new Error(`the live fixture in ${namespace} did not become ready within 3 min (image ${image} pullable?)`);
}

/** True once every Deployment of the namespace has all its replicas ready. */
export async function waitForSettled(clients: KubernetesClients, namespace: string, timeoutMs = 120_000): Promise<boolean> {
  return pollUntil(
    async () => {
      const { items } = await clients.apps.listNamespacedDeployment({ namespace });
      return items.every(
        (deployment) =>
          (deployment.status?.readyReplicas ?? 0) === (deployment.spec?.replicas ?? 1) &&
          (deployment.status?.replicas ?? 0) === (deployment.spec?.replicas ?? 1),
      );
    },
    timeoutMs,
    undefined,
    500,
  );
}

/**
 * What an experiment must leave as it found it, read through the API (so it works on any
 * cluster): workloads' specs and ready replicas, the namespace's NetworkPolicies, nodes'
 * schedulability and chaos labels, the CoreDNS Corefile when readable, and chaos-labelled pods.
 */
export async function liveState(clients: KubernetesClients, namespace: string) {
  const deployments = await clients.apps.listNamespacedDeployment({ namespace });
  const policies = await clients.networking.listNamespacedNetworkPolicy({ namespace });
  const nodes = await clients.core.listNode({});
  const pods = await clients.core.listNamespacedPod({ namespace });
  const corefile = await clients.core
    .readNamespacedConfigMap({ name: "coredns", namespace: "kube-system" })
    .then((map) => map.data?.Corefile ?? null)
    .catch(() => "unreadable");
  return {
    deployments: deployments.items
      .map((deployment) => ({
        name: deployment.metadata?.name,
        replicas: deployment.spec?.replicas,
        template: deployment.spec?.template,
        ready: deployment.status?.readyReplicas ?? 0,
      }))
      .sort((left, right) => String(left.name).localeCompare(String(right.name))),
    networkPolicies: policies.items.map((policy) => policy.metadata?.name).sort(),
    nodes: nodes.items.map((node) => ({
      name: node.metadata?.name,
      unschedulable: Boolean(node.spec?.unschedulable),
      cordonedBy: node.metadata?.labels?.[cordonedByLabel] ?? null,
    })),
    corefile,
    chaosPods: pods.items.filter((pod) => pod.metadata?.labels?.[experimentLabel]).map((pod) => pod.metadata?.name),
  };
}
