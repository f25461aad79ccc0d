import type { V1ConfigMap } from "@kubernetes/client-node";
import { apiFailure, isNotFound } from "../kubernetes-api-errors.js";
import { experimentLabel, managedByLabel } from "../kubernetes-labels.js";
import type { KubernetesSession } from "../kubernetes-session.js";

/** Where cluster DNS keeps its configuration (kubeadm, kind, k3s and most managed clusters). */
export const corednsConfigMap = { namespace: "kube-system", name: "coredns", key: "Corefile" } as const;
/** Annotation on the ConfigMap holding the Corefile as it was, so a sweep can restore it without the journal. */
export const originalCorefileAnnotation = "chaos-agents.io/original-corefile";

export type DnsAnswer = { kind: "nxdomain" } | { kind: "address"; address: string };

function markers(experimentId: string) {
  return { begin: `# chaos-agents ${experimentId} begin`, end: `# chaos-agents ${experimentId} end` };
}

/**
 * The Corefile with a `template` block per name in its first server block: answers NXDOMAIN or a
 * wrong A record for exactly those names, everything else unchanged. Throws when no server block is found.
 */
export function corruptCorefile(corefile: string, experimentId: string, names: string[], answer: DnsAnswer): string {
  const opening = /^([^\n#]*\{)[ \t]*$/m.exec(corefile);
  if (!opening) throw new Error("the Corefile has no server block (a line ending in '{')");
  const { begin, end } = markers(experimentId);
  const blocks = names.map((name) =>
    answer.kind === "nxdomain"
      ? `    template IN ANY ${name} {\n        rcode NXDOMAIN\n    }`
      : `    template IN A ${name} {\n        answer "{{ .Name }} 5 IN A ${answer.address}"\n    }`,
  );
  const insertAt = opening.index + opening[0].length;
  return `${corefile.slice(0, insertAt)}\n    ${begin}\n${blocks.join("\n")}\n    ${end}${corefile.slice(insertAt)}`;
}

export function carriesCorruption(corefile: string, experimentId: string): boolean {
  return corefile.includes(markers(experimentId).begin);
}

export async function readCorednsConfigMap(session: KubernetesSession): Promise<V1ConfigMap> {
  return session.clients.core.readNamespacedConfigMap({ name: corednsConfigMap.name, namespace: corednsConfigMap.namespace });
}

/** Outcome of putting the Corefile back. */
export type RestoreOutcome = "restored" | "already restored" | "changed by someone else" | "gone";

/**
 * Writes `original` back when the Corefile is still exactly what chaos wrote, guarded by the
 * resourceVersion read (a concurrent change answers 409 and is reported, never overwritten).
 */
export async function restoreCorefile(
  session: KubernetesSession,
  experimentId: string,
  original: string,
  injected: string,
): Promise<RestoreOutcome> {
  let current: V1ConfigMap;
  try {
    current = await readCorednsConfigMap(session);
  } catch (error) {
    if (isNotFound(error)) return "gone";
    throw error;
  }
  const corefile = current.data?.[corednsConfigMap.key] ?? "";
  if (corefile === original && !carriesCorruption(corefile, experimentId)) return "already restored";
  if (corefile !== injected) return "changed by someone else";
  const annotations = { ...(current.metadata?.annotations ?? {}) };
  delete annotations[originalCorefileAnnotation];
  const labels = { ...(current.metadata?.labels ?? {}) };
  if (labels[experimentLabel] === experimentId) {
    delete labels[experimentLabel];
    delete labels[managedByLabel];
  }
  try {
    await session.clients.core.replaceNamespacedConfigMap({
      name: corednsConfigMap.name,
      namespace: corednsConfigMap.namespace,
      body: {
        ...current,
        metadata: { ...current.metadata, annotations, labels },
        data: { ...current.data, [corednsConfigMap.key]: original },
      },
    });
  } catch (error) {
    if (apiFailure(error)?.code === 409) return "changed by someone else";
    throw error;
  }
  return "restored";
}

/** Sweep: restores a Corefile this experiment corrupted, from the ConfigMap's own annotation. */
export async function restoreCorefileFromAnnotation(session: KubernetesSession, experimentId: string): Promise<string | undefined> {
  let current: V1ConfigMap;
  try {
    current = await readCorednsConfigMap(session);
  } catch (error) {
    if (isNotFound(error) || apiFailure(error)?.code === 403) return undefined;
    throw error;
  }
  const original = current.metadata?.annotations?.[originalCorefileAnnotation];
  const corefile = current.data?.[corednsConfigMap.key] ?? "";
  if (original === undefined || current.metadata?.labels?.[experimentLabel] !== experimentId || !carriesCorruption(corefile, experimentId))
    return undefined;
  const outcome = await restoreCorefile(session, experimentId, original, corefile);
  return outcome === "restored" ? `Corefile of ${corednsConfigMap.namespace}/${corednsConfigMap.name}` : undefined;
}
