import { ChaosError, ExitCode, type Target, type TargetSession } from "@chaos-agents/core";
import { type KubernetesConfig, kubernetesConfigSchema } from "./kubernetes-config.js";

/**
 * The kubernetes target: its config is validated today so that files written for it are
 * checked; the agent itself (discovery and k8s.* skills) is not in this release.
 */
export function createKubernetesTarget(): Target<KubernetesConfig, TargetSession> {
  return {
    kind: "kubernetes",
    configSchema: kubernetesConfigSchema,
    identify: (config) => `k8s://${config.context ?? "current-context"}/${config.namespace}`,
    async connect() {
      throw new ChaosError("the kubernetes agent is not available in this release yet; `chaos validate` checks kubernetes configs", {
        exitCode: ExitCode.connectionFailed,
      });
    },
  };
}
