import { durationText } from "@chaos-agents/core";
import { z } from "zod";

/** Namespaces no experiment may touch, whatever the config says; `protected_namespaces` adds to them. */
export const defaultProtectedNamespaces = ["kube-system", "kube-public", "kube-node-lease"] as const;

const namespaceName = z
  .string()
  .regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, "expected a namespace name (lower-case letters, digits and '-')")
  .max(63, "a namespace name has at most 63 characters");

export const kubernetesConfigSchema = z.strictObject({
  kubeconfig: z
    .string()
    .optional()
    .describe("Path of a kubeconfig file. Default: $KUBECONFIG, then ~/.kube/config, then the in-cluster service account."),
  context: z.string().optional().describe("kubeconfig context to use. Default: the file's current-context."),
  in_cluster: z
    .boolean()
    .optional()
    .describe(
      "Use the pod's service-account credentials (KUBERNETES_SERVICE_HOST and /var/run/secrets/kubernetes.io/serviceaccount). Default: only when no kubeconfig is found.",
    ),
  namespace: z
    .union([namespaceName, z.array(namespaceName).min(1, "expected at least one namespace")])
    .default("default")
    .describe("Namespace, or list of namespaces, that discovery reads and skills may act in."),
  label_selector: z.string().optional().describe("Label selector (`app=web,tier!=db`) limiting the workloads and pods discovery lists."),
  protected_namespaces: z
    .array(namespaceName)
    .default([])
    .describe("Namespaces never touched, added to kube-system, kube-public and kube-node-lease (which always stay protected)."),
  request_timeout: durationText()
    .default("30s")
    .describe(
      "How long one API request may take before it is abandoned: a hung API server fails the step (a rollback step is retried, then left for `chaos recover`) instead of hanging chaos.",
    ),
});

export type KubernetesConfig = z.output<typeof kubernetesConfigSchema>;

/** The namespaces the config names, as a list. */
export function configuredNamespaces(config: KubernetesConfig): string[] {
  return [...new Set(Array.isArray(config.namespace) ? config.namespace : [config.namespace])];
}

/** Built-in protected namespaces plus the config's own: the config can add, never remove. */
export function protectedNamespaces(config: KubernetesConfig): Set<string> {
  return new Set([...defaultProtectedNamespaces, ...config.protected_namespaces]);
}
