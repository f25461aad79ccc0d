import { defineSkill, durationText, type JsonValue, parseDuration, positiveInteger, sleepFor } from "@chaos-agents/core";
import type { V1Pod } from "@kubernetes/client-node";
import { z } from "zod";
import { controllerOf } from "../discovery/pod-facts.js";
import { apiFailure, isNotFound } from "../kubernetes-api-errors.js";
import { type KubernetesSession, namespaceFor } from "../kubernetes-session.js";
import { refuse, resourcesOf } from "./skill-support.js";
import { readinessOf, readyPodsOf, type WorkloadRef, workloadName, workloadOf } from "./workload-readiness.js";

const name = "k8s.pod_kill";

const params = z
  .strictObject({
    namespace: z.string().optional().describe("Namespace of the pods. Default: target_config.namespace when it names only one."),
    label_selector: z.string().optional().describe("Label selector of the pods (`app=web`). Default: target_config.label_selector."),
    count: positiveInteger().optional().describe("How many pods to delete (each time, with `interval`)."),
    percent: z
      .number()
      .min(1, "expected a percentage between 1 and 100")
      .max(100, "expected a percentage between 1 and 100")
      .optional()
      .describe("Share of the matching pods to delete, rounded up."),
    interval: durationText().optional().describe('Delete again every interval ("30s") while the fault is held; once when omitted.'),
    allow_bare_pods: z.boolean().default(false).describe("Also delete pods no controller recreates (they do not come back)."),
    recovery_timeout: durationText().default("5m").describe("How long rollback waits for the owners' replicas to be ready again."),
  })
  .refine((value) => !(value.count !== undefined && value.percent !== undefined), "expected `count` or `percent`, not both");

type Params = z.output<typeof params>;

export interface PodKillUndo {
  [key: string]: JsonValue;
  namespace: string;
  pod: string;
  uid: string;
  /** The workload expected to replace the pod; null for a bare pod. */
  workload: WorkloadRef | null;
  deletedAt: string;
  /** How long rollback waits for the workload to be ready again. */
  recoveryTimeoutMs: number;
}

interface Victim {
  [key: string]: JsonValue;
  pod: string;
  uid: string;
  workload: WorkloadRef | null;
}

async function matchingPods(session: KubernetesSession, namespace: string, labelSelector: string | undefined): Promise<V1Pod[]> {
  const { items } = await session.clients.core.listNamespacedPod({ namespace, labelSelector });
  return items.filter((pod) => !pod.metadata?.deletionTimestamp && pod.status?.phase !== "Succeeded" && pod.status?.phase !== "Failed");
}

function howMany(parameters: Params, available: number): number {
  if (parameters.percent !== undefined) return Math.ceil((available * parameters.percent) / 100);
  return parameters.count ?? 1;
}

function pickRandom<T>(items: T[], count: number): T[] {
  const pool = [...items];
  for (let index = pool.length - 1; index > 0; index--) {
    const other = Math.floor(Math.random() * (index + 1));
    [pool[index], pool[other]] = [pool[other] as T, pool[index] as T];
  }
  return pool.slice(0, count);
}

/** The pods chaos may delete now: matching, allowed by resource_filters, and owned by a controller unless bare pods are allowed. */
async function eligiblePods(session: KubernetesSession, parameters: Params, namespace: string, allowed: (pod: V1Pod) => boolean) {
  const pods = (await matchingPods(session, namespace, parameters.label_selector ?? session.config.label_selector)).filter(allowed);
  const bare = pods.filter((pod) => !controllerOf(pod));
  return { eligible: parameters.allow_bare_pods ? pods : pods.filter((pod) => controllerOf(pod)), bare };
}

async function killOne(
  context: { session: KubernetesSession; params: Params; journal: { record(undo: JsonValue): Promise<number> } },
  namespace: string,
  victim: Victim,
): Promise<boolean> {
  const undo: PodKillUndo = {
    namespace,
    pod: victim.pod,
    uid: victim.uid,
    workload: victim.workload,
    deletedAt: new Date().toISOString(),
    recoveryTimeoutMs: parseDuration(context.params.recovery_timeout) ?? 300_000,
  };
  await context.journal.record(undo);
  try {
    // The uid precondition: a pod recreated under the same name (StatefulSet) since planning is not the one chosen.
    await context.session.clients.core.deleteNamespacedPod({ name: victim.pod, namespace, body: { preconditions: { uid: victim.uid } } });
    return true;
  } catch (error) {
    if (isNotFound(error) || apiFailure(error)?.code === 409) return false;
    throw error;
  }
}

export const k8sPodKill = defineSkill<Params, KubernetesSession, PodKillUndo>({
  name,
  target: "kubernetes",
  description:
    "Delete count (or percent) random pods matching namespace + label_selector, once or every interval; only pods a controller recreates unless allow_bare_pods. Rollback waits until the owners' replicas are ready again.",
  params,
  reversible: true,
  async plan({ params: parameters, session, inventory }) {
    const namespace = namespaceFor(name, session, parameters.namespace);
    const allowedNames = new Set(resourcesOf(inventory, "pod").map((resource) => resource.name));
    const { eligible, bare } = await eligiblePods(session, parameters, namespace, (pod) =>
      allowedNames.has(`${namespace}/pod:${pod.metadata?.name}`),
    );
    const selector = parameters.label_selector ?? session.config.label_selector ?? "(all pods)";
    if (eligible.length === 0) {
      refuse(
        name,
        `no pod in ${namespace} matches ${selector}${bare.length > 0 && !parameters.allow_bare_pods ? ` that a controller owns (bare pods: ${bare.map((pod) => pod.metadata?.name).join(", ")}; set allow_bare_pods to include them)` : ""} among the discovered pods`,
      );
    }
    const count = howMany(parameters, eligible.length);
    if (count > eligible.length) {
      refuse(
        name,
        `count ${count} is more than the ${eligible.length} pods matching ${selector} in ${namespace}; chaos never deletes more than the selector allows`,
      );
    }
    const victims: Victim[] = [];
    for (const pod of pickRandom(eligible, count)) {
      victims.push({ pod: pod.metadata?.name ?? "", uid: pod.metadata?.uid ?? "", workload: (await workloadOf(session, pod)) ?? null });
    }
    const workloads = [
      ...new Map(
        victims.flatMap((victim) => (victim.workload ? [[workloadName(victim.workload), victim.workload] as const] : [])),
      ).values(),
    ];
    return {
      targets: victims.map((victim) => `${namespace}/pod:${victim.pod}`),
      summary: `delete ${count} of ${eligible.length} pods matching ${selector} in ${namespace}${parameters.interval ? `, again every ${parameters.interval}` : ""} (owners: ${workloads.map(workloadName).join(", ") || "none"})`,
      details: { namespace, victims, workloads },
    };
  },
  async inject(context) {
    const { namespace, victims, workloads } = context.plan.details as { namespace: string; victims: Victim[]; workloads: WorkloadRef[] };
    let killed = 0;
    const killedUids = new Set<string>();
    for (const victim of victims) {
      if (!(await killOne(context, namespace, victim))) continue;
      killed++;
      killedUids.add(victim.uid);
    }
    let lastKill = Date.now();
    const intervalMs = context.params.interval ? (parseDuration(context.params.interval) ?? 0) : 0;
    // Impact: sample the owners' ready replicas while the fault is held; repeat the kills when asked to.
    const running = (async () => {
      let maxUnavailable = 0;
      let recoveredAfterMs: number | undefined;
      let nextKill = intervalMs > 0 ? Date.now() + intervalMs : Number.POSITIVE_INFINITY;
      const owners = new Set(workloads.map(workloadName));
      const selector = context.params.label_selector ?? context.session.config.label_selector;
      const workloadCache = new Map<string, string>();
      while (!context.holdEnded.aborted && !context.signal.aborted) {
        // Pods are counted, not the owners' status, which lags a deletion: a killed pod is never counted as ready.
        let desired = 0;
        for (const workload of workloads) desired += (await readinessOf(context.session, workload).catch(() => undefined))?.desired ?? 0;
        const ready = await readyPodsOf(context.session, namespace, selector, owners, killedUids, workloadCache).catch(() => desired);
        const unavailable = Math.max(0, desired - ready);
        maxUnavailable = Math.max(maxUnavailable, unavailable);
        if (unavailable === 0 && recoveredAfterMs === undefined) recoveredAfterMs = Date.now() - lastKill;
        context.observe({ replicas_unavailable: unavailable });
        if (Date.now() >= nextKill) {
          const { eligible } = await eligiblePods(context.session, context.params, namespace, () => true);
          const pods = [];
          for (const pod of eligible) {
            const workload = await workloadOf(context.session, pod);
            if (workload && owners.has(workloadName(workload))) pods.push({ pod, workload });
          }
          for (const { pod, workload } of pickRandom(pods, Math.min(pods.length, howMany(context.params, pods.length)))) {
            if (!(await killOne(context, namespace, { pod: pod.metadata?.name ?? "", uid: pod.metadata?.uid ?? "", workload }))) continue;
            killed++;
            killedUids.add(pod.metadata?.uid ?? "");
          }
          lastKill = Date.now();
          recoveredAfterMs = undefined;
          nextKill = Date.now() + intervalMs;
        }
        // Often enough to see a replica that is back within a second.
        await sleepFor(200, context.holdEnded).catch(() => undefined);
      }
      return {
        pods_killed: killed,
        max_replicas_unavailable: maxUnavailable,
        ...(recoveredAfterMs !== undefined ? { recovery_ms: recoveredAfterMs } : {}),
      };
    })();
    return {
      summary: `deleted ${killed} pod(s) in ${namespace}: ${victims.map((victim) => victim.pod).join(", ")}`,
      metrics: { pods_killed: killed },
      running,
    };
  },
  async rollback(context, undo) {
    if (!undo.workload)
      return {
        summary: `bare pod ${undo.namespace}/${undo.pod} was deleted; nothing recreates it`,
        conflicts: [`bare pod ${undo.namespace}/${undo.pod} is gone for good (allow_bare_pods)`],
      };
    const workload = undo.workload;
    const owners = new Set([workloadName(workload)]);
    const cache = new Map<string, string>();
    const deadline = Date.now() + undo.recoveryTimeoutMs;
    for (;;) {
      const status = await readinessOf(context.session, workload);
      if (!status) return { summary: `${workloadName(workload)} no longer exists; nothing to wait for` };
      // Both the owner's own count and the pods themselves: the status lags a deletion, and the killed pod never counts.
      const ready = Math.min(
        status.ready,
        await readyPodsOf(context.session, workload.namespace, undefined, owners, new Set([undo.uid]), cache),
      );
      if (ready >= status.desired) {
        const recoveryMs = Date.now() - Date.parse(undo.deletedAt);
        return {
          summary: `${workloadName(workload)} has ${ready}/${status.desired} ready replicas again (checked ${(recoveryMs / 1000).toFixed(1)} s after pod ${undo.pod} was deleted)`,
          metrics: { recovery_ms: recoveryMs },
        };
      }
      if (Date.now() > deadline) {
        return {
          conflicts: [
            `${workloadName(workload)} has ${ready}/${status.desired} ready replicas after waiting ${undo.recoveryTimeoutMs / 1000} s (recovery_timeout); chaos cannot recreate pods itself`,
          ],
        };
      }
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  },
});
