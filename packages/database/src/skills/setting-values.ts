/** Base-unit multipliers for PostgreSQL's memory and time units. */
const memoryUnits: Record<string, number> = { B: 1, kB: 1024, MB: 1024 ** 2, GB: 1024 ** 3, TB: 1024 ** 4 };
const timeUnits: Record<string, number> = { us: 0.001, ms: 1, s: 1000, min: 60_000, h: 3_600_000, d: 86_400_000 };

/**
 * A numeric setting value in the setting's own unit (pg_settings.unit, e.g. "8kB", "ms"):
 * "64MB" for a unit of "kB" is 65536. Undefined when the text is not a number with a known unit.
 */
export function inSettingUnit(value: string, unit: string | null): number | undefined {
  const match = value.trim().match(/^(-?\d+(?:\.\d+)?)\s*([a-zA-Z]*)$/);
  if (!match) return undefined;
  const amount = Number(match[1]);
  const given = match[2] ?? "";
  if (!given || !unit) return given ? undefined : amount;
  const base = unit.match(/^(\d*)(.+)$/);
  const multiple = Number(base?.[1] || 1);
  const baseUnit = base?.[2] ?? unit;
  const table = baseUnit in memoryUnits ? memoryUnits : baseUnit in timeUnits ? timeUnits : undefined;
  if (!table || !(given in table)) return undefined;
  return (amount * (table[given] as number)) / ((table[baseUnit] as number) * multiple);
}

const booleanWords: Record<string, string> = {
  on: "on",
  true: "on",
  yes: "on",
  "1": "on",
  off: "off",
  false: "off",
  no: "off",
  "0": "off",
};

/** Same setting value written two ways ("ON" and "1", "8MB" and "8192kB")? */
export function sameSettingValue(left: string | null, right: string | null, unit: string | null = null): boolean {
  if (left === null || right === null) return left === right;
  const [a, b] = [left.trim().replace(/^'(.*)'$/, "$1"), right.trim().replace(/^'(.*)'$/, "$1")];
  if (a.toLowerCase() === b.toLowerCase()) return true;
  const [boolA, boolB] = [booleanWords[a.toLowerCase()], booleanWords[b.toLowerCase()]];
  if (boolA && boolB) return boolA === boolB;
  const [numberA, numberB] = [inSettingUnit(a, unit), inSettingUnit(b, unit)];
  return numberA !== undefined && numberB !== undefined && Math.abs(numberA - numberB) < 1e-9;
}

export function isBooleanWord(value: string): boolean {
  return value.toLowerCase() in booleanWords;
}

/**
 * A setting's value as people write it: the number with its unit ("4096kB", "200ms"), a unit with
 * a multiple folded in ("16384" of "8kB" is "131072kB"); other values as they are.
 */
export function settingWithUnit(value: string, unit: string | null): string {
  if (!unit || !/^-?\d+(\.\d+)?$/.test(value.trim())) return value;
  const base = unit.match(/^(\d*)(.+)$/);
  const multiple = Number(base?.[1] || 1);
  return `${Number(value) * multiple}${base?.[2] ?? unit}`;
}
