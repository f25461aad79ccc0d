import { hostname } from "node:os";
import { ConnectionError, parseDuration, type Target } from "@chaos-agents/core";
import { mapWithLimit } from "./concurrency.js";
import { discoverHosts } from "./discovery/discover-hosts.js";
import { createServerHost, type ServerHost } from "./host/server-host.js";
import { type ServerConfig, serverConfigSchema } from "./server-config.js";
import type { ServerSession } from "./server-session.js";
import { sweepHost } from "./sweep.js";
import type { HostConnection } from "./transports/host-connection.js";
import { createLocalConnection } from "./transports/local-connection.js";

function identify(config: ServerConfig): string {
  return config.local ? `local://${hostname()}` : config.hosts.map((host) => `ssh://${host.username}@${host.host}:${host.port}`).join(",");
}

/** The server agent: Linux hosts over SSH, or the local machine. */
export function createServerTarget(): Target<ServerConfig, ServerSession> {
  return {
    kind: "server",
    configSchema: serverConfigSchema,
    // Parsed again here: the engine may hand over the config as written (parsing parsed output is a no-op).
    identify: (config) => identify(serverConfigSchema.parse(config)),
    async connect(rawConfig, context) {
      const config = serverConfigSchema.parse(rawConfig);
      // ssh2 loads here, not with the package: `chaos validate` and `--help` never need it.
      const { createSshConnection } = await import("./transports/ssh-connection.js");
      const connections: HostConnection[] = config.local
        ? [createLocalConnection({ sudo: config.sudo })]
        : config.hosts.map((host) =>
            createSshConnection({
              host: host.host,
              port: host.port,
              username: host.username,
              auth: host.auth,
              hostKeyPolicy: host.host_key_policy ?? config.host_key_policy,
              knownHostsPath: host.known_hosts_path ?? config.known_hosts_path,
              connectTimeoutMs: parseDuration(config.connect_timeout) ?? 10_000,
              keepaliveIntervalMs: parseDuration(config.keepalive_interval) ?? 15_000,
              sudo: host.sudo ?? config.sudo,
              log: context.log,
            }),
          );
      const hosts = connections.map((connection) => createServerHost(connection, config.work_dir));
      try {
        // Probing connects: a host that cannot be reached (or presents the wrong key) fails the run before anything changes.
        await mapWithLimit(hosts, config.max_concurrent_hosts, async (host) => {
          try {
            await host.facts();
          } catch (error) {
            throw new ConnectionError(host.connection.identity, (error as Error).message, { cause: error });
          }
        });
      } catch (error) {
        await Promise.all(connections.map((connection) => connection.close()));
        throw error;
      }
      return createSession(config, hosts, context.log);
    },
    sweep: async (session, experimentId) =>
      (await mapWithLimit(session.hosts, session.config.max_concurrent_hosts, (host) => sweepHost(host, experimentId))).flat(),
  };
}

function createSession(config: ServerConfig, hosts: ServerHost[], log: ServerSession["log"]): ServerSession {
  const byKey = new Map(hosts.map((host) => [host.key, host]));
  return {
    identity: identify(config),
    local: config.local,
    config,
    hosts,
    log,
    host: (key) => {
      const host = byKey.get(key);
      if (!host) throw new Error(`host ${key} is not in this experiment's target_config (hosts: ${[...byKey.keys()].join(", ")})`);
      return host;
    },
    discover: () => discoverHosts(hosts, config),
    close: async () => {
      await Promise.all(hosts.map((host) => host.connection.close()));
    },
  };
}
