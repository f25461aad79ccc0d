import { defineSkill } from "@chaos-agents/core";
import { z } from "zod";
import { runSkillScript } from "../host/host-script.js";
import type { ServerSession } from "../server-session.js";
import { shellQuote } from "../shell-quote.js";
import { formatSize, parseSize } from "../size.js";
import { forEachTarget, refuse, selectedHosts, selfStopSeconds, sizeText } from "./skill-support.js";
import { type LoadUndo, rollBackLoad, startTaggedLoad } from "./tagged-load.js";

const name = "server.memory_stress";

const params = z
  .strictObject({
    size: sizeText().optional().describe('Memory to hold per host ("512MB").'),
    percent: z.number().min(1).max(90).optional().describe("Share of the host's total memory to hold."),
    method: z
      .enum(["auto", "stress-ng", "builtin"])
      .default("auto")
      .describe("`auto` uses stress-ng when the host has it; `builtin` holds the memory in a tmpfs file under /dev/shm."),
  })
  .refine((value) => (value.size === undefined) !== (value.percent === undefined), "expected exactly one of `size` or `percent`");

type Params = z.output<typeof params>;

/** Memory that must stay available, so the OOM killer never has to pick a victim: 10% of RAM, at least 256 MiB. */
export function memoryFloor(totalBytes: number): number {
  return Math.max(Math.ceil(totalBytes * 0.1), 256 * 1024 ** 2);
}

interface MemoryPlan {
  host: string;
  bytes: number;
  stressNg: boolean;
}

export const serverMemoryStress = defineSkill<Params, ServerSession, LoadUndo>({
  name,
  target: "server",
  description:
    "Hold `size` or `percent` of memory (stress-ng, or a tmpfs file), refusing what would leave less than 10% of RAM available; rollback frees it.",
  params,
  reversible: true,
  async plan({ params: parameters, inventory, session }) {
    const hosts = selectedHosts(name, inventory);
    const plans = await forEachTarget(session, hosts, async (key): Promise<MemoryPlan> => {
      const host = session.host(key);
      const facts = await host.facts();
      const meminfo = await runSkillScript(
        name,
        host.connection,
        "reading /proc/meminfo",
        "grep -E '^(MemTotal|MemAvailable):' /proc/meminfo",
      );
      const total = Number(/MemTotal:\s+(\d+)/.exec(meminfo)?.[1] ?? 0) * 1024;
      const available = Number(/MemAvailable:\s+(\d+)/.exec(meminfo)?.[1] ?? 0) * 1024;
      const bytes =
        parameters.size !== undefined ? (parseSize(parameters.size) ?? 0) : Math.floor((total * (parameters.percent ?? 0)) / 100);
      const floor = memoryFloor(total);
      if (available - bytes < floor) {
        refuse(
          name,
          `${key}: holding ${formatSize(bytes)} would leave ${formatSize(Math.max(0, available - bytes))} available, under the floor of ${formatSize(floor)} that keeps the OOM killer away`,
        );
      }
      const hasStressNg = facts.tools.includes("stress-ng");
      if (parameters.method === "stress-ng" && !hasStressNg) refuse(name, `${key} has no stress-ng (use method: auto or builtin)`);
      return { host: key, bytes, stressNg: parameters.method !== "builtin" && hasStressNg };
    });
    return {
      targets: hosts.map((host) => `${host}/host`),
      summary: `hold ${plans.map((plan) => `${formatSize(plan.bytes)} on ${plan.host} (${plan.stressNg ? "stress-ng" : "tmpfs file"})`).join(", ")}`,
      details: { plans: plans as never },
    };
  },
  async inject(context) {
    const { plans } = context.plan.details as unknown as { plans: MemoryPlan[] };
    const seconds = selfStopSeconds(context);
    const held = await forEachTarget(context.session, plans, async (plan) => {
      const what = `${formatSize(plan.bytes)} of memory load`;
      if (plan.stressNg) {
        await startTaggedLoad(context, plan.host, what, () => [
          "stress-ng",
          "--vm",
          "1",
          "--vm-bytes",
          `${plan.bytes}`,
          "--vm-keep",
          "--vm-hang",
          "0",
          "--timeout",
          `${seconds}s`,
          "--quiet",
        ]);
      } else {
        // A file in tmpfs is memory nobody can swap out without swap; the holder process only keeps the tag alive for the sweep.
        const file = `/dev/shm/chaos-agents-${context.experimentId}/memory-${Date.now()}.bin`;
        await startTaggedLoad(
          context,
          plan.host,
          what,
          () => [
            "sh",
            "-c",
            // /dev/shm is world-writable: the directory is used only when chaos made it (a real directory of this user, 0700).
            `chaos_directory=$(dirname "$0"); (umask 077; mkdir "$chaos_directory" 2>/dev/null)
if [ -d "$chaos_directory" ] && [ ! -L "$chaos_directory" ] && [ "$(stat -c '%u %a' -- "$chaos_directory")" = "$(id -u) 700" ]; then
  dd if=/dev/zero of="$0" bs=1048576 count=${Math.ceil(plan.bytes / 1048576)} 2>/dev/null && sleep ${seconds}; rm -f "$0"; rmdir "$chaos_directory" 2>/dev/null
fi`,
            file,
          ],
          [file],
        );
        await runSkillScript(
          name,
          context.session.host(plan.host).connection,
          "waiting for the memory load",
          `for chaos_wait in $(seq 1 100); do [ "$(stat -c %s ${shellQuote(file)} 2>/dev/null || echo 0)" -ge ${Math.ceil(plan.bytes / 1048576) * 1048576} ] && exit 0; sleep 0.1; done; exit 1`,
        );
      }
      return `${plan.host}: ${what}`;
    });
    return { summary: `holding ${held.join(", ")}` };
  },
  rollback: rollBackLoad,
});
