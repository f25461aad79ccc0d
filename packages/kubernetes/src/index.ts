export { type KubernetesConfig, kubernetesConfigSchema } from "./kubernetes-config.js";
export { createKubernetesTarget } from "./kubernetes-target.js";
