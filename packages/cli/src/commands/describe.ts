import { ChaosError, describeSkill, ExitCode, formatSkillDescription } from "@chaos-agents/core";
import { createBuiltinRegistry } from "../builtin-registry.js";
import type { CommandIo, GlobalOptions } from "../command-context.js";

/** `chaos describe SKILL`: what a skill does and every param it takes. */
export async function describe(name: string, options: GlobalOptions, io: CommandIo): Promise<number> {
  const registry = createBuiltinRegistry();
  const skill = registry.skill(name);
  if (!skill) {
    const suggestion = registry.suggestSkill(name);
    throw new ChaosError(`unknown skill "${name}"${suggestion ? `; did you mean "${suggestion}"?` : ""} (see \`chaos list-skills\`)`, {
      exitCode: ExitCode.usage,
    });
  }
  const description = describeSkill(skill);
  if (options.output === "json") io.result?.({ skill: description });
  else io.stdout.write(`${formatSkillDescription(description)}\n`);
  return ExitCode.success;
}
