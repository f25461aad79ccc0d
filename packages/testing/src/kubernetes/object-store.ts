import { randomUUID } from "node:crypto";
import { type ApiResource, groupVersionOf, resourceOfKind } from "./api-resources.js";
import type { KubeObject } from "./selectors.js";

export type WatchEventType = "ADDED" | "MODIFIED" | "DELETED";

export interface StoreEvent {
  type: WatchEventType;
  resource: ApiResource;
  object: KubeObject;
  resourceVersion: number;
}

/** An API error the server answers with as a Status object. */
export class ApiError extends Error {
  constructor(
    readonly code: number,
    readonly reason: string,
    message: string,
    readonly details?: object,
  ) {
    super(message);
  }
}

function keyOf(resource: ApiResource, namespace: string | undefined, name: string): string {
  return `${resource.plural}.${resource.group}/${resource.namespaced ? (namespace ?? "") : ""}/${name}`;
}

const historyLimit = 5000;

/**
 * The simulator's etcd: objects by resource, namespace and name, one resourceVersion counter
 * for all of them (as etcd's revision), and a bounded history so a watch can resume from a version.
 */
export class ObjectStore {
  private readonly objects = new Map<string, { resource: ApiResource; object: KubeObject }>();
  private readonly history: StoreEvent[] = [];
  private readonly listeners = new Set<(event: StoreEvent) => void>();
  private revision = 1;

  get resourceVersion(): number {
    return this.revision;
  }

  get(resource: ApiResource, namespace: string | undefined, name: string): KubeObject | undefined {
    const entry = this.objects.get(keyOf(resource, namespace, name));
    return entry ? structuredClone(entry.object) : undefined;
  }

  /** The object, or the 404 the API answers with. */
  require(resource: ApiResource, namespace: string | undefined, name: string): KubeObject {
    const object = this.get(resource, namespace, name);
    if (!object) throw notFound(resource, name);
    return object;
  }

  list(resource: ApiResource, namespace?: string): KubeObject[] {
    const result: KubeObject[] = [];
    for (const entry of this.objects.values()) {
      if (entry.resource.plural !== resource.plural || entry.resource.group !== resource.group) continue;
      if (namespace !== undefined && resource.namespaced && entry.object.metadata.namespace !== namespace) continue;
      result.push(structuredClone(entry.object));
    }
    return result.sort((left, right) =>
      `${left.metadata.namespace ?? ""}/${left.metadata.name}`.localeCompare(`${right.metadata.namespace ?? ""}/${right.metadata.name}`),
    );
  }

  create(resource: ApiResource, object: KubeObject): KubeObject {
    const metadata = object.metadata ?? ({} as KubeObject["metadata"]);
    if (!metadata.name && metadata.generateName) metadata.name = `${metadata.generateName}${randomSuffix()}`;
    if (!metadata.name)
      throw new ApiError(422, "Invalid", `${resource.kind} "" is invalid: metadata.name: Required value: name or generateName is required`);
    if (resource.namespaced && !metadata.namespace) metadata.namespace = "default";
    if (!resource.namespaced) delete metadata.namespace;
    if (
      resource.namespaced &&
      resource.plural !== "events" &&
      !this.get(resourceOfKind("Namespace"), undefined, metadata.namespace ?? "")
    ) {
      throw new ApiError(404, "NotFound", `namespaces "${metadata.namespace}" not found`, { name: metadata.namespace, kind: "namespaces" });
    }
    const key = keyOf(resource, metadata.namespace, metadata.name);
    if (this.objects.has(key)) {
      throw new ApiError(
        409,
        "AlreadyExists",
        `${resource.plural}${resource.group ? `.${resource.group}` : ""} "${metadata.name}" already exists`,
        {
          name: metadata.name,
          group: resource.group,
          kind: resource.plural,
        },
      );
    }
    const stored: KubeObject = {
      ...structuredClone(object),
      apiVersion: groupVersionOf(resource),
      kind: resource.kind,
      metadata: {
        ...structuredClone(metadata),
        uid: randomUUID(),
        resourceVersion: String(++this.revision),
        generation: 1,
        creationTimestamp: new Date().toISOString().replace(/\.\d+Z$/, "Z"),
      },
    };
    this.objects.set(key, { resource, object: stored });
    this.emit({ type: "ADDED", resource, object: stored, resourceVersion: this.revision });
    return structuredClone(stored);
  }

  /**
   * Replaces an object. A resourceVersion in the new object must match the stored one
   * (optimistic concurrency: 409 Conflict otherwise); none means "whatever is there".
   */
  replace(resource: ApiResource, object: KubeObject, options: { bumpGeneration?: boolean } = {}): KubeObject {
    const key = keyOf(resource, object.metadata.namespace, object.metadata.name);
    const current = this.objects.get(key)?.object;
    if (!current) throw notFound(resource, object.metadata.name);
    const expected = object.metadata.resourceVersion;
    if (expected !== undefined && expected !== "" && expected !== current.metadata.resourceVersion) {
      throw new ApiError(
        409,
        "Conflict",
        `Operation cannot be fulfilled on ${resource.plural}${resource.group ? `.${resource.group}` : ""} "${object.metadata.name}": the object has been modified; please apply your changes to the latest version and try again`,
        { name: object.metadata.name, group: resource.group, kind: resource.plural },
      );
    }
    const specChanged = JSON.stringify(current.spec) !== JSON.stringify(object.spec);
    const stored: KubeObject = {
      ...structuredClone(object),
      apiVersion: groupVersionOf(resource),
      kind: resource.kind,
      metadata: {
        ...structuredClone(object.metadata),
        // Identity fields are the server's, whatever the client sent.
        name: current.metadata.name,
        namespace: current.metadata.namespace,
        uid: current.metadata.uid,
        creationTimestamp: current.metadata.creationTimestamp,
        generation: (current.metadata.generation ?? 1) + (specChanged && options.bumpGeneration !== false ? 1 : 0),
        resourceVersion: current.metadata.resourceVersion,
      },
    };
    if (JSON.stringify(stored) === JSON.stringify(current)) return structuredClone(current); // a no-op write keeps its version
    stored.metadata.resourceVersion = String(++this.revision);
    this.objects.set(key, { resource, object: stored });
    this.emit({ type: "MODIFIED", resource, object: stored, resourceVersion: this.revision });
    return structuredClone(stored);
  }

  delete(resource: ApiResource, namespace: string | undefined, name: string): KubeObject {
    const key = keyOf(resource, namespace, name);
    const current = this.objects.get(key)?.object;
    if (!current) throw notFound(resource, name);
    this.objects.delete(key);
    const gone: KubeObject = { ...current, metadata: { ...current.metadata, resourceVersion: String(++this.revision) } };
    this.emit({ type: "DELETED", resource, object: gone, resourceVersion: this.revision });
    return structuredClone(gone);
  }

  /** Events after `resourceVersion`; 410 Gone when the history no longer reaches back that far. */
  since(resourceVersion: number): StoreEvent[] {
    const oldest = this.history[0]?.resourceVersion ?? this.revision + 1;
    if (resourceVersion + 1 < oldest && resourceVersion < this.revision) {
      throw new ApiError(410, "Expired", `too old resource version: ${resourceVersion} (${oldest - 1})`);
    }
    return this.history.filter((event) => event.resourceVersion > resourceVersion);
  }

  subscribe(listener: (event: StoreEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private emit(event: StoreEvent): void {
    this.history.push({ ...event, object: structuredClone(event.object) });
    if (this.history.length > historyLimit) this.history.shift();
    for (const listener of this.listeners) listener(event);
  }
}

export function notFound(resource: ApiResource, name: string): ApiError {
  return new ApiError(404, "NotFound", `${resource.plural}${resource.group ? `.${resource.group}` : ""} "${name}" not found`, {
    name,
    group: resource.group,
    kind: resource.plural,
  });
}

/** Five characters from the alphabet Kubernetes uses for generated names (no vowels, no look-alikes). */
export function randomSuffix(length = 5): string {
  const alphabet = "bcdfghjklmnpqrstvwxz2456789";
  let suffix = "";
  for (let index = 0; index < length; index++) suffix += alphabet[Math.floor(Math.random() * alphabet.length)];
  return suffix;
}
