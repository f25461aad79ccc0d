export { findPgbench, pgbenchTpcb, type TpcbResult } from "./bench/bench-pgbench.js";
export { type TableChecksum, tableChecksums } from "./checksums.js";
export { type DatabaseConfig, databaseConfigSchema } from "./database-config.js";
export { type DatabaseSession, resolveTables } from "./database-session.js";
export { createDatabaseTarget, databaseIdentity } from "./database-target.js";
export { type EmbeddedServer, startEmbeddedPostgres } from "./demo/embedded-postgres.js";
export { shopSchema } from "./demo/shop-schema.js";
export type { Column, DatabaseSchema, Table } from "./discovery/database-schema.js";
export { databaseSkills } from "./skills/index.js";
