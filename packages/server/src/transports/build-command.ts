import { commandLine, shellQuote } from "../shell-quote.js";

/** The single command line a transport hands to a shell, with sudo when asked for. */
export function buildCommand(command: readonly string[] | { script: string }, sudo: boolean): string {
  const body = "script" in command ? `sh -c ${shellQuote(command.script)}` : commandLine(command);
  return sudo ? `sudo -n -- ${body}` : body;
}
