import { ChaosError, ExitCode, type Journal, openSqliteJournal } from "@chaos-agents/core";

/** Opens the journal, or says in one line why this path cannot be one (exit 2, nothing changed). */
export function openJournalForCommand(path: string): Journal {
  try {
    return openSqliteJournal(path);
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code === "EISDIR" ? "it is a directory" : (error as Error).message;
    throw new ChaosError(`cannot open the journal ${path}: ${reason}; pass --journal (or set CHAOS_JOURNAL) with a journal file`, {
      exitCode: ExitCode.usage,
      cause: error,
    });
  }
}
