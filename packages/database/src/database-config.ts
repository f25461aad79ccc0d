import { z } from "zod";

export const databaseConfigSchema = z.strictObject({
  /** postgres://user:pass@host:5432/db, mysql://… or mariadb://…; the password is never logged. */
  connection_url: z
    .string()
    .regex(/^(postgres|postgresql|mysql|mariadb):\/\//, "expected a URL starting with postgres://, mysql:// or mariadb://"),
  db_type: z.enum(["postgres", "mysql"], { error: "expected postgres or mysql (MariaDB is mysql)" }),
  /** Schemas (PostgreSQL) or databases (MySQL) to discover; default: the connection's own (PostgreSQL: every non-system schema). */
  schemas: z.array(z.string().min(1)).optional(),
  tls: z
    .strictObject({
      enabled: z.boolean().default(true),
      /** Verify the server certificate against `ca_file` (or the system CAs). */
      reject_unauthorized: z.boolean().default(true),
      ca_file: z.string().optional(),
      cert_file: z.string().optional(),
      key_file: z.string().optional(),
    })
    .optional(),
  /** Connections the agent's pool may open (load skills open their own on top, as asked). */
  pool_size: z.number().int().min(1).max(200).default(5),
});

export type DatabaseConfig = z.output<typeof databaseConfigSchema>;
export type DatabaseKind = DatabaseConfig["db_type"];
