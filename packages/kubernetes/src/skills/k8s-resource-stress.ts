import { randomBytes } from "node:crypto";
import { defineSkill, type JsonValue, positiveInteger } from "@chaos-agents/core";
import { z } from "zod";
import { isNotFound } from "../kubernetes-api-errors.js";
import { chaosLabels, experimentLabel, experimentSelector } from "../kubernetes-labels.js";
import { type KubernetesSession, namespaceFor } from "../kubernetes-session.js";
import { pollUntil, refuse, resourcesOf } from "./skill-support.js";

const name = "k8s.resource_stress";

const quantity = z.string().regex(/^\d+(\.\d+)?(Ki|Mi|Gi|Ti|k|M|G|T)?$/, 'expected a Kubernetes quantity such as "256Mi" or "1Gi"');

const params = z.strictObject({
  namespace: z.string().optional().describe("Namespace the stress pod runs in. Default: target_config.namespace when it names only one."),
  node: z.string().optional().describe("Node to run on, as discovery lists it. Default: where the scheduler puts it."),
  cpu_workers: positiveInteger().default(1).describe("CPU stressors (each requests and is limited to one CPU)."),
  cpu_load: z.number().int().min(1).max(100).default(100).describe("Load each CPU stressor aims at, in percent."),
  memory: quantity.optional().describe('Memory to hold ("512Mi"); none when omitted.'),
  image: z.string().min(1).default("alexeiled/stress-ng:latest").describe("Container image whose entrypoint is stress-ng."),
});

type Params = z.output<typeof params>;

const units: Record<string, number> = { "": 1, k: 1e3, M: 1e6, G: 1e9, T: 1e12, Ki: 1024, Mi: 1024 ** 2, Gi: 1024 ** 3, Ti: 1024 ** 4 };

/** "512Mi" → 536870912. */
export function quantityBytes(text: string): number {
  const match = /^(\d+(?:\.\d+)?)(Ki|Mi|Gi|Ti|k|M|G|T)?$/.exec(text);
  return match ? Number(match[1]) * (units[match[2] ?? ""] ?? 1) : 0;
}

export interface ResourceStressUndo {
  [key: string]: JsonValue;
  namespace: string;
  pod: string;
}

export const k8sResourceStress = defineSkill<Params, KubernetesSession, ResourceStressUndo>({
  name,
  target: "kubernetes",
  description:
    "Run a stress-ng pod (image configurable) with CPU/memory requests and limits, on a chosen node, for the hold (activeDeadlineSeconds ends it even without chaos); rollback deletes it and waits until it is gone.",
  params,
  reversible: true,
  async plan({ params: parameters, session, inventory, durationMs }) {
    const namespace = namespaceFor(name, session, parameters.namespace);
    if (parameters.node) {
      const node = resourcesOf(inventory, "node").find((resource) => resource.details?.name === parameters.node);
      if (!node) refuse(name, `no discovered node is named ${parameters.node}`);
      if (!node.details?.schedulable)
        refuse(name, `node ${parameters.node} is cordoned; chaos does not place pods where the cluster will not`);
    }
    return {
      targets: [`namespace:${namespace}`, ...(parameters.node ? [`node:${parameters.node}`] : [])],
      summary: `run stress-ng (${parameters.cpu_workers} CPU at ${parameters.cpu_load}%${parameters.memory ? `, ${parameters.memory} memory` : ""}) in ${namespace}${parameters.node ? ` on ${parameters.node}` : ""} for ${Math.ceil(durationMs / 1000)} s`,
      details: { namespace },
    };
  },
  async inject(context) {
    const { namespace } = context.plan.details as { namespace: string };
    const { params: parameters } = context;
    const holdSeconds = Math.max(1, Math.ceil(context.durationMs / 1000));
    const undo: ResourceStressUndo = {
      namespace,
      pod: `chaos-stress-${context.experimentId.replace(/[^a-z0-9]/g, "").slice(-12)}-${randomBytes(3).toString("hex")}`,
    };
    await context.journal.record(undo);
    // stress-ng holds 90% of the limit: its own process needs room too, and the point is pressure, not an OOM kill.
    const memoryArgs = parameters.memory
      ? ["--vm", "1", "--vm-bytes", String(Math.floor(quantityBytes(parameters.memory) * 0.9)), "--vm-keep"]
      : [];
    const limits: Record<string, string> = { cpu: String(parameters.cpu_workers) };
    if (parameters.memory) limits.memory = parameters.memory;
    await context.session.clients.core.createNamespacedPod({
      namespace,
      body: {
        apiVersion: "v1",
        kind: "Pod",
        metadata: { name: undo.pod, namespace, labels: chaosLabels(context.experimentId) },
        spec: {
          ...(parameters.node ? { nodeName: parameters.node } : {}),
          restartPolicy: "Never",
          // The kubelet ends the pod after the hold plus a minute even if chaos is gone: a dead-man's switch.
          activeDeadlineSeconds: holdSeconds + 60,
          terminationGracePeriodSeconds: 0,
          containers: [
            {
              name: "stress",
              image: parameters.image,
              args: [
                "--cpu",
                String(parameters.cpu_workers),
                "--cpu-load",
                String(parameters.cpu_load),
                ...memoryArgs,
                "--timeout",
                `${holdSeconds}s`,
              ],
              resources: { requests: limits, limits },
            },
          ],
        },
      },
    });
    return { summary: `started pod ${namespace}/${undo.pod}` };
  },
  async rollback(context, undo) {
    const { core } = context.session.clients;
    const notes: string[] = [];
    const conflicts: string[] = [];
    try {
      const pod = await core.readNamespacedPod({ name: undo.pod, namespace: undo.namespace });
      if (pod.metadata?.labels?.[experimentLabel] !== context.experimentId)
        conflicts.push(`pod ${undo.namespace}/${undo.pod} is not this experiment's; left alone`);
      else {
        await core.deleteNamespacedPod({
          name: undo.pod,
          namespace: undo.namespace,
          gracePeriodSeconds: 0,
          body: { preconditions: { uid: pod.metadata?.uid } },
        });
        notes.push(`deleted pod ${undo.namespace}/${undo.pod}`);
      }
    } catch (error) {
      if (!isNotFound(error)) throw error;
      notes.push(`pod ${undo.namespace}/${undo.pod} was already gone`);
    }
    const leftovers = await core.listNamespacedPod({ namespace: undo.namespace, labelSelector: experimentSelector(context.experimentId) });
    for (const pod of leftovers.items) {
      await core
        .deleteNamespacedPod({ name: pod.metadata?.name ?? "", namespace: undo.namespace, gracePeriodSeconds: 0 })
        .catch((error) => {
          if (!isNotFound(error)) throw error;
        });
    }
    const gone = await pollUntil(
      async () =>
        (await core.listNamespacedPod({ namespace: undo.namespace, labelSelector: experimentSelector(context.experimentId) })).items
          .length === 0,
      120_000,
    );
    if (!gone) throw new Error(`stress pods of ${context.experimentId} in ${undo.namespace} are still there 2 min after their deletion`);
    return { summary: notes.join("; "), ...(conflicts.length > 0 ? { conflicts } : {}) };
  },
});
