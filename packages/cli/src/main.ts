import { styleText } from "node:util";
import { ChaosError, ExitCode, redactText } from "@chaos-agents/core/light";
import { CommanderError } from "commander";
import { runCli } from "./cli.js";
import { commandName, jsonCommandOutput, wantsJsonOutput } from "./final-event.js";
import { type CommandIo, defaultIo, useColour } from "./io.js";

/** Maps every way a command can end to an exit code and a message; never throws. */
export async function main(argv: string[], io: CommandIo = defaultIo()): Promise<number> {
  if (!wantsJsonOutput(argv)) return (await runCommand(argv, io)).exitCode;
  const output = jsonCommandOutput(io);
  const { exitCode, error } = await runCommand(argv, output.io);
  output.finish(commandName(argv), exitCode, error);
  return exitCode;
}

async function runCommand(argv: string[], io: CommandIo): Promise<{ exitCode: number; error?: { message: string; issues?: unknown[] } }> {
  try {
    return { exitCode: await runCli(argv, io) };
  } catch (error) {
    if (error instanceof CommanderError) {
      return error.exitCode === 0
        ? { exitCode: ExitCode.success }
        : { exitCode: ExitCode.usage, error: { message: error.message.replace(/^error: /, "") } };
    }
    if (ChaosError.isInstance(error)) {
      const message = redactText(error.message);
      const prefix = useColour(io.env, io.stderr, !argv.includes("--no-color"))
        ? styleText("red", "error:", { validateStream: false })
        : "error:";
      io.stderr.write(`${prefix} ${message}\n`);
      const issues = (error as { issues?: { message: string }[] }).issues?.map((issue) => ({
        ...issue,
        message: redactText(issue.message),
      }));
      return { exitCode: error.exitCode, error: { message: (message.split("\n")[0] ?? message).replace(/:$/, ""), issues } };
    }
    io.stderr.write(`internal error: ${redactText((error as Error)?.stack ?? String(error))}\n`);
    return { exitCode: ExitCode.internal, error: { message: redactText((error as Error)?.message ?? String(error)) } };
  }
}
