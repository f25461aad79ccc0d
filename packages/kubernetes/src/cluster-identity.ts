import { existsSync, readFileSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import { parse } from "yaml";
import { configuredNamespaces, type KubernetesConfig } from "./kubernetes-config.js";

interface Named<Body> {
  name?: string;
  context?: Body;
  cluster?: Body;
}
interface KubeconfigFile {
  "current-context"?: string;
  contexts?: Named<{ cluster?: string }>[];
  clusters?: Named<{ server?: string }>[];
}

/**
 * The cluster and namespaces an experiment acts on, as `k8s://CONTEXT@HOST:PORT/NAMESPACES`,
 * read from the kubeconfig as kubectl would pick it (target_config.kubeconfig, else each file of
 * KUBECONFIG, else ~/.kube/config; else the pod's service account), without loading the client:
 * two kubeconfigs whose contexts share a name but point at different clusters are different
 * targets, and the same cluster reached through one context is one.
 */
export function clusterIdentity(config: KubernetesConfig, env: NodeJS.ProcessEnv = process.env): string {
  const namespaces = configuredNamespaces(config).join(",");
  const cluster = config.in_cluster ? inCluster(env) : (fromKubeconfig(config, env) ?? inCluster(env));
  return cluster
    ? `k8s://${cluster.context}@${cluster.server}/${namespaces}`
    : `k8s://${config.context ?? "current-context"}/${namespaces}`;
}

function inCluster(env: NodeJS.ProcessEnv) {
  const host = env.KUBERNETES_SERVICE_HOST;
  return host ? { context: "in-cluster", server: `${host}:${env.KUBERNETES_SERVICE_PORT ?? "443"}` } : undefined;
}

function fromKubeconfig(config: KubernetesConfig, env: NodeJS.ProcessEnv) {
  const expand = (path: string) => (path === "~" || path.startsWith("~/") ? join(homedir(), path.slice(1)) : path);
  const paths = config.kubeconfig
    ? [expand(config.kubeconfig)]
    : (env.KUBECONFIG ?? "").split(":").filter(Boolean).length > 0
      ? (env.KUBECONFIG ?? "").split(":").filter(Boolean)
      : [join(homedir(), ".kube", "config")];
  // As kubectl merges KUBECONFIG: the first file to set a value (or name an entry) wins.
  const files = paths.filter((path) => existsSync(path)).map(readKubeconfig);
  const contextName = config.context ?? files.map((file) => file["current-context"]).find(Boolean);
  const context = files.flatMap((file) => file.contexts ?? []).find((entry) => entry.name === contextName)?.context;
  const server = files.flatMap((file) => file.clusters ?? []).find((entry) => entry.name === context?.cluster)?.cluster?.server;
  return contextName && server ? { context: contextName, server: server.replace(/^https?:\/\//, "").replace(/\/+$/, "") } : undefined;
}

function readKubeconfig(path: string): KubeconfigFile {
  try {
    return (parse(readFileSync(path, "utf8")) as KubeconfigFile | null) ?? {};
  } catch {
    // An unreadable kubeconfig is the connection's error to report; the identity falls back.
    return {};
  }
}
