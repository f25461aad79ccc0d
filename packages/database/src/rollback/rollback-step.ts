import { setTimeout as sleep } from "node:timers/promises";
import { formatDuration, type JsonValue, RollbackBlockedError, type RollbackContext, type Skill } from "@chaos-agents/core";
import type { DatabaseSession } from "../database-session.js";
import { describeBlocker } from "./lock-blockers.js";
import { isLockTimeout, isStatementTimeout, rollbackDeadlines } from "./rollback-deadlines.js";

/** First backoff after a lock timeout, and the longest one: the lock timeout itself already waited. */
const firstBackoffMs = 200;
const longestBackoffMs = 10_000;

/**
 * Every db.* skill's rollback runs through this: its statements on the rollback pool (lock and
 * statement deadlines), and a step that an application lock keeps waiting is tried again with
 * exponential backoff and jitter until the lock retry budget is spent. Then it fails with a
 * RollbackBlockedError that names the blocking sessions; the step stays pending in the journal
 * and `chaos recover` finishes it once the lock is gone. Retrying the whole step is safe: every
 * rollback is idempotent, and a lock timeout leaves the step's current transaction undone.
 */
export function withRollbackDeadlines<Params, Undo extends Parameters<Skill["rollback"]>[1]>(
  skill: Skill<Params, DatabaseSession, Undo>,
): Skill<Params, DatabaseSession, Undo> {
  return {
    ...skill,
    rollback(context, undo) {
      // A try may save a checkpoint and then fail: the next try here must see it, as the engine's would.
      let checkpoint = context.checkpoint;
      const saveCheckpoint = async (saved: JsonValue) => {
        await context.saveCheckpoint(saved);
        checkpoint = saved;
      };
      return rollBackUnderDeadlines(skill.name, context, (session) =>
        skill.rollback({ ...context, session, checkpoint, saveCheckpoint }, undo),
      );
    },
  };
}

async function rollBackUnderDeadlines<T>(
  skillName: string,
  context: RollbackContext<DatabaseSession>,
  step: (session: DatabaseSession) => Promise<T>,
): Promise<T> {
  const { session } = context;
  const kind = session.dialect.kind;
  const deadlines = rollbackDeadlines(session.config);
  const rollback = await session.rollbackClient();
  const rollbackSession: DatabaseSession = { ...session, client: rollback.client };
  const started = Date.now();
  for (let tries = 1; ; tries++) {
    rollback.forget();
    try {
      return await step(rollbackSession);
    } catch (error) {
      if (isStatementTimeout(kind, error)) {
        throw new Error(
          `${skillName}: a rollback statement ran longer than the statement deadline (target_config.rollback.statement_timeout: ${session.config.rollback.statement_timeout}) and was cancelled: ${(error as Error).message}; raise it if the rollback is simply large, then run \`chaos recover\``,
          { cause: error },
        );
      }
      if (!isLockTimeout(kind, error)) throw error;
      const blockers = (await rollback.blockers()).map(describeBlocker);
      const blockedBy = blockers.length ? `blocked by ${blockers.join("; ")}` : "the session holding the lock was not seen";
      const elapsed = Date.now() - started;
      const backoff = Math.min(longestBackoffMs, firstBackoffMs * 2 ** (tries - 1));
      // Equal jitter: half the backoff fixed, half random, so several steps do not retry in step.
      const delay = backoff / 2 + Math.random() * (backoff / 2);
      if (elapsed + delay > deadlines.lockRetryBudgetMs) {
        throw new RollbackBlockedError(
          `${skillName}: rollback step waited for a lock for ${formatDuration(elapsed)} (${tries} tries of up to ${session.config.rollback.lock_timeout} each; target_config.rollback.lock_retry_budget: ${session.config.rollback.lock_retry_budget}) and gave up: ${blockedBy}. The step stays pending: once that transaction ends (or after ending it yourself) run \`chaos recover\`. Last error: ${(error as Error).message}`,
          { cause: error },
        );
      }
      context.log.warn(`${skillName}: rollback step waits for a lock, ${blockedBy}; try ${tries + 1} in ${Math.round(delay)} ms`);
      await sleep(delay);
    }
  }
}
