export { type ServerConfig, serverConfigSchema } from "./server-config.js";
export { createServerTarget, type ServerSession } from "./server-target.js";
export const serverSkills: import("@chaos-agents/core").AnySkill[] = [];
