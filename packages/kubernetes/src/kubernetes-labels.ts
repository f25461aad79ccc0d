/** Label every object chaos creates carries, so that anyone can see whose it is. */
export const managedByLabel = "app.kubernetes.io/managed-by";
export const managedByValue = "chaos-agents";
/** Label holding the experiment id: the sweep deletes by it what the journal may never have recorded. */
export const experimentLabel = "chaos-agents.io/experiment";
/** Annotation on a node chaos cordoned, naming the experiment, so a sweep can uncordon it. */
export const cordonedByLabel = "chaos-agents.io/cordoned-by";

/** The labels of an object created by an experiment. */
export function chaosLabels(experimentId: string): Record<string, string> {
  return { [managedByLabel]: managedByValue, [experimentLabel]: experimentId };
}

/** Selector of everything one experiment created. */
export function experimentSelector(experimentId: string): string {
  return `${managedByLabel}=${managedByValue},${experimentLabel}=${experimentId}`;
}
