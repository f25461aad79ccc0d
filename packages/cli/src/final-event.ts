// Kept free of the engine's modules, like `io.ts`: `main` loads it before any command.
import { Writable } from "node:stream";
import type { CommandIo } from "./io.js";

/** The events' schema version; the engine's event schema (`chaos schema --events`) documents this event too. */
const schemaVersion = 1;

/** Whether the arguments ask for `--output json`, read before commander parses them (a usage error ends as JSON too). */
export function wantsJsonOutput(argv: string[]): boolean {
  for (let index = 0; index < argv.length; index++) {
    if (argv[index] === "--") return false;
    if (argv[index] === "--output=json" || (argv[index] === "--output" && argv[index + 1] === "json")) return true;
  }
  return false;
}

export interface JsonCommandOutput {
  /** The io to give the command: stdout passes JSON lines through and keeps other text for the final event. */
  io: CommandIo;
  /** Writes the one final event: the command, its exit code, what went wrong, what it printed as text. */
  finish(command: string, exitCode: number, error?: { message: string; issues?: unknown[] }): void;
}

/**
 * `--output json`: stdout carries JSON lines only, and every command ends with exactly one
 * `command_finished` event. A command's human text (a table, a YAML plan) does not break the
 * stream: it is carried in the final event's `text`.
 */
export function jsonCommandOutput(io: CommandIo): JsonCommandOutput {
  const text: string[] = [];
  let pending = "";
  // What the command adds through `io.result`: structured facts beside its text.
  const details: Record<string, unknown> = {};
  const take = (line: string) => {
    if (isJsonObject(line)) io.stdout.write(`${line}\n`);
    else text.push(line);
  };
  const stdout = new Writable({
    write(chunk, _encoding, done) {
      const lines = (pending + String(chunk)).split("\n");
      pending = lines.pop() ?? "";
      for (const line of lines) take(line);
      done();
    },
  });
  return {
    io: { ...io, stdout, result: (more) => Object.assign(details, more) },
    finish(command, exitCode, error) {
      if (pending) take(pending);
      pending = "";
      const event = {
        schema_version: schemaVersion,
        at: new Date().toISOString(),
        type: "command_finished",
        command,
        exitCode,
        ok: exitCode === 0,
        ...(error ? { error: error.message } : {}),
        ...(error?.issues ? { issues: error.issues } : {}),
        ...(Object.keys(details).length ? { details } : {}),
        ...(text.length ? { text: text.join("\n") } : {}),
      };
      io.stdout.write(`${JSON.stringify(event)}\n`);
    },
  };
}

function isJsonObject(line: string): boolean {
  if (!line.startsWith("{")) return false;
  try {
    return typeof JSON.parse(line) === "object";
  } catch {
    return false;
  }
}

/** The command word of the arguments (`run`, `validate`…), for the final event. */
export function commandName(argv: string[]): string {
  const optionsWithValue = new Set(["--journal", "--output", "--events-file", "--webhook"]);
  for (let index = 0; index < argv.length; index++) {
    const arg = argv[index] ?? "";
    if (optionsWithValue.has(arg)) index++;
    else if (!arg.startsWith("-")) return arg;
  }
  return "";
}
