import { defineSkill, type JsonValue } from "@chaos-agents/core";
import { z } from "zod";
import type { DiscoveredService } from "../discovery/discover-host.js";
import { readProcessDetails } from "../discovery/process-details.js";
import { runSkillScript } from "../host/host-script.js";
import type { ServerSession } from "../server-session.js";
import { type ServiceRecord, serviceRecordOf } from "../services/service-record.js";
import { restartToolsOf, restoreServiceScript } from "../services/service-scripts.js";
import { shellQuote } from "../shell-quote.js";
import {
  forEachTarget,
  type HostUndo,
  hostOf,
  journalAndArm,
  newDeadManKey,
  refuse,
  resourcesOf,
  rollBackWithScript,
} from "./skill-support.js";

const name = "server.process_kill";
const signals = ["TERM", "KILL", "INT", "HUP", "QUIT", "USR1", "USR2"] as const;

const params = z
  .strictObject({
    name: z.string().min(1).optional().describe("Exact process name (basename of its first word, e.g. `nginx`)."),
    pattern: z
      .string()
      .min(1)
      .refine((text) => {
        try {
          new RegExp(text);
          return true;
        } catch {
          return false;
        }
      }, "not a valid regular expression")
      .optional()
      .describe("Regular expression over the full command line."),
    signal: z
      .enum(signals, { error: `expected one of ${signals.join(", ")} (without SIG)` })
      .default("KILL")
      .describe("The signal to send, without SIG (KILL, TERM, …)."),
    max_processes: z.number().int().positive().default(1).describe("At most this many processes (per experiment)."),
  })
  .refine((value) => value.name !== undefined || value.pattern !== undefined, "expected `name` or `pattern`");

type Params = z.output<typeof params>;

interface KillTarget {
  [key: string]: JsonValue;
  host: string;
  pid: number;
  command: string;
  /** The service this process is the main process of (from discovery), or null. */
  service: JsonValue;
}

export interface ProcessKillUndo extends HostUndo {
  pid: number;
  command: string;
  signal: string;
  /** The service this process was the main process of; rollback starts it again. */
  service: ServiceRecord | null;
}

function undoScript(undo: ProcessKillUndo, tools: Parameters<typeof restoreServiceScript>[1]): string {
  if (undo.service) return restoreServiceScript(undo.service, tools);
  return `echo ${shellQuote(`note: pid ${undo.pid} (${undo.command.slice(0, 80)}) was killed; no owning service to restart`)}`;
}

/** Signals the process only while it is the very one planned (PID + start time + boot), saving a service's environment first. */
function killScript(undo: ProcessKillUndo, startTime: string, bootId: string): string {
  const saveEnvironment = undo.service
    ? `(umask 077; mkdir -p "$(dirname ${shellQuote(undo.service.environmentFile)})" && cat /proc/${undo.pid}/environ > ${shellQuote(undo.service.environmentFile)})`
    : "";
  return `if ! chaos_same_process ${undo.pid} ${shellQuote(startTime)} ${shellQuote(bootId)}; then echo gone; exit 0; fi
${saveEnvironment}
kill -${undo.signal} ${undo.pid}
echo signalled`;
}

export const serverProcessKill = defineSkill<Params, ServerSession, ProcessKillUndo>({
  name,
  target: "server",
  description:
    "Send `signal` (default KILL) to processes matching `name` or `pattern`; rollback restarts the owning service where there is one and reports the rest.",
  params,
  reversible: true,
  async plan({ params: parameters, inventory }) {
    const pattern = parameters.pattern ? new RegExp(parameters.pattern) : undefined;
    const matches = resourcesOf(inventory, "process")
      .filter((resource) => {
        const details = resource.details ?? {};
        if (parameters.name !== undefined && details.name !== parameters.name) return false;
        return !pattern || pattern.test(String(details.command));
      })
      .slice(0, parameters.max_processes);
    if (matches.length === 0) {
      refuse(
        name,
        `no process chaos may signal matches ${parameters.name ?? ""}${parameters.pattern ? ` /${parameters.pattern}/` : ""} (PID 1, kernel threads, sshd and the agent's own session are never targets)`,
      );
    }
    const targets: KillTarget[] = matches.map((resource) => ({
      host: hostOf(resource),
      pid: Number(resource.details?.pid),
      command: String(resource.details?.command),
      service: (resource.details?.service as JsonValue | undefined) ?? null,
    }));
    return {
      targets: matches.map((resource) => resource.name),
      summary: `kill -${parameters.signal} ${targets.map((target) => `${target.host}:${target.pid} (${target.command.slice(0, 60)})`).join(", ")}`,
      details: { targets, services: resourcesOf(inventory, "service").map((resource) => resource.details as JsonValue) },
    };
  },
  async inject(context) {
    const { targets, services } = context.plan.details as unknown as { targets: KillTarget[]; services: DiscoveredService[] };
    const killed = await forEachTarget(context.session, targets, async (target) => {
      const host = context.session.host(target.host);
      const key = newDeadManKey();
      const owner =
        (target.service as unknown as DiscoveredService | null) ??
        services.find((service) => service.host === target.host && service.pid === target.pid);
      // Identity read now, not at discovery: the kill below only hits this very process.
      const details = (await readProcessDetails(host.connection, [target.pid])).get(target.pid);
      if (!details) return `${target.host}:${target.pid} (already gone)`;
      const service = owner
        ? serviceRecordOf({ ...owner, process: owner.process ?? details }, host.experimentDir(context.experimentId), key)
        : null;
      const undo: ProcessKillUndo = {
        host: host.key,
        deadManKey: key,
        pid: target.pid,
        command: target.command,
        signal: context.params.signal,
        service,
      };
      await journalAndArm(context, undo, undoScript(undo, await restartToolsOf(host)));
      const output = await runSkillScript(
        name,
        host.connection,
        `signalling ${target.pid}`,
        killScript(undo, details.startTime, (await host.facts()).bootId),
      );
      return `${target.host}:${target.pid}${output.trim() === "gone" ? " (already gone)" : ""}${service ? ` (service ${service.name})` : ""}`;
    });
    return { summary: `sent ${context.params.signal} to ${killed.join(", ")}` };
  },
  rollback: async (context, undo) => {
    const tools = await restartToolsOf(context.session.host(undo.host));
    return rollBackWithScript(context, undo, `restoring after killing ${undo.pid}`, undoScript(undo, tools));
  },
});
