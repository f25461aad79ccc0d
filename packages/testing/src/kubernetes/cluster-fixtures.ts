import { resourceOfKind } from "./api-resources.js";
import type { ObjectStore } from "./object-store.js";
import type { KubeObject } from "./selectors.js";

/** A schedulable, Ready node with some capacity. */
export function addNode(store: ObjectStore, name: string, labels: Record<string, string> = {}): KubeObject {
  return store.create(resourceOfKind("Node"), {
    metadata: { name, labels: { "kubernetes.io/hostname": name, "kubernetes.io/os": "linux", ...labels } },
    spec: {},
    status: {
      capacity: { cpu: "4", memory: "8Gi", pods: "110" },
      allocatable: { cpu: "4", memory: "8Gi", pods: "110" },
      conditions: [{ type: "Ready", status: "True", reason: "KubeletReady", message: "kubelet is posting ready status" }],
      addresses: [{ type: "InternalIP", address: "10.0.0.1" }],
      nodeInfo: { kubeletVersion: "v1.32.0", containerRuntimeVersion: "simulated://1.0", osImage: "chaos-agents simulator" },
    },
  });
}

export function addNamespace(store: ObjectStore, name: string, labels: Record<string, string> = {}): KubeObject {
  return store.create(resourceOfKind("Namespace"), {
    metadata: { name, labels: { "kubernetes.io/metadata.name": name, ...labels } },
    spec: { finalizers: ["kubernetes"] },
    status: { phase: "Active" },
  });
}

export interface DeploymentFixture {
  namespace: string;
  name: string;
  replicas: number;
  labels: Record<string, string>;
  image?: string;
}

export function addDeployment(store: ObjectStore, fixture: DeploymentFixture): KubeObject {
  return store.create(resourceOfKind("Deployment"), {
    metadata: { name: fixture.name, namespace: fixture.namespace, labels: fixture.labels },
    spec: {
      replicas: fixture.replicas,
      selector: { matchLabels: fixture.labels },
      template: {
        metadata: { labels: fixture.labels },
        spec: { containers: [{ name: fixture.name, image: fixture.image ?? "nginx:1.27", ports: [{ containerPort: 80 }] }] },
      },
    },
  });
}

export function addPodDisruptionBudget(
  store: ObjectStore,
  namespace: string,
  name: string,
  matchLabels: Record<string, string>,
  minAvailable: number | string,
): KubeObject {
  return store.create(resourceOfKind("PodDisruptionBudget"), {
    metadata: { name, namespace },
    spec: { minAvailable, selector: { matchLabels } },
  });
}

export function addService(store: ObjectStore, namespace: string, name: string, selector: Record<string, string>): KubeObject {
  return store.create(resourceOfKind("Service"), {
    metadata: { name, namespace },
    spec: { selector, ports: [{ port: 80, targetPort: 80, protocol: "TCP" }], type: "ClusterIP", clusterIP: "10.96.0.10" },
  });
}

/** The stock CoreDNS Corefile kubeadm and kind install. */
export const stockCorefile = `.:53 {
    errors
    health {
       lameduck 5s
    }
    ready
    kubernetes cluster.local in-addr.arpa ip6.arpa {
       pods insecure
       fallthrough in-addr.arpa ip6.arpa
       ttl 30
    }
    prometheus :9153
    forward . /etc/resolv.conf {
       max_concurrent 1000
    }
    cache 30
    loop
    reload
    loadbalance
}
`;

/** The system namespaces every cluster has, with CoreDNS (its Deployment and Corefile) and a kube-proxy DaemonSet. */
export function addSystemNamespaces(store: ObjectStore): void {
  for (const name of ["default", "kube-system", "kube-public", "kube-node-lease"]) addNamespace(store, name);
  store.create(resourceOfKind("ConfigMap"), { metadata: { name: "coredns", namespace: "kube-system" }, data: { Corefile: stockCorefile } });
  addDeployment(store, {
    namespace: "kube-system",
    name: "coredns",
    replicas: 2,
    labels: { "k8s-app": "kube-dns" },
    image: "registry.k8s.io/coredns/coredns:v1.11.3",
  });
  store.create(resourceOfKind("DaemonSet"), {
    metadata: { name: "kube-proxy", namespace: "kube-system", labels: { "k8s-app": "kube-proxy" } },
    spec: {
      selector: { matchLabels: { "k8s-app": "kube-proxy" } },
      template: {
        metadata: { labels: { "k8s-app": "kube-proxy" } },
        spec: { containers: [{ name: "kube-proxy", image: "registry.k8s.io/kube-proxy:v1.32.0" }] },
      },
    },
  });
}

/**
 * The sandbox cluster the README's example runs against: two schedulable nodes, namespace
 * `staging` with `web` (app=web, 3 replicas, a PodDisruptionBudget of minAvailable 2) and `api`.
 */
export function seedSandboxCluster(store: ObjectStore): void {
  addSystemNamespaces(store);
  addNode(store, "node-1");
  addNode(store, "node-2");
  addNamespace(store, "staging");
  addDeployment(store, { namespace: "staging", name: "web", replicas: 3, labels: { app: "web" } });
  addService(store, "staging", "web", { app: "web" });
  addPodDisruptionBudget(store, "staging", "web", { app: "web" }, 2);
  addDeployment(store, { namespace: "staging", name: "api", replicas: 2, labels: { app: "api" }, image: "ghcr.io/example/api:1.0" });
  addService(store, "staging", "api", { app: "api" });
}
