import type { KubernetesClients } from "../kubernetes-client.js";

/** Network plugins known to enforce NetworkPolicy, by the name of their DaemonSet in kube-system. */
const enforcing = ["calico", "cilium", "antrea", "kube-router", "weave", "canal", "kindnet"];

export interface NetworkPolicySupport {
  /** "enforced": a known enforcing plugin runs; "unknown": none found or kube-system unreadable. */
  enforcement: "enforced" | "unknown";
  plugin?: string;
  /** Why chaos cannot be sure, for the warning. */
  reason?: string;
}

/**
 * Looks for a network plugin that enforces NetworkPolicies (read-only: lists kube-system's
 * DaemonSets). Without one, the API accepts policies and nothing happens: network skills warn.
 */
export async function detectNetworkPolicySupport(clients: KubernetesClients): Promise<NetworkPolicySupport> {
  try {
    const { items } = await clients.apps.listNamespacedDaemonSet({ namespace: "kube-system" });
    const names = items.map((daemonSet) => daemonSet.metadata?.name ?? "");
    const plugin = names.find((name) => enforcing.some((known) => name.includes(known)));
    if (plugin) return { enforcement: "enforced", plugin };
    return {
      enforcement: "unknown",
      reason: `no DaemonSet of a plugin known to enforce NetworkPolicies (${enforcing.join(", ")}) in kube-system (found: ${names.join(", ") || "none"}); the policies may be stored and never enforced`,
    };
  } catch {
    return {
      enforcement: "unknown",
      reason: "kube-system's DaemonSets cannot be read, so the network plugin is unknown; the policies may not be enforced",
    };
  }
}
