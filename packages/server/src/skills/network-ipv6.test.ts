import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { Registry } from "@chaos-agents/core";
import { networkNamespacesWork, runWhileWatching, type SshTestbed, startSshTestbed } from "@chaos-agents/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { serverSkills } from "../index.js";
import { createServerTarget } from "../server-target.js";

/** Issue #8 §6: over an IPv6 SSH session, loss reaches IPv6 (ip6tables) and the session itself is spared. */
const registry = new Registry().addTarget(createServerTarget(), serverSkills);
const namespacesWork = await networkNamespacesWork();
let testbed: SshTestbed;
let listener: ChildProcess | undefined;
const listenerPort = 20_000 + Math.floor(Math.random() * 30_000);

beforeAll(async () => {
  // Network faults only inside a namespace the test made: where namespaces do not work, the tests below skip visibly.
  if (!namespacesWork) return;
  testbed = await startSshTestbed({ prefix: "chaos-ipv6-", daemon: false, ipv6: true });
  const namespace = testbed.namespace?.name as string;
  // A listener on the namespace's IPv6 address: its SYN-ACKs leave through the degraded interface.
  listener = spawn(
    "ip",
    ["netns", "exec", namespace, process.execPath, "-e", `require("net").createServer((s)=>s.end()).listen(${listenerPort},"::")`],
    { stdio: "ignore" },
  );
  await new Promise((resolve) => setTimeout(resolve, 1_000));
});

afterAll(async () => {
  listener?.kill("SIGKILL");
  await testbed?.stop();
});

/** A TCP handshake over IPv6 with the listener in the namespace. */
function handshake6(): boolean {
  try {
    execFileSync(
      "timeout",
      [
        "3",
        process.execPath,
        "-e",
        `require("net").connect(${listenerPort}, process.argv[1]).on("connect", () => process.exit(0))`,
        testbed.namespace?.namespaceAddress6 as string,
      ],
      { stdio: "ignore" },
    );
    return true;
  } catch {
    return false;
  }
}

describe("network_latency over IPv6", () => {
  it.skipIf(!namespacesWork)(
    "drops IPv6 packets with ip6tables, keeps the IPv6 SSH session, and removes every rule and qdisc",
    async () => {
      const device = testbed.namespace?.namespaceInterface as string;
      const state = () => ({
        ipv4: testbed.onHost("iptables", ["-S"]),
        ipv6: testbed.onHost("ip6tables", ["-S"]),
        qdiscs: testbed.onHost("tc", ["qdisc", "show", "dev", device]),
        filters: testbed.onHost("tc", ["filter", "show", "dev", device]),
      });
      const before = state();
      expect(testbed.sshd.host).toContain(":");
      expect(handshake6()).toBe(true);
      const { report, seen } = await runWhileWatching(
        registry,
        {
          name: "ipv6 loss",
          target: "server",
          target_config: testbed.targetConfig(),
          skills: [{ skill_name: "server.network_latency", params: { interface: device, loss_percent: 100, rate: "1mbit" } }],
          duration: "3s",
        },
        () => {
          const now = state();
          return now.ipv6.includes("--probability 1") && /protocol ipv6/.test(now.filters)
            ? { handshake: handshake6(), ipv6: now.ipv6 }
            : undefined;
        },
      );
      expect(report.skills[0]?.error).toBeUndefined();
      // The rollback ran over the IPv6 session: it was spared by ip6tables and by the qdisc filter.
      expect(report.status).toBe("succeeded");
      expect(seen?.handshake).toBe(false);
      expect(seen?.ipv6).toMatch(new RegExp(`--sport ${testbed.sshd.port} -j RETURN`));
      expect(state()).toEqual(before);
      expect(handshake6()).toBe(true);
    },
  );
});
