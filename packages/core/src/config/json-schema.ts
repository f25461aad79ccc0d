import { z } from "zod";
import type { Registry } from "../registry.js";
import { targetKinds } from "../target.js";
import { daemonFileSchema, experimentSchema, experimentsFileSchema, llmFileSchema, skillEntrySchema } from "./config-schema.js";

/**
 * JSON Schema of the config for editors' YAML completion: the three file forms, with each
 * target's `target_config` and each skill's `params` spelled out.
 */
export function configJsonSchema(registry: Registry): Record<string, unknown> {
  const experimentVariants = targetKinds.flatMap((kind) => {
    const target = registry.target(kind);
    if (!target) return [];
    const skills = registry
      .skills(kind)
      .map((skill) =>
        skillEntrySchema.extend({ skill_name: z.literal(skill.name).describe(skill.description), params: skill.params.optional() }),
      );
    const skillList = z.array(skills.length > 0 ? z.union(skills) : skillEntrySchema).min(1);
    return [experimentSchema.extend({ target: z.literal(kind), target_config: target.configSchema, skills: skillList })];
  });
  // An experiment may name its target by alias (the `targets:` section) instead of target + target_config.
  const byAlias = experimentSchema
    .omit({ target: true, target_config: true })
    .extend({ target_alias: z.string().describe("a target named in the targets: section") });
  const experiment = z.union([...(experimentVariants.length > 0 ? experimentVariants : [experimentSchema]), byAlias]);
  const file = z.union([
    experimentsFileSchema.extend({ experiments: z.array(experiment).min(1) }),
    daemonFileSchema.extend({
      experiments: z.array(daemonFileSchema.shape.experiments.element.extend({ experiment })).min(1),
    }),
    llmFileSchema,
  ]);
  return {
    ...z.toJSONSchema(file, { io: "input", unrepresentable: "any", target: "draft-2020-12" }),
    $id: "https://chaos-agents.dev/schema/config.json",
    title: "Chaos Agents configuration",
  };
}
