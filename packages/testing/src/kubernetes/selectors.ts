/** A Kubernetes object as the simulator stores it: plain JSON. */
export type KubeObject = {
  apiVersion?: string;
  kind?: string;
  metadata: {
    name: string;
    namespace?: string;
    uid?: string;
    resourceVersion?: string;
    generation?: number;
    generateName?: string;
    creationTimestamp?: string;
    deletionTimestamp?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    ownerReferences?: { apiVersion: string; kind: string; name: string; uid: string; controller?: boolean }[];
  };
  // biome-ignore lint/suspicious/noExplicitAny: objects of every kind are JSON of their own shape.
  spec?: any;
  // biome-ignore lint/suspicious/noExplicitAny: see spec.
  status?: any;
  // biome-ignore lint/suspicious/noExplicitAny: other top-level fields (data, involvedObject…).
  [field: string]: any;
};

type Requirement = (labels: Record<string, string>) => boolean;

/** Thrown for a selector the API server would reject (400 BadRequest). */
export class SelectorError extends Error {}

function splitTopLevel(text: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let current = "";
  for (const character of text) {
    if (character === "(") depth++;
    if (character === ")") depth--;
    if (character === "," && depth === 0) {
      parts.push(current);
      current = "";
    } else current += character;
  }
  if (current.trim()) parts.push(current);
  return parts.map((part) => part.trim()).filter(Boolean);
}

function parseRequirement(term: string): Requirement {
  const setMatch = /^([\w./-]+)\s+(in|notin)\s*\(([^)]*)\)$/.exec(term);
  if (setMatch) {
    const [, key = "", operator, list = ""] = setMatch;
    const values = list.split(",").map((value) => value.trim());
    return operator === "in"
      ? (labels) => key in labels && values.includes(labels[key] ?? "")
      : (labels) => !(key in labels) || !values.includes(labels[key] ?? "");
  }
  const comparison = /^([\w./-]+)\s*(==|=|!=)\s*([\w.-]*)$/.exec(term);
  if (comparison) {
    const [, key = "", operator, value = ""] = comparison;
    return operator === "!=" ? (labels) => labels[key] !== value : (labels) => labels[key] === value;
  }
  const exists = /^(!?)([\w./-]+)$/.exec(term);
  if (exists) {
    const [, negated, key = ""] = exists;
    return negated ? (labels) => !(key in labels) : (labels) => key in labels;
  }
  throw new SelectorError(`unable to parse requirement: ${term}`);
}

/** `app=web,tier in (a,b),!canary` → a predicate on an object's labels. */
export function parseLabelSelector(text: string | null): (object: KubeObject) => boolean {
  if (!text) return () => true;
  const requirements = splitTopLevel(text).map(parseRequirement);
  return (object) => requirements.every((requirement) => requirement(object.metadata.labels ?? {}));
}

function fieldValue(object: KubeObject, path: string): string {
  // biome-ignore lint/suspicious/noExplicitAny: walking a JSON object by a dotted path.
  let value: any = object;
  for (const part of path.split(".")) value = value?.[part];
  return value === undefined || value === null ? "" : String(value);
}

/** `spec.nodeName=node-1,status.phase!=Succeeded` → a predicate; field paths are read from the object. */
export function parseFieldSelector(text: string | null): (object: KubeObject) => boolean {
  if (!text) return () => true;
  const terms = splitTopLevel(text).map((term) => {
    const match = /^([\w.]+)\s*(==|=|!=)\s*(.*)$/.exec(term);
    if (!match) throw new SelectorError(`invalid field selector: ${term}`);
    const [, path = "", operator, value = ""] = match;
    return (object: KubeObject) => (fieldValue(object, path) === value) !== (operator === "!=");
  });
  return (object) => terms.every((term) => term(object));
}

/** A LabelSelector object ({matchLabels, matchExpressions}) as workloads, PDBs and policies carry it. */
export function matchesLabelSelector(
  selector: { matchLabels?: Record<string, string>; matchExpressions?: { key: string; operator: string; values?: string[] }[] } | undefined,
  labels: Record<string, string> = {},
): boolean {
  if (!selector) return false;
  for (const [key, value] of Object.entries(selector.matchLabels ?? {})) if (labels[key] !== value) return false;
  for (const expression of selector.matchExpressions ?? []) {
    const has = expression.key in labels;
    const value = labels[expression.key] ?? "";
    const values = expression.values ?? [];
    if (expression.operator === "In" && !(has && values.includes(value))) return false;
    if (expression.operator === "NotIn" && has && values.includes(value)) return false;
    if (expression.operator === "Exists" && !has) return false;
    if (expression.operator === "DoesNotExist" && has) return false;
  }
  return true;
}
