import { type Inventory, type Resource, SkillError } from "@chaos-agents/core";
import { z } from "zod";

/** Turns a refusal into the SkillError of `skill`, so plan() reports what is wrong before anything changes. */
export function refuse(skill: string, message: string): never {
  throw new SkillError(skill, message);
}

export function resourcesOf(inventory: Inventory, kind: string): Resource[] {
  return inventory.resources.filter((resource) => resource.kind === kind);
}

const labelKey = /^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/;
const labelValue = /^([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?$/;

/** `{app: web}`: labels as Kubernetes validates them (name, optional DNS prefix; value of at most 63 characters). */
export const labelMap = () =>
  z
    .record(
      z.string().regex(labelKey, "expected a label key such as app or example.com/tier"),
      z.string().regex(labelValue, "expected a label value (at most 63 letters, digits, '-', '_', '.')"),
    )
    .refine(
      (labels) => Object.keys(labels).length > 0,
      "expected at least one label: an empty selector would select every pod of the namespace",
    );

/** The discovered pods of a namespace that carry every label of `selector`. */
export function podsMatching(inventory: Inventory, namespace: string, selector: Record<string, string>): Resource[] {
  return resourcesOf(inventory, "pod").filter((pod) => {
    const labels = (pod.details?.labels ?? {}) as Record<string, string>;
    return pod.details?.namespace === namespace && Object.entries(selector).every(([key, value]) => labels[key] === value);
  });
}

/** `{app: web, tier: db}` → `app=web,tier=db`. */
export function selectorText(labels: Record<string, string>): string {
  return Object.entries(labels)
    .map(([key, value]) => `${key}=${value}`)
    .join(",");
}

/** Polls `condition` until it holds or `timeoutMs` passes (or the signal aborts); returns whether it held. */
export async function pollUntil(
  condition: () => Promise<boolean>,
  timeoutMs: number,
  signal?: AbortSignal,
  intervalMs = 250,
): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await condition()) return true;
    if (Date.now() >= deadline || signal?.aborted) return false;
    await new Promise((resolve) => setTimeout(resolve, Math.min(intervalMs, Math.max(0, deadline - Date.now()))));
  }
}

/** A short name part from an experiment id for objects chaos creates (names have at most 63 characters). */
export function shortId(experimentId: string): string {
  return experimentId.replace(/[^a-z0-9]/g, "").slice(-10);
}
