import type { HostFacts } from "../host/host-facts.js";
import type { ServiceManagerKind } from "../server-config.js";

/** The backend for a host: the configured one, or its init system; the plain-process backend when there is none. */
export function resolveServiceManager(configured: ServiceManagerKind, facts: HostFacts): Exclude<ServiceManagerKind, "auto"> {
  if (configured !== "auto") return configured;
  return facts.initSystem === "none" ? "process" : facts.initSystem;
}
