import type { DatabaseSession } from "../database-session.js";
import type { Table } from "../discovery/database-schema.js";

/**
 * Where each identity/serial/auto-increment counter of `tables` stands. Inserting advances
 * them and rollback deliberately does not reset them (another client may have drawn values
 * since); the report shows how far they moved.
 */
export async function sequencePositions(session: DatabaseSession, tables: Table[]): Promise<Map<string, string>> {
  const positions = new Map<string, string>();
  for (const table of tables) {
    const counters = table.columns.filter((column) => column.autoIncrement);
    if (counters.length === 0) continue;
    if (session.dialect.kind === "postgres") {
      for (const column of counters) {
        const { rows } = await session.client.query<{ sequence: string | null }>("SELECT pg_get_serial_sequence($1, $2) AS sequence", [
          session.dialect.table(table),
          column.name,
        ]);
        const sequence = rows[0]?.sequence;
        if (!sequence) continue;
        const { rows: values } = await session.client.query<{ value: string }>(
          `SELECT CASE WHEN is_called THEN last_value ELSE last_value - 1 END::text AS value FROM ${sequence}`,
        );
        positions.set(`${table.qualifiedName}.${column.name}`, values[0]?.value ?? "?");
      }
    } else {
      const { rows } = await session.client.query<{ value: string | null }>(
        "SELECT CAST(AUTO_INCREMENT AS CHAR) AS value FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ?",
        [table.schema, table.name],
      );
      positions.set(`${table.qualifiedName}.${counters[0]?.name}`, rows[0]?.value ?? "?");
    }
  }
  return positions;
}
