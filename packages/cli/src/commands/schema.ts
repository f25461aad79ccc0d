import { configJsonSchema } from "@chaos-agents/core";
import { createBuiltinRegistry } from "../builtin-registry.js";
import type { CommandIo } from "../command-context.js";

/** Prints the config's JSON Schema (for editors' YAML completion). */
export async function schema(io: CommandIo): Promise<number> {
  io.stdout.write(`${JSON.stringify(configJsonSchema(createBuiltinRegistry()), null, 2)}\n`);
  return 0;
}
