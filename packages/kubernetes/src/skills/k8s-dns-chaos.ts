import { isIP } from "node:net";
import { defineSkill, type JsonValue, type RollbackResult } from "@chaos-agents/core";
import { z } from "zod";
import { apiFailure, isNotFound } from "../kubernetes-api-errors.js";
import { chaosLabels } from "../kubernetes-labels.js";
import { type KubernetesSession, namespaceFor } from "../kubernetes-session.js";
import {
  corednsConfigMap,
  corruptCorefile,
  type DnsAnswer,
  originalCorefileAnnotation,
  readCorednsConfigMap,
  restoreCorefile,
} from "./corefile.js";
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

const name = "k8s.dns_chaos";

const dnsName = z
  .string()
  .regex(/^(\*\.)?([a-z0-9]([-a-z0-9]*[a-z0-9])?\.)*[a-z0-9]([-a-z0-9]*[a-z0-9])?\.?$/, "expected a DNS name such as api.example.com");

const params = z
  .strictObject({
    mode: z
      .enum(["block", "corrupt"])
      .describe("block: deny DNS (port 53) egress for the selected pods; corrupt: make cluster DNS answer wrongly for `names`."),
    namespace: z.string().optional().describe("block: namespace of the pods. Default: target_config.namespace when it names only one."),
    pod_selector: labelMap().optional().describe("block: labels of the pods whose DNS is blocked."),
    names: z.array(dnsName).min(1).optional().describe("corrupt: the names answered wrongly; every other name resolves as before."),
    answer: z
      .string()
      .refine((value) => value === "nxdomain" || isIP(value) === 4, 'expected "nxdomain" or an IPv4 address')
      .default("nxdomain")
      .describe('corrupt: "nxdomain", or the wrong IPv4 address to answer with.'),
    allow_cluster_dns: z
      .boolean()
      .default(false)
      .describe(
        "corrupt: must be true. Corrupt mode edits the CoreDNS Corefile in kube-system, the one exception to its protection, and affects the whole cluster.",
      ),
  })
  .superRefine((value, context) => {
    if (value.mode === "block" && !value.pod_selector)
      context.addIssue({ code: "custom", path: ["pod_selector"], message: "block mode needs pod_selector" });
    if (value.mode === "corrupt" && !value.names)
      context.addIssue({ code: "custom", path: ["names"], message: "corrupt mode needs names" });
  });

type Params = z.output<typeof params>;

/** Undo of a blocked DNS (a policy) or of a corrupted Corefile (its exact text before and after). */
export type DnsChaosUndo =
  | (PolicyUndo & { mode: "block" })
  | { [key: string]: JsonValue; mode: "corrupt"; original: string; injected: string };

/** Every port but 53, over UDP and TCP: NetworkPolicies only allow, so the hole is everything else. */
const allButDns = ["UDP", "TCP"].flatMap((protocol) => [
  { protocol, port: 1, endPort: 52 },
  { protocol, port: 54, endPort: 65535 },
]);

export const k8sDnsChaos = defineSkill<Params, KubernetesSession, DnsChaosUndo>({
  name,
  target: "kubernetes",
  description:
    "block: deny DNS egress (port 53) for the selected pods with a NetworkPolicy; corrupt (allow_cluster_dns): cluster DNS answers NXDOMAIN or a wrong address for the listed names only, cluster-wide. Rollback deletes the policy / restores the exact Corefile.",
  params,
  reversible: true,
  async plan({ params: parameters, session, inventory, log }) {
    if (parameters.mode === "block") {
      const namespace = namespaceFor(name, session, parameters.namespace);
      const selector = parameters.pod_selector ?? {};
      const pods = podsMatching(inventory, namespace, selector);
      if (pods.length === 0) refuse(name, `no discovered pod in ${namespace} matches ${selectorText(selector)}`);
      await checkSelectorReach(name, session, inventory, namespace, selector);
      const warning = warnIfNotEnforced(inventory, log, name);
      warnIfOtherPoliciesSelect(inventory, log, name, namespace, pods);
      return {
        targets: pods.map((pod) => pod.name),
        summary: `block DNS (port 53) egress for ${pods.length} pod(s) ${selectorText(selector)} in ${namespace}${warning ? " (enforcement not confirmed)" : ""}`,
        details: { namespace },
      };
    }
    if (!parameters.allow_cluster_dns) {
      refuse(
        name,
        "corrupt mode edits CoreDNS in kube-system, which is protected, and affects every pod of the cluster; set allow_cluster_dns: true to allow exactly that",
      );
    }
    let corefile: string | undefined;
    try {
      corefile = (await readCorednsConfigMap(session)).data?.[corednsConfigMap.key];
    } catch (error) {
      if (!isNotFound(error)) throw error;
    }
    if (corefile === undefined)
      refuse(
        name,
        `no CoreDNS Corefile at ${corednsConfigMap.namespace}/configmap ${corednsConfigMap.name} (key ${corednsConfigMap.key}); this cluster's DNS is not CoreDNS as kubeadm installs it`,
      );
    try {
      corruptCorefile(corefile, "plan", parameters.names ?? [], { kind: "nxdomain" });
    } catch (error) {
      refuse(name, `cannot change the Corefile: ${(error as Error).message}`);
    }
    const answer = parameters.answer === "nxdomain" ? "NXDOMAIN" : `A ${parameters.answer}`;
    return {
      targets: [`${corednsConfigMap.namespace}/configmap:${corednsConfigMap.name}`],
      summary: `CLUSTER-WIDE: CoreDNS answers ${answer} for ${(parameters.names ?? []).join(", ")} in every namespace (Corefile in ${corednsConfigMap.namespace}/${corednsConfigMap.name}; CoreDNS reloads it within about 30 s)`,
    };
  },
  async inject(context) {
    if (context.params.mode === "block") {
      const { namespace } = context.plan.details as { namespace: string };
      const undo: DnsChaosUndo = { mode: "block", namespace, policy: policyName("dns", context.experimentId) };
      await context.journal.record(undo);
      await createPolicy(context.session, context.experimentId, undo, {
        podSelector: { matchLabels: context.params.pod_selector ?? {} },
        policyTypes: ["Egress"],
        egress: [{ ports: allButDns }],
      });
      return { summary: `created networkpolicy ${namespace}/${undo.policy} (egress on port 53 denied)` };
    }
    const current = await readCorednsConfigMap(context.session);
    const original = current.data?.[corednsConfigMap.key] ?? "";
    const answer: DnsAnswer =
      context.params.answer === "nxdomain" ? { kind: "nxdomain" } : { kind: "address", address: context.params.answer };
    const injected = corruptCorefile(original, context.experimentId, context.params.names ?? [], answer);
    await context.journal.record({ mode: "corrupt", original, injected });
    try {
      // Guarded by the resourceVersion just read: a Corefile changed in between is not overwritten (409).
      await context.session.clients.core.replaceNamespacedConfigMap({
        name: corednsConfigMap.name,
        namespace: corednsConfigMap.namespace,
        body: {
          ...current,
          metadata: {
            ...current.metadata,
            labels: { ...(current.metadata?.labels ?? {}), ...chaosLabels(context.experimentId) },
            annotations: { ...(current.metadata?.annotations ?? {}), [originalCorefileAnnotation]: original },
          },
          data: { ...current.data, [corednsConfigMap.key]: injected },
        },
      });
    } catch (error) {
      if (apiFailure(error)?.code === 409)
        throw new Error(`the Corefile changed while chaos was editing it (409 Conflict); nothing was changed`);
      throw error;
    }
    return { summary: `CoreDNS Corefile changed: ${(context.params.names ?? []).join(", ")} answered ${context.params.answer}` };
  },
  async rollback(context, undo): Promise<RollbackResult> {
    if (undo.mode === "block") return removePolicies(context.session, context.experimentId, undo);
    const outcome = await restoreCorefile(context.session, context.experimentId, undo.original, undo.injected);
    if (outcome === "changed by someone else") {
      return {
        conflicts: [
          `the Corefile in ${corednsConfigMap.namespace}/${corednsConfigMap.name} was changed by someone else since chaos edited it; left as it is (restore the chaos-agents block by hand)`,
        ],
      };
    }
    return { summary: outcome === "restored" ? "restored the exact Corefile" : `Corefile ${outcome}` };
  },
});
