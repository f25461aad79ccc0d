import { podReady } from "./kubernetes/controller.js";
import type { KubernetesApiServer } from "./kubernetes-api-server.js";

/**
 * What an experiment on the simulator must leave as it found it: workloads' specs and ready
 * replicas, every NetworkPolicy, nodes' schedulability and labels, ConfigMaps' data, and the
 * number of ready pods per owner (pods killed come back under new names, so names are not compared).
 */
export function clusterState(server: KubernetesApiServer, namespace: string) {
  const pods = server.list("Pod", namespace);
  const readyByOwner: Record<string, number> = {};
  for (const pod of pods) {
    const owner = pod.metadata.ownerReferences?.[0]?.name ?? "(bare)";
    readyByOwner[owner] = (readyByOwner[owner] ?? 0) + (podReady(pod) ? 1 : 0);
  }
  return {
    deployments: server.list("Deployment", namespace).map((deployment) => ({
      name: deployment.metadata.name,
      spec: deployment.spec,
      ready: deployment.status?.readyReplicas ?? 0,
    })),
    networkPolicies: server.list("NetworkPolicy").map((policy) => `${policy.metadata.namespace}/${policy.metadata.name}`),
    nodes: server
      .list("Node")
      .map((node) => ({ name: node.metadata.name, unschedulable: Boolean(node.spec?.unschedulable), labels: node.metadata.labels })),
    configMaps: server.list("ConfigMap").map((map) => ({
      name: `${map.metadata.namespace}/${map.metadata.name}`,
      data: map.data,
      labels: map.metadata.labels ?? {},
      annotations: map.metadata.annotations ?? {},
    })),
    chaosPods: server.list("Pod").filter((pod) => pod.metadata.labels?.["app.kubernetes.io/managed-by"] === "chaos-agents").length,
    readyByOwner,
  };
}
