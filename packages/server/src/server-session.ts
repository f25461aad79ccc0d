import type { Logger, TargetSession } from "@chaos-agents/core";
import type { ServerHost } from "./host/server-host.js";
import type { ServerConfig } from "./server-config.js";

/** An open server experiment: one connection per host. Skills act per host, concurrently up to `max_concurrent_hosts`. */
export interface ServerSession extends TargetSession {
  /** True for `target_config: {local: true}`: the machine running `chaos`, no SSH. */
  readonly local: boolean;
  readonly config: ServerConfig;
  readonly hosts: ServerHost[];
  /** The host an undo step names; throws when the session has no such host. */
  host(key: string): ServerHost;
  readonly log: Logger;
}
