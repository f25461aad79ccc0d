import { setTimeout as sleep } from "node:timers/promises";
import type { DatabaseSession } from "../database-session.js";
import type { SettingInfo, SettingsBackend } from "./db-config-change.js";
import { sameSettingValue } from "./setting-values.js";

interface SettingRow {
  name: string;
  setting: string;
  unit: string | null;
  vartype: SettingInfo["type"];
  min_val: string | null;
  max_val: string | null;
  enumvals: string[] | null;
  context: string;
}

/** Settings whose change can lose data on a crash or break replication. */
const durability: Record<string, (value: string) => boolean> = {
  fsync: (value) => sameSettingValue(value, "off"),
  full_page_writes: (value) => sameSettingValue(value, "off"),
  synchronous_commit: (value) => /^(off|local)$/i.test(value),
  wal_level: () => true,
  wal_sync_method: () => true,
  archive_mode: () => true,
  archive_command: () => true,
  data_sync_retry: () => true,
  zero_damaged_pages: (value) => sameSettingValue(value, "on"),
  ignore_checksum_failure: (value) => sameSettingValue(value, "on"),
};

const quoteLiteral = (value: string) => `'${value.replace(/'/g, "''")}'`;
const quoteName = (name: string) => `"${name.replace(/"/g, '""')}"`;

/** "4096" in kB reads "4096kB"; a block unit such as "8kB" reads "16384×8kB". */
function withUnit(value: string, unit: string | null): string {
  if (!unit) return value;
  return /^\d/.test(unit) ? `${value}×${unit}` : `${value}${unit}`;
}

async function autoConfEntry(session: DatabaseSession, name: string): Promise<string | null> {
  const { rows } = await session.client.query<{ setting: string }>(
    "SELECT setting FROM pg_file_settings WHERE name = $1 AND sourcefile LIKE '%postgresql.auto.conf' ORDER BY seqno DESC LIMIT 1",
    [name],
  );
  return rows[0]?.setting ?? null;
}

async function currentValue(session: DatabaseSession, name: string): Promise<string> {
  const { rows } = await session.client.query<{ setting: string }>("SELECT setting FROM pg_settings WHERE name = $1", [name]);
  return rows[0]?.setting ?? "";
}

/** ALTER SYSTEM + pg_reload_conf(), then waits until the server reports the expected value. */
async function reloadUntil(session: DatabaseSession, name: string, expected: string, unit: string | null): Promise<string> {
  await session.client.query("SELECT pg_reload_conf()");
  let value = "";
  for (let attempt = 0; attempt < 50; attempt++) {
    value = await currentValue(session, name);
    if (sameSettingValue(value, expected, unit)) return value;
    await sleep(100);
  }
  return value;
}

/** PostgreSQL: settings from pg_settings, changes through postgresql.auto.conf. */
export const postgresSettings: SettingsBackend = {
  async describe(session) {
    const { rows } = await session.client.query<SettingRow>(
      "SELECT name, setting, unit, vartype, min_val, max_val, enumvals, context FROM pg_settings",
    );
    return new Map(
      rows.map((row) => [
        row.name.toLowerCase(),
        {
          name: row.name,
          value: withUnit(row.setting, row.unit),
          unit: row.unit,
          type: row.vartype,
          min: row.min_val === null ? undefined : Number(row.min_val),
          max: row.max_val === null ? undefined : Number(row.max_val),
          choices: row.enumvals ?? undefined,
          readOnly: row.context === "internal",
          needsRestart: row.context === "postmaster" ? "needs a server restart to take effect" : undefined,
        } satisfies SettingInfo,
      ]),
    );
  },

  dangerous(name, value) {
    return durability[name]?.(value) ? "endangers durability" : undefined;
  },

  async undoFor(session, setting, requested) {
    return {
      param: setting.name,
      original: await autoConfEntry(session, setting.name),
      before: await currentValue(session, setting.name),
      requested,
      unit: setting.unit,
    };
  },

  async apply(session, setting, value) {
    await session.client.query(`ALTER SYSTEM SET ${quoteName(setting.name)} = ${quoteLiteral(value)}`);
    const { rows } = await session.client.query<{ error: string | null }>(
      "SELECT error FROM pg_file_settings WHERE name = $1 AND error IS NOT NULL",
      [setting.name],
    );
    if (rows[0]?.error) throw new Error(`PostgreSQL rejected ${setting.name} = ${value}: ${rows[0].error}`);
    if (setting.needsRestart) return `${value} (after a restart)`;
    return withUnit(await reloadUntil(session, setting.name, value, setting.unit), setting.unit);
  },

  async restore(session, undo) {
    const entry = await autoConfEntry(session, undo.param);
    const alreadyOriginal = sameSettingValue(entry, undo.original, undo.unit);
    if (!alreadyOriginal && !sameSettingValue(entry, undo.requested, undo.unit)) {
      return `${undo.param} in postgresql.auto.conf is now ${entry ?? "unset"}, not what chaos set (${undo.requested}); someone changed it since, so it was left alone`;
    }
    if (!alreadyOriginal) {
      await session.client.query(
        undo.original === null
          ? `ALTER SYSTEM RESET ${quoteName(undo.param)}`
          : `ALTER SYSTEM SET ${quoteName(undo.param)} = ${quoteLiteral(undo.original)}`,
      );
    }
    const value = await reloadUntil(session, undo.param, undo.before, undo.unit);
    const { rows } = await session.client.query<{ context: string }>("SELECT context FROM pg_settings WHERE name = $1", [undo.param]);
    if (!sameSettingValue(value, undo.before, undo.unit) && rows[0]?.context !== "postmaster") {
      throw new Error(`${undo.param} reads ${value} after the restore, expected ${undo.before}; will retry`);
    }
    return undefined;
  },
};
