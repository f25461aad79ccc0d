import { writeFile } from "node:fs/promises";
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { createServer as createHttpsServer } from "node:https";
import type { AddressInfo } from "node:net";
import { resourceOfKind } from "./kubernetes/api-resources.js";
import { addSystemNamespaces, seedSandboxCluster } from "./kubernetes/cluster-fixtures.js";
import { ClusterController, podReady } from "./kubernetes/controller.js";
import { ObjectStore } from "./kubernetes/object-store.js";
import { RequestHandler, type RequestLog } from "./kubernetes/request-handler.js";
import type { KubeObject } from "./kubernetes/selectors.js";
import { selfSignedCertificate } from "./kubernetes/self-signed-certificate.js";

export interface KubernetesApiServerOptions {
  /** "empty" (only the system namespaces), or "sandbox" (two nodes and `staging`; see seedSandboxCluster). */
  seed?: "empty" | "sandbox";
  /** How long new pods take to become Ready, in milliseconds (default 300). */
  readyDelayMs?: number;
  /** Requests must carry `Authorization: Bearer TOKEN`; the kubeconfig written carries it. */
  token?: string;
  /** Port to listen on (default: one the OS picks). */
  port?: number;
  host?: string;
  /** Serve HTTPS with a fresh self-signed certificate that the kubeconfig trusts (default), or plain HTTP. */
  tls?: boolean;
}

export interface KubernetesApiServer {
  /** https://127.0.0.1:PORT (http:// with `tls: false`) */
  url: string;
  /** PEM of the server's certificate (undefined with `tls: false`). */
  certificate?: string;
  store: ObjectStore;
  /** Every request the server answered, in order: what kubectl or the client really sent. */
  requests: RequestLog[];
  /** Writes a kubeconfig (context `simulator`, namespace `default`) that points at this server. */
  writeKubeconfig(path: string, options?: { context?: string; namespace?: string }): Promise<void>;
  /** Objects of a kind, e.g. `list("Pod", "staging")`. */
  list(kind: string, namespace?: string): KubeObject[];
  get(kind: string, namespace: string | undefined, name: string): KubeObject | undefined;
  /** Writes as another client of the cluster would (an operator, an application), bypassing chaos. */
  create(kind: string, object: KubeObject): KubeObject;
  /** Replaces an object whatever its resourceVersion (another client's unconditional write). */
  update(kind: string, object: KubeObject): KubeObject;
  remove(kind: string, namespace: string | undefined, name: string): void;
  /** Resolves once `condition` holds (checked every 25 ms); rejects after the timeout with `what`. */
  waitFor(what: string, condition: () => boolean, timeoutMs?: number): Promise<void>;
  /** Resolves once every pod of the namespace matching the labels is Ready and there are `count` of them. */
  waitForReadyPods(namespace: string, labels: Record<string, string>, count: number, timeoutMs?: number): Promise<void>;
  /** Resolves once every Deployment of the namespace reports all its replicas ready and every pod there is Ready. */
  waitForSettled(namespace: string, timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

/**
 * A Kubernetes API server simulator for tests and the sandbox: plain HTTP and JSON on the real
 * paths and verbs, with a small controller. It is not Kubernetes: no scheduler constraints,
 * no containers, no network, and NetworkPolicies are stored but never enforced.
 */
export async function startKubernetesApiServer(options: KubernetesApiServerOptions = {}): Promise<KubernetesApiServer> {
  const store = new ObjectStore();
  if (options.seed === "sandbox") seedSandboxCluster(store);
  else addSystemNamespaces(store);
  const controller = new ClusterController(store, { readyDelayMs: options.readyDelayMs ?? 300 });
  let handler: RequestHandler | undefined;
  const host = options.host ?? "127.0.0.1";
  const tls = options.tls === false ? undefined : selfSignedCertificate(host);
  const listener = (request: IncomingMessage, response: ServerResponse) => {
    void handler?.handle(request, response);
  };
  const server: Server = tls ? createHttpsServer({ key: tls.key, cert: tls.certificate }, listener) : createHttpServer(listener);
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, host, resolve);
  });
  const { port, address } = server.address() as AddressInfo;
  const url = `${tls ? "https" : "http"}://${address}:${port}`;
  handler = new RequestHandler(store, `${address}:${port}`, options.token);
  controller.start();

  const waitFor = (what: string, condition: () => boolean, timeoutMs = 20_000) =>
    new Promise<void>((resolve, reject) => {
      const started = Date.now();
      const check = () => {
        if (condition()) return resolve();
        if (Date.now() - started > timeoutMs) return reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}`));
        setTimeout(check, 25);
      };
      check();
    });
  const list = (kind: string, namespace?: string) => store.list(resourceOfKind(kind), namespace);

  return {
    url,
    certificate: tls?.certificate,
    store,
    requests: handler.requests,
    list,
    get: (kind, namespace, name) => store.get(resourceOfKind(kind), namespace, name),
    create: (kind, object) => store.create(resourceOfKind(kind), object),
    update: (kind, object) =>
      store.replace(resourceOfKind(kind), { ...object, metadata: { ...object.metadata, resourceVersion: undefined } }),
    remove: (kind, namespace, name) => {
      store.delete(resourceOfKind(kind), namespace, name);
    },
    waitFor,
    waitForReadyPods: (namespace, labels, count, timeoutMs) =>
      waitFor(
        `${count} ready pods ${JSON.stringify(labels)} in ${namespace}`,
        () => {
          const pods = list("Pod", namespace).filter((pod) =>
            Object.entries(labels).every(([key, value]) => pod.metadata.labels?.[key] === value),
          );
          return pods.length === count && pods.every(podReady);
        },
        timeoutMs,
      ),
    waitForSettled: (namespace, timeoutMs) =>
      waitFor(
        `the workloads of ${namespace} to be ready`,
        () =>
          list("Deployment", namespace).every(
            (deployment) => (deployment.status?.readyReplicas ?? 0) === (deployment.spec?.replicas ?? 1),
          ) && list("Pod", namespace).every(podReady),
        timeoutMs,
      ),
    async writeKubeconfig(path, kubeconfigOptions = {}) {
      const context = kubeconfigOptions.context ?? "simulator";
      const kubeconfig = {
        apiVersion: "v1",
        kind: "Config",
        clusters: [
          {
            name: context,
            cluster: { server: url, ...(tls ? { "certificate-authority-data": Buffer.from(tls.certificate).toString("base64") } : {}) },
          },
        ],
        // Some credential must be there: over HTTPS, kubectl asks for a user name when a user has none.
        users: [{ name: `${context}-user`, user: { token: options.token ?? "simulator-accepts-any-token" } }],
        contexts: [
          { name: context, context: { cluster: context, user: `${context}-user`, namespace: kubeconfigOptions.namespace ?? "default" } },
        ],
        "current-context": context,
      };
      // JSON is YAML: kubectl and the client read it as a kubeconfig. 0600: it may hold a token.
      await writeFile(path, `${JSON.stringify(kubeconfig, null, 2)}\n`, { mode: 0o600 });
    },
    async close() {
      controller.stop();
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
