import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { makeTempDirectory } from "@chaos-agents/testing";
import { afterAll, describe, expect, it } from "vitest";
import { clusterIdentity } from "./cluster-identity.js";
import { kubernetesConfigSchema } from "./kubernetes-config.js";

const temp = makeTempDirectory("chaos-cluster-identity-");
afterAll(temp.remove);

function kubeconfig(name: string, currentContext: string, clusters: Record<string, string>, contexts: Record<string, string>): string {
  const path = join(temp.path, name);
  writeFileSync(
    path,
    JSON.stringify({
      apiVersion: "v1",
      kind: "Config",
      "current-context": currentContext,
      clusters: Object.entries(clusters).map(([clusterName, server]) => ({ name: clusterName, cluster: { server } })),
      contexts: Object.entries(contexts).map(([contextName, cluster]) => ({ name: contextName, context: { cluster, user: "u" } })),
      users: [{ name: "u", user: { token: "secret-token" } }],
    }),
  );
  return path;
}

const config = (value: Record<string, unknown>) => kubernetesConfigSchema.parse(value);

describe("cluster identity", () => {
  const staging = kubeconfig("staging", "main", { east: "https://10.0.0.1:6443/" }, { main: "east", other: "west" });
  const production = kubeconfig("production", "main", { west: "https://10.9.9.9:6443" }, { main: "west" });

  it("names the context and the API server it points at, so equal context names on two clusters are two targets", () => {
    const one = clusterIdentity(config({ kubeconfig: staging, namespace: "web" }), {});
    const two = clusterIdentity(config({ kubeconfig: production, namespace: "web" }), {});
    expect(one).toBe("k8s://main@10.0.0.1:6443/web");
    expect(two).toBe("k8s://main@10.9.9.9:6443/web");
    expect(clusterIdentity(config({ kubeconfig: staging, namespace: ["a", "b"] }), {})).toBe("k8s://main@10.0.0.1:6443/a,b");
    expect(clusterIdentity(config({ kubeconfig: staging, namespace: "web" }), {})).not.toContain("secret-token");
  });

  it("reads KUBECONFIG as kubectl merges it: the first file's current-context, entries from any file", () => {
    const clustersOnly = kubeconfig("clusters", "", { west: "https://10.9.9.9:6443" }, {});
    const env = { KUBECONFIG: `${join(temp.path, "missing")}:${staging}:${clustersOnly}` };
    expect(clusterIdentity(config({ namespace: "web" }), env)).toBe("k8s://main@10.0.0.1:6443/web");
    expect(clusterIdentity(config({ namespace: "web", context: "other" }), env)).toBe("k8s://other@10.9.9.9:6443/web");
  });

  it("uses the service account's cluster in a pod, and says what it can when nothing is readable", () => {
    const pod = { KUBERNETES_SERVICE_HOST: "10.96.0.1", KUBERNETES_SERVICE_PORT: "443", KUBECONFIG: join(temp.path, "missing") };
    expect(clusterIdentity(config({ namespace: "web", in_cluster: true }), pod)).toBe("k8s://in-cluster@10.96.0.1:443/web");
    expect(clusterIdentity(config({ namespace: "web" }), pod)).toBe("k8s://in-cluster@10.96.0.1:443/web");
    expect(clusterIdentity(config({ namespace: "web", context: "ctx" }), { KUBECONFIG: join(temp.path, "missing") })).toBe("k8s://ctx/web");
  });
});
