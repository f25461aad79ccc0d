import { ChaosError, type Inventory, type Resource } from "@chaos-agents/core";
import type { V1LabelSelector, V1ObjectMeta } from "@kubernetes/client-node";
import { isNotFound } from "../kubernetes-api-errors.js";
import type { KubernetesSession } from "../kubernetes-session.js";
import { detectNetworkPolicySupport } from "./network-plugin.js";
import { controllerOf, podIsReady, restartsOf } from "./pod-facts.js";

function labelsOf(metadata: V1ObjectMeta | undefined): Record<string, string> {
  return { ...(metadata?.labels ?? {}) };
}

function selectorOf(selector: V1LabelSelector | undefined): Record<string, string> {
  return { ...(selector?.matchLabels ?? {}) };
}

/**
 * Reads what the experiment may act on: its namespaces (protected ones are left out), their
 * workloads and pods (narrowed by `label_selector`), services, network policies and disruption
 * budgets, and the cluster's nodes. Never changes anything.
 */
export async function discoverCluster(session: KubernetesSession): Promise<Inventory> {
  const { clients, config } = session;
  const labelSelector = config.label_selector;
  const resources: Resource[] = [];
  const skipped = session.namespaces.filter((namespace) => session.protectedNamespaces.has(namespace));
  if (skipped.length > 0)
    session.log.warn(`namespaces ${skipped.join(", ")} are protected: discovery leaves them out and no skill acts in them`);
  const namespaces = session.namespaces.filter((namespace) => !session.protectedNamespaces.has(namespace));

  const nodes = await clients.core.listNode({});
  for (const node of nodes.items) {
    const name = node.metadata?.name ?? "";
    resources.push({
      kind: "node",
      name: `node:${name}`,
      details: {
        name,
        schedulable: !node.spec?.unschedulable,
        ready: Boolean(node.status?.conditions?.some((condition) => condition.type === "Ready" && condition.status === "True")),
        capacity: { ...(node.status?.capacity ?? {}) },
        allocatable: { ...(node.status?.allocatable ?? {}) },
        labels: labelsOf(node.metadata),
      },
    });
  }

  for (const namespace of namespaces) {
    const object = await clients.core.readNamespace({ name: namespace }).catch((error) => {
      if (isNotFound(error))
        throw new ChaosError(
          `namespace ${namespace} (target_config.namespace) does not exist in ${clients.server} (context ${clients.context})`,
        );
      throw error;
    });
    resources.push({ kind: "namespace", name: `namespace:${namespace}`, details: { name: namespace, labels: labelsOf(object.metadata) } });
    const [deployments, statefulSets, daemonSets, replicaSets, jobs, pods, services, policies, budgets] = await Promise.all([
      clients.apps.listNamespacedDeployment({ namespace, labelSelector }),
      clients.apps.listNamespacedStatefulSet({ namespace, labelSelector }),
      clients.apps.listNamespacedDaemonSet({ namespace, labelSelector }),
      clients.apps.listNamespacedReplicaSet({ namespace, labelSelector }),
      clients.batch.listNamespacedJob({ namespace, labelSelector }),
      clients.core.listNamespacedPod({ namespace, labelSelector }),
      clients.core.listNamespacedService({ namespace }),
      clients.networking.listNamespacedNetworkPolicy({ namespace }),
      clients.policy.listNamespacedPodDisruptionBudget({ namespace }),
    ]);
    const workload = (
      kind: string,
      metadata: V1ObjectMeta | undefined,
      desired: number,
      ready: number,
      selector: V1LabelSelector | undefined,
    ) =>
      resources.push({
        kind: kind.toLowerCase(),
        name: `${namespace}/${kind.toLowerCase()}:${metadata?.name ?? ""}`,
        details: {
          namespace,
          name: metadata?.name ?? "",
          kind,
          desiredReplicas: desired,
          readyReplicas: ready,
          selector: selectorOf(selector),
          labels: labelsOf(metadata),
          owner: metadata?.ownerReferences?.find((reference) => reference.controller)?.name ?? null,
        },
      });
    for (const item of deployments.items)
      workload("Deployment", item.metadata, item.spec?.replicas ?? 1, item.status?.readyReplicas ?? 0, item.spec?.selector);
    for (const item of statefulSets.items)
      workload("StatefulSet", item.metadata, item.spec?.replicas ?? 1, item.status?.readyReplicas ?? 0, item.spec?.selector);
    for (const item of daemonSets.items)
      workload("DaemonSet", item.metadata, item.status?.desiredNumberScheduled ?? 0, item.status?.numberReady ?? 0, item.spec?.selector);
    for (const item of replicaSets.items)
      workload("ReplicaSet", item.metadata, item.spec?.replicas ?? 1, item.status?.readyReplicas ?? 0, item.spec?.selector);
    for (const item of jobs.items)
      workload("Job", item.metadata, item.spec?.parallelism ?? 1, item.status?.ready ?? item.status?.active ?? 0, item.spec?.selector);
    for (const pod of pods.items) {
      const owner = controllerOf(pod);
      resources.push({
        kind: "pod",
        name: `${namespace}/pod:${pod.metadata?.name ?? ""}`,
        details: {
          namespace,
          name: pod.metadata?.name ?? "",
          labels: labelsOf(pod.metadata),
          node: pod.spec?.nodeName ?? null,
          phase: pod.status?.phase ?? "Unknown",
          ready: podIsReady(pod),
          restarts: restartsOf(pod),
          owner: owner ? { kind: owner.kind, name: owner.name } : null,
        },
      });
    }
    for (const service of services.items) {
      resources.push({
        kind: "service",
        name: `${namespace}/service:${service.metadata?.name ?? ""}`,
        details: {
          namespace,
          name: service.metadata?.name ?? "",
          type: service.spec?.type ?? "ClusterIP",
          selector: { ...(service.spec?.selector ?? {}) },
        },
      });
    }
    for (const policy of policies.items) {
      resources.push({
        kind: "networkpolicy",
        name: `${namespace}/networkpolicy:${policy.metadata?.name ?? ""}`,
        details: {
          namespace,
          name: policy.metadata?.name ?? "",
          podSelector: selectorOf(policy.spec?.podSelector),
          labels: labelsOf(policy.metadata),
        },
      });
    }
    for (const budget of budgets.items) {
      resources.push({
        kind: "poddisruptionbudget",
        name: `${namespace}/poddisruptionbudget:${budget.metadata?.name ?? ""}`,
        details: {
          namespace,
          name: budget.metadata?.name ?? "",
          selector: selectorOf(budget.spec?.selector),
          minAvailable: budget.spec?.minAvailable ?? null,
          maxUnavailable: budget.spec?.maxUnavailable ?? null,
          disruptionsAllowed: budget.status?.disruptionsAllowed ?? 0,
        },
      });
    }
  }
  const networkPolicies = await detectNetworkPolicySupport(clients);
  const version = await clients.version.getCode().catch(() => undefined);
  return {
    resources,
    facts: {
      server: clients.server,
      context: clients.context,
      serverVersion: version?.gitVersion ?? "unknown",
      namespaces,
      protectedNamespaces: [...session.protectedNamespaces],
      networkPolicyEnforcement: networkPolicies.enforcement,
      networkPlugin: networkPolicies.plugin ?? "unknown",
    },
  };
}
