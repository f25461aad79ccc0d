import type { Inventory, Resource } from "@chaos-agents/core";
import { mapWithLimit } from "../concurrency.js";
import type { ServerHost } from "../host/server-host.js";
import { verifyWorkDirectory } from "../host/work-directory.js";
import type { ServerConfig } from "../server-config.js";
import { discoverHost } from "./discover-host.js";

/** Discovers every host of the session, concurrently up to `max_concurrent_hosts`. */
export async function discoverHosts(hosts: ServerHost[], config: ServerConfig): Promise<Inventory> {
  // An unsafe work dir refuses the experiment before anything changes (not created here: a dry run changes nothing).
  await mapWithLimit(hosts, config.max_concurrent_hosts, (host) => verifyWorkDirectory(host.connection, host.workDir, false));
  if (!config.discovery.enabled) {
    const facts = await mapWithLimit(hosts, config.max_concurrent_hosts, (host) => host.facts());
    return {
      resources: hosts.map((host, index) => ({ kind: "host", name: `${host.key}/host`, details: { host: host.key, ...facts[index] } })),
      facts: { hosts: hosts.map((host) => host.key), discovery: "disabled" },
    };
  }
  const results = await mapWithLimit(hosts, config.max_concurrent_hosts, (host) => discoverHost(host, config));
  const resources: Resource[] = results.flatMap((result) => result.resources);
  return {
    resources,
    facts: {
      hosts: hosts.map((host) => host.key),
      ...Object.fromEntries(hosts.map((host, index) => [host.key, { ...results[index]?.facts }])),
    },
  };
}
