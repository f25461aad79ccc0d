import { ConnectionError, redactText, type Target } from "@chaos-agents/core";
import { type DatabaseConfig, databaseConfigSchema } from "./database-config.js";
import type { DatabaseSession } from "./database-session.js";
import type { DatabaseSchema } from "./discovery/database-schema.js";
import { discoverMysql } from "./discovery/discover-mysql.js";
import { discoverPostgres } from "./discovery/discover-postgres.js";
import type { RollbackClient } from "./rollback/rollback-client.js";
import { rollbackDeadlines } from "./rollback/rollback-deadlines.js";
import { dialectFor } from "./sql/dialect.js";

/** The connection URL without its password: what the journal and reports show. */
export function databaseIdentity(config: Pick<DatabaseConfig, "connection_url">): string {
  try {
    const url = new URL(config.connection_url);
    url.password = "";
    url.search = "";
    return url.toString();
  } catch {
    return redactText(config.connection_url);
  }
}

/** PostgreSQL and MySQL/MariaDB: schema discovery and db.* skills. */
export function createDatabaseTarget(): Target<DatabaseConfig, DatabaseSession> {
  return {
    kind: "database",
    configSchema: databaseConfigSchema,
    identify: databaseIdentity,
    async connect(config, context) {
      const connectionTag = `chaos-${context.experimentId}`;
      // The drivers load here, not with the package: `chaos validate` and `--help` never need them.
      const client =
        config.db_type === "postgres"
          ? (await import("./sql/postgres-client.js")).createPostgresClient(config)
          : (await import("./sql/mysql-client.js")).createMysqlClient(config);
      const identity = databaseIdentity(config);
      try {
        await client.query("SELECT 1");
      } catch (error) {
        await client.close().catch(() => undefined);
        throw new ConnectionError(identity, redactText((error as Error).message), { cause: error });
      }
      let cached: DatabaseSchema | undefined;
      const schema = async (refresh = false) => {
        if (!cached || refresh) {
          cached =
            config.db_type === "postgres" ? await discoverPostgres(client, config.schemas) : await discoverMysql(client, config.schemas);
        }
        return cached;
      };
      let rollback: Promise<RollbackClient> | undefined;
      return {
        identity,
        config,
        client,
        connectionTag,
        dialect: dialectFor(config.db_type),
        schema,
        rollbackClient() {
          // Named after the experiment so a DBA sees whose it is; the sweep (exact tag) leaves it alone.
          // Loaded like the drivers it opens: only when a rollback runs.
          rollback ??= import("./rollback/rollback-client.js").then(({ createRollbackClient }) =>
            createRollbackClient(config, rollbackDeadlines(config), client, `${connectionTag}-rollback`),
          );
          return rollback;
        },
        async discover() {
          const discovered = await schema(true);
          return {
            resources: discovered.tables.map((table) => ({
              kind: "table",
              name: table.qualifiedName,
              details: { estimatedRows: table.estimatedRows, columns: table.columns.length, primaryKey: table.primaryKey },
            })),
            facts: { serverVersion: discovered.serverVersion, database: discovered.database, dbType: config.db_type },
          };
        },
        async close() {
          const opened = rollback;
          rollback = undefined;
          if (opened) await (await opened.catch(() => undefined))?.close();
          await client.close();
        },
      };
    },
    async sweep(session, experimentId) {
      // Held connections and locks die with the chaos process; this catches any that did not.
      if (session.config.db_type !== "postgres") return [];
      // Select first, terminate after: in one WHERE clause PostgreSQL may call
      // pg_terminate_backend before the other conditions have filtered the rows.
      const { rows } = await session.client.query<{ pid: number }>(
        "SELECT pid FROM pg_stat_activity WHERE application_name = $1 AND pid <> pg_backend_pid()",
        [`chaos-${experimentId}`],
      );
      for (const row of rows) await session.client.query("SELECT pg_terminate_backend($1)", [row.pid]);
      return rows.map((row) => `terminated backend ${row.pid}`);
    },
  };
}
