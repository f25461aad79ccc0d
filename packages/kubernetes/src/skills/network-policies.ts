import { randomBytes } from "node:crypto";
import { type Inventory, type JsonValue, type Logger, type Resource, type RollbackResult, SkillError } from "@chaos-agents/core";
import type { V1NetworkPolicySpec } from "@kubernetes/client-node";
import { isNotFound } from "../kubernetes-api-errors.js";
import { chaosLabels, experimentLabel, experimentSelector } from "../kubernetes-labels.js";
import type { KubernetesSession } from "../kubernetes-session.js";
import { selectorText } from "./skill-support.js";

/** Undo of one NetworkPolicy chaos created: delete it by name, then sweep the namespace by label. */
export interface PolicyUndo {
  [key: string]: JsonValue;
  namespace: string;
  policy: string;
}

/** Warns once per skill when the cluster's network plugin may store policies without enforcing them. */
export function warnIfNotEnforced(inventory: Inventory, log: Logger, skill: string): string | undefined {
  if (inventory.facts?.networkPolicyEnforcement === "enforced") return undefined;
  const warning = `${skill}: the cluster's network plugin may not enforce NetworkPolicies (none known to enforce them was found in kube-system): the policy will be created, and traffic may flow all the same`;
  log.warn(warning);
  return warning;
}

/**
 * NetworkPolicies add up: traffic another policy allows to the same pods still flows. Warns with
 * the names of the policies (not chaos's) that select any of `pods`.
 */
export function warnIfOtherPoliciesSelect(
  inventory: Inventory,
  log: Logger,
  skill: string,
  namespace: string,
  pods: Resource[],
): string | undefined {
  const others = inventory.resources.filter((resource) => {
    if (resource.kind !== "networkpolicy" || resource.details?.namespace !== namespace) return false;
    if ((resource.details?.labels as Record<string, string> | undefined)?.[experimentLabel]) return false;
    const selector = (resource.details?.podSelector ?? {}) as Record<string, string>;
    return pods.some((pod) =>
      Object.entries(selector).every(([key, value]) => (pod.details?.labels as Record<string, string> | undefined)?.[key] === value),
    );
  });
  if (others.length === 0) return undefined;
  const warning = `${skill}: NetworkPolicies ${others.map((policy) => policy.details?.name).join(", ")} already select some of these pods; policies add up, so traffic they allow will still flow`;
  log.warn(warning);
  return warning;
}

/**
 * A policy selects every pod carrying the labels, not only the discovered ones: refuses when the
 * selector also reaches pods that resource_filters or target_config.label_selector left out.
 */
export async function checkSelectorReach(
  skill: string,
  session: KubernetesSession,
  inventory: Inventory,
  namespace: string,
  selector: Record<string, string>,
): Promise<void> {
  const allowed = new Set(inventory.resources.filter((resource) => resource.kind === "pod").map((resource) => resource.name));
  const { items } = await session.clients.core.listNamespacedPod({ namespace, labelSelector: selectorText(selector) });
  const outside = items.map((pod) => pod.metadata?.name ?? "").filter((pod) => !allowed.has(`${namespace}/pod:${pod}`));
  if (outside.length > 0) {
    throw new SkillError(
      skill,
      `${selectorText(selector)} in ${namespace} also selects pods that resource_filters or target_config.label_selector exclude (${outside.join(", ")}); a NetworkPolicy cannot leave them out, so narrow the selector or widen the filters`,
    );
  }
}

/** Creates a NetworkPolicy labelled as chaos's and the experiment's, after the caller journaled its name. */
export async function createPolicy(
  session: KubernetesSession,
  experimentId: string,
  undo: PolicyUndo,
  spec: V1NetworkPolicySpec,
): Promise<void> {
  await session.clients.networking.createNamespacedNetworkPolicy({
    namespace: undo.namespace,
    body: {
      apiVersion: "networking.k8s.io/v1",
      kind: "NetworkPolicy",
      metadata: { name: undo.policy, namespace: undo.namespace, labels: chaosLabels(experimentId) },
      spec,
    },
  });
}

/**
 * Deletes the journaled policy when it is still this experiment's (a policy someone else put
 * under the same name is reported and left), then any other policy labelled with the experiment
 * in that namespace (one whose name never reached the journal). Idempotent.
 */
export async function removePolicies(session: KubernetesSession, experimentId: string, undo: PolicyUndo): Promise<RollbackResult> {
  const { networking } = session.clients;
  const conflicts: string[] = [];
  const notes: string[] = [];
  try {
    const policy = await networking.readNamespacedNetworkPolicy({ name: undo.policy, namespace: undo.namespace });
    if (policy.metadata?.labels?.[experimentLabel] !== experimentId) {
      conflicts.push(
        `networkpolicy ${undo.namespace}/${undo.policy} is not this experiment's (no ${experimentLabel}=${experimentId} label); left alone`,
      );
    } else {
      await networking.deleteNamespacedNetworkPolicy({
        name: undo.policy,
        namespace: undo.namespace,
        body: { preconditions: { uid: policy.metadata?.uid } },
      });
      notes.push(`deleted networkpolicy ${undo.namespace}/${undo.policy}`);
    }
  } catch (error) {
    if (!isNotFound(error)) throw error;
    notes.push(`networkpolicy ${undo.namespace}/${undo.policy} was already gone`);
  }
  const leftovers = await networking.listNamespacedNetworkPolicy({
    namespace: undo.namespace,
    labelSelector: experimentSelector(experimentId),
  });
  for (const policy of leftovers.items) {
    const name = policy.metadata?.name ?? "";
    await networking.deleteNamespacedNetworkPolicy({ name, namespace: undo.namespace }).catch((error) => {
      if (!isNotFound(error)) throw error;
    });
    notes.push(`swept networkpolicy ${undo.namespace}/${name}`);
  }
  return { summary: notes.join("; "), ...(conflicts.length > 0 ? { conflicts } : {}) };
}

/** `chaos-<what>-<short id>-<random>`: unique per experiment and step, at most 63 characters. */
export function policyName(what: string, experimentId: string): string {
  return `chaos-${what}-${experimentId.replace(/[^a-z0-9]/g, "").slice(-12)}-${randomBytes(3).toString("hex")}`.slice(0, 63);
}
