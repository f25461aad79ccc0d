import { describeSkill } from "@chaos-agents/core";
import { describe, expect, it } from "vitest";
import { createBuiltinRegistry } from "./builtin-registry.js";

interface Schema {
  description?: string;
  properties?: Record<string, Schema>;
  items?: Schema;
}

/** Every param, nested ones too, as `a.b[].c`. */
function undescribed(schema: Schema, path = ""): string[] {
  return Object.entries(schema.properties ?? {}).flatMap(([name, inner]) => [
    ...(inner.description ? [] : [`${path}${name}`]),
    ...undescribed(inner, `${path}${name}.`),
    ...(inner.items ? undescribed(inner.items, `${path}${name}[].`) : []),
  ]);
}

// `chaos describe`, the JSON Schema and the LLM planner's describe_skill all read these descriptions.
describe("skill params", () => {
  it.each(
    createBuiltinRegistry()
      .skills()
      .map((skill) => [skill.name, skill] as const),
  )("every param of %s has a description", (_name, skill) => {
    expect(undescribed(describeSkill(skill).params as Schema)).toEqual([]);
  });
});
