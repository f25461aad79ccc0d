/** One REST resource the simulated API server serves, as discovery describes it. */
export interface ApiResource {
  /** "" for the core group. */
  group: string;
  version: string;
  kind: string;
  /** The path segment: "pods", "deployments"… */
  plural: string;
  singular: string;
  namespaced: boolean;
  shortNames: string[];
  verbs: string[];
}

const allVerbs = ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"];

function resource(
  group: string,
  version: string,
  kind: string,
  plural: string,
  namespaced: boolean,
  shortNames: string[] = [],
): ApiResource {
  return { group, version, kind, plural, singular: kind.toLowerCase(), namespaced, shortNames, verbs: allVerbs };
}

/** The resources the simulator stores; anything else answers 404 like an unknown resource would. */
export const apiResources: ApiResource[] = [
  resource("", "v1", "Pod", "pods", true, ["po"]),
  resource("", "v1", "Node", "nodes", false, ["no"]),
  resource("", "v1", "Namespace", "namespaces", false, ["ns"]),
  resource("", "v1", "Service", "services", true, ["svc"]),
  resource("", "v1", "Event", "events", true, ["ev"]),
  resource("", "v1", "ConfigMap", "configmaps", true, ["cm"]),
  resource("", "v1", "Secret", "secrets", true),
  resource("", "v1", "ServiceAccount", "serviceaccounts", true, ["sa"]),
  resource("", "v1", "PersistentVolumeClaim", "persistentvolumeclaims", true, ["pvc"]),
  resource("apps", "v1", "Deployment", "deployments", true, ["deploy"]),
  resource("apps", "v1", "ReplicaSet", "replicasets", true, ["rs"]),
  resource("apps", "v1", "StatefulSet", "statefulsets", true, ["sts"]),
  resource("apps", "v1", "DaemonSet", "daemonsets", true, ["ds"]),
  resource("batch", "v1", "Job", "jobs", true),
  resource("networking.k8s.io", "v1", "NetworkPolicy", "networkpolicies", true, ["netpol"]),
  resource("policy", "v1", "PodDisruptionBudget", "poddisruptionbudgets", true, ["pdb"]),
  // RBAC objects are stored and listed, never enforced: the simulator authorizes every request.
  resource("rbac.authorization.k8s.io", "v1", "Role", "roles", true),
  resource("rbac.authorization.k8s.io", "v1", "RoleBinding", "rolebindings", true),
  resource("rbac.authorization.k8s.io", "v1", "ClusterRole", "clusterroles", false),
  resource("rbac.authorization.k8s.io", "v1", "ClusterRoleBinding", "clusterrolebindings", false),
];

export function groupVersionOf(resource: Pick<ApiResource, "group" | "version">): string {
  return resource.group ? `${resource.group}/${resource.version}` : resource.version;
}

export function findResource(group: string, version: string, plural: string): ApiResource | undefined {
  return apiResources.find((entry) => entry.group === group && entry.version === version && entry.plural === plural);
}

export function resourceOfKind(kind: string): ApiResource {
  const found = apiResources.find((entry) => entry.kind === kind);
  if (!found) throw new Error(`the simulator stores no ${kind}`);
  return found;
}

/** GET /api: the core group's versions. */
export function coreVersions(serverAddress: string): object {
  return { kind: "APIVersions", versions: ["v1"], serverAddressByClientCIDRs: [{ clientCIDR: "0.0.0.0/0", serverAddress }] };
}

function groupNames(): string[] {
  return [...new Set(apiResources.map((entry) => entry.group).filter(Boolean))];
}

function groupDocument(group: string): object {
  const versions = [...new Set(apiResources.filter((entry) => entry.group === group).map((entry) => entry.version))].map((version) => ({
    groupVersion: `${group}/${version}`,
    version,
  }));
  return { name: group, versions, preferredVersion: versions[0] };
}

/** GET /apis: every named group (legacy discovery; kubectl falls back to it when aggregated discovery is not offered). */
export function groupList(): object {
  return { kind: "APIGroupList", apiVersion: "v1", groups: groupNames().map(groupDocument) };
}

/** GET /apis/GROUP. */
export function groupOf(group: string): object | undefined {
  return groupNames().includes(group) ? { kind: "APIGroup", apiVersion: "v1", ...groupDocument(group) } : undefined;
}

/** GET /api/v1 or /apis/GROUP/VERSION: the resources and subresources of one group version. */
export function resourceList(group: string, version: string): object | undefined {
  const entries = apiResources.filter((entry) => entry.group === group && entry.version === version);
  if (entries.length === 0) return undefined;
  const resources: object[] = entries.map((entry) => ({
    name: entry.plural,
    singularName: entry.singular,
    namespaced: entry.namespaced,
    kind: entry.kind,
    verbs: entry.verbs,
    ...(entry.shortNames.length > 0 ? { shortNames: entry.shortNames } : {}),
  }));
  if (group === "" && version === "v1") {
    // kubectl drain looks for this entry to decide that it may evict (policy/v1 Eviction).
    resources.push({
      name: "pods/eviction",
      singularName: "",
      namespaced: true,
      group: "policy",
      version: "v1",
      kind: "Eviction",
      verbs: ["create"],
    });
    resources.push({ name: "pods/status", singularName: "", namespaced: true, kind: "Pod", verbs: ["get", "patch", "update"] });
    resources.push({ name: "nodes/status", singularName: "", namespaced: false, kind: "Node", verbs: ["get", "patch", "update"] });
  }
  if (group === "apps" && version === "v1") {
    for (const plural of ["deployments", "replicasets", "statefulsets"]) {
      resources.push({
        name: `${plural}/scale`,
        singularName: "",
        namespaced: true,
        group: "autoscaling",
        version: "v1",
        kind: "Scale",
        verbs: ["get", "patch", "update"],
      });
    }
  }
  return { kind: "APIResourceList", apiVersion: "v1", groupVersion: groupVersionOf({ group, version }), resources };
}
