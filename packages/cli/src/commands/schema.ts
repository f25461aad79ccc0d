import { configJsonSchema, eventsJsonSchema } from "@chaos-agents/core";
import { createBuiltinRegistry } from "../builtin-registry.js";
import type { CommandIo } from "../command-context.js";

/** Prints the config's JSON Schema (for editors' YAML completion), or with `--events` that of the event lines. */
export async function schema(options: { events?: boolean }, io: CommandIo): Promise<number> {
  const document = options.events ? eventsJsonSchema() : configJsonSchema(createBuiltinRegistry());
  io.stdout.write(`${JSON.stringify(document, null, 2)}\n`);
  return 0;
}
