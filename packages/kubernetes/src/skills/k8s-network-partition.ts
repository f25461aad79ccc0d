import { defineSkill } from "@chaos-agents/core";
import type { V1NetworkPolicyPeer } from "@kubernetes/client-node";
import { z } from "zod";
import { type KubernetesSession, namespaceFor } from "../kubernetes-session.js";
import {
  checkSelectorReach,
  createPolicy,
  type PolicyUndo,
  policyName,
  removePolicies,
  warnIfNotEnforced,
  warnIfOtherPoliciesSelect,
} from "./network-policies.js";
import { labelMap, podsMatching, refuse, selectorText } from "./skill-support.js";

const name = "k8s.network_partition";

const params = z.strictObject({
  namespace: z.string().optional().describe("Namespace of both sides. Default: target_config.namespace when it names only one."),
  side_a: labelMap().describe("Labels of the pods on one side (`{app: web}`)."),
  side_b: labelMap().describe("Labels of the pods on the other side (`{app: api}`)."),
});

type Params = z.output<typeof params>;

/**
 * Peers that are everything except the pods of `other`: pods of this namespace lacking one of
 * its labels (one peer per label, as peers are ORed), every other namespace, and addresses outside the cluster.
 */
function everythingBut(namespace: string, other: Record<string, string>): V1NetworkPolicyPeer[] {
  return [
    ...Object.entries(other).map(([key, value]) => ({ podSelector: { matchExpressions: [{ key, operator: "NotIn", values: [value] }] } })),
    { namespaceSelector: { matchExpressions: [{ key: "kubernetes.io/metadata.name", operator: "NotIn", values: [namespace] }] } },
    { ipBlock: { cidr: "0.0.0.0/0" } },
    { ipBlock: { cidr: "::/0" } },
  ];
}

export const k8sNetworkPartition = defineSkill<Params, KubernetesSession, PolicyUndo>({
  name,
  target: "kubernetes",
  description:
    "Partition two label sets of a namespace: one NetworkPolicy per side allows all traffic except to and from the other side; rollback deletes them.",
  params,
  reversible: true,
  async plan({ params: parameters, session, inventory, log }) {
    const namespace = namespaceFor(name, session, parameters.namespace);
    const sideA = podsMatching(inventory, namespace, parameters.side_a);
    const sideB = podsMatching(inventory, namespace, parameters.side_b);
    if (sideA.length === 0) refuse(name, `no discovered pod in ${namespace} matches side_a ${selectorText(parameters.side_a)}`);
    if (sideB.length === 0) refuse(name, `no discovered pod in ${namespace} matches side_b ${selectorText(parameters.side_b)}`);
    const both = sideA.filter((pod) => sideB.includes(pod));
    if (both.length > 0)
      refuse(name, `pods match both sides (${both.map((pod) => pod.details?.name).join(", ")}); the sides must not overlap`);
    for (const side of [parameters.side_a, parameters.side_b]) await checkSelectorReach(name, session, inventory, namespace, side);
    const warning = warnIfNotEnforced(inventory, log, name);
    warnIfOtherPoliciesSelect(inventory, log, name, namespace, [...sideA, ...sideB]);
    return {
      targets: [...sideA, ...sideB].map((pod) => pod.name),
      summary: `partition ${sideA.length} pod(s) ${selectorText(parameters.side_a)} from ${sideB.length} pod(s) ${selectorText(parameters.side_b)} in ${namespace}${warning ? " (enforcement not confirmed)" : ""}`,
      details: { namespace },
    };
  },
  async inject(context) {
    const { namespace } = context.plan.details as { namespace: string };
    const sides: [Record<string, string>, Record<string, string>][] = [
      [context.params.side_a, context.params.side_b],
      [context.params.side_b, context.params.side_a],
    ];
    const created: string[] = [];
    for (const [own, other] of sides) {
      const undo: PolicyUndo = { namespace, policy: policyName("partition", context.experimentId) };
      await context.journal.record(undo);
      const peers = everythingBut(namespace, other);
      await createPolicy(context.session, context.experimentId, undo, {
        podSelector: { matchLabels: own },
        policyTypes: ["Ingress", "Egress"],
        ingress: [{ _from: peers }],
        egress: [{ to: peers }],
      });
      created.push(undo.policy);
    }
    return { summary: `created networkpolicies ${created.map((policy) => `${namespace}/${policy}`).join(", ")}` };
  },
  rollback: (context, undo) => removePolicies(context.session, context.experimentId, undo),
});
