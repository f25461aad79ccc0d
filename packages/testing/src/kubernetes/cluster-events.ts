import { randomBytes } from "node:crypto";
import { resourceOfKind } from "./api-resources.js";
import type { ObjectStore } from "./object-store.js";
import type { KubeObject } from "./selectors.js";

/** Records a core/v1 Event about an object, as a controller or the kubelet would. */
export function recordEvent(
  store: ObjectStore,
  about: KubeObject,
  reason: string,
  message: string,
  component: string,
  type: "Normal" | "Warning" = "Normal",
): void {
  const now = new Date().toISOString().replace(/\.\d+Z$/, "Z");
  const namespace = about.metadata.namespace ?? "default";
  store.create(resourceOfKind("Event"), {
    metadata: { name: `${about.metadata.name}.${randomBytes(8).toString("hex")}`, namespace },
    involvedObject: {
      apiVersion: about.apiVersion,
      kind: about.kind,
      namespace: about.metadata.namespace,
      name: about.metadata.name,
      uid: about.metadata.uid,
    },
    reason,
    message,
    type,
    source: { component },
    reportingComponent: component,
    firstTimestamp: now,
    lastTimestamp: now,
    count: 1,
  });
}
