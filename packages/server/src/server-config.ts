import { durationText, positiveInteger } from "@chaos-agents/core";
import { z } from "zod";

/** How a host's SSH key is checked: against known_hosts, learning unknown hosts, or not at all (loudly). */
export const hostKeyPolicies = ["strict", "accept-new", "off"] as const;
export type HostKeyPolicy = (typeof hostKeyPolicies)[number];

/** Which service manager the skills drive; `auto` detects it per host. */
export const serviceManagerKinds = ["auto", "systemd", "openrc", "sysv", "process"] as const;
export type ServiceManagerKind = (typeof serviceManagerKinds)[number];

export const hostSchema = z.strictObject({
  host: z.string().min(1),
  port: z.number().int().min(1).max(65535).default(22),
  username: z.string().min(1),
  auth: z.discriminatedUnion("type", [
    z.strictObject({ type: z.literal("key"), private_key_path: z.string().min(1), passphrase: z.string().optional() }),
    z.strictObject({ type: z.literal("agent"), socket: z.string().optional() }),
    z.strictObject({ type: z.literal("password"), password: z.string() }),
  ]),
  /** Overrides the experiment-wide policy for this host. */
  host_key_policy: z.enum(hostKeyPolicies).optional(),
  /** Overrides the experiment-wide known_hosts file for this host. */
  known_hosts_path: z.string().min(1).optional(),
  /** Run commands through `sudo -n` (for a non-root user with passwordless sudo). */
  sudo: z.boolean().optional(),
});

export type HostConfig = z.output<typeof hostSchema>;

export const serverConfigSchema = z
  .strictObject({
    /** Act on the machine running `chaos`, without SSH. */
    local: z.boolean().default(false),
    hosts: z.array(hostSchema).default([]),
    discovery: z
      .strictObject({ enabled: z.boolean().default(true), exclude_services: z.array(z.string()).default([]) })
      .default({ enabled: true, exclude_services: [] }),
    host_key_policy: z.enum(hostKeyPolicies).default("strict"),
    known_hosts_path: z.string().min(1).default("~/.ssh/known_hosts"),
    connect_timeout: durationText().default("10s"),
    keepalive_interval: durationText().default("15s"),
    /** Run every command through `sudo -n` unless a host says otherwise. */
    sudo: z.boolean().default(false),
    /** Hosts acted on at the same time. */
    max_concurrent_hosts: positiveInteger().default(8),
    service_manager: z.enum(serviceManagerKinds).default("auto"),
    /** Chaos-owned directory on every host, verified root's alone before use (it and its parents); each experiment gets a subdirectory named with its id. */
    work_dir: z
      .string()
      .regex(/^\/[^\s]*$/, "expected an absolute path without spaces")
      .default("/var/tmp/chaos-agents"),
    /** Each host undoes its own faults this long after the experiment's deadline if `chaos` never does. */
    dead_man_switch: z.strictObject({ enabled: z.boolean().default(true), grace: durationText().default("5m") }).default({
      enabled: true,
      grace: "5m",
    }),
  })
  .refine((config) => config.local || config.hosts.length > 0, "expected `local: true` or at least one entry in `hosts`")
  .refine((config) => !(config.local && config.hosts.length > 0), {
    message: "`local: true` and `hosts` together: say which one the experiment acts on (remove `hosts`, or `local`)",
    path: ["local"],
  });

export type ServerConfig = z.output<typeof serverConfigSchema>;
