import { randomUUID } from "node:crypto";
import type { DatabaseKind } from "../database-config.js";
import type { ValueType } from "../discovery/database-schema.js";
import type { ColumnRules } from "./check-constraints.js";

/** Makes one value, as the text the database reads back into the column's type. */
export type ValueMaker = () => string;

const words = ["alpha", "bravo", "cobalt", "delta", "ember", "falcon", "granite", "harbor", "indigo", "juniper", "kestrel", "lumen"];

const integerLimits: Record<number, [bigint, bigint]> = {
  1: [-128n, 127n],
  2: [-32768n, 32767n],
  3: [-8388608n, 8388607n],
  4: [-2147483648n, 2147483647n],
  8: [-9223372036854775808n, 9223372036854775807n],
};

function randomInteger(min: number, max: number): number {
  return Math.floor(min + Math.random() * (max - min + 1));
}

function pick<T>(items: readonly T[]): T {
  return items[Math.floor(Math.random() * items.length)] as T;
}

const alphabet = "abcdefghijklmnopqrstuvwxyz0123456789";

function token(length: number): string {
  let text = "";
  for (let index = 0; index < length; index++) text += alphabet[(Math.random() * 36) | 0];
  return text;
}

function pad(value: number, width = 2): string {
  return String(value).padStart(width, "0");
}

function randomDate(): Date {
  // 2000-01-01 … 2030-12-31: inside every engine's range and realistic for an application.
  return new Date(Date.UTC(2000, 0, 1) + Math.random() * (Date.UTC(2030, 11, 31) - Date.UTC(2000, 0, 1)));
}

export function formatDate(date: Date): string {
  return `${date.getUTCFullYear()}-${pad(date.getUTCMonth() + 1)}-${pad(date.getUTCDate())}`;
}

export function formatTimestamp(date: Date): string {
  return `${formatDate(date)} ${pad(date.getUTCHours())}:${pad(date.getUTCMinutes())}:${pad(date.getUTCSeconds())}`;
}

/** Range of integers a column (and its CHECK rules) allows; undefined when none fits. */
function integerRange(type: ValueType, rules: ColumnRules, unique: boolean): [number, number] | undefined {
  const [typeMin, typeMax] = integerLimits[type.bytes ?? 4] ?? [-2147483648n, 2147483647n];
  const unsignedMax = type.unsigned ? Number(typeMax) * 2 + 1 : Number(typeMax);
  // Realistic magnitudes unless uniqueness needs room; never beyond JavaScript's exact integers.
  let min = type.unsigned ? 0 : Math.max(Number(typeMin), unique ? -Number.MAX_SAFE_INTEGER : -1000);
  let max = Math.min(unsignedMax, unique ? Number.MAX_SAFE_INTEGER : 100_000);
  if (rules.min !== undefined)
    min = Math.max(min, Math.ceil(rules.minExclusive && Number.isInteger(rules.min) ? rules.min + 1 : rules.min));
  if (rules.max !== undefined)
    max = Math.min(max, Math.floor(rules.maxExclusive && Number.isInteger(rules.max) ? rules.max - 1 : rules.max));
  if (!unique && rules.min === undefined && min < 0) min = 1; // positive by default: ids, counts, prices
  return min <= max ? [min, max] : undefined;
}

function decimalMaker(type: ValueType, rules: ColumnRules): ValueMaker | undefined {
  const scale = type.scale ?? (type.kind === "float" ? 3 : 2);
  const digits = (type.precision ?? 12) - scale;
  let max = Math.min(10 ** Math.max(digits, 0) - 10 ** -scale, 1_000_000);
  let min = rules.min !== undefined ? rules.min : 0;
  if (rules.max !== undefined) max = Math.min(max, rules.max);
  const step = 10 ** -scale;
  if (rules.minExclusive) min += step;
  if (rules.maxExclusive) max -= step;
  if (min > max) return undefined;
  return () => (min + Math.random() * (max - min)).toFixed(scale);
}

function textMaker(type: ValueType, rules: ColumnRules, unique: boolean): ValueMaker | undefined {
  const limit = Math.min(type.maxLength ?? 40, rules.maxLength ?? Number.POSITIVE_INFINITY, 64);
  const minimum = Math.max(rules.minLength ?? 1, 1);
  if (limit < minimum) return undefined;
  return () => {
    const suffix = token(unique ? Math.min(12, limit) : Math.min(6, limit));
    let text = limit >= suffix.length + 8 ? `${pick(words)}-${suffix}` : suffix;
    if (text.length < minimum) text += token(minimum - text.length);
    return text.slice(0, limit);
  };
}

/**
 * A maker for one column type, honouring its length, precision, labels and CHECK rules;
 * undefined when chaos cannot make a valid value (the caller decides: NULL, skip the table).
 */
export function valueMaker(type: ValueType, dialect: DatabaseKind, rules: ColumnRules = {}, unique = false): ValueMaker | undefined {
  if (rules.choices) {
    const choices = rules.choices.filter((choice) => !type.labels || type.labels.includes(choice));
    return choices.length > 0 && !unique ? () => pick(choices) : undefined;
  }
  switch (type.kind) {
    case "integer": {
      const range = integerRange(type, rules, unique);
      return range && (() => String(randomInteger(range[0], range[1])));
    }
    case "decimal":
    case "float":
      return decimalMaker(type, rules);
    case "text":
      return textMaker(type, rules, unique);
    case "boolean":
      return dialect === "postgres" ? () => pick(["true", "false"]) : () => pick(["0", "1"]);
    case "date":
      return () => formatDate(randomDate());
    case "time":
      return () => `${pad(randomInteger(0, 23))}:${pad(randomInteger(0, 59))}:${pad(randomInteger(0, 59))}`;
    case "timestamp":
      return () => formatTimestamp(randomDate());
    case "timestamptz":
      return () => `${formatTimestamp(randomDate())}+00`;
    case "interval":
      return () => `${randomInteger(0, 30)} days ${randomInteger(0, 23)}:${pad(randomInteger(0, 59))}:00`;
    case "year":
      return () => String(randomInteger(1990, 2030));
    case "uuid":
      return () => randomUUID();
    case "json":
      return () => JSON.stringify({ source: "chaos-agents", value: randomInteger(1, 1_000_000), tag: pick(words) });
    case "binary": {
      const length = Math.max(1, Math.min(type.maxLength ?? 16, 16));
      const fixed = /^binary\(/i.test(type.sqlType);
      return () => {
        const hex = token(2 * (fixed ? length : randomInteger(1, length)))
          .replace(/[^0-9a-f]/g, "0")
          .slice(0, 2 * length);
        return dialect === "postgres" ? `\\x${hex}` : hex;
      };
    }
    case "enum":
      return type.labels?.length && !unique ? () => pick(type.labels as string[]) : undefined;
    case "set":
      return type.labels?.length ? () => pick(type.labels as string[]) : undefined;
    case "inet":
      return () => `10.${randomInteger(0, 255)}.${randomInteger(0, 255)}.${randomInteger(1, 254)}`;
    case "cidr":
      return () => `10.${randomInteger(0, 255)}.${randomInteger(0, 255)}.0/24`;
    case "macaddr":
      return () => Array.from({ length: 6 }, () => randomInteger(0, 255).toString(16).padStart(2, "0")).join(":");
    case "array": {
      const element = type.element && valueMaker(type.element, dialect);
      return element && (() => `{${Array.from({ length: randomInteger(0, 3) }, () => arrayElement(element())).join(",")}}`);
    }
    case "range":
      return type.element ? rangeMaker(type.element) : undefined;
    default:
      return undefined;
  }
}

function arrayElement(text: string): string {
  return `"${text.replace(/\\/g, "\\\\").replace(/"/g, '\\"')}"`;
}

function rangeMaker(bound: ValueType): ValueMaker | undefined {
  if (bound.kind === "integer" || bound.kind === "decimal") {
    return () => {
      const low = randomInteger(1, 1000);
      return `[${low},${low + randomInteger(1, 100)})`;
    };
  }
  if (bound.kind === "date" || bound.kind === "timestamp" || bound.kind === "timestamptz") {
    const format = bound.kind === "date" ? formatDate : formatTimestamp;
    return () => {
      const low = randomDate();
      const high = new Date(low.getTime() + randomInteger(1, 30) * 86_400_000);
      return `[${format(low)},${format(high)})`;
    };
  }
  return undefined;
}

/** A value of `type` greater than `other` (for CHECK (b > a)); undefined if the type has no order we know. */
export function greaterThan(other: string, type: ValueType): string | undefined {
  if (type.kind === "integer") return String(BigInt(other) + BigInt(randomInteger(1, 100)));
  if (type.kind === "decimal" || type.kind === "float") return (Number(other) + randomInteger(1, 100)).toFixed(type.scale ?? 2);
  if (type.kind === "date" || type.kind === "timestamp" || type.kind === "timestamptz") {
    const base = new Date(`${other.replace(" ", "T").replace(/\+00$/, "")}${other.length > 10 ? "Z" : "T00:00:00Z"}`);
    const later = new Date(base.getTime() + randomInteger(1, 30) * 86_400_000);
    if (type.kind === "date") return formatDate(later);
    return type.kind === "timestamptz" ? `${formatTimestamp(later)}+00` : formatTimestamp(later);
  }
  return undefined;
}
