import { hostname } from "node:os";
import type { Target, TargetSession } from "@chaos-agents/core";
import { type ServerConfig, serverConfigSchema } from "./server-config.js";

export interface ServerSession extends TargetSession {
  readonly local: boolean;
}

export function createServerTarget(): Target<ServerConfig, ServerSession> {
  return {
    kind: "server",
    configSchema: serverConfigSchema,
    identify: (config) =>
      config.local ? `local://${hostname()}` : config.hosts.map((host) => `ssh://${host.username}@${host.host}:${host.port}`).join(","),
    async connect(config) {
      const identity = config.local ? `local://${hostname()}` : "ssh";
      return {
        identity,
        local: config.local,
        discover: async () => ({ resources: [], facts: { hostname: hostname() } }),
        close: async () => undefined,
      };
    },
  };
}
