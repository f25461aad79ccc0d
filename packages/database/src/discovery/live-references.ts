import type { Dialect } from "../sql/dialect.js";
import type { SqlExecutor } from "../sql/sql-client.js";
import type { Reference, Table } from "./database-schema.js";

/** A foreign key pointing at a table, as the catalog says right now. */
export interface LiveReference extends Reference {
  /** Row-level security filters what chaos's role sees of the referencing table (PostgreSQL). */
  hiddenRows: boolean;
  /** The referencing columns lead an index, so looking up references by value is cheap. */
  indexed: boolean;
}

/**
 * Reads the foreign keys that point at `table` from the live catalog, never from discovery's
 * cache: a table the application created during the hold counts as much as one chaos saw.
 * Run inside the rollback's transaction, after its locks are taken.
 */
export async function liveReferences(
  executor: SqlExecutor,
  dialect: Dialect,
  table: Pick<Table, "schema" | "name">,
): Promise<LiveReference[]> {
  if (dialect.kind === "postgres") {
    const { rows } = await executor.query<{
      name: string;
      schema: string;
      table_name: string;
      columns: string[];
      referenced_columns: string[];
      hidden_rows: boolean;
      indexed: boolean;
    }>(
      `SELECT c.conname AS name, n.nspname AS schema, r.relname AS table_name,
              ARRAY(SELECT a.attname::text FROM unnest(c.conkey) WITH ORDINALITY k(attnum, position)
                      JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.attnum ORDER BY k.position) AS columns,
              ARRAY(SELECT a.attname::text FROM unnest(c.confkey) WITH ORDINALITY k(attnum, position)
                      JOIN pg_attribute a ON a.attrelid = c.confrelid AND a.attnum = k.attnum ORDER BY k.position) AS referenced_columns,
              row_security_active(c.conrelid) AS hidden_rows,
              EXISTS (SELECT 1 FROM pg_index i WHERE i.indrelid = c.conrelid AND i.indkey[0] = c.conkey[1]) AS indexed
         FROM pg_constraint c JOIN pg_class r ON r.oid = c.conrelid JOIN pg_namespace n ON n.oid = r.relnamespace
        WHERE c.contype = 'f' AND c.confrelid = $1::regclass AND c.conparentid = 0
        ORDER BY c.conname`,
      [dialect.table(table)],
    );
    return rows.map((row) => ({
      name: row.name,
      table: `${row.schema}.${row.table_name}`,
      tableSchema: row.schema,
      tableName: row.table_name,
      columns: row.columns,
      referencedColumns: row.referenced_columns,
      hiddenRows: row.hidden_rows,
      indexed: row.indexed,
    }));
  }
  const { rows } = await executor.query<{
    name: string;
    schema: string;
    table_name: string;
    column_name: string;
    referenced_column: string;
  }>(
    `SELECT CONSTRAINT_NAME AS name, TABLE_SCHEMA AS \`schema\`, TABLE_NAME AS table_name,
            COLUMN_NAME AS column_name, REFERENCED_COLUMN_NAME AS referenced_column
       FROM information_schema.KEY_COLUMN_USAGE
      WHERE REFERENCED_TABLE_SCHEMA = ? AND REFERENCED_TABLE_NAME = ?
      ORDER BY TABLE_SCHEMA, TABLE_NAME, CONSTRAINT_NAME, ORDINAL_POSITION`,
    [table.schema, table.name],
  );
  const references = new Map<string, LiveReference>();
  for (const row of rows) {
    const id = `${row.schema}.${row.table_name}.${row.name}`;
    const reference = references.get(id) ?? {
      name: row.name,
      table: `${row.schema}.${row.table_name}`,
      tableSchema: row.schema,
      tableName: row.table_name,
      columns: [],
      referencedColumns: [],
      hiddenRows: false,
      // InnoDB makes an index for every foreign key.
      indexed: true,
    };
    reference.columns.push(row.column_name);
    reference.referencedColumns.push(row.referenced_column);
    references.set(id, reference);
  }
  return [...references.values()];
}
