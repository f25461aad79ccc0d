import { defineSkill } from "@chaos-agents/core";
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

const name = "k8s.network_chaos";

const params = z.strictObject({
  namespace: z.string().optional().describe("Namespace of the pods. Default: target_config.namespace when it names only one."),
  pod_selector: labelMap().describe("Labels of the pods to cut off (`{app: web}`)."),
  direction: z.enum(["both", "ingress", "egress"]).default("both").describe("Which traffic the deny-all policy blocks."),
});

type Params = z.output<typeof params>;

export const k8sNetworkChaos = defineSkill<Params, KubernetesSession, PolicyUndo>({
  name,
  target: "kubernetes",
  description: "Cut the selected pods off the network with a deny-all NetworkPolicy (ingress and/or egress); rollback deletes the policy.",
  params,
  reversible: true,
  async plan({ params: parameters, session, inventory, log }) {
    const namespace = namespaceFor(name, session, parameters.namespace);
    const selector = selectorText(parameters.pod_selector);
    const pods = podsMatching(inventory, namespace, parameters.pod_selector);
    if (pods.length === 0) refuse(name, `no discovered pod in ${namespace} matches ${selector}; nothing would be cut off`);
    await checkSelectorReach(name, session, inventory, namespace, parameters.pod_selector);
    const warning = warnIfNotEnforced(inventory, log, name);
    warnIfOtherPoliciesSelect(inventory, log, name, namespace, pods);
    return {
      targets: pods.map((pod) => pod.name),
      summary: `deny ${parameters.direction === "both" ? "all ingress and egress" : `all ${parameters.direction}`} for ${pods.length} pod(s) ${selector} in ${namespace}${warning ? " (enforcement not confirmed)" : ""}`,
      details: { namespace },
    };
  },
  async inject(context) {
    const { namespace } = context.plan.details as { namespace: string };
    const direction = context.params.direction;
    const undo: PolicyUndo = { namespace, policy: policyName("deny", context.experimentId) };
    await context.journal.record(undo);
    const policyTypes = direction === "both" ? ["Ingress", "Egress"] : direction === "ingress" ? ["Ingress"] : ["Egress"];
    // No ingress or egress rules with these policy types: nothing is allowed.
    await createPolicy(context.session, context.experimentId, undo, {
      podSelector: { matchLabels: context.params.pod_selector },
      policyTypes,
    });
    return {
      summary: `created networkpolicy ${namespace}/${undo.policy} (${policyTypes.join(" + ")} denied for ${selectorText(context.params.pod_selector)})`,
    };
  },
  rollback: (context, undo) => removePolicies(context.session, context.experimentId, undo),
});
