import { defineSkill } from "@chaos-agents/core";
import { z } from "zod";
import { runSkillScript } from "../host/host-script.js";
import type { ServerSession } from "../server-session.js";
import { shellQuote } from "../shell-quote.js";
import { forEachTarget, hostOf, refuse, resourcesOf, selfStopSeconds } from "./skill-support.js";
import { type LoadUndo, rollBackLoad, startTaggedLoad } from "./tagged-load.js";

const name = "server.port_saturation";

const params = z.strictObject({
  /** A listening TCP port discovery found (never the SSH port). */
  port: z.number().int().min(1).max(65535),
  /** Connections held open per host. */
  connections: z.number().int().positive().max(20_000).default(200),
  /** Address the connections go to, seen from the host itself. */
  address: z.string().min(1).default("127.0.0.1"),
});

type Params = z.output<typeof params>;

/** A bash holder: opens up to `connections` sockets with /dev/tcp, writes how many it got, then holds them. */
export function holderCommand(address: string, port: number, connections: number, seconds: number, countFile: string): string[] {
  const script = `ulimit -n $(( ${connections} + 64 )) 2>/dev/null || ulimit -n "$(ulimit -Hn)"
chaos_open=0
for chaos_index in $(seq 1 ${connections}); do
  exec {chaos_fd}<>/dev/tcp/${address}/${port} 2>/dev/null || break
  chaos_open=$((chaos_open + 1))
done
echo "$chaos_open" > "$0"
sleep ${seconds}`;
  return ["bash", "-c", script, countFile];
}

export const serverPortSaturation = defineSkill<Params, ServerSession, LoadUndo>({
  name,
  target: "server",
  description:
    "Hold `connections` TCP connections open to a listening `port` (exhausting its accept queue or worker slots); rollback closes them.",
  params,
  reversible: true,
  async plan({ params: parameters, inventory, session }) {
    if (!/^[A-Za-z0-9.:-]+$/.test(parameters.address)) refuse(name, `address ${parameters.address} is not a host name or IP address`);
    const ports = resourcesOf(inventory, "port").filter((resource) => resource.details?.port === parameters.port);
    if (ports.length === 0) refuse(name, `no host listens on port ${parameters.port} (or it belongs to a protected process such as sshd)`);
    const hosts = [...new Set(ports.map(hostOf))];
    for (const key of hosts) {
      if (!(await session.host(key).facts()).tools.includes("bash"))
        refuse(name, `${key} has no bash, which holds the connections (/dev/tcp)`);
    }
    return {
      targets: ports.map((resource) => resource.name),
      summary: `hold ${parameters.connections} connections to port ${parameters.port} on ${hosts.join(", ")}`,
      details: { hosts },
    };
  },
  async inject(context) {
    const { hosts } = context.plan.details as { hosts: string[] };
    const { port, connections, address } = context.params;
    const seconds = selfStopSeconds(context);
    const held = await forEachTarget(context.session, hosts, async (key) => {
      const host = context.session.host(key);
      const countFile = `${host.experimentDir(context.experimentId)}/port-${port}-${Date.now()}.count`;
      await startTaggedLoad(
        context,
        key,
        `${connections} connections to port ${port}`,
        () => holderCommand(address, port, connections, seconds, countFile),
        [countFile],
      );
      const opened = await runSkillScript(
        name,
        host.connection,
        "waiting for the connections",
        `for chaos_wait in $(seq 1 150); do [ -s ${shellQuote(countFile)} ] && { cat ${shellQuote(countFile)}; exit 0; }; sleep 0.1; done; echo 0`,
      );
      return `${key}: ${Number(opened.trim())}/${connections}`;
    });
    return { summary: `holding connections to port ${port}: ${held.join(", ")}`, metrics: {} };
  },
  rollback: rollBackLoad,
});
