import type { V1OwnerReference, V1Pod } from "@kubernetes/client-node";

/** A pod's controlling owner reference, if any (a bare pod has none). */
export function controllerOf(pod: V1Pod): V1OwnerReference | undefined {
  return pod.metadata?.ownerReferences?.find((reference) => reference.controller);
}

export function podIsReady(pod: V1Pod): boolean {
  return Boolean(pod.status?.conditions?.some((condition) => condition.type === "Ready" && condition.status === "True"));
}

export function restartsOf(pod: V1Pod): number {
  return (pod.status?.containerStatuses ?? []).reduce((sum, status) => sum + (status.restartCount ?? 0), 0);
}
