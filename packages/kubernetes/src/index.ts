export { type ApiFailure, apiFailure, describeApiError, isNotFound } from "./kubernetes-api-errors.js";
// Types only: the client itself loads when a target connects (`chaos validate` never needs it).
export type { CredentialOptions, KubernetesClients } from "./kubernetes-client.js";
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
