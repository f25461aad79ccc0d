import { resolve } from "node:path";
import { parseArgs } from "node:util";
import { startKubernetesApiServer } from "../kubernetes-api-server.js";

/**
 * `npm run k8s:sandbox -- --kubeconfig FILE`: the Kubernetes API simulator with two nodes and
 * a `staging` namespace (web ×3 with a PodDisruptionBudget, api ×2), until Ctrl-C.
 */
const { values } = parseArgs({ options: { kubeconfig: { type: "string" }, port: { type: "string" }, help: { type: "boolean" } } });
if (values.help || !values.kubeconfig) {
  console.error(
    "usage: npm run k8s:sandbox -- --kubeconfig FILE [--port N]\nStarts a Kubernetes API simulator (not a real cluster) and writes FILE once it serves.",
  );
  process.exit(values.help ? 0 : 2);
}
const kubeconfig = resolve(values.kubeconfig);
const server = await startKubernetesApiServer({ seed: "sandbox", port: values.port ? Number(values.port) : undefined });
await server.writeKubeconfig(kubeconfig, { namespace: "staging" });
console.log(`Kubernetes API simulator serving at ${server.url}
kubeconfig: ${kubeconfig}
  KUBECONFIG=${kubeconfig} kubectl get pods -n staging
This is a simulator: objects, controllers and evictions are modelled; no containers run and NetworkPolicies are not enforced.
Ctrl-C stops it.`);
const stop = async () => {
  await server.close();
  process.exit(0);
};
process.once("SIGINT", stop);
process.once("SIGTERM", stop);
