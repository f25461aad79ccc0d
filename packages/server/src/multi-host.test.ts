import { readdirSync } from "node:fs";
import { join } from "node:path";
import { Registry } from "@chaos-agents/core";
import {
  createNetworkNamespace,
  environmentOf,
  makeTempDirectory,
  type NetworkNamespace,
  networkNamespacesWork,
  runInProcess,
  type SshdHost,
  startSshdHost,
} from "@chaos-agents/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { serverSkills } from "./index.js";
import { createServerTarget } from "./server-target.js";

const registry = new Registry().addTarget(createServerTarget(), serverSkills);
const temp = makeTempDirectory("chaos-multi-host-");
const workDir = join(temp.path, "work");
const namespaces: NetworkNamespace[] = [];
const hosts: SshdHost[] = [];

beforeAll(async () => {
  const useNamespaces = await networkNamespacesWork();
  for (let index = 0; index < 2; index++) {
    const namespace = useNamespaces ? await createNetworkNamespace() : undefined;
    if (namespace) namespaces.push(namespace);
    hosts.push(await startSshdHost({ namespace }));
  }
});

afterAll(async () => {
  for (const host of hosts) await host.stop();
  for (const namespace of namespaces) await namespace.remove();
  temp.remove();
});

/** PIDs chaos started for this experiment (other test files run chaos in parallel). */
function taggedPids(experimentId: string): number[] {
  return readdirSync("/proc")
    .filter((entry) => /^\d+$/.test(entry) && environmentOf(Number(entry)).includes(`CHAOS_AGENTS_EXPERIMENT=${experimentId}`))
    .map(Number);
}

/** Every test host as a `hosts` entry, checked against the known_hosts file `knownHosts` names. */
function hostEntries(knownHosts: (host: SshdHost) => string) {
  return hosts.map((host) => ({
    host: host.host,
    port: host.port,
    username: host.username,
    auth: { type: "key", private_key_path: host.privateKeyPath },
    known_hosts_path: knownHosts(host),
  }));
}

describe("several hosts in one experiment", () => {
  it("discovers, injects on and rolls back every host, each with its own known_hosts entry", async () => {
    const { report } = await runInProcess(registry, {
      name: "two hosts",
      target: "server",
      target_config: {
        hosts: hostEntries((host) => host.knownHostsPath),
        max_concurrent_hosts: 2,
        dead_man_switch: { enabled: false },
        work_dir: workDir,
      },
      skills: [{ skill_name: "server.cpu_stress", params: { workers: 1, load_percent: 10 } }],
      duration: "1s",
    });
    expect(report.identity).toBe(hosts.map((host) => `ssh://root@${host.host}:${host.port}`).join(","));
    expect(report.status).toBe("succeeded");
    expect(report.skills[0]?.targets).toEqual(hosts.map((host) => `${host.host}:${host.port}/host`));
    // Two loads started (journaled before and after each start), all stopped.
    expect(report.rollback).toMatchObject({ steps: 4, done: 4, failed: [] });
    expect(taggedPids(report.experimentId)).toEqual([]);
    // Nothing left in the work dir, even with the dead-man's switch disabled.
    expect(readdirSync(workDir)).toEqual([]);
  });

  it("refuses the whole experiment, changing nothing, when one host presents a wrong key", async () => {
    const error = await runInProcess(registry, {
      name: "one bad host",
      target: "server",
      target_config: {
        // The second host is checked against the first one's key.
        hosts: hostEntries(() => (hosts[0] as SshdHost).knownHostsPath),
      },
      skills: [{ skill_name: "server.cpu_stress", params: { workers: 1 } }],
      duration: "1s",
    }).catch((failure: Error) => failure);
    expect(String(error)).toMatch(/cannot connect to ssh:\/\/root@.*(not in|HOST KEY MISMATCH)/);
  });
});
