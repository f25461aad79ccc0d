import type { KubeObject } from "./selectors.js";

interface Column {
  name: string;
  type: "string" | "integer" | "date";
  priority?: number;
  cell(object: KubeObject): string | number;
}

/** "5s", "3m12s", "4h", "2d": as `kubectl get` prints ages. */
export function age(timestamp: string | undefined): string {
  if (!timestamp) return "<unknown>";
  const seconds = Math.max(0, Math.floor((Date.now() - Date.parse(timestamp)) / 1000));
  if (seconds < 120) return `${seconds}s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 10) return `${minutes}m${seconds % 60}s`;
  if (minutes < 180) return `${minutes}m`;
  const hours = Math.floor(minutes / 60);
  return hours < 48 ? `${hours}h` : `${Math.floor(hours / 24)}d`;
}

const name: Column = { name: "Name", type: "string", cell: (object) => object.metadata.name };
const ageColumn: Column = { name: "Age", type: "string", cell: (object) => age(object.metadata.creationTimestamp) };

const columnsByKind: Record<string, Column[]> = {
  Pod: [
    name,
    {
      name: "Ready",
      type: "string",
      cell: (pod) => {
        const statuses = (pod.status?.containerStatuses ?? []) as { ready: boolean }[];
        return `${statuses.filter((status) => status.ready).length}/${(pod.spec?.containers ?? []).length}`;
      },
    },
    { name: "Status", type: "string", cell: (pod) => (pod.metadata.deletionTimestamp ? "Terminating" : (pod.status?.phase ?? "Pending")) },
    {
      name: "Restarts",
      type: "integer",
      cell: (pod) =>
        ((pod.status?.containerStatuses ?? []) as { restartCount: number }[]).reduce((sum, status) => sum + status.restartCount, 0),
    },
    ageColumn,
    { name: "IP", type: "string", priority: 1, cell: (pod) => pod.status?.podIP ?? "<none>" },
    { name: "Node", type: "string", priority: 1, cell: (pod) => pod.spec?.nodeName ?? "<none>" },
  ],
  Node: [
    name,
    {
      name: "Status",
      type: "string",
      cell: (node) => {
        const ready = (node.status?.conditions ?? []).some(
          (condition: { type: string; status: string }) => condition.type === "Ready" && condition.status === "True",
        );
        return `${ready ? "Ready" : "NotReady"}${node.spec?.unschedulable ? ",SchedulingDisabled" : ""}`;
      },
    },
    { name: "Roles", type: "string", cell: () => "<none>" },
    ageColumn,
    { name: "Version", type: "string", cell: (node) => node.status?.nodeInfo?.kubeletVersion ?? "" },
  ],
  Namespace: [name, { name: "Status", type: "string", cell: (namespace) => namespace.status?.phase ?? "Active" }, ageColumn],
  Deployment: [
    name,
    { name: "Ready", type: "string", cell: (deployment) => `${deployment.status?.readyReplicas ?? 0}/${deployment.spec?.replicas ?? 1}` },
    { name: "Up-to-date", type: "integer", cell: (deployment) => deployment.status?.updatedReplicas ?? 0 },
    { name: "Available", type: "integer", cell: (deployment) => deployment.status?.availableReplicas ?? 0 },
    ageColumn,
  ],
  ReplicaSet: [
    name,
    { name: "Desired", type: "integer", cell: (set) => set.spec?.replicas ?? 1 },
    { name: "Current", type: "integer", cell: (set) => set.status?.replicas ?? 0 },
    { name: "Ready", type: "integer", cell: (set) => set.status?.readyReplicas ?? 0 },
    ageColumn,
  ],
  PodDisruptionBudget: [
    name,
    { name: "Min Available", type: "string", cell: (budget) => String(budget.spec?.minAvailable ?? "N/A") },
    { name: "Max Unavailable", type: "string", cell: (budget) => String(budget.spec?.maxUnavailable ?? "N/A") },
    { name: "Allowed Disruptions", type: "integer", cell: (budget) => budget.status?.disruptionsAllowed ?? 0 },
    ageColumn,
  ],
  NetworkPolicy: [
    name,
    {
      name: "Pod-Selector",
      type: "string",
      cell: (policy) =>
        Object.entries(policy.spec?.podSelector?.matchLabels ?? {})
          .map(([key, value]) => `${key}=${value}`)
          .join(",") || "<none>",
    },
    ageColumn,
  ],
  Event: [
    { name: "Last Seen", type: "string", cell: (event) => age(event.lastTimestamp) },
    { name: "Type", type: "string", cell: (event) => event.type ?? "" },
    { name: "Reason", type: "string", cell: (event) => event.reason ?? "" },
    {
      name: "Object",
      type: "string",
      cell: (event) => `${String(event.involvedObject?.kind ?? "").toLowerCase()}/${event.involvedObject?.name ?? ""}`,
    },
    { name: "Message", type: "string", cell: (event) => event.message ?? "" },
  ],
};

/** Whether the client asked for the server-side table `kubectl get` prints (Accept: …;as=Table;g=meta.k8s.io). */
export function wantsTable(accept: string | undefined): boolean {
  return /as=Table/.test(accept ?? "");
}

/** A meta.k8s.io/v1 Table of objects of one kind; rows carry their metadata so `-A` can add the namespace. */
export function toTable(kind: string, objects: KubeObject[], resourceVersion: string): object {
  const columns = columnsByKind[kind] ?? [name, ageColumn];
  return {
    kind: "Table",
    apiVersion: "meta.k8s.io/v1",
    metadata: { resourceVersion },
    columnDefinitions: columns.map((column) => ({
      name: column.name,
      type: column.type,
      format: column.name === "Name" ? "name" : "",
      description: column.name,
      priority: column.priority ?? 0,
    })),
    rows: objects.map((object) => ({
      cells: columns.map((column) => column.cell(object)),
      object: { kind: "PartialObjectMetadata", apiVersion: "meta.k8s.io/v1", metadata: object.metadata },
    })),
  };
}
