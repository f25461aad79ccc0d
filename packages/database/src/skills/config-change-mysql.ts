import type { DatabaseSession } from "../database-session.js";
import type { SettingInfo, SettingsBackend } from "./db-config-change.js";
import { sameSettingValue } from "./setting-values.js";

interface VariableRow {
  name: string;
  value: string | null;
  type: string | null;
  min: string | null;
  max: string | null;
  choices: string | null;
  read_only: string | null;
  scope: string | null;
}

/** Variables whose change can lose committed data or silently break integrity. */
const risky: Record<string, (value: string) => boolean> = {
  innodb_flush_log_at_trx_commit: (value) => value !== "1",
  sync_binlog: (value) => value === "0",
  innodb_doublewrite: (value) => sameSettingValue(value, "off"),
  foreign_key_checks: (value) => sameSettingValue(value, "off"),
  unique_checks: (value) => sameSettingValue(value, "off"),
  innodb_force_recovery: () => true,
  read_only: () => true,
  super_read_only: () => true,
  sql_log_bin: () => true,
  innodb_fast_shutdown: (value) => value === "2",
};

const variableName = /^[a-zA-Z0-9_]+$/;

function typeOf(row: VariableRow): SettingInfo["type"] {
  const type = (row.type ?? "").toUpperCase();
  if (type === "BOOLEAN") return "bool";
  if (type === "ENUM" || type === "SET") return "enum";
  if (/INT/.test(type)) return "integer";
  if (type === "DOUBLE") return "real";
  return "string";
}

async function globalValue(session: DatabaseSession, name: string): Promise<string> {
  if (!variableName.test(name)) throw new Error(`not a variable name: ${name}`);
  const { rows } = await session.client.query<{ value: string | null }>(`SELECT CAST(@@GLOBAL.${name} AS CHAR) AS value`);
  return rows[0]?.value ?? "";
}

async function setGlobal(session: DatabaseSession, name: string, value: string, numeric: boolean) {
  if (!variableName.test(name)) throw new Error(`not a variable name: ${name}`);
  // Numbers go unquoted (a quoted one is refused for numeric variables); everything else is escaped.
  if (numeric && /^-?\d+(\.\d+)?$/.test(value)) await session.client.query(`SET GLOBAL ${name} = ${value}`);
  else await session.client.query(`SET GLOBAL ${name} = ?`, [value]);
}

/** MySQL/MariaDB: SET GLOBAL (never PERSIST: a restart must not keep chaos's values). */
export const mysqlSettings: SettingsBackend = {
  async describe(session) {
    const mariadb = /mariadb/i.test((await session.schema()).serverVersion);
    const { rows } = mariadb
      ? await session.client.query<VariableRow>(
          `SELECT LOWER(VARIABLE_NAME) AS name, GLOBAL_VALUE AS value, VARIABLE_TYPE AS type, NUMERIC_MIN_VALUE AS min,
                  NUMERIC_MAX_VALUE AS max, ENUM_VALUE_LIST AS choices, READ_ONLY AS read_only, VARIABLE_SCOPE AS scope
             FROM information_schema.SYSTEM_VARIABLES`,
        )
      : await session.client.query<VariableRow>(
          `SELECT LOWER(g.VARIABLE_NAME) AS name, g.VARIABLE_VALUE AS value, NULL AS type, i.MIN_VALUE AS min, i.MAX_VALUE AS max,
                  NULL AS choices, NULL AS read_only, 'GLOBAL' AS scope
             FROM performance_schema.global_variables g LEFT JOIN performance_schema.variables_info i ON i.VARIABLE_NAME = g.VARIABLE_NAME`,
        );
    return new Map(
      rows.map((row) => {
        const type = typeOf(row);
        const numeric = type === "integer" || type === "real";
        return [
          row.name,
          {
            name: row.name,
            value: row.value ?? "",
            unit: null,
            type,
            min: numeric && row.min !== null ? Number(row.min) : undefined,
            max: numeric && row.max !== null ? Number(row.max) : undefined,
            choices: row.choices ? row.choices.split(",") : type === "bool" ? ["ON", "OFF"] : undefined,
            readOnly: row.read_only === "YES" || row.scope === "SESSION ONLY",
          } satisfies SettingInfo,
        ];
      }),
    );
  },

  dangerous(name, value) {
    return risky[name]?.(value) ? "endangers durability or integrity" : undefined;
  },

  async undoFor(session, setting, requested) {
    const before = await globalValue(session, setting.name);
    return {
      param: setting.name,
      original: before,
      before,
      requested,
      unit: setting.type === "integer" || setting.type === "real" ? "" : null,
    };
  },

  async apply(session, setting, value) {
    await setGlobal(session, setting.name, value, setting.type === "integer" || setting.type === "real");
    return globalValue(session, setting.name);
  },

  async restore(session, undo) {
    const current = await globalValue(session, undo.param);
    if (sameSettingValue(current, undo.before)) return undefined;
    if (!sameSettingValue(current, undo.requested)) {
      // The server may have adjusted chaos's value (rounding to a block size): compare what it reads as.
      return `${undo.param} is now ${current}, not what chaos set (${undo.requested}); someone changed it since, so it was left alone`;
    }
    await setGlobal(session, undo.param, undo.before, undo.unit === "");
    const after = await globalValue(session, undo.param);
    if (!sameSettingValue(after, undo.before)) throw new Error(`${undo.param} reads ${after} after the restore, expected ${undo.before}`);
    return undefined;
  },
};
