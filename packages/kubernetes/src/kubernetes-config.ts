import { z } from "zod";

export const kubernetesConfigSchema = z.strictObject({
  /** Path of a kubeconfig file; the default loading rules apply when omitted. */
  kubeconfig: z.string().optional(),
  context: z.string().optional(),
  namespace: z.string().default("default"),
  /** Namespaces never touched, whatever the experiment says. */
  protected_namespaces: z.array(z.string()).default(["kube-system", "kube-public", "kube-node-lease"]),
});

export type KubernetesConfig = z.output<typeof kubernetesConfigSchema>;
