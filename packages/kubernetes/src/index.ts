export {
  apiFailure,
  type CredentialOptions,
  createKubernetesClients,
  describeApiError,
  type KubernetesClients,
  loadKubeConfig,
} from "./kubernetes-client.js";
export {
  configuredNamespaces,
  defaultProtectedNamespaces,
  type KubernetesConfig,
  kubernetesConfigSchema,
  protectedNamespaces,
} from "./kubernetes-config.js";
export { chaosLabels, cordonedByLabel, experimentLabel, experimentSelector, managedByLabel, managedByValue } from "./kubernetes-labels.js";
export type { KubernetesSession } from "./kubernetes-session.js";
export { kubernetesSkills } from "./kubernetes-skills.js";
export { createKubernetesTarget } from "./kubernetes-target.js";
