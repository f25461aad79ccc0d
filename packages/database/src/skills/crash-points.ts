/**
 * Deterministic crash points for tests: `CHAOS_TEST_CRASH_AT=insert-commit` (after the insert's
 * journal write, before its COMMIT) or `update-restore-commit` (after a compensating restore's
 * COMMIT, before the journal marks its step done) kills the process
 * (SIGKILL, nothing runs after it) where the name says, so a test can prove what `chaos recover`
 * does with a journal written up to exactly that moment. Unset in every real run.
 */
export function crashPoint(name: "insert-commit" | "update-restore-commit"): void {
  if (process.env.CHAOS_TEST_CRASH_AT === name) process.kill(process.pid, "SIGKILL");
}
