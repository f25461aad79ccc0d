import { type LoadedConfig, loadConfigFile, type Registry } from "@chaos-agents/core";
import type { CommandIo } from "../command-context.js";

/** Loads a config and prints its warnings; ConfigError propagates to the exit-code mapping. */
export async function loadConfigForCommand(file: string, registry: Registry, io: CommandIo): Promise<LoadedConfig> {
  const loaded = await loadConfigFile(file, { registry, env: io.env });
  for (const warning of loaded.warnings) {
    const where = warning.line ? `${file}:${warning.line}:${warning.column}` : file;
    io.stderr.write(`warning: ${where}: ${warning.path}: ${warning.message}\n`);
  }
  return loaded;
}
