import { useTestDatabases } from "@chaos-agents/testing";
import { describe, expect, it } from "vitest";
import { databaseConfigSchema } from "../database-config.js";
import { createPostgresClient } from "./postgres-client.js";

const databases = useTestDatabases();

describe("postgres client", () => {
  it("COPYs rows with tabs, newlines, backslashes, bytea and NULL exactly", async () => {
    const database = await databases.empty("postgres");
    await database.execute("CREATE TABLE t (id int PRIMARY KEY, body text, data bytea)");
    const client = createPostgresClient(databaseConfigSchema.parse({ connection_url: database.url, db_type: "postgres" }));
    const rows: (string | null)[][] = [
      ["1", "tab\there", "\\x00ff"],
      ["2", "new\nline\r\nand \\ backslash \\N", null],
      ["3", null, "\\x"],
      ...Array.from({ length: 2500 }, (_, index) => [String(index + 10), `row ${index}`, null]),
    ];
    const copied = await client.transaction(async (executor) => executor.copyRows?.("COPY t (id, body, data) FROM STDIN", rows));
    expect(copied).toBe(rows.length);
    const { rows: back } = await client.query<{ id: string; body: string | null; data: string | null }>(
      "SELECT id::text, body, data::text FROM t WHERE id < 10 ORDER BY id",
    );
    expect(back.map((row) => [row.id, row.body, row.data])).toEqual(rows.slice(0, 3));
    await client.close();
  });
});
