import { type Journal, type Logger, ownerState, type RecoverResult, redactText } from "@chaos-agents/core";

export interface TakeoverOptions {
  journal: Journal;
  log: Logger;
  /** Recovers one experiment (claims it through the journal's compare-and-swap, then rolls it back). */
  recover: (experimentId: string) => Promise<RecoverResult>;
}

/**
 * One pass of a daemon's watch over the journal it shares: experiments still running under an
 * owner that is gone (on this host: the process is not there; on another: its heartbeat lapsed)
 * are claimed and rolled back here; scheduled runs a dead daemon claimed are released, so their
 * experiment and target are free again. Two daemons doing this at once is safe: of their claims on
 * one experiment only one succeeds. Returns the experiments recovered.
 */
export async function takeOverDeadOwners({ journal, log, recover }: TakeoverOptions): Promise<string[]> {
  const recovered: string[] = [];
  const now = Date.now();
  for (const record of await journal.unfinishedExperiments()) {
    // A rollback_incomplete experiment was given up by its owner: `chaos recover` (or a restart) retries it.
    if (record.status !== "running" || !record.owner || ownerState(record.owner, record.heartbeatAt, now) !== "gone") continue;
    const from = `process ${record.owner.pid} on ${record.owner.host}`;
    try {
      const result = await recover(record.id);
      for (const done of result.recovered) {
        recovered.push(done.experimentId);
        const outcome = done.error ?? `${done.rollback.done}/${done.rollback.steps} rollback steps done`;
        log.info(`took over ${done.name} [${done.experimentId}] from dead ${from}: ${outcome}`);
      }
      for (const left of result.skipped) log.info(`left ${left.name} [${left.experimentId}] alone: ${left.reason}`);
    } catch (error) {
      // Typically finished meanwhile by another daemon: the next pass sees the journal as it is.
      log.info(`did not take over ${record.name} [${record.id}]: ${redactText((error as Error).message)}`);
    }
  }
  for (const run of await journal.scheduledRuns(500)) {
    if (run.finishedAt || ownerState(run.owner, run.heartbeatAt, now) !== "gone") continue;
    await journal.finishScheduledRun(run.experimentName, run.scheduledAt);
    log.info(
      `released ${run.experimentName}'s run of ${run.scheduledAt}: its daemon (process ${run.owner.pid} on ${run.owner.host}) is gone`,
    );
  }
  return recovered;
}
