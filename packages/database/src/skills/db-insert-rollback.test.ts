import { setTimeout as sleep } from "node:timers/promises";
import {
  createParentsTable,
  databaseState,
  runDatabaseExperiment,
  serverUrls,
  type TestDatabase,
  type TestDatabaseKind,
  useTestDatabases,
} from "@chaos-agents/testing";
import { describe, expect, it } from "vitest";

// The rollback of db.insert_load beside a live application: the application's actions run
// from a second connection during the hold (or during the rollback itself), and afterwards
// every table is compared with its state before; each difference must be one the report names.
const databases = useTestDatabases();
const kinds: TestDatabaseKind[] = ["postgres", "mysql"];

/** A database with `parents`: 100 application rows; chaos's counted keys start at 101. */
async function parentsDatabase(kind: TestDatabaseKind): Promise<TestDatabase> {
  const db = await databases.empty(kind);
  await createParentsTable(db, 100);
  return db;
}

async function numberOf(db: TestDatabase, sql: string): Promise<number> {
  return Number((await db.execute(sql))[0]?.n);
}

/** Runs db.insert_load while `application` acts during the hold; returns the report once both are done. */
async function insertBesideApplication(
  db: TestDatabase,
  params: Record<string, unknown>,
  application: () => Promise<unknown>,
  duration = "2s",
) {
  let acting: Promise<unknown> = Promise.resolve();
  const { report } = await runDatabaseExperiment({
    url: db.url,
    dbType: db.kind,
    duration,
    skills: [{ skill_name: "db.insert_load", params }],
    onEvent: (event) => {
      if (event.type === "hold_started") acting = application();
    },
  });
  await acting;
  return report;
}

describe.each(kinds)("%s: rollback of inserted rows beside a live application", (kind) => {
  it("reads references from the live catalog: a table created during the hold with ON DELETE CASCADE / SET NULL loses nothing", async () => {
    const db = await parentsDatabase(kind);
    const before = await databaseState(db.url, kind);
    const report = await insertBesideApplication(db, { tables: ["parents"], rows_per_table: 300, batch_size: 100 }, async () => {
      const reference = (action: string) =>
        kind === "postgres"
          ? `parent_id int REFERENCES parents(id) ON DELETE ${action}`
          : `parent_id int, FOREIGN KEY (parent_id) REFERENCES parents(id) ON DELETE ${action}`;
      await db.execute(`CREATE TABLE app_links (id int PRIMARY KEY, ${reference("CASCADE")})`);
      await db.execute(`CREATE TABLE app_notes (id int PRIMARY KEY, ${reference("SET NULL")})`);
      for (let index = 1; index <= 10; index++) {
        await db.execute(`INSERT INTO app_links VALUES (${index}, ${100 + index})`);
        await db.execute(`INSERT INTO app_notes VALUES (${index}, ${110 + index})`);
      }
    });
    expect(report.status).toBe("rollback_incomplete");
    const kept = report.rollback.conflicts.filter((conflict) => conflict.includes("kept: an application row references"));
    expect(kept.join("\n")).toMatch(/parents: 20 rows kept: an application row references them \(.*app_links/);
    // The application's rows are all there, still pointing at the chaos rows that were kept.
    expect(await numberOf(db, "SELECT COUNT(*) AS n FROM app_links WHERE parent_id IS NOT NULL")).toBe(10);
    expect(await numberOf(db, "SELECT COUNT(*) AS n FROM app_notes WHERE parent_id IS NOT NULL")).toBe(10);
    // Every difference is accounted for: the 20 kept chaos rows, and the application's two tables.
    expect(await numberOf(db, "SELECT COUNT(*) AS n FROM parents WHERE id > 100")).toBe(20);
    await db.execute("DELETE FROM app_links");
    await db.execute("DELETE FROM app_notes");
    await db.execute("DELETE FROM parents WHERE id BETWEEN 101 AND 120");
    const after = await databaseState(db.url, kind);
    for (const table of ["app_links", "app_notes"]) delete after[`${kind === "postgres" ? "public" : db.name}.${table}`];
    expect(after).toEqual(before);
  });

  it("checks and deletes atomically: a reference committed while the rollback runs keeps its row", async () => {
    const db = await parentsDatabase(kind);
    await db.execute(
      kind === "postgres"
        ? "CREATE TABLE app_links (id int PRIMARY KEY, parent_id int REFERENCES parents(id) ON DELETE CASCADE)"
        : "CREATE TABLE app_links (id int PRIMARY KEY, parent_id int, FOREIGN KEY (parent_id) REFERENCES parents(id) ON DELETE CASCADE)",
    );
    const before = await databaseState(db.url, kind);
    // The application's transaction takes its reference during the hold and commits only
    // after the rollback has started: the rollback must wait for it, then see it.
    const report = await insertBesideApplication(
      db,
      { tables: ["parents"], rows_per_table: 50 },
      async () => {
        await db.execute(kind === "postgres" ? "BEGIN" : "START TRANSACTION");
        await db.execute("INSERT INTO app_links VALUES (1, 150)");
        await sleep(2500);
        await db.execute("COMMIT");
      },
      "1s",
    );
    expect(report.status).toBe("rollback_incomplete");
    expect(report.rollback.conflicts).toEqual([expect.stringMatching(/parents row \(150\) kept: an application row references it/)]);
    expect(await numberOf(db, "SELECT COUNT(*) AS n FROM app_links")).toBe(1);
    expect(await numberOf(db, "SELECT COUNT(*) AS n FROM parents WHERE id > 100")).toBe(1);
    await db.execute("DELETE FROM app_links");
    await db.execute("DELETE FROM parents WHERE id = 150");
    expect(await databaseState(db.url, kind)).toEqual(before);
  });

  it("deletes a row only while it is chaos's: a TRUNCATE + reload reusing ids and an UPDATE of a chaos row are kept and reported", async () => {
    const db = await databases.empty(kind);
    await db.execute("CREATE TABLE ledger (id int PRIMARY KEY, note varchar(40))");
    await db.execute("CREATE TABLE journal_entries (id int PRIMARY KEY, note varchar(40))");
    await db.execute("INSERT INTO ledger VALUES (1, 'application'), (2, 'application')");
    const report = await insertBesideApplication(
      db,
      { tables: ["ledger", "journal_entries"], rows_per_table: 400, batch_size: 150 },
      async () => {
        // The nightly job: empty the ledger and load ids 1–400 again (chaos had 3–402).
        await db.execute("TRUNCATE TABLE ledger");
        await db.execute(
          kind === "postgres"
            ? "INSERT INTO ledger SELECT n, 'nightly ' || n FROM generate_series(1, 400) n"
            : "INSERT INTO ledger SELECT seq, CONCAT('nightly ', seq) FROM seq_1_to_400",
        );
        await db.execute("UPDATE journal_entries SET note = 'the application was here' WHERE id = 7");
      },
    );
    expect(report.status).toBe("rollback_incomplete");
    const conflicts = report.rollback.conflicts.join("\n");
    expect(conflicts).toMatch(/ledger: \d+ rows kept: its content is no longer what chaos wrote/);
    expect(conflicts).toMatch(/journal_entries row \(7\) kept: its content is no longer what chaos wrote/);
    // Every reloaded row survived, and of chaos's 400 journal entries only the updated one is left.
    expect(await numberOf(db, "SELECT COUNT(*) AS n FROM ledger")).toBe(400);
    expect(await numberOf(db, "SELECT COUNT(*) AS n FROM ledger WHERE note LIKE 'nightly %'")).toBe(400);
    expect(await db.execute("SELECT id, note FROM journal_entries")).toEqual([{ id: 7, note: "the application was here" }]);
    const kept = [...conflicts.matchAll(/ledger: (\d+) rows kept/g)].reduce((sum, match) => sum + Number(match[1]), 0);
    expect(kept).toBe(398); // ids 3–400: chaos's keys that the reload reused
  });

  it("journals the keys the database stored: BEFORE INSERT triggers that rewrite keys leave nothing behind", async () => {
    const db = await databases.empty(kind);
    if (kind === "postgres") {
      await db.execute("CREATE TABLE codes (k varchar(40) PRIMARY KEY, note text)");
      await db.execute("CREATE TABLE tickets (id int PRIMARY KEY, note text)");
      await db.execute("CREATE SEQUENCE tickets_numbers START 1000000");
      await db.execute("CREATE FUNCTION shout() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN NEW.k := upper(NEW.k); RETURN NEW; END $$");
      await db.execute(
        "CREATE FUNCTION number_ticket() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN NEW.id := nextval('tickets_numbers'); RETURN NEW; END $$",
      );
      await db.execute("CREATE TRIGGER shout BEFORE INSERT ON codes FOR EACH ROW EXECUTE FUNCTION shout()");
      await db.execute("CREATE TRIGGER number_ticket BEFORE INSERT ON tickets FOR EACH ROW EXECUTE FUNCTION number_ticket()");
    } else {
      await db.execute("CREATE TABLE codes (k varchar(40) PRIMARY KEY, note text)");
      await db.execute("CREATE TABLE tickets (id int PRIMARY KEY, note text)");
      await db.execute("CREATE TRIGGER shout BEFORE INSERT ON codes FOR EACH ROW SET NEW.k = UPPER(NEW.k)");
      await db.execute("CREATE TRIGGER number_ticket BEFORE INSERT ON tickets FOR EACH ROW SET NEW.id = NEW.id + 1000000");
    }
    await db.execute("INSERT INTO codes VALUES ('APPLICATION', 'kept'), ('OTHER', 'kept')");
    await db.execute("INSERT INTO tickets VALUES (5, 'kept')");
    const before = await databaseState(db.url, kind);
    const report = await insertBesideApplication(
      db,
      { tables: ["codes", "tickets"], rows_per_table: 250, batch_size: 100 },
      async () => {},
    );
    expect(report.skills[0]?.metrics?.rows_inserted).toBe(500);
    expect(report.rollback.conflicts).toEqual([]);
    expect(report.status).toBe("succeeded");
    expect(report.rollback.notes.join("\n")).toMatch(/deleted 100 chaos row\(s\) from .*codes/);
    expect(await databaseState(db.url, kind)).toEqual(before);
  });

  it("names the DELETE triggers in the plan and accounts for what they write at rollback", async () => {
    const db = await parentsDatabase(kind);
    if (kind === "postgres") {
      await db.execute("CREATE TABLE audit (id bigserial PRIMARY KEY, what text NOT NULL)");
      await db.execute(
        "CREATE FUNCTION audit_delete() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN INSERT INTO audit (what) VALUES ('deleted ' || OLD.id); RETURN OLD; END $$",
      );
      await db.execute("CREATE TRIGGER audit_delete AFTER DELETE ON parents FOR EACH ROW EXECUTE FUNCTION audit_delete()");
    } else {
      await db.execute("CREATE TABLE audit (id bigint AUTO_INCREMENT PRIMARY KEY, what text NOT NULL)");
      await db.execute(
        "CREATE TRIGGER audit_delete AFTER DELETE ON parents FOR EACH ROW INSERT INTO audit (what) VALUES (CONCAT('deleted ', OLD.id))",
      );
    }
    await db.execute("INSERT INTO audit (what) VALUES ('application')");
    const before = await databaseState(db.url, kind);
    const report = await insertBesideApplication(db, { tables: ["parents"], rows_per_table: 40 }, async () => {});
    expect(report.skills[0]?.plan).toMatch(/DELETE triggers will fire at rollback on .*parents \(audit_delete\)/);
    const after = await databaseState(db.url, kind);
    if (kind === "postgres") {
      // The 40 audit rows the rollback's DELETE caused are its own: removed in the same transaction.
      expect(report.rollback.conflicts).toEqual([]);
      expect(report.status).toBe("succeeded");
      expect(report.rollback.notes.join("\n")).toMatch(/removed 40 row\(s\) DELETE triggers wrote/);
      expect(after).toEqual(before);
    } else {
      expect(report.status).toBe("rollback_incomplete");
      expect(report.rollback.conflicts.join("\n")).toMatch(/DELETE trigger\(s\) audit_delete fired for 40 chaos row\(s\)/);
      expect(await numberOf(db, "SELECT COUNT(*) AS n FROM audit WHERE what LIKE 'deleted %'")).toBe(40);
      await db.execute("DELETE FROM audit WHERE what LIKE 'deleted %'");
      await db.execute("ALTER TABLE audit AUTO_INCREMENT = 1");
      expect(await databaseState(db.url, kind)).toEqual(before);
    }
  });

  it("deletes chaos's rows that db.update_load changed and put back in the same experiment", async () => {
    const db = await databases.shop(kind);
    const before = await databaseState(db.url, kind);
    const { report } = await runDatabaseExperiment({
      url: db.url,
      dbType: kind,
      skills: [
        { skill_name: "db.insert_load", params: { tables: ["products"], rows_per_table: 300 } },
        // 200 of the 350 rows: most of them chaos's own, written again by the update's rollback.
        { skill_name: "db.update_load", params: { tables: ["products"], rows: 200 } },
      ],
    });
    expect(report.rollback.conflicts).toEqual([]);
    expect(report.status).toBe("succeeded");
    expect(await databaseState(db.url, kind)).toEqual(before);
  });

  it("lets triggers that keep a counter put it back, and lists the rows they wrote", async () => {
    const db = await parentsDatabase(kind);
    await db.execute("CREATE TABLE counters (name varchar(20) PRIMARY KEY, n int NOT NULL)");
    await db.execute("INSERT INTO counters VALUES ('parents', 100)");
    if (kind === "postgres") {
      await db.execute(
        "CREATE FUNCTION count_parents() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN UPDATE counters SET n = n + CASE TG_OP WHEN 'INSERT' THEN 1 ELSE -1 END WHERE name = 'parents'; RETURN NULL; END $$",
      );
      await db.execute("CREATE TRIGGER count_parents AFTER INSERT OR DELETE ON parents FOR EACH ROW EXECUTE FUNCTION count_parents()");
    } else {
      await db.execute("CREATE TRIGGER count_in AFTER INSERT ON parents FOR EACH ROW UPDATE counters SET n = n + 1 WHERE name = 'parents'");
      await db.execute(
        "CREATE TRIGGER count_out AFTER DELETE ON parents FOR EACH ROW UPDATE counters SET n = n - 1 WHERE name = 'parents'",
      );
    }
    const before = await databaseState(db.url, kind);
    const report = await insertBesideApplication(db, { tables: ["parents"], rows_per_table: 60, batch_size: 30 }, async () => {
      expect(await numberOf(db, "SELECT n FROM counters")).toBe(160);
    });
    // Every chaos row is gone and the counter is back; what the triggers wrote is reported.
    expect(await databaseState(db.url, kind)).toEqual(before);
    expect(report.status).toBe("rollback_incomplete");
    const conflicts = report.rollback.conflicts.join("\n");
    if (kind === "postgres") {
      expect(conflicts).toMatch(
        /public\.counters: 1 row\(s\) written by a trigger on INSERT into public\.parents are left in place \(keys \(parents\)\)/,
      );
      expect(conflicts).toMatch(
        /public\.counters: 1 row\(s\) written by a trigger on DELETE from public\.parents \(rollback\) are left in place/,
      );
    } else {
      expect(conflicts).toMatch(/DELETE trigger\(s\) count_out fired for 30 chaos row\(s\)/);
    }
  });
});

describe("postgres: a role that is not a superuser", () => {
  /** A login role RLS applies to (not a superuser, not the tables' owner), for this database only. */
  async function restrictedRole(db: TestDatabase): Promise<{ url: string; drop: () => Promise<void> }> {
    const role = `${db.name}_app`;
    await db.execute(`CREATE ROLE ${role} LOGIN`);
    await db.execute(`GRANT ALL ON SCHEMA public TO ${role}`);
    await db.execute(`GRANT ALL ON ALL TABLES IN SCHEMA public TO ${role}`);
    await db.execute(`ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT ALL ON TABLES TO ${role}`);
    return {
      url: `${serverUrls.postgres.replace("//postgres@", `//${role}@`)}/${db.name}`,
      drop: async () => {
        await db.execute(`DROP OWNED BY ${role}`);
        await db.execute(`DROP ROLE ${role}`);
      },
    };
  }

  it("cannot hide a reference: a table RLS hides from chaos's role is refused at plan time, or its rows kept at rollback", async () => {
    const db = await parentsDatabase("postgres");
    const role = await restrictedRole(db);
    try {
      // At plan time: a referencing table whose rows chaos's role cannot all see.
      await db.execute("CREATE TABLE secrets (id int PRIMARY KEY, parent_id int REFERENCES parents(id) ON DELETE CASCADE)");
      await db.execute("ALTER TABLE secrets ENABLE ROW LEVEL SECURITY");
      const refused = await runDatabaseExperiment({
        url: role.url,
        dbType: "postgres",
        skills: [{ skill_name: "db.insert_load", params: { tables: ["parents"], rows_per_table: 10 } }],
      });
      expect(refused.report.skills[0]?.plan).toMatch(/parents: row-level security hides rows of public\.secrets/);
      expect(refused.report.skills[0]?.metrics?.rows_inserted).toBe(0);
      await db.execute("DROP TABLE secrets");

      // At rollback: the application creates such a table during the hold and references chaos rows.
      const before = await databaseState(db.url, "postgres");
      let acting: Promise<unknown> = Promise.resolve();
      const { report } = await runDatabaseExperiment({
        url: role.url,
        dbType: "postgres",
        duration: "2s",
        skills: [{ skill_name: "db.insert_load", params: { tables: ["parents"], rows_per_table: 30 } }],
        onEvent: (event) => {
          if (event.type !== "hold_started") return;
          acting = (async () => {
            await db.execute("CREATE TABLE secrets (id int PRIMARY KEY, parent_id int REFERENCES parents(id) ON DELETE CASCADE)");
            await db.execute("INSERT INTO secrets SELECT n, 100 + n FROM generate_series(1, 5) n");
            await db.execute("ALTER TABLE secrets ENABLE ROW LEVEL SECURITY");
          })();
        },
      });
      await acting;
      expect(report.status).toBe("rollback_incomplete");
      expect(report.rollback.conflicts.join("\n")).toMatch(/parents: 30 rows kept: row-level security hides rows of public\.secrets/);
      expect(await numberOf(db, "SELECT COUNT(*) AS n FROM secrets")).toBe(5);
      await db.execute("DROP TABLE secrets");
      await db.execute("DELETE FROM parents WHERE id > 100");
      expect(await databaseState(db.url, "postgres")).toEqual(before);
    } finally {
      await role.drop();
    }
  });

  it("says in the plan, before any change, that the rollback will be slow where each delete scans an unindexed referencing table", async () => {
    const db = await databases.empty("postgres");
    await db.execute("CREATE TABLE employees (id int PRIMARY KEY, manager_id int REFERENCES employees(id), name text NOT NULL)");
    await db.execute("INSERT INTO employees SELECT n, NULLIF(n / 2, 0), 'employee ' || n FROM generate_series(1, 1000) n");
    await db.execute("ANALYZE employees");
    const before = await databaseState(db.url, "postgres");
    const role = await restrictedRole(db);
    try {
      const params = { tables: ["employees"], rows_per_table: 100 };
      const restricted = await runDatabaseExperiment({
        url: role.url,
        dbType: "postgres",
        skills: [{ skill_name: "db.insert_load", params }],
      });
      expect(restricted.report.skills[0]?.plan).toMatch(
        /rollback of public\.employees will be slow: each deleted row's foreign-key check scans public\.employees \(≈1,100 rows, no index on manager_id\)/,
      );
      expect(restricted.report.status).toBe("succeeded");
      // A superuser skips the per-row checks after its own exact one: no warning.
      const superuser = await runDatabaseExperiment({
        url: db.url,
        dbType: "postgres",
        skills: [{ skill_name: "db.insert_load", params }],
      });
      expect(superuser.report.skills[0]?.plan).not.toMatch(/will be slow/);
      expect(superuser.report.status).toBe("succeeded");
      expect(await databaseState(db.url, "postgres")).toEqual(before);
    } finally {
      await role.drop();
    }
  });
});
