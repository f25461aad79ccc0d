import { ChaosError, ExitCode, redactText } from "@chaos-agents/core/light";
import { CommanderError } from "commander";
import { runCli } from "./cli.js";
import { type CommandIo, defaultIo } from "./io.js";

/** Maps every way a command can end to an exit code and a message; never throws. */
export async function main(argv: string[], io: CommandIo = defaultIo()): Promise<number> {
  try {
    return await runCli(argv, io);
  } catch (error) {
    if (error instanceof CommanderError) {
      return error.exitCode === 0 ? ExitCode.success : ExitCode.usage;
    }
    if (ChaosError.isInstance(error)) {
      io.stderr.write(`error: ${redactText(error.message)}\n`);
      return error.exitCode;
    }
    io.stderr.write(`internal error: ${redactText((error as Error)?.stack ?? String(error))}\n`);
    return ExitCode.internal;
  }
}
