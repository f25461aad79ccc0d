import { defineSkill, durationText, type JsonValue, parseDuration } from "@chaos-agents/core";
import type { V1Pod } from "@kubernetes/client-node";
import { z } from "zod";
import { controllerOf } from "../discovery/pod-facts.js";
import { apiFailure, describeApiError, isNotFound } from "../kubernetes-api-errors.js";
import { cordonedByLabel } from "../kubernetes-labels.js";
import type { KubernetesSession } from "../kubernetes-session.js";
import { cordonNode, uncordonIfOurs } from "./node-cordon.js";
import { refuse, resourcesOf } from "./skill-support.js";

const name = "k8s.node_drain";

const params = z.strictObject({
  node: z.string().min(1).describe("Name of the node to drain, as discovery lists it."),
  cordon_only: z.boolean().default(false).describe("Only cordon (no new pods scheduled); evict nothing."),
  eviction_timeout: durationText().default("2m").describe("How long to keep retrying evictions a PodDisruptionBudget refuses (429)."),
});

type Params = z.output<typeof params>;

export interface NodeDrainUndo {
  [key: string]: JsonValue;
  node: string;
}

/** Pods a drain evicts: not DaemonSet-managed, not mirror pods, not in a protected namespace, and owned by a controller. */
function evictable(session: KubernetesSession, pod: V1Pod): { evict: boolean; reason?: string } {
  const owner = controllerOf(pod);
  const namespace = pod.metadata?.namespace ?? "";
  if (owner?.kind === "DaemonSet") return { evict: false, reason: "DaemonSet-managed" };
  if (pod.metadata?.annotations?.["kubernetes.io/config.mirror"]) return { evict: false, reason: "mirror pod" };
  if (session.protectedNamespaces.has(namespace)) return { evict: false, reason: `protected namespace ${namespace}` };
  if (!owner) return { evict: false, reason: "no controller would recreate it" };
  if (pod.status?.phase === "Succeeded" || pod.status?.phase === "Failed") return { evict: false, reason: "already finished" };
  return { evict: true };
}

export const k8sNodeDrain = defineSkill<Params, KubernetesSession, NodeDrainUndo>({
  name,
  target: "kubernetes",
  description:
    "Cordon a node and evict its pods through the Eviction API (PodDisruptionBudgets respected; DaemonSet pods, bare pods and protected namespaces left); never the last schedulable node. Rollback uncordons.",
  params,
  reversible: true,
  async plan({ params: parameters, session, inventory }) {
    const nodes = resourcesOf(inventory, "node");
    const node = nodes.find((resource) => resource.details?.name === parameters.node);
    if (!node)
      refuse(
        name,
        `no discovered node is named ${parameters.node} (nodes: ${nodes.map((resource) => resource.details?.name).join(", ") || "none"})`,
      );
    if (!node.details?.schedulable) refuse(name, `node ${parameters.node} is already cordoned; chaos would not know whose cordon to undo`);
    const schedulable = (await session.clients.core.listNode({})).items.filter(
      (item) =>
        !item.spec?.unschedulable &&
        item.status?.conditions?.some((condition) => condition.type === "Ready" && condition.status === "True"),
    );
    if (schedulable.length <= 1)
      refuse(name, `node ${parameters.node} is the last schedulable Ready node; draining it would leave nowhere to run pods`);
    const pods = (await session.clients.core.listPodForAllNamespaces({ fieldSelector: `spec.nodeName=${parameters.node}` })).items;
    const toEvict = parameters.cordon_only ? [] : pods.filter((pod) => evictable(session, pod).evict);
    const left = pods.length - toEvict.length;
    const namespaces = [...new Set(toEvict.map((pod) => pod.metadata?.namespace ?? ""))].sort();
    return {
      targets: [node.name, ...toEvict.map((pod) => `${pod.metadata?.namespace}/pod:${pod.metadata?.name}`)],
      summary: parameters.cordon_only
        ? `cordon node ${parameters.node} (no evictions)`
        : `cordon node ${parameters.node} and evict ${toEvict.length} pod(s)${namespaces.length > 0 ? ` from namespaces ${namespaces.join(", ")}` : ""} (${left} left: DaemonSet, bare, finished or protected)`,
    };
  },
  async inject(context) {
    const { node, cordon_only: cordonOnly } = context.params;
    const { core } = context.session.clients;
    await context.journal.record({ node });
    await cordonNode(context.session, node, context.experimentId);
    if (cordonOnly) return { summary: `cordoned node ${node}` };
    const deadline = Date.now() + (parseDuration(context.params.eviction_timeout) ?? 120_000);
    let pending = (await core.listPodForAllNamespaces({ fieldSelector: `spec.nodeName=${node}` })).items.filter(
      (pod) => evictable(context.session, pod).evict,
    );
    let evicted = 0;
    let refusals = 0;
    while (pending.length > 0 && !context.signal.aborted) {
      const refused: V1Pod[] = [];
      for (const pod of pending) {
        const podName = pod.metadata?.name ?? "";
        const namespace = pod.metadata?.namespace ?? "";
        try {
          await core.createNamespacedPodEviction({
            name: podName,
            namespace,
            body: { apiVersion: "policy/v1", kind: "Eviction", metadata: { name: podName, namespace } },
          });
          evicted++;
        } catch (error) {
          if (isNotFound(error)) continue;
          if (apiFailure(error)?.code !== 429) throw error;
          refusals++;
          refused.push(pod);
        }
      }
      pending = refused;
      if (pending.length === 0 || Date.now() > deadline) break;
      await new Promise((resolve) => setTimeout(resolve, 1000));
    }
    const blocked = pending.map((pod) => `${pod.metadata?.namespace}/${pod.metadata?.name}`);
    if (blocked.length > 0)
      context.log.warn(
        `${name}: PodDisruptionBudgets still refused evicting ${blocked.join(", ")} after ${context.params.eviction_timeout}; they stay on ${node}`,
      );
    return {
      summary: `cordoned node ${node}; evicted ${evicted} pod(s)${blocked.length > 0 ? `; ${blocked.length} kept by PodDisruptionBudgets` : ""}`,
      metrics: { pods_evicted: evicted, evictions_refused_by_pdb: refusals, pods_kept_by_pdb: blocked.length },
    };
  },
  async rollback(context, undo) {
    try {
      if (await uncordonIfOurs(context.session, undo.node, context.experimentId)) return { summary: `uncordoned node ${undo.node}` };
      const node = await context.session.clients.core.readNode({ name: undo.node });
      if (!node.spec?.unschedulable) return { summary: `node ${undo.node} was already schedulable` };
      return {
        conflicts: [
          `node ${undo.node} is cordoned, but no longer with ${cordonedByLabel}=${context.experimentId}: someone else cordoned it since; left cordoned`,
        ],
      };
    } catch (error) {
      if (isNotFound(error)) return { summary: `node ${undo.node} no longer exists` };
      if (apiFailure(error)?.code === 422)
        return { conflicts: [`node ${undo.node} changed while being uncordoned (${describeApiError(error)}); left as it is`] };
      throw error;
    }
  },
});
