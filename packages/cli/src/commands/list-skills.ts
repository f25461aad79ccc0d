import { resolve } from "node:path";
import { loadPluginSkills, type TargetKind } from "@chaos-agents/core";
import { createBuiltinRegistry } from "../builtin-registry.js";
import type { CommandIo } from "../command-context.js";
import { loadConfigForCommand } from "./load-config-for-command.js";

export interface ListSkillsOptions {
  target?: TargetKind;
  /** Plugin modules whose skills are listed too. */
  plugin?: string[];
  /** A config whose `plugins` are listed too. */
  config?: string;
}

export async function listSkills(options: ListSkillsOptions, io: CommandIo): Promise<number> {
  const registry = createBuiltinRegistry();
  for (const path of options.plugin ?? []) for (const skill of await loadPluginSkills(resolve(path))) registry.addSkill(skill);
  if (options.config) await loadConfigForCommand(options.config, registry, io);
  const skills = registry.skills(options.target);
  io.result?.({ skills: skills.map((skill) => ({ name: skill.name, target: skill.target, description: skill.description })) });
  const rows = skills.map((skill) => [skill.name, skill.target, skill.description]);
  io.stdout.write(`${formatTable(["SKILL", "TARGET", "DESCRIPTION"], rows)}\n`);
  return 0;
}

export function formatTable(header: string[], rows: string[][]): string {
  const widths = [26, 13];
  const line = (cells: string[]) => cells.map((cell, index) => (index < widths.length ? cell.padEnd(widths[index] ?? 0) : cell)).join("");
  return [line(header), "-".repeat(70), ...rows.map(line)].join("\n");
}
