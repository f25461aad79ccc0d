import { createBuiltinRegistry } from "../builtin-registry.js";
import type { CommandIo } from "../command-context.js";
import { loadConfigForCommand } from "./load-config-for-command.js";

/** Checks a config completely (syntax, env, every skill's params) and changes nothing. */
export async function validate(file: string, io: CommandIo): Promise<number> {
  const { config } = await loadConfigForCommand(file, createBuiltinRegistry(), io);
  const count =
    config.form === "llm"
      ? "LLM planning config"
      : `${config.experiments.length} ${config.form === "daemon" ? "scheduled " : ""}experiment${config.experiments.length === 1 ? "" : "s"}`;
  io.result?.({
    file,
    valid: true,
    form: config.form,
    experiments:
      config.form === "llm" ? [] : config.experiments.map((entry) => ("experiment" in entry ? entry.experiment.name : entry.name)),
  });
  io.stdout.write(`${file}: valid (${count})\n`);
  return 0;
}
