import { describeApiError, isNotFound } from "./kubernetes-api-errors.js";
import { cordonedByLabel, experimentSelector } from "./kubernetes-labels.js";
import type { KubernetesSession } from "./kubernetes-session.js";
import { restoreCorefileFromAnnotation } from "./skills/corefile.js";
import { uncordonIfOurs } from "./skills/node-cordon.js";

/**
 * Removes what an experiment left that the journal may not know of: every NetworkPolicy and Pod
 * labelled with its id, in any namespace; nodes it cordoned (labelled `cordoned-by`) are
 * uncordoned; a Corefile it changed is restored from the copy kept in the ConfigMap's annotation.
 * Objects of others never carry the experiment's label, so they survive it.
 */
export async function sweepCluster(session: KubernetesSession, experimentId: string): Promise<string[]> {
  const { core, networking } = session.clients;
  const labelSelector = experimentSelector(experimentId);
  const removed: string[] = [];
  const policies = await networking.listNetworkPolicyForAllNamespaces({ labelSelector });
  for (const policy of policies.items) {
    const { name = "", namespace = "" } = policy.metadata ?? {};
    await networking.deleteNamespacedNetworkPolicy({ name, namespace }).catch((error) => {
      if (!isNotFound(error)) throw error;
    });
    removed.push(`networkpolicy ${namespace}/${name}`);
  }
  const pods = await core.listPodForAllNamespaces({ labelSelector });
  for (const pod of pods.items) {
    const { name = "", namespace = "" } = pod.metadata ?? {};
    await core.deleteNamespacedPod({ name, namespace, gracePeriodSeconds: 0 }).catch((error) => {
      if (!isNotFound(error)) throw error;
    });
    removed.push(`pod ${namespace}/${name}`);
  }
  const nodes = await core.listNode({ labelSelector: `${cordonedByLabel}=${experimentId}` });
  for (const node of nodes.items) {
    const name = node.metadata?.name ?? "";
    try {
      await uncordonIfOurs(session, name, experimentId);
      removed.push(`cordon of node ${name}`);
    } catch (error) {
      if (!isNotFound(error)) session.log.warn(`sweep: cannot uncordon node ${name}: ${describeApiError(error)}`);
    }
  }
  const corefile = await restoreCorefileFromAnnotation(session, experimentId);
  if (corefile) removed.push(corefile);
  return removed;
}
