import { createHash } from "node:crypto";
import { resourceOfKind } from "./api-resources.js";
import { recordEvent } from "./cluster-events.js";
import { ApiError, type ObjectStore } from "./object-store.js";
import { type KubeObject, matchesLabelSelector } from "./selectors.js";

const kinds = {
  pod: resourceOfKind("Pod"),
  node: resourceOfKind("Node"),
  deployment: resourceOfKind("Deployment"),
  replicaSet: resourceOfKind("ReplicaSet"),
  statefulSet: resourceOfKind("StatefulSet"),
  daemonSet: resourceOfKind("DaemonSet"),
  job: resourceOfKind("Job"),
  podDisruptionBudget: resourceOfKind("PodDisruptionBudget"),
};

export function controllerOf(object: KubeObject): { kind: string; name: string; uid: string } | undefined {
  return object.metadata.ownerReferences?.find((reference) => reference.controller);
}

export function podReady(pod: KubeObject): boolean {
  return (pod.status?.conditions ?? []).some(
    (condition: { type: string; status: string }) => condition.type === "Ready" && condition.status === "True",
  );
}

function now(): string {
  return new Date().toISOString().replace(/\.\d+Z$/, "Z");
}

function ownerReference(owner: KubeObject) {
  return {
    apiVersion: owner.apiVersion ?? "",
    kind: owner.kind ?? "",
    name: owner.metadata.name,
    uid: owner.metadata.uid ?? "",
    controller: true,
    blockOwnerDeletion: true,
  };
}

/** Writes an object's status when it changed; a conflict with a concurrent client is left to the next tick. */
function writeStatus(store: ObjectStore, object: KubeObject, status: object): void {
  if (JSON.stringify(object.status) === JSON.stringify(status)) return;
  try {
    store.replace(resourceOfKind(object.kind ?? ""), { ...object, status }, { bumpGeneration: false });
  } catch (error) {
    if (!(error instanceof ApiError)) throw error;
  }
}

/** PDB arithmetic as the disruption controller does it: how many matching pods may go now. */
export function disruptionStatus(
  store: ObjectStore,
  budget: KubeObject,
): { currentHealthy: number; desiredHealthy: number; disruptionsAllowed: number; expectedPods: number } {
  const pods = store
    .list(kinds.pod, budget.metadata.namespace)
    .filter((pod) => !pod.metadata.deletionTimestamp && matchesLabelSelector(budget.spec?.selector, pod.metadata.labels));
  // Expected pods come from the owners' desired replicas (as the real controller reads their scale), else the pods seen.
  const owners = new Map<string, number>();
  for (const pod of pods) {
    const owner = controllerOf(pod);
    if (owner?.kind !== "ReplicaSet" && owner?.kind !== "StatefulSet") continue;
    const object = store.get(owner.kind === "ReplicaSet" ? kinds.replicaSet : kinds.statefulSet, pod.metadata.namespace, owner.name);
    if (object) owners.set(owner.uid, Number(object.spec?.replicas ?? 1));
  }
  const expectedPods = owners.size > 0 ? [...owners.values()].reduce((sum, count) => sum + count, 0) : pods.length;
  const currentHealthy = pods.filter(podReady).length;
  const scaled = (value: number | string) =>
    typeof value === "string" && value.endsWith("%") ? Math.ceil((expectedPods * Number(value.slice(0, -1))) / 100) : Number(value);
  const desiredHealthy =
    budget.spec?.minAvailable !== undefined
      ? scaled(budget.spec.minAvailable)
      : budget.spec?.maxUnavailable !== undefined
        ? Math.max(0, expectedPods - scaled(budget.spec.maxUnavailable))
        : 0;
  return { currentHealthy, desiredHealthy, disruptionsAllowed: Math.max(0, currentHealthy - desiredHealthy), expectedPods };
}

export interface ControllerOptions {
  /** How long a new pod stays Pending before it runs and is Ready (milliseconds). */
  readyDelayMs: number;
  tickMs?: number;
}

/**
 * The cluster's control loop in one small piece: Deployments own ReplicaSets, ReplicaSets,
 * StatefulSets, DaemonSets and Jobs own pods (recreated under new names when deleted), a
 * scheduler places pods on schedulable nodes, a kubelet makes them Ready after a delay,
 * workload and PDB statuses follow, orphans are collected, and events are recorded.
 */
export class ClusterController {
  private timer: NodeJS.Timeout | undefined;
  private readonly unsubscribe: () => void;
  private nodeCursor = 0;

  constructor(
    private readonly store: ObjectStore,
    private readonly options: ControllerOptions,
  ) {
    this.unsubscribe = store.subscribe((event) => {
      if (event.resource.kind === "Pod" && event.type === "DELETED" && event.object.spec?.nodeName) {
        queueMicrotask(() =>
          this.safely(() =>
            recordEvent(
              store,
              event.object,
              "Killing",
              `Stopping container ${event.object.spec?.containers?.[0]?.name ?? "main"}`,
              "kubelet",
            ),
          ),
        );
      }
    });
  }

  start(): void {
    this.timer = setInterval(() => this.safely(() => this.tick()), this.options.tickMs ?? 50);
  }

  stop(): void {
    clearInterval(this.timer);
    this.unsubscribe();
  }

  private safely(action: () => void): void {
    try {
      action();
    } catch (error) {
      // A namespace deleted under a controller's feet (404) is normal churn; anything else is a simulator bug worth seeing.
      if (!(error instanceof ApiError)) console.error("kubernetes simulator controller:", error);
    }
  }

  tick(): void {
    for (const deployment of this.store.list(kinds.deployment)) this.safely(() => this.syncDeployment(deployment));
    for (const replicaSet of this.store.list(kinds.replicaSet)) this.safely(() => this.syncReplicaSet(replicaSet));
    for (const statefulSet of this.store.list(kinds.statefulSet)) this.safely(() => this.syncStatefulSet(statefulSet));
    for (const daemonSet of this.store.list(kinds.daemonSet)) this.safely(() => this.syncDaemonSet(daemonSet));
    for (const job of this.store.list(kinds.job)) this.safely(() => this.syncJob(job));
    this.collectOrphans();
    for (const pod of this.store.list(kinds.pod)) this.safely(() => this.runPod(pod));
    for (const budget of this.store.list(kinds.podDisruptionBudget)) {
      this.safely(() =>
        writeStatus(this.store, budget, { ...disruptionStatus(this.store, budget), observedGeneration: budget.metadata.generation ?? 1 }),
      );
    }
  }

  private ownedPods(owner: KubeObject): KubeObject[] {
    return this.store.list(kinds.pod, owner.metadata.namespace).filter((pod) => controllerOf(pod)?.uid === owner.metadata.uid);
  }

  private syncDeployment(deployment: KubeObject): void {
    const template = deployment.spec?.template ?? {};
    const hash = createHash("sha256")
      .update(JSON.stringify(template))
      .digest("hex")
      .replace(/[^a-f0-9]/g, "")
      .slice(0, 10);
    const replicas = Number(deployment.spec?.replicas ?? 1);
    const owned = this.store
      .list(kinds.replicaSet, deployment.metadata.namespace)
      .filter((set) => controllerOf(set)?.uid === deployment.metadata.uid);
    let current = owned.find((set) => set.metadata.labels?.["pod-template-hash"] === hash);
    if (!current) {
      const labels = { ...(template.metadata?.labels ?? {}), "pod-template-hash": hash };
      current = this.store.create(kinds.replicaSet, {
        metadata: {
          name: `${deployment.metadata.name}-${hash}`,
          namespace: deployment.metadata.namespace,
          labels,
          ownerReferences: [ownerReference(deployment)],
        },
        spec: {
          replicas,
          selector: { matchLabels: { ...(deployment.spec?.selector?.matchLabels ?? {}), "pod-template-hash": hash } },
          template: { ...template, metadata: { ...(template.metadata ?? {}), labels } },
        },
      });
      recordEvent(
        this.store,
        deployment,
        "ScalingReplicaSet",
        `Scaled up replica set ${current.metadata.name} from 0 to ${replicas}`,
        "deployment-controller",
      );
    }
    // Rollouts are instant here: the current set gets every replica, older sets none.
    for (const set of owned) {
      const wanted = set.metadata.uid === current.metadata.uid ? replicas : 0;
      if (Number(set.spec?.replicas) !== wanted)
        this.store.replace(kinds.replicaSet, {
          ...set,
          spec: { ...set.spec, replicas: wanted },
          metadata: { ...set.metadata, resourceVersion: undefined },
        });
    }
    const pods = owned.flatMap((set) => this.ownedPods(set));
    const ready = pods.filter(podReady).length;
    const updated = this.ownedPods(current).length;
    writeStatus(this.store, deployment, {
      observedGeneration: deployment.metadata.generation ?? 1,
      replicas: pods.length,
      updatedReplicas: updated,
      readyReplicas: ready,
      availableReplicas: ready,
      ...(pods.length - ready > 0 ? { unavailableReplicas: Math.max(0, replicas - ready) } : {}),
      conditions: [
        {
          type: "Available",
          status: ready >= replicas ? "True" : "False",
          reason: ready >= replicas ? "MinimumReplicasAvailable" : "MinimumReplicasUnavailable",
        },
      ],
    });
  }

  private podFrom(owner: KubeObject, name: { name?: string; generateName?: string }, nodeName?: string): void {
    const template = owner.spec?.template ?? {};
    const pod = this.store.create(kinds.pod, {
      metadata: {
        name: "",
        ...name,
        namespace: owner.metadata.namespace,
        labels: { ...(template.metadata?.labels ?? {}) },
        ownerReferences: [ownerReference(owner)],
      },
      spec: { ...structuredClone(template.spec ?? { containers: [] }), ...(nodeName ? { nodeName } : {}) },
      status: { phase: "Pending" },
    });
    recordEvent(
      this.store,
      owner,
      "SuccessfulCreate",
      `Created pod: ${pod.metadata.name}`,
      `${(owner.kind ?? "").toLowerCase()}-controller`,
    );
  }

  private scale(owner: KubeObject, pods: KubeObject[], replicas: number, create: () => void): void {
    const active = pods.filter((pod) => !pod.metadata.deletionTimestamp);
    for (let count = active.length; count < replicas; count++) create();
    // Newest pods go first when scaling down, as the real ReplicaSet controller prefers not-ready and young pods.
    const surplus = active
      .sort((left, right) => (right.metadata.creationTimestamp ?? "").localeCompare(left.metadata.creationTimestamp ?? ""))
      .slice(0, Math.max(0, active.length - replicas));
    for (const pod of surplus) this.store.delete(kinds.pod, pod.metadata.namespace, pod.metadata.name);
    const remaining = this.ownedPods(owner);
    const ready = remaining.filter(podReady).length;
    const status: Record<string, unknown> = {
      replicas: remaining.length,
      readyReplicas: ready,
      availableReplicas: ready,
      observedGeneration: owner.metadata.generation ?? 1,
    };
    if (owner.kind === "StatefulSet") Object.assign(status, { currentReplicas: remaining.length, updatedReplicas: remaining.length });
    if (owner.kind === "ReplicaSet") status.fullyLabeledReplicas = remaining.length;
    writeStatus(this.store, owner, status);
  }

  private syncReplicaSet(replicaSet: KubeObject): void {
    this.scale(replicaSet, this.ownedPods(replicaSet), Number(replicaSet.spec?.replicas ?? 1), () =>
      this.podFrom(replicaSet, { generateName: `${replicaSet.metadata.name}-` }),
    );
  }

  private syncStatefulSet(statefulSet: KubeObject): void {
    const pods = this.ownedPods(statefulSet);
    const replicas = Number(statefulSet.spec?.replicas ?? 1);
    for (let ordinal = 0; ordinal < replicas; ordinal++) {
      const name = `${statefulSet.metadata.name}-${ordinal}`;
      if (!pods.some((pod) => pod.metadata.name === name)) this.podFrom(statefulSet, { name });
    }
    this.scale(statefulSet, this.ownedPods(statefulSet), replicas, () => undefined);
  }

  private syncDaemonSet(daemonSet: KubeObject): void {
    const pods = this.ownedPods(daemonSet);
    const nodes = this.store.list(kinds.node);
    for (const node of nodes) {
      if (!pods.some((pod) => pod.spec?.nodeName === node.metadata.name))
        this.podFrom(daemonSet, { generateName: `${daemonSet.metadata.name}-` }, node.metadata.name);
    }
    const current = this.ownedPods(daemonSet);
    const ready = current.filter(podReady).length;
    writeStatus(this.store, daemonSet, {
      currentNumberScheduled: current.length,
      desiredNumberScheduled: nodes.length,
      numberReady: ready,
      numberAvailable: ready,
      updatedNumberScheduled: current.length,
      numberMisscheduled: 0,
      observedGeneration: daemonSet.metadata.generation ?? 1,
    });
  }

  private syncJob(job: KubeObject): void {
    const pods = this.ownedPods(job);
    if (pods.length === 0 && !job.status?.startTime) this.podFrom(job, { generateName: `${job.metadata.name}-` });
    const active = this.ownedPods(job).length;
    writeStatus(this.store, job, { ...(job.status ?? {}), startTime: job.status?.startTime ?? now(), active });
  }

  /** Background garbage collection: a pod or ReplicaSet whose controller is gone goes too. */
  private collectOrphans(): void {
    const alive = new Set<string>();
    for (const kind of [kinds.deployment, kinds.replicaSet, kinds.statefulSet, kinds.daemonSet, kinds.job]) {
      for (const object of this.store.list(kind)) alive.add(object.metadata.uid ?? "");
    }
    for (const kind of [kinds.replicaSet, kinds.pod]) {
      for (const object of this.store.list(kind)) {
        const owner = controllerOf(object);
        if (owner && !alive.has(owner.uid)) this.safely(() => this.store.delete(kind, object.metadata.namespace, object.metadata.name));
      }
    }
  }

  private schedulableNodes(): KubeObject[] {
    return this.store.list(kinds.node).filter((node) => !node.spec?.unschedulable);
  }

  /** Scheduler and kubelet: bind a pending pod to a node, then start it once the ready delay has passed. */
  private runPod(pod: KubeObject): void {
    if (pod.status?.phase === "Running" || pod.status?.phase === "Succeeded" || pod.status?.phase === "Failed") return;
    if (!pod.spec?.nodeName) {
      const nodes = this.schedulableNodes();
      if (nodes.length === 0) return; // stays Pending, as with no room anywhere
      const counts = new Map(nodes.map((node) => [node.metadata.name, 0]));
      for (const other of this.store.list(kinds.pod)) {
        const node = other.spec?.nodeName;
        if (node && counts.has(node)) counts.set(node, (counts.get(node) ?? 0) + 1);
      }
      const fewest = Math.min(...counts.values());
      const candidates = nodes.filter((node) => counts.get(node.metadata.name) === fewest);
      const node = candidates[this.nodeCursor++ % candidates.length] as KubeObject;
      const bound = this.store.replace(kinds.pod, {
        ...pod,
        metadata: { ...pod.metadata, resourceVersion: undefined },
        spec: { ...pod.spec, nodeName: node.metadata.name },
        status: { phase: "Pending", conditions: [{ type: "PodScheduled", status: "True", lastTransitionTime: now() }] },
      });
      recordEvent(
        this.store,
        bound,
        "Scheduled",
        `Successfully assigned ${pod.metadata.namespace}/${pod.metadata.name} to ${node.metadata.name}`,
        "default-scheduler",
      );
      return;
    }
    const age = Date.now() - Date.parse(pod.metadata.creationTimestamp ?? "");
    if (age < this.options.readyDelayMs) return;
    const started = now();
    const podIndex = Number.parseInt(
      createHash("md5")
        .update(pod.metadata.uid ?? "")
        .digest("hex")
        .slice(0, 4),
      16,
    );
    this.store.replace(kinds.pod, {
      ...pod,
      metadata: { ...pod.metadata, resourceVersion: undefined },
      status: {
        phase: "Running",
        hostIP: "10.0.0.1",
        podIP: `10.244.${(podIndex >> 8) % 250}.${(podIndex % 250) + 2}`,
        startTime: started,
        conditions: ["PodScheduled", "Initialized", "ContainersReady", "Ready"].map((type) => ({
          type,
          status: "True",
          lastTransitionTime: started,
        })),
        containerStatuses: (pod.spec?.containers ?? []).map((container: { name: string; image: string }) => ({
          name: container.name,
          image: container.image,
          ready: true,
          started: true,
          restartCount: 0,
          state: { running: { startedAt: started } },
        })),
      },
    });
    recordEvent(this.store, pod, "Started", `Started container ${pod.spec?.containers?.[0]?.name ?? "main"}`, "kubelet");
  }
}
