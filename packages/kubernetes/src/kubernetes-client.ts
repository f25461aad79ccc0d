// Loads @kubernetes/client-node (and its HTTP stack): imported when a target connects, never by
// `chaos validate` or `--help`.
import { existsSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import { ConnectionError, parseDuration } from "@chaos-agents/core";
import {
  AppsV1Api,
  BatchV1Api,
  type Configuration,
  CoreV1Api,
  createConfiguration,
  KubeConfig,
  NetworkingV1Api,
  PatchStrategy,
  PolicyV1Api,
  ServerConfiguration,
  setHeaderOptions,
  VersionApi,
} from "@kubernetes/client-node";
import type { KubernetesConfig } from "./kubernetes-config.js";

/** The typed API groups the agent uses, all from one kubeconfig. */
export interface KubernetesClients {
  readonly kubeConfig: KubeConfig;
  readonly core: CoreV1Api;
  readonly apps: AppsV1Api;
  readonly batch: BatchV1Api;
  readonly networking: NetworkingV1Api;
  readonly policy: PolicyV1Api;
  readonly version: VersionApi;
  /** API server URL, e.g. https://10.0.0.1:6443 (no credentials). */
  readonly server: string;
  /** The kubeconfig context in use ("in-cluster" for service-account credentials). */
  readonly context: string;
  /** Request options that send a patch body in each patch format. */
  readonly patchAs: typeof patchAs;
}

const patchAs = {
  /** A strategic merge patch (what kubectl cordon sends). */
  strategicMerge: setHeaderOptions("Content-Type", PatchStrategy.StrategicMergePatch),
  /** A JSON patch (RFC 6902; its `test` operations guard a write). */
  json: setHeaderOptions("Content-Type", PatchStrategy.JsonPatch),
  /** A JSON merge patch. */
  merge: setHeaderOptions("Content-Type", PatchStrategy.MergePatch),
};

function expandHome(path: string): string {
  return path === "~" || path.startsWith("~/") ? join(homedir(), path.slice(1)) : path;
}

const serviceAccountToken = "/var/run/secrets/kubernetes.io/serviceaccount/token";

/** Where credentials come from beyond the target_config. */
export interface CredentialOptions {
  /**
   * Prefix of the service-account mount (`<prefix>/var/run/secrets/kubernetes.io/serviceaccount`):
   * empty in a pod; a directory in tests, or where the mount is elsewhere.
   */
  serviceAccountPrefix?: string;
}

function inClusterAvailable(prefix: string): boolean {
  return Boolean(
    process.env.KUBERNETES_SERVICE_HOST && process.env.KUBERNETES_SERVICE_PORT && existsSync(`${prefix}${serviceAccountToken}`),
  );
}

/**
 * Loads credentials the way kubectl does: `kubeconfig` from the config, else $KUBECONFIG, else
 * ~/.kube/config, else the in-cluster service account; then selects `context`.
 */
export function loadKubeConfig(config: KubernetesConfig, options: CredentialOptions = {}): KubeConfig {
  const kubeConfig = new KubeConfig();
  const prefix = options.serviceAccountPrefix ?? "";
  const where = config.kubeconfig ? expandHome(config.kubeconfig) : undefined;
  try {
    if (where) {
      if (!existsSync(where)) throw new Error(`kubeconfig ${where} does not exist (target_config.kubeconfig)`);
      kubeConfig.loadFromFile(where);
    } else if (config.in_cluster) {
      if (!inClusterAvailable(prefix)) {
        throw new Error("in_cluster is set but this is not a pod with a service account (KUBERNETES_SERVICE_HOST or the token is missing)");
      }
      kubeConfig.loadFromCluster(prefix);
    } else if ((process.env.KUBECONFIG ?? "").split(":").some(Boolean) || existsSync(join(homedir(), ".kube", "config"))) {
      kubeConfig.loadFromDefault();
    } else if (inClusterAvailable(prefix)) {
      kubeConfig.loadFromCluster(prefix);
    } else {
      throw new Error(
        "no kubeconfig found: set target_config.kubeconfig or KUBECONFIG, create ~/.kube/config, or run in a pod with a service account",
      );
    }
  } catch (error) {
    throw new ConnectionError(where ?? "kubernetes", (error as Error).message, { cause: error });
  }
  if (config.context) {
    const names = kubeConfig.getContexts().map((context) => context.name);
    if (!names.includes(config.context)) {
      throw new ConnectionError(
        where ?? "kubernetes",
        `kubeconfig has no context "${config.context}" (contexts: ${names.join(", ") || "none"})`,
      );
    }
    kubeConfig.setCurrentContext(config.context);
  }
  if (!kubeConfig.getCurrentCluster()) {
    throw new ConnectionError(where ?? "kubernetes", `kubeconfig context "${kubeConfig.getCurrentContext()}" names no cluster`);
  }
  return kubeConfig;
}

export function createKubernetesClients(config: KubernetesConfig, options: CredentialOptions = {}): KubernetesClients {
  const kubeConfig = loadKubeConfig(config, options);
  const configuration = withRequestDeadline(kubeConfig, parseDuration(config.request_timeout) ?? 30_000);
  return {
    kubeConfig,
    core: new CoreV1Api(configuration),
    apps: new AppsV1Api(configuration),
    batch: new BatchV1Api(configuration),
    networking: new NetworkingV1Api(configuration),
    policy: new PolicyV1Api(configuration),
    version: new VersionApi(configuration),
    server: kubeConfig.getCurrentCluster()?.server ?? "",
    context: kubeConfig.getCurrentContext(),
    patchAs,
  };
}

/**
 * What `kubeConfig.makeApiClient` builds (the current cluster, the kubeconfig's credentials),
 * with a deadline on every request: the client sets none, and a request to an API server that
 * stopped answering would wait for ever, a rollback step with it.
 */
function withRequestDeadline(kubeConfig: KubeConfig, deadlineMs: number): Configuration {
  return createConfiguration({
    baseServer: new ServerConfiguration(kubeConfig.getCurrentCluster()?.server ?? "", {}),
    authMethods: { default: kubeConfig },
    promiseMiddleware: [
      {
        pre: async (request) => {
          request.setSignal(AbortSignal.timeout(deadlineMs));
          request.setHeaderParam("User-Agent", "chaos-agents");
          return request;
        },
        post: async (response) => response,
      },
    ],
  });
}
