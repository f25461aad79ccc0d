import { defineSkill } from "@chaos-agents/core";
import { z } from "zod";
import type { ServerSession } from "../server-session.js";
import { forEachTarget, refuse, selectedHosts, selfStopSeconds } from "./skill-support.js";
import { type LoadUndo, rollBackLoad, startTaggedLoad } from "./tagged-load.js";

const name = "server.cpu_stress";

const params = z.strictObject({
  workers: z.number().int().positive().optional().describe("CPU workers per host; defaults to every CPU."),
  load_percent: z
    .number()
    .int()
    .min(1)
    .max(100)
    .default(100)
    .describe("Load each worker aims at (stress-ng only; the built-in fallback always runs flat out)."),
  method: z
    .enum(["auto", "stress-ng", "builtin"])
    .default("auto")
    .describe("`auto` uses stress-ng when the host has it, the built-in shell loop otherwise."),
});

type Params = z.output<typeof params>;

/** argv of the load: stress-ng, or a POSIX shell that spins one busy loop per worker. */
export function cpuLoadCommand(useStressNg: boolean, workers: number, loadPercent: number, seconds: number): string[] {
  if (useStressNg) return ["stress-ng", "--cpu", String(workers), "--cpu-load", String(loadPercent), "--timeout", `${seconds}s`, "--quiet"];
  const script = `i=0; while [ $i -lt ${workers} ]; do (while :; do :; done) & i=$((i+1)); done; sleep ${seconds}; kill 0`;
  return ["sh", "-c", script, "chaos-cpu-stress"];
}

export const serverCpuStress = defineSkill<Params, ServerSession, LoadUndo>({
  name,
  target: "server",
  description:
    "Load CPUs (`workers`, `load_percent`) with stress-ng, or a built-in busy loop where it is missing; rollback stops the load.",
  params,
  reversible: true,
  async plan({ params: parameters, inventory, session }) {
    const hosts = selectedHosts(name, inventory);
    const plans = await forEachTarget(session, hosts, async (key) => {
      const facts = await session.host(key).facts();
      const hasStressNg = facts.tools.includes("stress-ng");
      if (parameters.method === "stress-ng" && !hasStressNg) refuse(name, `${key} has no stress-ng (use method: auto or builtin)`);
      return { host: key, workers: parameters.workers ?? facts.cpus, stressNg: parameters.method !== "builtin" && hasStressNg };
    });
    return {
      targets: hosts.map((host) => `${host}/host`),
      summary: `load ${plans.map((plan) => `${plan.workers} CPU worker(s) at ${parameters.load_percent}% on ${plan.host} (${plan.stressNg ? "stress-ng" : "built-in loop"})`).join(", ")}`,
      details: { plans },
    };
  },
  async inject(context) {
    const { plans } = context.plan.details as { plans: { host: string; workers: number; stressNg: boolean }[] };
    const seconds = selfStopSeconds(context);
    const started = await forEachTarget(context.session, plans, async (plan) => {
      const process = await startTaggedLoad(context, plan.host, `${plan.workers} CPU worker(s)`, () =>
        cpuLoadCommand(plan.stressNg, plan.workers, context.params.load_percent, seconds),
      );
      return `${plan.host} (pid ${process.pid})`;
    });
    return { summary: `CPU load on ${started.join(", ")}` };
  },
  rollback: rollBackLoad,
});
