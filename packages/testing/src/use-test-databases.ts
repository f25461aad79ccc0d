import { shopSchema } from "@chaos-agents/database";
import { afterEach } from "vitest";
import { createTestDatabase, type TestDatabase, type TestDatabaseKind } from "./test-database.js";

export interface TestDatabases {
  /** A new empty database, dropped after the current test. */
  empty(kind: TestDatabaseKind): Promise<TestDatabase>;
  /** A new database with the seeded shop schema, dropped after the current test. */
  shop(kind: TestDatabaseKind): Promise<TestDatabase>;
}

/** Call at the top of a test file: every database a test creates is dropped after it. */
export function useTestDatabases(): TestDatabases {
  const created: TestDatabase[] = [];
  afterEach(async () => {
    for (let database = created.pop(); database; database = created.pop()) await database.drop();
  });
  const empty = async (kind: TestDatabaseKind) => {
    const database = await createTestDatabase(kind);
    created.push(database);
    return database;
  };
  return {
    empty,
    async shop(kind) {
      const database = await empty(kind);
      for (const statement of shopSchema[kind]) await database.execute(statement);
      return database;
    },
  };
}
