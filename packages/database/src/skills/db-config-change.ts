import { closest, defineSkill, type RollbackResult, SkillError } from "@chaos-agents/core";
import { z } from "zod";
import type { DatabaseSession } from "../database-session.js";
import { mysqlSettings } from "./config-change-mysql.js";
import { postgresSettings } from "./config-change-postgres.js";
import { inSettingUnit, settingWithUnit } from "./setting-values.js";

const params = z.strictObject({
  changes: z
    .array(
      z.strictObject({
        param: z.string().min(1).describe("the setting's name, e.g. work_mem (PostgreSQL) or long_query_time (MySQL)"),
        value: z
          .union([z.string(), z.number(), z.boolean()])
          .transform(String)
          .describe("the value to set, in the server's own units, e.g. 16MB or 0.5"),
      }),
    )
    .min(1, "expected at least one {param, value}")
    .describe("settings to change for the hold; each is restored exactly at rollback"),
  allow_dangerous: z
    .boolean()
    .default(false)
    .describe("also allow settings that need a restart or endanger durability (as allow_dangerous on the experiment)"),
});
type Params = z.output<typeof params>;

/** One setting as the server describes it. */
export interface SettingInfo {
  name: string;
  /** Current value as the server reports it. */
  value: string;
  unit: string | null;
  type: "bool" | "integer" | "real" | "enum" | "string";
  min?: number;
  max?: number;
  choices?: string[];
  /** Why it cannot be changed safely at run time (restart needed, read-only); undefined if it can. */
  needsRestart?: string;
  readOnly?: boolean;
}

/** Undo of one setting change, journaled before the change. */
export interface SettingUndo {
  [key: string]: string | null;
  param: string;
  /** PostgreSQL: the postgresql.auto.conf entry before (null: none, so RESET). MySQL: the global value before. */
  original: string | null;
  /** The value as it was in effect before (for read-back after the restore). */
  before: string;
  /** What chaos set; a different current value means someone else changed it since. */
  requested: string;
  unit: string | null;
}

/** The dialect-specific half of config_change. */
export interface SettingsBackend {
  /** Every setting's description, by lower-case name. */
  describe(session: DatabaseSession): Promise<Map<string, SettingInfo>>;
  /** Parameters that endanger durability or safety when changed (by lower-case name), with why. */
  dangerous(name: string, value: string): string | undefined;
  /** Reads what the undo needs, before any change. */
  undoFor(session: DatabaseSession, setting: SettingInfo, requested: string): Promise<SettingUndo>;
  /** Applies the change and returns the value read back once it took effect. */
  apply(session: DatabaseSession, setting: SettingInfo, value: string): Promise<string>;
  /** Restores one setting (idempotent, guarded); returns a conflict message if someone else changed it. */
  restore(session: DatabaseSession, undo: SettingUndo): Promise<string | undefined>;
}

function backendOf(session: DatabaseSession): SettingsBackend {
  return session.dialect.kind === "postgres" ? postgresSettings : mysqlSettings;
}

export const dbConfigChange = defineSkill<Params, DatabaseSession, SettingUndo>({
  name: "db.config_change",
  target: "database",
  description: "Change server settings (ALTER SYSTEM + reload / SET GLOBAL), restored exactly",
  reversible: true,
  params,

  async plan({ params, session, allowDangerous }) {
    const backend = backendOf(session);
    const settings = await backend.describe(session);
    const problems: string[] = [];
    const allowed = allowDangerous || params.allow_dangerous;
    for (const change of params.changes) {
      const setting = settings.get(change.param.toLowerCase());
      if (!setting) {
        const suggestion = closest(change.param, [...settings.keys()]);
        problems.push(`unknown parameter "${change.param}"${suggestion ? ` (did you mean ${suggestion}?)` : ""}`);
        continue;
      }
      const invalid = validateValue(setting, change.value);
      if (invalid) problems.push(`${change.param} = ${change.value}: ${invalid}`);
      if (setting.readOnly) problems.push(`${change.param} cannot be changed while the server runs`);
      else if (setting.needsRestart && !allowed)
        problems.push(`${change.param} ${setting.needsRestart}; set allow_dangerous: true to change it anyway`);
      const danger = backend.dangerous(setting.name.toLowerCase(), change.value);
      if (danger && !allowed) problems.push(`${change.param} = ${change.value} ${danger}; set allow_dangerous: true to do it anyway`);
    }
    const duplicates = params.changes.map((change) => change.param.toLowerCase()).filter((name, index, all) => all.indexOf(name) !== index);
    if (duplicates.length) problems.push(`parameter(s) changed twice: ${[...new Set(duplicates)].join(", ")}`);
    if (problems.length) throw new SkillError("db.config_change", problems.join("; "));
    return {
      targets: params.changes.map((change) => change.param),
      summary: params.changes
        .map((change) => `${change.param}: ${settings.get(change.param.toLowerCase())?.value} → ${change.value}`)
        .join(", "),
    };
  },

  async inject({ params, session, journal, signal }) {
    const backend = backendOf(session);
    const settings = await backend.describe(session);
    const applied: string[] = [];
    for (const change of params.changes) {
      if (signal.aborted) break;
      const setting = settings.get(change.param.toLowerCase()) as SettingInfo;
      await journal.record(await backend.undoFor(session, setting, change.value));
      const readBack = await backend.apply(session, setting, change.value);
      applied.push(`${setting.name}: ${setting.value} → ${readBack}`);
    }
    return { summary: `changed ${applied.join(", ")}`, metrics: { settings_changed: applied.length } };
  },

  async rollback({ session }, undo): Promise<RollbackResult> {
    const conflict = await backendOf(session).restore(session, undo);
    return conflict ? { conflicts: [conflict] } : { summary: `${undo.param} restored to ${settingWithUnit(undo.before, undo.unit)}` };
  },
});

function validateValue(setting: SettingInfo, value: string): string | undefined {
  if (setting.type === "bool") return /^(on|off|true|false|yes|no|1|0)$/i.test(value) ? undefined : "expected on or off";
  if (setting.type === "enum") {
    return setting.choices?.some((choice) => choice.toLowerCase() === value.toLowerCase())
      ? undefined
      : `expected one of ${setting.choices?.join(", ")}`;
  }
  if (setting.type === "integer" || setting.type === "real") {
    const number = numberIn(setting, value);
    if (number === undefined) return `expected a number${setting.unit ? ` (unit ${setting.unit}, or with kB/MB/GB, ms/s/min/h)` : ""}`;
    if (setting.type === "integer" && !Number.isInteger(Math.round(number * 1e9) / 1e9)) return "expected a whole number";
    if (setting.min !== undefined && number < setting.min) return `below the minimum ${setting.min}${setting.unit ?? ""}`;
    if (setting.max !== undefined && number > setting.max) return `above the maximum ${setting.max}${setting.unit ?? ""}`;
  }
  return undefined;
}

function numberIn(setting: SettingInfo, value: string): number | undefined {
  const match = value.trim().match(/^(-?\d+(?:\.\d+)?)\s*([a-zA-Z]*)$/);
  if (!match) return undefined;
  if (!match[2]) return Number(match[1]);
  return setting.unit ? inSettingUnit(value, setting.unit) : undefined;
}
