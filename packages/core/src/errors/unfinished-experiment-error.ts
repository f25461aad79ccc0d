import type { ExperimentOwner } from "../journal/journal.js";
import { ChaosError, ExitCode } from "./chaos-error.js";

/** `chaos run` found an experiment on the same target that is still running or whose rollback never finished. */
export class UnfinishedExperimentError extends ChaosError {
  readonly experimentId: string;

  constructor(experimentId: string, target: string, runningOwner?: ExperimentOwner) {
    super(
      runningOwner
        ? `experiment ${experimentId} on ${target} is running in process ${runningOwner.pid} on ${runningOwner.host}; wait for it (see \`chaos status\`), or pass --force to run beside it`
        : `experiment ${experimentId} on ${target} has an unfinished rollback; run \`chaos recover\` first (or pass --force to run anyway)`,
      { exitCode: ExitCode.unfinishedExperiment },
    );
    this.experimentId = experimentId;
  }
}
