import type { z } from "zod";

type AnySchema = z.core.$ZodType;
type Definition = { type: string } & Record<string, unknown>;

const definitionOf = (schema: AnySchema) => schema._zod.def as unknown as Definition;

/** The schemas a value may match once wrappers (optional, default, pipe, union, lazy…) are looked through. */
function alternatives(schema: AnySchema, seen = new Set<AnySchema>()): AnySchema[] {
  if (seen.has(schema)) return [];
  seen.add(schema);
  const definition = definitionOf(schema);
  const inner = (key: string) => alternatives(definition[key] as AnySchema, seen);
  switch (definition.type) {
    case "optional":
    case "nullable":
    case "default":
    case "prefault":
    case "readonly":
    case "catch":
    case "nonoptional":
      return inner("innerType");
    case "pipe":
      return inner("in");
    case "lazy":
      return alternatives((definition.getter as () => AnySchema)(), seen);
    case "union":
      return (definition.options as AnySchema[]).flatMap((option) => alternatives(option, seen));
    case "intersection":
      return [...inner("left"), ...inner("right")];
    default:
      return [schema];
  }
}

/** What a value at `segment` inside a value of `schema` must match. */
function childrenAt(schema: AnySchema, segment: PropertyKey): AnySchema[] {
  const definition = definitionOf(schema);
  if (definition.type === "object") {
    const shape = definition.shape as Record<string, AnySchema>;
    const child = typeof segment === "string" ? shape[segment] : undefined;
    return child ? [child] : [];
  }
  if (definition.type === "array" && typeof segment === "number") return [definition.element as AnySchema];
  if (definition.type === "record") return [definition.valueType as AnySchema];
  return [];
}

/**
 * The keys a mapping at `path` may hold according to `schema` (every branch of a union counted),
 * for "did you mean" on an unknown key. Empty where the schema says nothing (free-form maps).
 */
export function knownKeysAt(schema: AnySchema, path: readonly PropertyKey[]): string[] {
  let current = alternatives(schema);
  for (const segment of path)
    current = current.flatMap((candidate) => childrenAt(candidate, segment).flatMap((child) => alternatives(child)));
  const keys = current.flatMap((candidate) => {
    const definition = definitionOf(candidate);
    return definition.type === "object" ? Object.keys(definition.shape as Record<string, AnySchema>) : [];
  });
  return [...new Set(keys)];
}
