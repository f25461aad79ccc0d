import { homedir } from "node:os";
import { dirname, join } from "node:path";

/**
 * Where the journal is: `--journal` wins, then CHAOS_JOURNAL, then
 * $XDG_STATE_HOME/chaos-agents/journal.sqlite. A `postgres://` URL names a PostgreSQL journal.
 */
export function defaultJournalPath(env: NodeJS.ProcessEnv = process.env, flag?: string): string {
  if (flag) return flag;
  if (env.CHAOS_JOURNAL) return env.CHAOS_JOURNAL;
  return join(defaultStateDirectory(env), "journal.sqlite");
}

/** $XDG_STATE_HOME/chaos-agents (or ~/.local/state/chaos-agents). */
export function defaultStateDirectory(env: NodeJS.ProcessEnv = process.env): string {
  return join(env.XDG_STATE_HOME || join(homedir(), ".local", "state"), "chaos-agents");
}

/**
 * The local folder for reports, plans and the PID file: beside a journal file, or the default
 * state folder when the journal is a database server's.
 */
export function stateDirectoryOf(journalLocation: string, env: NodeJS.ProcessEnv = process.env): string {
  return /^[a-z][a-z0-9+.-]*:\/\//i.test(journalLocation) ? defaultStateDirectory(env) : dirname(journalLocation);
}
