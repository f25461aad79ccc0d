import { ConnectionError, type Target } from "@chaos-agents/core";
import { clusterIdentity } from "./cluster-identity.js";
import { discoverCluster } from "./discovery/discover-cluster.js";
import { describeApiError } from "./kubernetes-api-errors.js";
import type { CredentialOptions } from "./kubernetes-client.js";
import { configuredNamespaces, type KubernetesConfig, kubernetesConfigSchema, protectedNamespaces } from "./kubernetes-config.js";
import type { KubernetesSession } from "./kubernetes-session.js";
import { sweepCluster } from "./sweep.js";

/** The Kubernetes agent: one cluster through a kubeconfig context (or in-cluster credentials), some of its namespaces. */
export function createKubernetesTarget(options: CredentialOptions = {}): Target<KubernetesConfig, KubernetesSession> {
  return {
    kind: "kubernetes",
    configSchema: kubernetesConfigSchema,
    // Parsed again here: the engine may hand over the config as written (parsing parsed output is a no-op).
    identify: (config) => clusterIdentity(kubernetesConfigSchema.parse(config)),
    async connect(rawConfig, context) {
      const config = kubernetesConfigSchema.parse(rawConfig);
      // The client (and its HTTP stack) loads here, not with the package: `chaos validate` never needs it.
      const { createKubernetesClients } = await import("./kubernetes-client.js");
      const clients = createKubernetesClients(config, options);
      try {
        // One cheap request: a cluster that cannot be reached (or refuses the credentials) fails the run before anything changes.
        await clients.version.getCode();
      } catch (error) {
        throw new ConnectionError(`${clients.server} (context ${clients.context})`, describeApiError(error), { cause: error });
      }
      const namespaces = configuredNamespaces(config);
      const session: KubernetesSession = {
        identity: `k8s://${clients.context}@${clients.server.replace(/^https?:\/\//, "")}/${namespaces.join(",")}`,
        config,
        clients,
        namespaces,
        protectedNamespaces: protectedNamespaces(config),
        log: context.log,
        discover: () => discoverCluster(session),
        close: async () => undefined,
      };
      return session;
    },
    sweep: (session, experimentId) => sweepCluster(session, experimentId),
  };
}
