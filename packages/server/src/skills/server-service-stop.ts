import { defineSkill, type JsonValue } from "@chaos-agents/core";
import { z } from "zod";
import type { DiscoveredService } from "../discovery/discover-host.js";
import { runSkillScript } from "../host/host-script.js";
import type { ServerSession } from "../server-session.js";
import { type ServiceRecord, serviceRecordOf } from "../services/service-record.js";
import { type RestartTools, restartToolsOf, restoreServiceScript, stopServiceScript } from "../services/service-scripts.js";
import {
  forEachTarget,
  type HostUndo,
  hostsIn,
  journalAndArm,
  newDeadManKey,
  refuse,
  refusedOwnerClaims,
  refusedSuffix,
  resourcesOf,
  rollBackWithScript,
} from "./skill-support.js";

/**
 * How long a stop or start may take: systemd waits up to 90 s (TimeoutStopSec, TimeoutStartSec)
 * before it kills a slow service, past a command's usual minute, and a command past its deadline
 * is killed.
 */
const serviceDeadlineMs = 150_000;

const name = "server.service_stop";

const params = z.strictObject({
  services: z
    .array(z.string().min(1))
    .min(1)
    .optional()
    .describe("Discovered service names to stop; without it, the first `max_services` discovered ones."),
  max_services: z.number().int().positive().default(1).describe("How many services to stop per experiment."),
});

type Params = z.output<typeof params>;

export interface ServiceStopUndo extends HostUndo {
  service: ServiceRecord;
}

/** Picks service resources: the named ones (each must exist), or the first `max` discovered. */
export function selectServices(
  skill: string,
  services: DiscoveredService[],
  names: string[] | undefined,
  max: number,
  refusedOwners: readonly string[] = [],
): DiscoveredService[] {
  // Named in every refusal: a process that is no service because its ss -p ownership was forged.
  const refused = refusedSuffix("refused socket owners", refusedOwners);
  if (!names) {
    if (services.length === 0)
      refuse(skill, `no service is discovered that chaos may stop (protected and excluded ones are never listed)${refused}`);
    return services.slice(0, max);
  }
  const available = [...new Set(services.map((service) => service.name))];
  for (const wanted of names) {
    if (!available.includes(wanted)) {
      refuse(
        skill,
        `no running service named ${wanted} may be stopped (protected services are never targets); available: ${available.join(", ") || "none"}${refused}`,
      );
    }
  }
  return services.filter((service) => names.includes(service.name)).slice(0, max);
}

function undoScript(undo: ServiceStopUndo, tools: RestartTools): string {
  return restoreServiceScript(undo.service, tools);
}

export const serverServiceStop = defineSkill<Params, ServerSession, ServiceStopUndo>({
  name,
  target: "server",
  description:
    "Stop running services (named `services`, or `max_services` of the discovered ones) through systemd, OpenRC/SysV or the plain-process backend; rollback starts them again and verifies they run.",
  params,
  reversible: true,
  async plan({ params: parameters, inventory }) {
    const discovered = resourcesOf(inventory, "service").map((resource) => resource.details as unknown as DiscoveredService);
    const refusedOwners = refusedOwnerClaims(inventory, hostsIn(inventory));
    const chosen = selectServices(
      name,
      discovered,
      parameters.services,
      parameters.services ? Number.MAX_SAFE_INTEGER : parameters.max_services,
      refusedOwners,
    );
    const chosenHosts = [...new Set(chosen.map((service) => service.host))];
    return {
      targets: chosen.map((service) => `${service.host}/service:${service.name}`),
      summary: `stop ${chosen.map((service) => `${service.host}:${service.name} (${service.manager})`).join(", ")}${refusedSuffix("refused socket owners", refusedOwnerClaims(inventory, chosenHosts))}`,
      details: { services: chosen as unknown as JsonValue },
    };
  },
  async inject(context) {
    const services = (context.plan.details as unknown as { services: DiscoveredService[] }).services;
    const stopped = await forEachTarget(context.session, services, async (service) => {
      const host = context.session.host(service.host);
      const key = newDeadManKey();
      const undo: ServiceStopUndo = {
        host: host.key,
        deadManKey: key,
        service: serviceRecordOf(service, host.experimentDir(context.experimentId), key),
      };
      await journalAndArm(context, undo, undoScript(undo, await restartToolsOf(host)));
      const output = await runSkillScript(name, host.connection, `stopping ${service.name}`, stopServiceScript(undo.service), {
        timeoutMs: serviceDeadlineMs,
      });
      return `${host.key}:${service.name}${output.trim() === "gone" ? " (had already exited)" : ""}`;
    });
    return { summary: `stopped ${stopped.join(", ")}` };
  },
  rollback: async (context, undo) => {
    const tools = await restartToolsOf(context.session.host(undo.host));
    return rollBackWithScript(context, undo, `starting ${undo.service.name} again`, undoScript(undo, tools), {
      timeoutMs: serviceDeadlineMs,
    });
  },
});
