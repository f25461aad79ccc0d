import { existsSync, mkdirSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { defineSkill, Registry, SkillError } from "@chaos-agents/core";
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
import { z } from "zod";
import { runSkillScript } from "./host/host-script.js";
import { serverSkills } from "./index.js";
import type { ServerSession } from "./server-session.js";
import { createServerTarget } from "./server-target.js";
import { shellQuote } from "./shell-quote.js";
import { forEachTarget, type HostUndo, hostsIn, journalAndArm, newDeadManKey, rollBackWithScript } from "./skills/skill-support.js";

/**
 * A skill built like the real ones (forEachTarget, journal + dead-man first, a script on each
 * host), whose inject fails on one chosen host and is slow on another: it shows what the other
 * hosts see when one host fails.
 */
const markerSkill = defineSkill<{ directory: string; failing: string; slow: string }, ServerSession, HostUndo & { marker: string }>({
  name: "server.test_marker",
  target: "server",
  description: "test only: touch a marker file per host",
  params: z.strictObject({ directory: z.string(), failing: z.string(), slow: z.string() }),
  reversible: true,
  async plan({ inventory }) {
    return { targets: hostsIn(inventory), summary: "touch markers", details: { hosts: hostsIn(inventory) } };
  },
  async inject(context) {
    const { hosts } = context.plan.details as { hosts: string[] };
    await forEachTarget(context.session, hosts, async (key) => {
      const marker = join(context.params.directory, key.replace(/[^0-9A-Za-z]/g, "_"));
      const undo = { host: key, deadManKey: newDeadManKey(), marker };
      await journalAndArm(context, undo, `rm -f ${shellQuote(marker)}`);
      if (key === context.params.failing) throw new SkillError("server.test_marker", `${key} failed on purpose`);
      const wait = key === context.params.slow ? "sleep 2; " : "";
      await runSkillScript("server.test_marker", context.session.host(key).connection, "touch", `${wait}touch ${shellQuote(marker)}`);
    });
    return { summary: "markers touched" };
  },
  rollback: (context, undo) => rollBackWithScript(context, undo, "removing the marker", `rm -f ${shellQuote(undo.marker)}`),
});

const registry = new Registry().addTarget(createServerTarget(), [...serverSkills, markerSkill]);
const temp = makeTempDirectory("chaos-multi-host-");
const workDir = join(temp.path, "work");
const namespaces: NetworkNamespace[] = [];
const hosts: SshdHost[] = [];

beforeAll(async () => {
  const useNamespaces = await networkNamespacesWork();
  for (let index = 0; index < 3; index++) {
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
        max_concurrent_hosts: 3,
        dead_man_switch: { enabled: false },
        work_dir: workDir,
      },
      skills: [{ skill_name: "server.cpu_stress", params: { workers: 1, load_percent: 10 } }],
      duration: "1s",
    });
    expect(report.identity).toBe(hosts.map((host) => `ssh://root@${host.host}:${host.port}`).join(","));
    expect(report.status).toBe("succeeded");
    expect(report.skills[0]?.targets).toEqual(hosts.map((host) => `${host.host}:${host.port}/host`));
    // One load per host (journaled before and after each start), all stopped.
    expect(report.rollback).toMatchObject({ steps: 2 * hosts.length, done: 2 * hosts.length, failed: [] });
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

  it("stops taking hosts at the first failure, waits for the hosts already started, then rolls back all they did", async () => {
    const key = (host: SshdHost) => `${host.host}:${host.port}`;
    const [slow, failing, untouched] = hosts as [SshdHost, SshdHost, SshdHost];
    const markers = join(temp.path, "markers");
    mkdirSync(markers);
    const { report } = await runInProcess(registry, {
      name: "one host fails",
      target: "server",
      target_config: { hosts: hostEntries((host) => host.knownHostsPath), max_concurrent_hosts: 2, work_dir: workDir },
      skills: [{ skill_name: "server.test_marker", params: { directory: markers, failing: key(failing), slow: key(slow) } }],
      duration: "1s",
    });
    expect(report.status).toBe("failed_rolled_back");
    expect(report.error).toMatch(/failed on purpose/);
    // The slow host and the failing one journaled; the third host was never started.
    expect(report.rollback).toMatchObject({ steps: 2, done: 2, failed: [], conflicts: [] });
    // Rollback waited for the slow host's change: its marker did not appear after its undo.
    expect(readdirSync(markers)).toEqual([]);
    await new Promise((resolve) => setTimeout(resolve, 2_500));
    expect(existsSync(join(markers, key(untouched).replace(/[^0-9A-Za-z]/g, "_")))).toBe(false);
    expect(readdirSync(markers)).toEqual([]);
  });
});
