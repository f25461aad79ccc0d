import { SkillError, type TargetSession } from "@chaos-agents/core";
import type { DatabaseConfig } from "./database-config.js";
import type { DatabaseSchema, Table } from "./discovery/database-schema.js";
import type { RollbackClient } from "./rollback/rollback-client.js";
import type { Dialect } from "./sql/dialect.js";
import type { SqlClient } from "./sql/sql-client.js";

/** The connection every db.* skill gets. */
export interface DatabaseSession extends TargetSession {
  readonly config: DatabaseConfig;
  readonly dialect: Dialect;
  readonly client: SqlClient;
  /** Tag for connections chaos opens (application_name), so a sweep can find them. */
  readonly connectionTag: string;
  /** The discovered schema (read once, then cached; `refresh` reads it again). */
  schema(refresh?: boolean): Promise<DatabaseSchema>;
  /** The pool rollback steps run on, under the rollback's deadlines (opened on first use, closed with the session). */
  rollbackClient(): Promise<RollbackClient>;
}

/**
 * Finds the tables a skill's `tables` param names among those it may touch (`allowed`,
 * the names resource_filters kept). `users` matches `public.users` when unambiguous.
 * Throws a SkillError naming what is wrong before anything changes.
 */
export function resolveTables(skill: string, schema: DatabaseSchema, allowed: Set<string>, names?: string[]): Table[] {
  const permitted = schema.tables.filter((table) => allowed.has(table.qualifiedName));
  if (!names || names.length === 0) return permitted;
  return names.map((name) => {
    const matches = schema.tables.filter((table) => table.qualifiedName === name || (!name.includes(".") && table.name === name));
    if (matches.length === 0) {
      const known = permitted.map((table) => table.qualifiedName).join(", ") || "none";
      throw new SkillError(skill, `unknown table "${name}" (tables chaos may use: ${known})`);
    }
    if (matches.length > 1) {
      throw new SkillError(
        skill,
        `table name "${name}" is ambiguous: ${matches.map((table) => table.qualifiedName).join(", ")}; qualify it with its schema`,
      );
    }
    const table = matches[0] as Table;
    if (!allowed.has(table.qualifiedName)) {
      throw new SkillError(skill, `table ${table.qualifiedName} is excluded by resource_filters; chaos will not touch it`);
    }
    return table;
  });
}
