import { Registry } from "@chaos-agents/core";
import { runInProcess, startTestDaemon } from "@chaos-agents/testing";
import { it } from "vitest";
import { serverSkills } from "./index.js";
import { createServerTarget } from "./server-target.js";

it("debug", async () => {
  const registry = new Registry().addTarget(createServerTarget(), serverSkills);
  const t = Date.now();
  const { report, events } = await runInProcess(registry, { name: "d", target: "server", target_config: { local: true, work_dir: "/tmp/dbgwork" }, skills: [{ skill_name: "server.cpu_stress", params: { workers: 1, method: "builtin" } }], duration: "1s" });
  console.log(Date.now() - t, report.status, JSON.stringify(report.rollback));
  console.log(events.map((e) => JSON.parse(e)).map((e) => `${e.at} ${e.type} ${e.summary ?? e.message ?? e.error ?? ""}`).join("\n"));
  const daemon = await startTestDaemon();
  console.log(daemon.pids());
  const second = await runInProcess(registry, { name: "d", target: "server", target_config: { local: true, work_dir: "/tmp/dbgwork" }, skills: [{ skill_name: "server.process_kill", params: { name: daemon.name } }], duration: "1s" });
  console.log(JSON.stringify(second.report, null, 1));
  console.log(daemon.pids());
  await daemon.stop();
});
