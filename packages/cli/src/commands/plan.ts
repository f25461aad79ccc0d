import { writeFileSync } from "node:fs";
import { createBuiltinRegistry } from "../builtin-registry.js";
import type { CommandIo } from "../command-context.js";
import { describePlan, type PlanningOptions, planFromGoal } from "./planning-session.js";

/** `chaos plan "<goal>"`: a model proposes one experiment; it is printed (and saved), never run. */
export async function plan(goal: string, options: PlanningOptions, io: CommandIo): Promise<number> {
  const result = await planFromGoal(goal, options, createBuiltinRegistry(), io);
  await result.close();
  io.stdout.write(result.planFile);
  io.stderr.write(`${describePlan(result)}\n`);
  if (options.save) {
    writeFileSync(options.save, result.planFile, { mode: 0o600 });
    io.stderr.write(`saved: ${options.save} (run it with \`chaos run ${options.save}\`)\n`);
  }
  return 0;
}
