import { existsSync } from "node:fs";
import { isAbsolute, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import type { AnySkill } from "./skill.js";
import { targetKinds } from "./target.js";

/**
 * Imports the skills a plugin module exports: `export const skills = [...]`, or a default
 * export of an array or of `{ skills }`. Throws an Error whose message says what is wrong.
 */
export async function loadPluginSkills(modulePath: string): Promise<AnySkill[]> {
  if (!existsSync(modulePath)) throw new Error(`there is no file ${modulePath}`);
  const module = (await import(pathToFileURL(modulePath).href)) as Record<string, unknown>;
  const exported = module.skills ?? (module.default as { skills?: unknown } | undefined)?.skills ?? module.default;
  if (!Array.isArray(exported)) {
    throw new Error("a plugin must export `skills`, an array of skills (or a default export of one)");
  }
  exported.forEach((skill, index) => {
    const problem = skillShapeProblem(skill);
    if (problem) throw new Error(`skills[${index}]: ${problem}`);
  });
  return exported as AnySkill[];
}

function skillShapeProblem(skill: unknown): string | undefined {
  if (!skill || typeof skill !== "object") return "expected an object";
  const candidate = skill as Partial<AnySkill>;
  if (typeof candidate.name !== "string" || !/^[a-z0-9_]+\.[a-z0-9_]+$/.test(candidate.name)) {
    return 'name must look like "<target>.<verb>" (lowercase, digits, underscores)';
  }
  if (!targetKinds.includes(candidate.target as never)) return `${candidate.name}: target must be one of ${targetKinds.join(", ")}`;
  if (typeof candidate.params?.safeParse !== "function") return `${candidate.name}: params must be a zod schema`;
  if (typeof candidate.inject !== "function" || typeof candidate.rollback !== "function") {
    return `${candidate.name}: inject and rollback must be functions`;
  }
  return undefined;
}

/** Plugin paths in a config are relative to the config file's folder. */
export function resolvePluginPath(path: string, configDirectory: string): string {
  return isAbsolute(path) ? path : resolve(configDirectory, path);
}
