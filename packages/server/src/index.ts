import type { AnySkill } from "@chaos-agents/core";
import { serverCpuStress } from "./skills/server-cpu-stress.js";
import { serverDiskFill } from "./skills/server-disk-fill.js";
import { serverMemoryStress } from "./skills/server-memory-stress.js";
import { serverNetworkLatency } from "./skills/server-network-latency.js";
import { serverPermissionChange } from "./skills/server-permission-change.js";
import { serverPortSaturation } from "./skills/server-port-saturation.js";
import { serverProcessKill } from "./skills/server-process-kill.js";
import { serverServiceStop } from "./skills/server-service-stop.js";

export type { HostFacts, InitSystem } from "./host/host-facts.js";
export type { ServerHost } from "./host/server-host.js";
export { type HostConfig, type HostKeyPolicy, type ServerConfig, serverConfigSchema } from "./server-config.js";
export type { ServerSession } from "./server-session.js";
export { createServerTarget } from "./server-target.js";
export { shellQuote } from "./shell-quote.js";
export type { ExecOptions, ExecResult, HostConnection } from "./transports/host-connection.js";
export {
  serverCpuStress,
  serverDiskFill,
  serverMemoryStress,
  serverNetworkLatency,
  serverPermissionChange,
  serverPortSaturation,
  serverProcessKill,
  serverServiceStop,
};

/** Every built-in server skill; the CLI registers them beside `createServerTarget()`. */
export const serverSkills: AnySkill[] = [
  serverDiskFill,
  serverPermissionChange,
  serverServiceStop,
  serverProcessKill,
  serverCpuStress,
  serverMemoryStress,
  serverPortSaturation,
  serverNetworkLatency,
];
