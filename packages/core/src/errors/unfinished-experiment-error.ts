import { ChaosError, ExitCode } from "./chaos-error.js";

/** `chaos run` found an experiment on the same target whose rollback never finished. */
export class UnfinishedExperimentError extends ChaosError {
  readonly experimentId: string;

  constructor(experimentId: string, target: string) {
    super(
      `experiment ${experimentId} on ${target} has an unfinished rollback; run \`chaos recover\` first (or pass --force to run anyway)`,
      { exitCode: ExitCode.unfinishedExperiment },
    );
    this.experimentId = experimentId;
  }
}
