import { homedir } from "node:os";
import { join } from "node:path";

/** `--journal` wins, then CHAOS_JOURNAL, then $XDG_STATE_HOME/chaos-agents/journal.sqlite. */
export function defaultJournalPath(env: NodeJS.ProcessEnv = process.env, flag?: string): string {
  if (flag) return flag;
  if (env.CHAOS_JOURNAL) return env.CHAOS_JOURNAL;
  const stateHome = env.XDG_STATE_HOME || join(homedir(), ".local", "state");
  return join(stateHome, "chaos-agents", "journal.sqlite");
}
