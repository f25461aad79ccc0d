import type { IncomingMessage, ServerResponse } from "node:http";
import {
  type ApiResource,
  apiResources,
  coreVersions,
  findResource,
  groupList,
  groupOf,
  resourceList,
  resourceOfKind,
} from "./api-resources.js";
import { recordEvent } from "./cluster-events.js";
import { disruptionStatus, podReady } from "./controller.js";
import { ApiError, type ObjectStore, type StoreEvent } from "./object-store.js";
import { jsonPatch, mergePatch, PatchError, strategicMergePatch } from "./patches.js";
import { type KubeObject, matchesLabelSelector, parseFieldSelector, parseLabelSelector, SelectorError } from "./selectors.js";
import { toTable, wantsTable } from "./tables.js";

/** Kinds with a `scale` subresource. */
const scalable = ["Deployment", "ReplicaSet", "StatefulSet"];

/** What a request names once its path is parsed. */
interface Target {
  resource: ApiResource;
  namespace?: string;
  name?: string;
  subresource?: string;
}

export interface RequestLog {
  method: string;
  path: string;
  contentType?: string;
}

function statusBody(error: ApiError): object {
  return {
    kind: "Status",
    apiVersion: "v1",
    metadata: {},
    status: "Failure",
    message: error.message,
    reason: error.reason,
    ...(error.details ? { details: error.details } : {}),
    code: error.code,
  };
}

function send(response: ServerResponse, code: number, body: unknown): void {
  const text = typeof body === "string" ? body : JSON.stringify(body);
  response.writeHead(code, {
    "Content-Type": typeof body === "string" ? "text/plain" : "application/json",
    "Content-Length": Buffer.byteLength(text),
  });
  response.end(text);
}

async function readBody(request: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  const text = Buffer.concat(chunks).toString();
  if (!text) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    throw new ApiError(400, "BadRequest", "the request body is not JSON (this simulator speaks JSON only, no protobuf or YAML)");
  }
}

/** `/api/v1/namespaces/staging/pods/web-x/eviction` → pods in staging, named web-x, eviction. */
function parseTarget(segments: string[]): Target | undefined {
  let group = "";
  let rest: string[];
  if (segments[0] === "api") {
    if (segments[1] !== "v1") return undefined;
    rest = segments.slice(2);
  } else if (segments[0] === "apis" && segments.length >= 4) {
    group = segments[1] ?? "";
    rest = segments.slice(3);
  } else return undefined;
  const version = segments[0] === "api" ? "v1" : (segments[2] ?? "");
  let namespace: string | undefined;
  // `namespaces/NAME` alone (or with status/finalize) is the Namespace object itself.
  if (rest[0] === "namespaces" && rest.length >= 3 && !["status", "finalize"].includes(rest[2] ?? "")) {
    namespace = rest[1];
    rest = rest.slice(2);
  }
  const resource = findResource(group, version, rest[0] ?? "");
  if (!resource || rest.length > 3) return undefined;
  return { resource, namespace, name: rest[1], subresource: rest[2] };
}

/**
 * Answers one API request: discovery, CRUD with selectors, the three patch types, status
 * subresources, pod eviction against PodDisruptionBudgets, and watches.
 */
export class RequestHandler {
  readonly requests: RequestLog[] = [];

  constructor(
    private readonly store: ObjectStore,
    private readonly address: string,
    private readonly token?: string,
  ) {}

  async handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const url = new URL(request.url ?? "/", "http://simulator");
    const method = request.method ?? "GET";
    this.requests.push({ method, path: `${url.pathname}${url.search}`, contentType: request.headers["content-type"] });
    try {
      if (this.token && request.headers.authorization !== `Bearer ${this.token}`) {
        throw new ApiError(401, "Unauthorized", "Unauthorized");
      }
      const segments = url.pathname.split("/").filter(Boolean).map(decodeURIComponent);
      const discovery = this.discovery(segments);
      if (discovery !== undefined) {
        if (method !== "GET")
          throw new ApiError(405, "MethodNotAllowed", `the server does not allow this method on the requested resource`);
        return send(response, 200, discovery);
      }
      const target = parseTarget(segments);
      if (!target) throw new ApiError(404, "NotFound", "the server could not find the requested resource");
      await this.route(method, target, url.searchParams, request, response);
    } catch (error) {
      if (error instanceof ApiError) return send(response, error.code, statusBody(error));
      if (error instanceof PatchError)
        return send(
          response,
          error.code,
          statusBody(new ApiError(error.code, error.code === 422 ? "Invalid" : "BadRequest", error.message)),
        );
      if (error instanceof SelectorError) return send(response, 400, statusBody(new ApiError(400, "BadRequest", error.message)));
      send(response, 500, statusBody(new ApiError(500, "InternalError", (error as Error).message)));
    }
  }

  private discovery(segments: string[]): unknown {
    const path = segments.join("/");
    if (path === "version") return { major: "1", minor: "32", gitVersion: "v1.32.0-chaos-agents-simulator", platform: "linux/amd64" };
    if (path === "healthz" || path === "readyz" || path === "livez") return "ok";
    if (path === "api") return coreVersions(this.address);
    if (path === "apis") return groupList();
    if (path === "api/v1") return resourceList("", "v1");
    if (segments[0] === "apis" && segments.length === 2) return groupOf(segments[1] ?? "") ?? missing();
    if (segments[0] === "apis" && segments.length === 3) return resourceList(segments[1] ?? "", segments[2] ?? "") ?? missing();
    return undefined;
  }

  private async route(
    method: string,
    target: Target,
    query: URLSearchParams,
    request: IncomingMessage,
    response: ServerResponse,
  ): Promise<void> {
    const { resource, namespace, name, subresource } = target;
    const accept = request.headers.accept;
    if (!name) {
      if (method === "GET") {
        if (query.get("watch") === "1" || query.get("watch") === "true") return this.watch(target, query, request, response);
        return send(response, 200, this.list(target, query, accept));
      }
      if (method === "POST") {
        const body = (await readBody(request)) as KubeObject;
        this.checkBody(resource, body, namespace);
        return send(
          response,
          201,
          this.store.create(resource, { ...body, metadata: { ...body.metadata, namespace: namespace ?? body.metadata?.namespace } }),
        );
      }
      if (method === "DELETE") {
        const deleted = this.selected(target, query).map((object) => this.remove(resource, object));
        return send(response, 200, { kind: `${resource.kind}List`, apiVersion: "v1", metadata: {}, items: deleted });
      }
      throw new ApiError(405, "MethodNotAllowed", "the server does not allow this method on the requested resource");
    }
    if (subresource === "eviction") {
      if (resource.kind !== "Pod" || method !== "POST")
        throw new ApiError(405, "MethodNotAllowed", "the server does not allow this method on the requested resource");
      return send(response, 201, this.evict(namespace, name, (await readBody(request)) as KubeObject));
    }
    if (subresource === "scale" && scalable.includes(resource.kind)) return this.scale(method, target, request, response);
    if (subresource !== undefined && subresource !== "status")
      throw new ApiError(404, "NotFound", "the server could not find the requested resource");
    switch (method) {
      case "GET": {
        const object = this.store.require(resource, namespace, name);
        return send(response, 200, wantsTable(accept) ? toTable(resource.kind, [object], object.metadata.resourceVersion ?? "") : object);
      }
      case "PUT": {
        const body = (await readBody(request)) as KubeObject;
        this.checkBody(resource, body, namespace);
        if (body.metadata.name !== name)
          throw new ApiError(
            400,
            "BadRequest",
            `the name of the object (${body.metadata.name}) does not match the name on the URL (${name})`,
          );
        return send(response, 200, this.write(target, { ...body, metadata: { ...body.metadata, namespace } }));
      }
      case "PATCH": {
        const patch = await readBody(request);
        const current = this.store.require(resource, namespace, name);
        const type = (request.headers["content-type"] ?? "").split(";")[0];
        let patched: KubeObject;
        if (type === "application/strategic-merge-patch+json") patched = strategicMergePatch(current, patch);
        else if (type === "application/merge-patch+json") patched = mergePatch(current, patch);
        else if (type === "application/json-patch+json") patched = jsonPatch(current, patch);
        else
          throw new ApiError(
            415,
            "UnsupportedMediaType",
            `the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/strategic-merge-patch+json (server-side apply is not simulated)`,
          );
        const updated = this.write(target, patched);
        if (resource.kind === "Node" && Boolean(current.spec?.unschedulable) !== Boolean(updated.spec?.unschedulable)) {
          recordEvent(
            this.store,
            updated,
            updated.spec?.unschedulable ? "NodeNotSchedulable" : "NodeSchedulable",
            `Node ${name} status is now: ${updated.spec?.unschedulable ? "NodeNotSchedulable" : "NodeSchedulable"}`,
            "kubelet",
          );
        }
        return send(response, 200, updated);
      }
      case "DELETE": {
        const object = this.store.require(resource, namespace, name);
        const options = (await readBody(request).catch(() => undefined)) as
          | { preconditions?: { uid?: string; resourceVersion?: string } }
          | undefined;
        const preconditions = {
          uid: query.get("preconditions.uid") ?? options?.preconditions?.uid,
          resourceVersion: options?.preconditions?.resourceVersion,
        };
        if (
          (preconditions.uid && preconditions.uid !== object.metadata.uid) ||
          (preconditions.resourceVersion && preconditions.resourceVersion !== object.metadata.resourceVersion)
        ) {
          throw new ApiError(
            409,
            "Conflict",
            `Operation cannot be fulfilled on ${resource.plural} "${name}": the precondition did not match the object`,
          );
        }
        const deleted = this.remove(resource, object);
        return send(
          response,
          200,
          resource.kind === "Pod"
            ? deleted
            : {
                kind: "Status",
                apiVersion: "v1",
                metadata: {},
                status: "Success",
                details: { name, group: resource.group, kind: resource.plural, uid: object.metadata.uid },
              },
        );
      }
      default:
        throw new ApiError(405, "MethodNotAllowed", "the server does not allow this method on the requested resource");
    }
  }

  /** `…/scale` (autoscaling/v1 Scale), as `kubectl scale` reads and patches it: only spec.replicas changes. */
  private async scale(method: string, target: Target, request: IncomingMessage, response: ServerResponse): Promise<void> {
    const object = this.store.require(target.resource, target.namespace, target.name ?? "");
    const scaleOf = (workload: KubeObject) => ({
      kind: "Scale",
      apiVersion: "autoscaling/v1",
      metadata: {
        name: workload.metadata.name,
        namespace: workload.metadata.namespace,
        uid: workload.metadata.uid,
        resourceVersion: workload.metadata.resourceVersion,
        creationTimestamp: workload.metadata.creationTimestamp,
      },
      spec: { replicas: workload.spec?.replicas ?? 1 },
      status: {
        replicas: workload.status?.replicas ?? 0,
        selector: Object.entries(workload.spec?.selector?.matchLabels ?? {})
          .map(([key, value]) => `${key}=${value}`)
          .join(","),
      },
    });
    if (method === "GET") return send(response, 200, scaleOf(object));
    const body = await readBody(request);
    const current = scaleOf(object);
    const type = (request.headers["content-type"] ?? "").split(";")[0];
    const wanted =
      method === "PUT"
        ? (body as KubeObject)
        : type === "application/json-patch+json"
          ? jsonPatch(current, body)
          : type === "application/strategic-merge-patch+json"
            ? strategicMergePatch(current, body)
            : mergePatch(current, body);
    const replicas = Number(wanted?.spec?.replicas);
    if (!Number.isInteger(replicas) || replicas < 0)
      throw new ApiError(
        422,
        "Invalid",
        `Scale.autoscaling "${object.metadata.name}" is invalid: spec.replicas: must be a whole number >= 0`,
      );
    const expected = method === "PUT" ? (body as KubeObject).metadata?.resourceVersion : undefined;
    const updated = this.store.replace(target.resource, {
      ...object,
      metadata: { ...object.metadata, resourceVersion: expected },
      spec: { ...object.spec, replicas },
    });
    return send(response, 200, scaleOf(updated));
  }

  private checkBody(resource: ApiResource, body: KubeObject | undefined, namespace: string | undefined): asserts body is KubeObject {
    if (!body || typeof body !== "object" || typeof body.metadata !== "object")
      throw new ApiError(400, "BadRequest", `the ${resource.kind} in the request has no metadata`);
    if (body.kind !== undefined && body.kind !== resource.kind)
      throw new ApiError(
        400,
        "BadRequest",
        `the API version in the data (${body.apiVersion}) does not match the expected API version, or the kind ${body.kind} is not ${resource.kind}`,
      );
    if (namespace && body.metadata.namespace && body.metadata.namespace !== namespace) {
      throw new ApiError(400, "BadRequest", "the namespace of the provided object does not match the namespace sent on the request");
    }
  }

  /** A write through the main resource keeps the stored status; one through /status changes only the status. */
  private write(target: Target, body: KubeObject): KubeObject {
    const current = this.store.require(target.resource, target.namespace, target.name ?? "");
    const merged =
      target.subresource === "status"
        ? { ...current, status: body.status, metadata: { ...current.metadata, resourceVersion: body.metadata.resourceVersion } }
        : { ...body, status: current.status };
    return this.store.replace(target.resource, merged, { bumpGeneration: target.subresource !== "status" });
  }

  private remove(resource: ApiResource, object: KubeObject): KubeObject {
    const deleted = this.store.delete(resource, object.metadata.namespace, object.metadata.name);
    if (resource.kind === "Namespace") {
      for (const kind of apiResources.filter((entry) => entry.namespaced)) {
        for (const item of this.store.list(kind, object.metadata.name))
          this.store.delete(kind, item.metadata.namespace, item.metadata.name);
      }
    }
    return deleted;
  }

  private selected(target: Target, query: URLSearchParams): KubeObject[] {
    const labels = parseLabelSelector(query.get("labelSelector"));
    const fields = parseFieldSelector(query.get("fieldSelector"));
    return this.store.list(target.resource, target.namespace).filter((object) => labels(object) && fields(object));
  }

  private list(target: Target, query: URLSearchParams, accept: string | undefined): object {
    const items = this.selected(target, query);
    const resourceVersion = String(this.store.resourceVersion);
    if (wantsTable(accept)) return toTable(target.resource.kind, items, resourceVersion);
    return {
      kind: `${target.resource.kind}List`,
      apiVersion: target.resource.group ? `${target.resource.group}/${target.resource.version}` : "v1",
      metadata: { resourceVersion },
      items,
    };
  }

  /**
   * POST pods/NAME/eviction (policy/v1 Eviction): deletes the pod unless a PodDisruptionBudget
   * matching it allows no disruption now (429, which kubectl drain retries).
   */
  private evict(namespace: string | undefined, name: string, body: KubeObject | undefined): object {
    if (body?.kind !== "Eviction") throw new ApiError(400, "BadRequest", "the body of an eviction must be a policy/v1 Eviction");
    const pods = resourceOfKind("Pod");
    const pod = this.store.require(pods, namespace, name);
    const budgets = this.store
      .list(resourceOfKind("PodDisruptionBudget"), namespace)
      .filter((budget) => matchesLabelSelector(budget.spec?.selector, pod.metadata.labels));
    if (budgets.length > 1)
      throw new ApiError(
        500,
        "InternalError",
        "This pod has more than one PodDisruptionBudget, which the eviction subresource does not support.",
      );
    const budget = budgets[0];
    if (budget) {
      const status = disruptionStatus(this.store, budget);
      // A healthy pod needs a disruption to spare; an unhealthy one may go while the budget is met (IfHealthyBudget, the default policy).
      const forbidden = podReady(pod) ? status.disruptionsAllowed <= 0 : status.currentHealthy < status.desiredHealthy;
      if (forbidden) {
        throw new ApiError(429, "TooManyRequests", "Cannot evict pod as it would violate the pod's disruption budget.", {
          causes: [
            {
              reason: "DisruptionBudget",
              message: `The disruption budget ${budget.metadata.name} needs ${status.desiredHealthy} healthy pods and has ${status.currentHealthy} currently`,
            },
          ],
        });
      }
    }
    this.store.delete(pods, namespace, name);
    recordEvent(this.store, pod, "Evicted", "Evicted through the Eviction API", "eviction-api");
    return { kind: "Status", apiVersion: "v1", metadata: {}, status: "Success", code: 201 };
  }

  /** `?watch=1`: JSON lines of {type, object}, from a resourceVersion (or the current state), until timeoutSeconds or the client leaves. */
  private watch(target: Target, query: URLSearchParams, request: IncomingMessage, response: ServerResponse): void {
    const labels = parseLabelSelector(query.get("labelSelector"));
    const fields = parseFieldSelector(query.get("fieldSelector"));
    const matches = (event: StoreEvent) =>
      event.resource.plural === target.resource.plural &&
      event.resource.group === target.resource.group &&
      (target.namespace === undefined || !target.resource.namespaced || event.object.metadata.namespace === target.namespace) &&
      labels(event.object) &&
      fields(event.object);
    const from = query.get("resourceVersion");
    const backlog: StoreEvent[] =
      from && from !== "0"
        ? this.store.since(Number(from)).filter(matches)
        : this.selected(target, query).map((object) => ({
            type: "ADDED",
            resource: target.resource,
            object,
            resourceVersion: Number(object.metadata.resourceVersion),
          }));
    response.writeHead(200, { "Content-Type": "application/json", "Transfer-Encoding": "chunked" });
    response.flushHeaders(); // a client waits for the headers before it reads the stream
    const write = (event: StoreEvent) => response.write(`${JSON.stringify({ type: event.type, object: event.object })}\n`);
    for (const event of backlog) write(event);
    const unsubscribe = this.store.subscribe((event) => {
      if (matches(event)) write(event);
    });
    const timeoutSeconds = Number(query.get("timeoutSeconds") ?? 0);
    const timer = timeoutSeconds > 0 ? setTimeout(() => response.end(), timeoutSeconds * 1000) : undefined;
    const finish = () => {
      unsubscribe();
      clearTimeout(timer);
    };
    request.on("close", finish);
    response.on("close", finish);
  }
}

function missing(): never {
  throw new ApiError(404, "NotFound", "the server could not find the requested resource");
}
