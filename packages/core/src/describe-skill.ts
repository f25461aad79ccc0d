import { z } from "zod";
import type { AnySkill } from "./skill.js";

/** JSON Schema of one param, as much of it as a reader needs. */
interface ParamSchema {
  type?: string | string[];
  description?: string;
  default?: unknown;
  enum?: unknown[];
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  exclusiveMaximum?: number;
  minLength?: number;
  items?: ParamSchema;
  anyOf?: ParamSchema[];
  examples?: unknown[];
}

/** What a skill is and takes: the one description `chaos describe`, the JSON Schema and the LLM tools share. */
export interface SkillDescription {
  name: string;
  target: string;
  description: string;
  reversible: boolean;
  /** The params as JSON Schema (input side: defaults are optional). */
  params: { properties?: Record<string, ParamSchema>; required?: string[] } & Record<string, unknown>;
}

export function describeSkill(skill: AnySkill): SkillDescription {
  return {
    name: skill.name,
    target: skill.target,
    description: skill.description,
    reversible: skill.reversible,
    params: z.toJSONSchema(skill.params, { io: "input", unrepresentable: "any" }) as SkillDescription["params"],
  };
}

/** The human page of a skill: what it does, then one block per param (type, default, range, description). */
export function formatSkillDescription(description: SkillDescription): string {
  const lines = [
    `${description.name} (${description.target} target${description.reversible ? ", rolled back exactly" : ", nothing to roll back"})`,
    `  ${description.description}`,
    "",
    "params:",
  ];
  const properties = Object.entries(description.params.properties ?? {});
  if (properties.length === 0) lines.push("  (none)");
  for (const [name, schema] of properties) {
    const required = description.params.required?.includes(name) ? ", required" : "";
    lines.push(
      `  ${name}: ${typeOf(schema)}${required}${limitsOf(schema)}${"default" in schema ? `, default ${JSON.stringify(schema.default)}` : ""}`,
    );
    lines.push(`      ${schema.description ?? "(no description yet)"}`);
  }
  return lines.join("\n");
}

function typeOf(schema: ParamSchema): string {
  if (schema.enum) return `one of ${schema.enum.map((value) => JSON.stringify(value)).join(" | ")}`;
  if (schema.anyOf) return schema.anyOf.map(typeOf).join(" or ");
  if (schema.type === "array") return `list of ${schema.items ? typeOf(schema.items) : "values"}`;
  return Array.isArray(schema.type) ? schema.type.join(" or ") : (schema.type ?? "any");
}

function limitsOf(schema: ParamSchema): string {
  const low = schema.minimum ?? schema.exclusiveMinimum;
  // zod writes the safe-integer bound on every integer; it is no limit a reader needs.
  const rawHigh = schema.maximum ?? schema.exclusiveMaximum;
  const high = rawHigh === Number.MAX_SAFE_INTEGER ? undefined : rawHigh;
  if (low === undefined && high === undefined) return "";
  const from = low === undefined ? "" : `${schema.exclusiveMinimum !== undefined ? ">" : "≥"} ${low}`;
  const to =
    high === undefined ? "" : `${schema.exclusiveMaximum !== undefined ? "<" : "≤"} ${high === Number.MAX_SAFE_INTEGER ? "any" : high}`;
  return `, ${[from, to].filter(Boolean).join(" and ")}`;
}
