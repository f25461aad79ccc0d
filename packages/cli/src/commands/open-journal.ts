import {
  ChaosError,
  ExitCode,
  isPostgresJournalUrl,
  type Journal,
  type JournalRetention,
  openPostgresJournal,
  openSqliteJournal,
  parseDuration,
  redactText,
} from "@chaos-agents/core";

/** How long finished experiments keep their undo data, and their record, unless the environment says otherwise. */
const defaultRetention = { CHAOS_JOURNAL_KEEP_UNDO: "7d", CHAOS_JOURNAL_KEEP_RECORDS: "90d" };

/**
 * Opens the journal (a SQLite file, or a `postgres://` URL), or says in one line why it cannot be
 * one (exit 2, nothing changed). Commands that write it (`run`, `recover`) pass the environment to
 * prune what retention allows.
 */
export async function openJournalForCommand(location: string, pruneWith?: NodeJS.ProcessEnv): Promise<Journal> {
  const retention = pruneWith && retentionOf(pruneWith);
  let journal: Journal;
  try {
    journal = isPostgresJournalUrl(location) ? await openPostgresJournal(location) : openSqliteJournal(location);
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code === "EISDIR" ? "it is a directory" : (error as Error).message;
    throw new ChaosError(
      `cannot open the journal ${redactText(location)}: ${redactText(reason)}; pass --journal (or set CHAOS_JOURNAL) with a journal file or a postgres:// URL`,
      { exitCode: ExitCode.usage, cause: error },
    );
  }
  if (retention) await journal.prune(retention);
  return journal;
}

/** The retention times from the environment (CHAOS_JOURNAL_KEEP_UNDO / _RECORDS), or the defaults. */
export function retentionOf(env: NodeJS.ProcessEnv): JournalRetention {
  const read = (name: keyof typeof defaultRetention) => {
    const text = env[name] || defaultRetention[name];
    const milliseconds = parseDuration(text);
    if (milliseconds === undefined) {
      throw new ChaosError(`${name}=${text} is not a duration; write it like 7d, 36h or 90d`, { exitCode: ExitCode.usage });
    }
    return milliseconds;
  };
  return { undoAfterMs: read("CHAOS_JOURNAL_KEEP_UNDO"), recordAfterMs: read("CHAOS_JOURNAL_KEEP_RECORDS") };
}
