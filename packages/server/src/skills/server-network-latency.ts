import { defineSkill, SkillError } from "@chaos-agents/core";
import { z } from "zod";
import { runSkillScript } from "../host/host-script.js";
import type { ServerSession } from "../server-session.js";
import { shellQuote } from "../shell-quote.js";
import { forEachTarget, type HostUndo, journalAndArm, newDeadManKey, refuse, rollBackWithScript, selectedHosts } from "./skill-support.js";

const name = "server.network_latency";

/** Root qdisc handle chaos uses: rollback deletes a root qdisc only while it still has this handle. */
export const chaosQdiscHandle = "c4a0:";

const params = z
  .strictObject({
    interface: z
      .string()
      .regex(/^[A-Za-z0-9_.:@-]{1,15}$/, "expected an interface name such as eth0")
      .describe("Network interface (e.g. eth0)."),
    delay_ms: z.number().int().min(0).max(60_000).default(0).describe("Added delay of every outgoing packet, in ms (tc netem)."),
    jitter_ms: z.number().int().min(0).max(60_000).default(0).describe("Random variation of that delay, in ms (tc netem)."),
    loss_percent: z
      .number()
      .min(0)
      .max(100)
      .default(0)
      .describe("Packet loss, applied with iptables `-m statistic` (works without netem)."),
    corruption_percent: z.number().min(0).max(100).default(0).describe("Share of packets corrupted, in percent (tc netem)."),
    rate: z
      .string()
      .regex(/^\d+(\.\d+)?(bit|kbit|mbit|gbit|bps|kbps|mbps|gbps)$/, 'expected a tc rate such as "1mbit"')
      .optional()
      .describe('Bandwidth limit through tbf, e.g. "1mbit".'),
    exclude_ports: z
      .array(z.number().int().min(1).max(65535))
      .default([])
      .describe("Extra local TCP ports whose outgoing traffic is left alone (the SSH session always is)."),
  })
  .refine(
    (value) =>
      value.delay_ms > 0 || value.jitter_ms > 0 || value.loss_percent > 0 || value.corruption_percent > 0 || value.rate !== undefined,
    "expected at least one of delay_ms, jitter_ms, loss_percent, corruption_percent or rate",
  );

type Params = z.output<typeof params>;

export interface NetworkUndo extends HostUndo {
  interface: string;
  /** `qdisc`: the root qdisc tree chaos added; `iptables`: the chain dropping packets. */
  mechanism: "qdisc" | "iptables";
  chain: string;
}

/**
 * The tc commands: an htb root whose class 1 (the SSH session and excluded ports, matched by
 * u32 filters) is untouched and whose default class 2 gets netem and/or a tbf rate limit.
 * htb rather than prio: some kernels (this project's CI among them) ship htb but not prio.
 */
export function qdiscCommands(parameters: Params, device: string, excludedPorts: number[]): string[] {
  const dev = shellQuote(device);
  const major = chaosQdiscHandle;
  const id = major.replace(":", "");
  const commands = [
    `tc qdisc add dev ${dev} root handle ${major} htb default 2`,
    `tc class add dev ${dev} parent ${major} classid ${id}:1 htb rate 100gbit quantum 60000`,
    `tc class add dev ${dev} parent ${major} classid ${id}:2 htb rate 100gbit quantum 60000`,
  ];
  for (const port of excludedPorts) {
    commands.push(`tc filter add dev ${dev} parent ${major} protocol ip prio 1 u32 match ip sport ${port} 0xffff flowid ${id}:1`);
    // The same port over IPv6: an SSH session that came in over IPv6 must stay untouched too.
    commands.push(`tc filter add dev ${dev} parent ${major} protocol ipv6 prio 2 u32 match ip6 sport ${port} 0xffff flowid ${id}:1`);
  }
  const wantsNetem = parameters.delay_ms > 0 || parameters.jitter_ms > 0 || parameters.corruption_percent > 0;
  let parent = `${id}:2`;
  if (wantsNetem) {
    const delay =
      parameters.delay_ms > 0 || parameters.jitter_ms > 0
        ? ` delay ${parameters.delay_ms}ms${parameters.jitter_ms > 0 ? ` ${parameters.jitter_ms}ms` : ""}`
        : "";
    const corrupt = parameters.corruption_percent > 0 ? ` corrupt ${parameters.corruption_percent}%` : "";
    commands.push(`tc qdisc add dev ${dev} parent ${parent} handle c4a1: netem${delay}${corrupt}`);
    parent = "c4a1:";
  }
  if (parameters.rate)
    commands.push(`tc qdisc add dev ${dev} parent ${parent} handle c4a2: tbf rate ${parameters.rate} burst 32kbit latency 400ms`);
  return commands;
}

/** Firewall programs: IPv4 and IPv6 get the same chain. */
export const firewallPrograms = ["iptables", "ip6tables"] as const;
export type FirewallProgram = (typeof firewallPrograms)[number];

/** The iptables (and ip6tables) commands: a chain that spares excluded ports and drops a random share of the rest. */
export function lossCommands(
  lossPercent: number,
  device: string,
  chain: string,
  excludedPorts: number[],
  programs: readonly FirewallProgram[] = ["iptables"],
): string[] {
  const probability = (lossPercent / 100).toFixed(4);
  return programs.flatMap((program) => [
    `${program} -w -N ${chain}`,
    ...excludedPorts.map((port) => `${program} -w -A ${chain} -p tcp --sport ${port} -j RETURN`),
    `${program} -w -A ${chain} -m statistic --mode random --probability ${probability} -j DROP`,
    `${program} -w -I OUTPUT -o ${shellQuote(device)} -j ${chain}`,
  ]);
}

function undoScript(undo: NetworkUndo): string {
  const dev = shellQuote(undo.interface);
  if (undo.mechanism === "qdisc") {
    return `if tc qdisc show dev ${dev} 2>/dev/null | grep -q "qdisc htb ${chaosQdiscHandle} root"; then tc qdisc del dev ${dev} root && echo ${shellQuote(`note: removed the chaos qdisc from ${undo.interface}`)}
else echo ${shellQuote(`note: no chaos qdisc on ${undo.interface}`)}; fi`;
  }
  // Both families whatever the record says: a chain that is not there is skipped, and records of older versions name IPv4 only.
  return `for chaos_firewall in ${firewallPrograms.join(" ")}; do
  command -v "$chaos_firewall" >/dev/null 2>&1 || continue
  while "$chaos_firewall" -w -C OUTPUT -o ${dev} -j ${undo.chain} 2>/dev/null; do "$chaos_firewall" -w -D OUTPUT -o ${dev} -j ${undo.chain}; done
  if "$chaos_firewall" -w -n -L ${undo.chain} >/dev/null 2>&1; then "$chaos_firewall" -w -F ${undo.chain} && "$chaos_firewall" -w -X ${undo.chain} && echo "note: removed $chaos_firewall chain ${undo.chain}"; fi
done
true`;
}

export const serverNetworkLatency = defineSkill<Params, ServerSession, NetworkUndo>({
  name,
  target: "server",
  description:
    "Degrade an interface: tc netem delay/jitter/corruption, tbf rate limit, iptables random loss; the agent's SSH session is always excluded. Rollback deletes the qdisc and chain.",
  params,
  reversible: true,
  async plan({ params: parameters, inventory, session }) {
    const hosts = selectedHosts(name, inventory);
    await forEachTarget(session, hosts, async (key) => {
      const host = session.host(key);
      const facts = await host.facts();
      const needsTc =
        parameters.delay_ms > 0 || parameters.jitter_ms > 0 || parameters.corruption_percent > 0 || parameters.rate !== undefined;
      if (needsTc && !facts.tools.includes("tc")) refuse(name, `${key} has no tc (iproute2)`);
      if (parameters.loss_percent > 0 && !facts.tools.includes("iptables"))
        refuse(name, `${key} has no iptables (needed for loss_percent)`);
      const root = await runSkillScript(
        name,
        host.connection,
        "reading qdiscs",
        `[ -d /sys/class/net/${shellQuote(parameters.interface)} ] || { echo missing; exit 0; }; tc qdisc show dev ${shellQuote(parameters.interface)} root 2>/dev/null | head -1`,
      );
      if (root.trim() === "missing") refuse(name, `${key} has no interface ${parameters.interface}`);
      // A root qdisc someone configured (non-zero handle) would be replaced; chaos refuses instead of destroying it.
      if (needsTc && /qdisc \S+ [1-9a-f][0-9a-f]*: root/.test(root))
        refuse(name, `${key}: ${parameters.interface} already has a configured root qdisc (${root.trim()}); refusing to replace it`);
    });
    return {
      targets: hosts.map((host) => `${host}/host`),
      summary: `degrade ${parameters.interface} on ${hosts.join(", ")} (delay ${parameters.delay_ms}ms ± ${parameters.jitter_ms}ms, loss ${parameters.loss_percent}%, corruption ${parameters.corruption_percent}%${parameters.rate ? `, rate ${parameters.rate}` : ""}; SSH excluded)`,
      details: { hosts },
    };
  },
  async inject(context) {
    const { hosts } = context.plan.details as { hosts: string[] };
    const parameters = context.params;
    const done = await forEachTarget(context.session, hosts, async (key) => {
      const host = context.session.host(key);
      const facts = await host.facts();
      const excluded = [...new Set([...(facts.sshPort ? [facts.sshPort] : []), ...parameters.exclude_ports])];
      const applied: string[] = [];
      const needsTc =
        parameters.delay_ms > 0 || parameters.jitter_ms > 0 || parameters.corruption_percent > 0 || parameters.rate !== undefined;
      if (needsTc) {
        const undo: NetworkUndo = {
          host: key,
          deadManKey: newDeadManKey(),
          interface: parameters.interface,
          mechanism: "qdisc",
          chain: "",
        };
        await journalAndArm(context, undo, undoScript(undo));
        try {
          await runSkillScript(
            name,
            host.connection,
            "adding qdiscs",
            `set -e\n${qdiscCommands(parameters, parameters.interface, excluded).join("\n")}`,
          );
        } catch (error) {
          const message = (error as Error).message;
          if (/unknown|No such file/i.test(message) && /netem/.test(qdiscCommands(parameters, parameters.interface, excluded).join(" "))) {
            throw new SkillError(
              name,
              `${key}: this kernel has no netem qdisc (sch_netem); delay, jitter and corruption are unavailable there. ${message}`,
              { cause: error },
            );
          }
          throw error;
        }
        applied.push("tc");
      }
      if (parameters.loss_percent > 0) {
        const deadManKey = newDeadManKey();
        const chain = `CHAOS-${context.experimentId.replace(/[^A-Za-z0-9]/g, "").slice(-8)}-${deadManKey.slice(-4)}`;
        const undo: NetworkUndo = { host: key, deadManKey, interface: parameters.interface, mechanism: "iptables", chain };
        await journalAndArm(context, undo, undoScript(undo));
        const programs = firewallPrograms.filter((program) => facts.tools.includes(program));
        await runSkillScript(
          name,
          host.connection,
          "adding the loss chain",
          `set -e\n${lossCommands(parameters.loss_percent, parameters.interface, chain, excluded, programs).join("\n")}`,
        );
        applied.push(`${programs.join(" and ")} ${chain}${programs.includes("ip6tables") ? "" : " (IPv4 only: no ip6tables)"}`);
      }
      return `${key}:${parameters.interface} (${applied.join(", ")})`;
    });
    return { summary: `degraded ${done.join(", ")}` };
  },
  rollback: (context, undo) => rollBackWithScript(context, undo, `restoring ${undo.interface}`, undoScript(undo)),
});
