// biome-ignore-all lint/suspicious/noExplicitAny: patches act on JSON of any shape.

/** Thrown for a patch the API server would reject; carries the HTTP status it answers with. */
export class PatchError extends Error {
  constructor(
    message: string,
    readonly code: number,
  ) {
    super(message);
  }
}

function isObject(value: unknown): value is Record<string, any> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** RFC 7386 JSON merge patch: null deletes a key, objects merge, everything else replaces. */
export function mergePatch(target: any, patch: any): any {
  if (!isObject(patch)) return structuredClone(patch);
  const result: Record<string, any> = isObject(target) ? { ...target } : {};
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete result[key];
    else result[key] = mergePatch(result[key], value);
  }
  return result;
}

/** The key lists of objects merge on in a strategic merge patch (the API's patchMergeKey), by field name. */
const mergeKeys: Record<string, string> = {
  containers: "name",
  initContainers: "name",
  env: "name",
  volumes: "name",
  volumeMounts: "mountPath",
  ports: "containerPort",
  conditions: "type",
  taints: "key",
  tolerations: "key",
  ownerReferences: "uid",
  finalizers: "",
};

/**
 * Strategic merge patch as kubectl sends it (cordon, drain, apply): a merge patch where lists
 * with a merge key merge element by element, `$patch: delete|replace` directives apply, and
 * `$setElementOrder/…` / `$retainKeys` bookkeeping is accepted and ignored.
 */
export function strategicMergePatch(target: any, patch: any, field = ""): any {
  if (!isObject(patch)) {
    if (Array.isArray(patch) && Array.isArray(target) && field in mergeKeys) return mergeList(target, patch, mergeKeys[field] ?? "");
    return structuredClone(patch);
  }
  if (patch.$patch === "delete") return undefined;
  if (patch.$patch === "replace") {
    const { $patch: _directive, ...rest } = patch;
    return structuredClone(rest);
  }
  const result: Record<string, any> = isObject(target) ? { ...target } : {};
  for (const [key, value] of Object.entries(patch)) {
    if (key.startsWith("$setElementOrder/") || key === "$retainKeys" || key === "$patch") continue;
    if (key.startsWith("$deleteFromPrimitiveList/")) {
      const listKey = key.slice("$deleteFromPrimitiveList/".length);
      result[listKey] = (result[listKey] ?? []).filter((item: unknown) => !(value as unknown[]).includes(item));
      continue;
    }
    if (value === null) delete result[key];
    else {
      const merged = strategicMergePatch(result[key], value, key);
      if (merged === undefined) delete result[key];
      else result[key] = merged;
    }
  }
  return result;
}

function mergeList(target: any[], patch: any[], key: string): any[] {
  if (!key) return [...new Set([...target, ...patch])];
  const result = target.map((item) => structuredClone(item));
  for (const element of patch) {
    if (!isObject(element)) continue;
    const index = result.findIndex((item) => isObject(item) && item[key] === element[key]);
    if (element.$patch === "delete") {
      if (index >= 0) result.splice(index, 1);
    } else if (index >= 0) result[index] = strategicMergePatch(result[index], element);
    else result.push(strategicMergePatch({}, element));
  }
  return result;
}

function decodePointer(pointer: string): string[] {
  if (pointer === "") return [];
  if (!pointer.startsWith("/")) throw new PatchError(`invalid JSON pointer ${pointer}`, 422);
  return pointer
    .slice(1)
    .split("/")
    .map((part) => part.replace(/~1/g, "/").replace(/~0/g, "~"));
}

function parentOf(document: any, path: string[]): { parent: any; key: string } {
  let parent = document;
  for (const part of path.slice(0, -1)) {
    parent = Array.isArray(parent) ? parent[Number(part)] : parent?.[part];
    if (parent === undefined) throw new PatchError(`doc is missing path: /${path.join("/")}`, 422);
  }
  return { parent, key: path.at(-1) ?? "" };
}

function read(document: any, path: string[]): any {
  let value = document;
  for (const part of path) {
    value = Array.isArray(value) ? value[Number(part)] : value?.[part];
    if (value === undefined) throw new PatchError(`doc is missing path: /${path.join("/")}`, 422);
  }
  return value;
}

function remove(document: any, path: string[]): any {
  const { parent, key } = parentOf(document, path);
  if (Array.isArray(parent)) return parent.splice(Number(key), 1)[0];
  if (!(key in parent)) throw new PatchError(`doc is missing path: /${path.join("/")}`, 422);
  const value = parent[key];
  delete parent[key];
  return value;
}

function add(document: any, path: string[], value: any): any {
  if (path.length === 0) return structuredClone(value);
  const { parent, key } = parentOf(document, path);
  if (Array.isArray(parent)) parent.splice(key === "-" ? parent.length : Number(key), 0, structuredClone(value));
  else parent[key] = structuredClone(value);
  return document;
}

/** RFC 6902 JSON patch: add, remove, replace, move, copy, test (a failed test answers 422). */
export function jsonPatch(target: any, operations: any): any {
  if (!Array.isArray(operations)) throw new PatchError("a JSON patch must be an array of operations", 400);
  let document = structuredClone(target);
  for (const operation of operations) {
    const path = decodePointer(String(operation.path ?? ""));
    switch (operation.op) {
      case "add":
        document = add(document, path, operation.value);
        break;
      case "remove":
        remove(document, path);
        break;
      case "replace":
        read(document, path);
        if (path.length === 0) document = structuredClone(operation.value);
        else {
          const { parent, key } = parentOf(document, path);
          if (Array.isArray(parent)) parent[Number(key)] = structuredClone(operation.value);
          else parent[key] = structuredClone(operation.value);
        }
        break;
      case "move":
        document = add(document, path, remove(document, decodePointer(String(operation.from))));
        break;
      case "copy":
        document = add(document, path, read(document, decodePointer(String(operation.from))));
        break;
      case "test":
        if (JSON.stringify(read(document, path)) !== JSON.stringify(operation.value)) {
          throw new PatchError(`testing value /${path.join("/")} failed`, 422);
        }
        break;
      default:
        throw new PatchError(`unknown JSON patch operation ${String(operation.op)}`, 400);
    }
  }
  return document;
}
