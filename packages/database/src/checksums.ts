import { createHash } from "node:crypto";
import type { DatabaseSession } from "./database-session.js";

export interface TableChecksum {
  rows: number;
  /** sha256 over every row's text form, in a stable order. */
  checksum: string;
}

/**
 * A fingerprint of every discovered table's full contents: equal before and after an
 * experiment means the data is exactly as it was. Reads whole tables: for tests and demos.
 */
export async function tableChecksums(session: DatabaseSession): Promise<Map<string, TableChecksum>> {
  const { dialect } = session;
  const schema = await session.schema(true);
  const result = new Map<string, TableChecksum>();
  for (const table of schema.tables) {
    const columns = table.columns.map((column, index) => `${dialect.textOf(column)} AS c${index}`).join(", ");
    const order = table.columns.map((_, index) => index + 1).join(", ");
    const { rows } = await session.client.query<Record<string, string | null>>(
      `SELECT ${columns} FROM ${dialect.table(table)} ORDER BY ${order}`,
    );
    const hash = createHash("sha256");
    for (const row of rows) hash.update(`${JSON.stringify(Object.values(row))}\n`);
    result.set(table.qualifiedName, { rows: rows.length, checksum: hash.digest("hex").slice(0, 16) });
  }
  return result;
}
