export { createBuiltinRegistry } from "./builtin-registry.js";
export { runCli } from "./cli.js";
export type { CommandIo, GlobalOptions } from "./command-context.js";
export { main } from "./main.js";
