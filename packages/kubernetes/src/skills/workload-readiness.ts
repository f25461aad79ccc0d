import type { V1Pod } from "@kubernetes/client-node";
import { controllerOf, podIsReady } from "../discovery/pod-facts.js";
import { isNotFound } from "../kubernetes-api-errors.js";
import type { KubernetesSession } from "../kubernetes-session.js";

/** The workload that keeps a pod alive: a Deployment (through its ReplicaSet), StatefulSet, DaemonSet, ReplicaSet or Job. */
export interface WorkloadRef {
  [key: string]: string;
  kind: string;
  name: string;
  namespace: string;
}

/** Follows a pod's controller up to the workload a person manages (ReplicaSet → Deployment). */
export async function workloadOf(session: KubernetesSession, pod: V1Pod): Promise<WorkloadRef | undefined> {
  const namespace = pod.metadata?.namespace ?? "";
  const owner = controllerOf(pod);
  if (!owner) return undefined;
  if (owner.kind === "ReplicaSet") {
    const replicaSet = await session.clients.apps.readNamespacedReplicaSet({ name: owner.name, namespace }).catch(() => undefined);
    const deployment = replicaSet?.metadata?.ownerReferences?.find((reference) => reference.controller && reference.kind === "Deployment");
    if (deployment) return { kind: "Deployment", name: deployment.name, namespace };
  }
  return { kind: owner.kind, name: owner.name, namespace };
}

export interface Readiness {
  desired: number;
  ready: number;
}

/** Desired and ready replicas of a workload now; undefined when it no longer exists. */
export async function readinessOf(session: KubernetesSession, workload: WorkloadRef): Promise<Readiness | undefined> {
  const { apps, batch } = session.clients;
  const request = { name: workload.name, namespace: workload.namespace };
  try {
    switch (workload.kind) {
      case "Deployment": {
        const object = await apps.readNamespacedDeployment(request);
        return { desired: object.spec?.replicas ?? 1, ready: object.status?.readyReplicas ?? 0 };
      }
      case "StatefulSet": {
        const object = await apps.readNamespacedStatefulSet(request);
        return { desired: object.spec?.replicas ?? 1, ready: object.status?.readyReplicas ?? 0 };
      }
      case "ReplicaSet": {
        const object = await apps.readNamespacedReplicaSet(request);
        return { desired: object.spec?.replicas ?? 1, ready: object.status?.readyReplicas ?? 0 };
      }
      case "DaemonSet": {
        const object = await apps.readNamespacedDaemonSet(request);
        return { desired: object.status?.desiredNumberScheduled ?? 0, ready: object.status?.numberReady ?? 0 };
      }
      case "Job": {
        const object = await batch.readNamespacedJob(request);
        return { desired: object.spec?.parallelism ?? 1, ready: object.status?.ready ?? object.status?.active ?? 0 };
      }
      default:
        return undefined;
    }
  } catch (error) {
    if (isNotFound(error)) return undefined;
    throw error;
  }
}

/**
 * Ready pods of the namespace matching `labelSelector` that belong to one of `owners` (by
 * workloadName) and are not among `excludedUids` (the pods chaos deleted). `cache` keeps each
 * controller's workload between calls, so a sample costs one list.
 */
export async function readyPodsOf(
  session: KubernetesSession,
  namespace: string,
  labelSelector: string | undefined,
  owners: Set<string>,
  excludedUids: Set<string>,
  cache: Map<string, string>,
): Promise<number> {
  const { items } = await session.clients.core.listNamespacedPod({ namespace, labelSelector });
  let ready = 0;
  for (const pod of items) {
    if (pod.metadata?.deletionTimestamp || excludedUids.has(pod.metadata?.uid ?? "") || !podIsReady(pod)) continue;
    const controller = controllerOf(pod);
    if (!controller) continue;
    let owner = cache.get(controller.uid);
    if (owner === undefined) {
      const workload = await workloadOf(session, pod);
      owner = workload ? workloadName(workload) : "";
      cache.set(controller.uid, owner);
    }
    if (owners.has(owner)) ready++;
  }
  return ready;
}

export function workloadName(workload: WorkloadRef): string {
  return `${workload.kind.toLowerCase()} ${workload.namespace}/${workload.name}`;
}
