import { type Logger, SkillError, type TargetSession } from "@chaos-agents/core";
import type { KubernetesClients } from "./kubernetes-client.js";
import type { KubernetesConfig } from "./kubernetes-config.js";

/** An open Kubernetes experiment: typed API clients on one kubeconfig context, and the namespaces chaos may act in. */
export interface KubernetesSession extends TargetSession {
  readonly config: KubernetesConfig;
  readonly clients: KubernetesClients;
  /** The namespaces `target_config.namespace` names. */
  readonly namespaces: string[];
  /** kube-system, kube-public, kube-node-lease and the config's `protected_namespaces`. */
  readonly protectedNamespaces: Set<string>;
  readonly log: Logger;
}

/**
 * The namespace a skill acts in: its `namespace` param, else the config's only namespace.
 * Refuses a protected namespace and one the target_config does not name, before any change.
 */
export function namespaceFor(skill: string, session: KubernetesSession, requested: string | undefined): string {
  const namespace = requested ?? (session.namespaces.length === 1 ? session.namespaces[0] : undefined);
  if (!namespace) {
    throw new SkillError(
      skill,
      `target_config names several namespaces (${session.namespaces.join(", ")}); say which one with the \`namespace\` param`,
    );
  }
  if (session.protectedNamespaces.has(namespace)) {
    throw new SkillError(
      skill,
      `namespace ${namespace} is protected (${[...session.protectedNamespaces].join(", ")}); chaos never touches it`,
    );
  }
  if (!session.namespaces.includes(namespace)) {
    throw new SkillError(
      skill,
      `namespace ${namespace} is not in target_config.namespace (${session.namespaces.join(", ")}); add it there to allow chaos in it`,
    );
  }
  return namespace;
}
