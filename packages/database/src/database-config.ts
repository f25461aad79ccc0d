import { durationText } from "@chaos-agents/core";
import { z } from "zod";

/** Deadlines of every rollback statement and step (see rollback/rollback-deadlines.ts). */
export const rollbackDeadlinesSchema = z
  .strictObject({
    lock_timeout: durationText()
      .default("5s")
      .describe(
        "longest one rollback statement waits for a lock the application holds (PostgreSQL lock_timeout; MySQL/MariaDB innodb_lock_wait_timeout and lock_wait_timeout, in whole seconds)",
      ),
    statement_timeout: durationText()
      .default("10m")
      .describe(
        "longest one rollback statement may run (PostgreSQL statement_timeout; MariaDB max_statement_time; MySQL max_execution_time, which bounds SELECTs only)",
      ),
    lock_retry_budget: durationText()
      .default("2m")
      .describe(
        "how long one rollback step keeps retrying (exponential backoff with jitter) while a lock blocks it; then the step fails, names the blocking session, and stays pending for `chaos recover`",
      ),
  })
  .describe("deadlines of chaos's rollback, so that an application lock can never make it hang");

export const databaseConfigSchema = z
  .strictObject({
    connection_url: z
      .string()
      .regex(/^(postgres|postgresql|mysql|mariadb):\/\//, "expected a URL starting with postgres://, mysql:// or mariadb://")
      .describe("postgres://user:pass@host:5432/db, mysql://… or mariadb://…; the password is never logged (give it through ${ENV})"),
    db_type: z
      .enum(["postgres", "mysql"], { error: "expected postgres or mysql (MariaDB is mysql)" })
      .describe("postgres, or mysql for MySQL and MariaDB"),
    schemas: z
      .array(z.string().min(1))
      .optional()
      .describe(
        "schemas (PostgreSQL) or databases (MySQL) to discover; default: the connection's own (PostgreSQL: every non-system schema)",
      ),
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
    pool_size: z
      .number()
      .int()
      .min(1)
      .max(200)
      .default(5)
      .describe("connections the agent's pool may open (load skills open their own on top, as asked)"),
    rollback: rollbackDeadlinesSchema.prefault({}),
  })
  .refine((config) => urlKind(config.connection_url) === undefined || urlKind(config.connection_url) === config.db_type, {
    message: "db_type does not match the URL's scheme (postgres:// is postgres; mysql:// and mariadb:// are mysql)",
    path: ["db_type"],
  });

function urlKind(url: string): "postgres" | "mysql" | undefined {
  return /^postgres(ql)?:/.test(url) ? "postgres" : /^(mysql|mariadb):/.test(url) ? "mysql" : undefined;
}

export type DatabaseConfig = z.output<typeof databaseConfigSchema>;
export type DatabaseKind = DatabaseConfig["db_type"];
