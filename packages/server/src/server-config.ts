import { z } from "zod";

export const hostSchema = z.strictObject({
  host: z.string().min(1),
  port: z.number().int().min(1).max(65535).default(22),
  username: z.string().min(1),
  auth: z.discriminatedUnion("type", [
    z.strictObject({ type: z.literal("key"), private_key_path: z.string().min(1), passphrase: z.string().optional() }),
    z.strictObject({ type: z.literal("agent"), socket: z.string().optional() }),
    z.strictObject({ type: z.literal("password"), password: z.string() }),
  ]),
});

export const serverConfigSchema = z
  .strictObject({
    /** Act on the machine running `chaos`, without SSH. */
    local: z.boolean().default(false),
    hosts: z.array(hostSchema).default([]),
    discovery: z
      .strictObject({ enabled: z.boolean().default(true), exclude_services: z.array(z.string()).default([]) })
      .default({ enabled: true, exclude_services: [] }),
  })
  .refine((config) => config.local || config.hosts.length > 0, "expected `local: true` or at least one entry in `hosts`");

export type ServerConfig = z.output<typeof serverConfigSchema>;
