import { EventBus, type JsonValue } from "@chaos-agents/core";
import { databaseSkills } from "@chaos-agents/database";
import { databaseState, runDatabaseExperiment, type TestDatabase, useTestDatabases, withDatabaseSession } from "@chaos-agents/testing";
import { describe, expect, it } from "vitest";

const databases = useTestDatabases();

/**
 * Every column type at its extremes. The snapshot below reads each value in a form that
 * loses nothing, independently of how chaos reads them (PostgreSQL's row output; on MariaDB
 * floats through DOUBLE and bytes as hex).
 */
const extremes = {
  postgres: [
    "CREATE TYPE mood AS ENUM ('happy', 'sad', 'very ''quoted''')",
    `CREATE TABLE extremes (id int PRIMARY KEY, r real, d double precision, n numeric, n38 numeric(38,10), i8 bigint, i2 smallint,
       ts timestamptz, tsn timestamp, tz timetz, iv interval, b bit(8), vb varbit(20), by bytea, j json, jb jsonb, e mood, tx text,
       u uuid, ip inet, ar int[], rg int4range, dt date, m money, ok boolean)`,
    `INSERT INTO extremes VALUES
       (1, 3.4028235e38, 1.7976931348623157e308, 123456789012345678901234567890.123456789012345678901234567890, 9999999999999999999999999999.9999999999,
        9223372036854775807, 32767, '294276-12-31 23:59:59.999999+00', '4713-01-01 00:00:00 BC', '24:00:00+15:59', '178000000 years',
        B'11111111', B'10101010101010101010', '\\x00ff', '{"a": 1.0000000000000001, "b": [1e400]}', '{"a": 1.5}', 'very ''quoted''', 'naïve ☃ 𝄞',
        'ffffffff-ffff-ffff-ffff-ffffffffffff', '::ffff:1.2.3.4/128', '{2147483647,-2147483648}', '[-2147483648,2147483647)', 'infinity', '92233720368547758.07', true),
       (2, 1.4e-45, 5e-324, -0.000000000000000000000000000001, -9999999999999999999999999999.9999999999,
        -9223372036854775808, -32768, '-infinity', 'infinity', '00:00:00-15:59', '-178000000 years', B'00000000', B'', '\\x', '[]', '{}',
        'happy', '', '00000000-0000-0000-0000-000000000000', '0.0.0.0/0', '{}', 'empty', '-infinity', '-92233720368547758.08', false),
       (3, 'NaN', '-Infinity', 'NaN', 0, 0, 0, '2000-02-29 12:34:56.789012+05:30', '2000-02-29 12:34:56.789012', '12:00:00.000001+00', '1 microsecond',
        B'00000001', B'1', '\\xdeadbeef', 'null', 'null', 'sad', E'tab\\tnew\\nline "quotes" \\\\ backslash', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', '2001:db8::1', '{NULL,1}', '(,)', '2024-02-29', '0', NULL),
       (4, 0.1, 0.1, 0.1, 0.1, 1, 1, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL)`,
  ],
  mysql: [
    `CREATE TABLE extremes (id int PRIMARY KEY, f float, fs float(7,3), d double, de decimal(65,30), ti tinyint, tu tinyint unsigned,
       bi bigint, bu bigint unsigned, ts timestamp(6) NULL, dt datetime(6), t time(6), y year, b bit(8), bin varbinary(16), fb binary(4),
       j json, e enum('happy','sad','very ''quoted'''), s set('a','b','c'), tx text, ch char(5), g point NULL)`,
    `INSERT INTO extremes VALUES
       (1, 3.40282e38, 9999.999, 1.7976931348623157e308, 99999999999999999999999999999999999.999999999999999999999999999999, 127, 255,
        9223372036854775807, 18446744073709551615, '2038-01-19 03:14:07.999999', '9999-12-31 23:59:59.999999', '838:59:59.000000', 2155, b'11111111',
        UNHEX('00FF'), UNHEX('DEADBEEF'), '{"a": 1.0000000000000001}', 'very ''quoted''', 'a,b,c', 'naïve ☃ 𝄞', 'abcde', ST_GeomFromText('POINT(1 2)')),
       (2, 1.17549e-38, -9999.999, 5e-324, -99999999999999999999999999999999999.999999999999999999999999999999, -128, 0,
        -9223372036854775808, 0, '1970-01-01 00:00:01.000000', '1000-01-01 00:00:00.000000', '-838:59:59.000000', 1901, b'00000000',
        UNHEX(''), UNHEX('00000000'), '[]', 'happy', '', '', '', NULL),
       (3, 0.3333333333, 0.001, 0.1, 0.000000000000000000000000000001, 0, 1, 0, 1, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, 'sad', 'b', 'tab\\tnew\\nline', 'x', NULL),
       (4, 16777217, 1.0005, 123456789.123456789, 0.1, 1, 1, 1, 1, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL)`,
  ],
};

async function losslessSnapshot(db: TestDatabase): Promise<string[]> {
  if (db.kind === "postgres") return (await db.execute("SELECT e::text AS v FROM extremes e ORDER BY id")).map((row) => String(row.v));
  const rows = await db.execute(
    `SELECT CONCAT_WS('|', id, CAST(CAST(f AS DOUBLE) AS CHAR), CAST(CAST(fs AS DOUBLE) AS CHAR), CAST(d AS CHAR), de, ti, tu, bi, bu,
       ts, dt, t, y, HEX(b), HEX(bin), HEX(fb), j, e, s, HEX(tx), HEX(ch), HEX(ST_AsBinary(g))) AS v FROM extremes ORDER BY id`,
  );
  return rows.map((row) => String(row.v));
}

describe.each(["postgres", "mysql"] as const)("%s db.update_load restore", (kind) => {
  it("round-trips every column type at its extremes byte for byte (MariaDB FLOAT was captured as 6-digit text)", async () => {
    const db = await databases.empty(kind);
    for (const statement of extremes[kind]) await db.execute(statement);
    const before = await losslessSnapshot(db);
    const checksums = await databaseState(db.url, kind);
    const { report } = await runDatabaseExperiment({
      url: db.url,
      dbType: kind,
      skills: [{ skill_name: "db.update_load", params: { tables: ["extremes"], rows: 4, mode: "random" } }],
    });
    expect(report.skills[0]?.error).toBeUndefined();
    expect(report.skills[0]?.metrics?.rows_changed).toBe(4);
    expect(report.rollback.conflicts).toEqual([]);
    expect(report.status).toBe("succeeded");
    expect(await losslessSnapshot(db)).toEqual(before);
    expect(await databaseState(db.url, kind)).toEqual(checksums);
  });
});

/** Every row as text, by key, read the same way on both engines. */
async function rowsOf(db: TestDatabase, table: string, columns: string[]): Promise<Map<string, string>> {
  const text = columns.map((column) => (db.kind === "postgres" ? `${column}::text` : `CAST(${column} AS CHAR)`)).join(", ");
  const rows = await db.execute(`SELECT id, CONCAT_WS('|', ${text}) AS v FROM ${table} ORDER BY id`);
  return new Map(rows.map((row) => [String(row.id), String(row.v)]));
}

const stampedSchema = {
  postgres: [
    "CREATE TABLE stamped (id int PRIMARY KEY, qty int NOT NULL, note text, updated_at timestamptz NOT NULL)",
    "CREATE FUNCTION stamp() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN NEW.updated_at := clock_timestamp(); RETURN NEW; END $$",
    "CREATE TRIGGER stamp BEFORE UPDATE ON stamped FOR EACH ROW EXECUTE FUNCTION stamp()",
    "INSERT INTO stamped SELECT n, n, 'row ' || n, '2020-01-01 00:00:00+00' FROM generate_series(1, 30) n",
  ],
  mysql: [
    `CREATE TABLE stamped (id int PRIMARY KEY, qty int NOT NULL, note varchar(40),
       updated_at timestamp(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6) ON UPDATE CURRENT_TIMESTAMP(6))`,
    "INSERT INTO stamped SELECT seq, seq, CONCAT('row ', seq), '2020-01-01 00:00:00' FROM seq_1_to_30",
  ],
};
const stampedColumns = ["qty", "note", "updated_at"];

describe.each(["postgres", "mysql"] as const)("%s db.update_load beside stamping triggers", (kind) => {
  it.each([
    ["rewrite", {}],
    ["random", { mode: "random" }],
  ] as const)(
    "mode %s restores the stamp chaos's UPDATE caused, leaves no new one, and reports the row the application changed",
    async (mode, modeParams) => {
      const db = await databases.empty(kind);
      for (const statement of stampedSchema[kind]) await db.execute(statement);
      const before = await rowsOf(db, "stamped", stampedColumns);
      const { report } = await runDatabaseExperiment({
        url: db.url,
        dbType: kind,
        duration: "1s",
        skills: [{ skill_name: "db.update_load", params: { tables: ["stamped"], rows: 30, ...modeParams } }],
        onEvent: (event) => {
          if (event.type === "hold_started") void db.execute("UPDATE stamped SET note = 'application' WHERE id = 1");
        },
      });
      expect(report.skills[0]?.error).toBeUndefined();
      // Every row got a stamp from chaos's statement, so every row was journaled.
      expect(report.skills[0]?.metrics?.rows_changed).toBe(30);
      if (kind === "postgres")
        expect(report.skills[0]?.plan).toContain("triggers that will fire on chaos's UPDATE and on its restore: public.stamp");
      const after = await rowsOf(db, "stamped", stampedColumns);
      for (const id of Array.from({ length: 29 }, (_, index) => String(index + 2))) expect(after.get(id), `row ${id}`).toBe(before.get(id));
      // Row 1 is the application's now: its note (random mode: chaos's note replaced) and its stamp, both reported.
      expect(after.get("1")).toMatch(/\|application\|/);
      const conflicts = report.rollback.conflicts.join("\n");
      expect(conflicts).toMatch(/stamped row \(1\): column updated_at was changed by someone else/);
      if (mode === "random") expect(conflicts).toMatch(/stamped row \(1\): column note was changed by someone else/);
      expect(report.rollback.conflicts.every((conflict) => conflict.includes("row (1)"))).toBe(true);
      expect(report.status).toBe("rollback_incomplete");
    },
  );

  it("reports the stamp a BEFORE UPDATE trigger writes again on restore when it cannot be suppressed", async () => {
    const db = await databases.empty(kind);
    const role = `chaos_plain_${Math.random().toString(36).slice(2, 8)}`;
    if (kind === "postgres") {
      await db.execute("CREATE TABLE stamped (id int PRIMARY KEY, qty int NOT NULL, stamp timestamptz NOT NULL)");
      await db.execute(
        "CREATE FUNCTION stamp() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN NEW.stamp := clock_timestamp(); RETURN NEW; END $$",
      );
      await db.execute("CREATE TRIGGER stamp BEFORE UPDATE ON stamped FOR EACH ROW EXECUTE FUNCTION stamp()");
      await db.execute("INSERT INTO stamped SELECT n, n, '2020-01-01 00:00:00+00' FROM generate_series(1, 10) n");
      // A role that may not set session_replication_role: chaos cannot suppress the trigger.
      await db.execute(`CREATE ROLE ${role} LOGIN`);
      await db.execute(`GRANT USAGE ON SCHEMA public TO ${role}; GRANT SELECT, UPDATE ON stamped TO ${role}`);
    } else {
      await db.execute("CREATE TABLE stamped (id int PRIMARY KEY, qty int NOT NULL, stamp datetime(6) NOT NULL)");
      await db.execute("CREATE TRIGGER stamp BEFORE UPDATE ON stamped FOR EACH ROW SET NEW.stamp = NOW(6)");
      await db.execute("INSERT INTO stamped SELECT seq, seq, '2020-01-01 00:00:00' FROM seq_1_to_10");
    }
    try {
      const url = kind === "postgres" ? db.url.replace("postgres@", `${role}@`) : db.url;
      const { report } = await runDatabaseExperiment({
        url,
        dbType: kind,
        skills: [{ skill_name: "db.update_load", params: { tables: ["stamped"], rows: 10, mode: "random" } }],
      });
      expect(report.skills[0]?.error).toBeUndefined();
      expect(report.status).toBe("rollback_incomplete");
      const again = report.rollback.conflicts.filter((conflict) =>
        /stamped row \(\d+\): column stamp was changed again by a trigger when chaos restored the row/.test(conflict),
      );
      expect(again).toHaveLength(10);
      // The values chaos changed are back all the same.
      const rows = await db.execute("SELECT COUNT(*) AS n FROM stamped WHERE qty = id");
      expect(Number(rows[0]?.n)).toBe(10);
    } finally {
      if (kind === "postgres") {
        await db.execute(`REVOKE ALL ON stamped FROM ${role}; REVOKE ALL ON SCHEMA public FROM ${role}`);
        await db.execute(`DROP ROLE ${role}`).catch(() => undefined);
      }
    }
  });

  it("lists or names the rows an UPDATE trigger wrote elsewhere, and the plan names the trigger", async () => {
    const db = await databases.empty(kind);
    if (kind === "postgres") {
      await db.execute("CREATE TABLE audited (id int PRIMARY KEY, qty int NOT NULL)");
      await db.execute("CREATE TABLE audit_log (id bigserial PRIMARY KEY, what text NOT NULL)");
      await db.execute(
        "CREATE FUNCTION audit() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN INSERT INTO audit_log (what) VALUES ('updated ' || NEW.id); RETURN NEW; END $$",
      );
      await db.execute("CREATE TRIGGER audit AFTER UPDATE ON audited FOR EACH ROW EXECUTE FUNCTION audit()");
      await db.execute("INSERT INTO audited SELECT n, n FROM generate_series(1, 20) n");
    } else {
      await db.execute("CREATE TABLE audited (id int PRIMARY KEY, qty int NOT NULL)");
      await db.execute("CREATE TABLE audit_log (id bigint AUTO_INCREMENT PRIMARY KEY, what text NOT NULL)");
      await db.execute(
        "CREATE TRIGGER audit AFTER UPDATE ON audited FOR EACH ROW INSERT INTO audit_log (what) VALUES (CONCAT('updated ', NEW.id))",
      );
      await db.execute("INSERT INTO audited SELECT seq, seq FROM seq_1_to_20");
    }
    const before = await databaseState(db.url, kind);
    const { report } = await runDatabaseExperiment({
      url: db.url,
      dbType: kind,
      skills: [{ skill_name: "db.update_load", params: { tables: ["audited"], rows: 20 } }],
    });
    expect(report.skills[0]?.error).toBeUndefined();
    expect(report.skills[0]?.plan).toContain(
      `triggers that will fire on chaos's UPDATE and on its restore: ${kind === "postgres" ? "public" : db.name}.audited.audit`,
    );
    expect(report.status).toBe("rollback_incomplete");
    const after = await databaseState(db.url, kind);
    const audit = Object.keys(after).find((name) => name.endsWith("audit_log")) as string;
    const audited = Object.keys(after).find((name) => name.endsWith(".audited")) as string;
    // The audited rows are as they were; the audit rows are the one thing left, and the report says so.
    expect(after[audited]).toEqual(before[audited]);
    if (kind === "postgres") {
      expect(after[audit]?.rows).toBe(20);
      expect(report.rollback.conflicts.join("\n")).toMatch(
        /public\.audit_log: 20 row\(s\) written by a trigger on UPDATE of public\.audited/,
      );
    } else {
      expect(after[audit]?.rows).toBeGreaterThanOrEqual(20);
      expect(report.rollback.conflicts.join("\n")).toMatch(
        /audited: chaos's UPDATEs fired trigger\(s\) .*audited\.audit; MySQL cannot list the rows/,
      );
    }
  });

  it("restores the columns that still exist when one was renamed during the hold, and names the column and rows it cannot", async () => {
    const db = await databases.empty(kind);
    await db.execute("CREATE TABLE renamed (id int PRIMARY KEY, qty int NOT NULL, note varchar(40))");
    await db.execute(
      kind === "postgres"
        ? "INSERT INTO renamed SELECT n, n, 'row ' || n FROM generate_series(1, 50) n"
        : "INSERT INTO renamed SELECT seq, seq, CONCAT('row ', seq) FROM seq_1_to_50",
    );
    const { report } = await runDatabaseExperiment({
      url: db.url,
      dbType: kind,
      duration: "1s",
      skills: [{ skill_name: "db.update_load", params: { tables: ["renamed"], rows: 50, mode: "random" } }],
      onEvent: (event) => {
        if (event.type === "hold_started") void db.execute("ALTER TABLE renamed RENAME COLUMN note TO remark");
      },
    });
    expect(report.skills[0]?.error).toBeUndefined();
    expect(report.rollback.failed).toEqual([]);
    expect(report.status).toBe("rollback_incomplete");
    // qty is back everywhere; remark keeps chaos's value exactly in the rows the report names.
    expect(Number((await db.execute("SELECT COUNT(*) AS n FROM renamed WHERE qty = id"))[0]?.n)).toBe(50);
    const changed = (await db.execute("SELECT id FROM renamed WHERE remark IS NULL OR remark <> CONCAT('row ', id) ORDER BY id")).map(
      (row) => `(${row.id})`,
    );
    expect(changed.length).toBeGreaterThan(40);
    const conflict = report.rollback.conflicts.find((text) => text.includes("column note no longer exists"));
    expect(conflict).toMatch(
      new RegExp(
        `renamed: column note no longer exists \\(renamed or dropped during the hold\\); ${changed.length} row\\(s\\) keep chaos's value in it: `,
      ),
    );
    expect(conflict?.split(": ").at(-1)?.split(" ")).toEqual(changed);
  });
});

describe.each(["postgres", "mysql"] as const)("%s db.update_load compensation after a crash", (kind) => {
  it("never subtracts a change whose batch is not proven committed (the journal is written before COMMIT)", async () => {
    const db = await databases.empty(kind);
    await db.execute("CREATE TABLE ledger (id int PRIMARY KEY, balance bigint NOT NULL)");
    // The application moved the balance from 100 to 130 while chaos's batch, journaled with 100 → 5000, never committed.
    await db.execute("INSERT INTO ledger VALUES (1, 130)");
    let transaction: string | undefined;
    if (kind === "postgres") {
      await db.execute("BEGIN");
      transaction = String((await db.execute("SELECT pg_current_xact_id()::text AS id"))[0]?.id);
      await db.execute("ROLLBACK");
    }
    const undo = {
      table: kind === "postgres" ? "public.ledger" : `${db.name}.ledger`,
      keyColumns: ["id"],
      columns: ["balance"],
      rows: [{ key: ["1"], before: ["100"], after: ["5000"] }],
      compensate: ["balance"],
      batch: "a batch this process never saw commit",
      ...(transaction ? { transaction } : {}),
    };
    const skill = databaseSkills.find((candidate) => candidate.name === "db.update_load") as (typeof databaseSkills)[number];
    const result = await withDatabaseSession(db.url, kind, (session) =>
      skill.rollback(
        { experimentId: "test", session, runtime: new Map(), log: new EventBus().logger(), saveCheckpoint: async () => undefined },
        undo,
      ),
    );
    expect((await db.execute("SELECT balance FROM ledger"))[0]?.balance).toBe(kind === "postgres" ? "130" : 130);
    if (kind === "postgres") {
      // pg_xact_status says the batch aborted: nothing happened, nothing to restore.
      expect(result?.summary).toMatch(/never committed; nothing to restore/);
      expect(result?.conflicts ?? []).toEqual([]);
    } else {
      expect(result?.conflicts).toEqual([
        expect.stringMatching(/ledger row \(1\): column balance not compensated: chaos cannot prove its batch committed/),
      ]);
    }
  });
});

describe.each(["postgres", "mysql"] as const)("%s db.update_load compensation in chaos recover", (kind) => {
  it("compensates a batch proven committed (pg_xact_status; the marker journaled after a MySQL COMMIT)", async () => {
    const db = await databases.empty(kind);
    await db.execute("CREATE TABLE ledger (id int PRIMARY KEY, balance bigint NOT NULL)");
    // Chaos wrote 5000 over 100 and committed; the application then added 30.
    await db.execute("INSERT INTO ledger VALUES (1, 5030)");
    let transaction: string | undefined;
    if (kind === "postgres") {
      await db.execute("BEGIN");
      transaction = String((await db.execute("SELECT pg_current_xact_id()::text AS id"))[0]?.id);
      await db.execute("COMMIT");
    }
    const table = kind === "postgres" ? "public.ledger" : `${db.name}.ledger`;
    const batch = "a batch of a process that was killed";
    const steps = [
      ...(kind === "mysql" ? [{ committedBatch: batch, table }] : []),
      {
        table,
        keyColumns: ["id"],
        columns: ["balance"],
        rows: [{ key: ["1"], before: ["100"], after: ["5000"] }],
        compensate: ["balance"],
        batch,
        ...(transaction ? { transaction } : {}),
      },
    ];
    const skill = databaseSkills.find((candidate) => candidate.name === "db.update_load") as (typeof databaseSkills)[number];
    // A fresh runtime shared by the steps, as `chaos recover` gives them (newest, the marker, first).
    const runtime = new Map<string, unknown>();
    const results = await withDatabaseSession(db.url, kind, async (session) => {
      const done = [];
      for (const step of steps)
        done.push(
          await skill.rollback(
            { experimentId: "test", session, runtime, log: new EventBus().logger(), saveCheckpoint: async () => undefined },
            step,
          ),
        );
      return done;
    });
    expect(results.at(-1)?.summary).toMatch(/restored 1 row\(s\) of .*ledger, compensated 1/);
    expect(results.flatMap((result) => result?.conflicts ?? [])).toEqual([]);
    expect(String((await db.execute("SELECT balance FROM ledger"))[0]?.balance)).toBe("130");
  });
});

describe.each(["postgres", "mysql"] as const)("%s db.update_load compensation with a checkpoint", (kind) => {
  it("redoes a compensating restore whose earlier try never committed, and skips one that did", async () => {
    const db = await databases.empty(kind);
    await db.execute("CREATE TABLE ledger (id int PRIMARY KEY, balance bigint NOT NULL)");
    // Chaos wrote 5000 over 100 and committed; the application then added 30.
    await db.execute("INSERT INTO ledger VALUES (1, 5030)");
    const table = kind === "postgres" ? "public.ledger" : `${db.name}.ledger`;
    const batch = "a batch this process saw commit";
    const undo = {
      table,
      keyColumns: ["id"],
      columns: ["balance"],
      rows: [{ key: ["1"], before: ["100"], after: ["5000"] }],
      compensate: ["balance"],
      batch,
    };
    // An earlier try that wrote its checkpoint and then died before COMMIT: an aborted
    // transaction (PostgreSQL), a marker that never reached its table (MySQL).
    let neverCommitted: Record<string, string>;
    if (kind === "postgres") {
      await db.execute("BEGIN");
      neverCommitted = { restoreTransaction: String((await db.execute("SELECT pg_current_xact_id()::text AS id"))[0]?.id) };
      await db.execute("ROLLBACK");
    } else {
      neverCommitted = {
        restoreMarker: "00000000-0000-0000-0000-000000000000",
        markerTable: `\`${db.name}\`.\`chaos_agents_restored_test\``,
      };
    }
    const skill = databaseSkills.find((candidate) => candidate.name === "db.update_load") as (typeof databaseSkills)[number];
    const saved: JsonValue[] = [];
    const rollBack = (checkpoint: JsonValue) =>
      withDatabaseSession(db.url, kind, (session) =>
        skill.rollback(
          {
            experimentId: "test",
            session,
            runtime: new Map([["db.update_load committed batches", new Set([batch])]]),
            log: new EventBus().logger(),
            checkpoint,
            saveCheckpoint: async (value) => void saved.push(value),
          },
          undo,
        ),
      );
    const redone = await rollBack(neverCommitted);
    expect(redone?.summary).toMatch(/restored 1 row\(s\) of .*ledger, compensated 1/);
    expect(String((await db.execute("SELECT balance FROM ledger"))[0]?.balance)).toBe("130");
    // The redo journaled its own proof before its COMMIT; a try after it finds the restore committed.
    const proof = saved.at(-1) as JsonValue;
    expect(proof).toHaveProperty(kind === "postgres" ? "restoreTransaction" : "restoreMarker");
    const again = await rollBack(proof);
    expect(again?.summary).toMatch(/its compensating restore had committed before the rollback was interrupted; nothing left to do/);
    expect(String((await db.execute("SELECT balance FROM ledger"))[0]?.balance)).toBe("130");
  });
});
