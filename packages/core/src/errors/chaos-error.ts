const marker = Symbol.for("chaos-agents.error");

/** Process exit codes, one per way a run can end (documented in README.md). */
export const ExitCode = {
  success: 0,
  internal: 1,
  usage: 2,
  invalidConfig: 3,
  connectionFailed: 4,
  experimentFailedRolledBack: 5,
  rollbackIncomplete: 6,
  unfinishedExperiment: 7,
  /** `chaos recover` left experiments alone whose owner process is alive. */
  liveExperimentsSkipped: 8,
  /** `chaos plan` / `chaos agent`: the model proposed no acceptable experiment within its budget. */
  noPlan: 9,
  interrupted: 130,
  terminated: 143,
} as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

/**
 * Base class of every error the user can meet. `isInstance` survives two copies of the
 * package (a plugin bundling its own core), which `instanceof` does not.
 */
export class ChaosError extends Error {
  readonly [marker] = true;
  readonly exitCode: ExitCode;

  constructor(message: string, options: { exitCode?: ExitCode; cause?: unknown } = {}) {
    super(message, { cause: options.cause });
    this.name = new.target.name;
    this.exitCode = options.exitCode ?? ExitCode.internal;
  }

  static isInstance(error: unknown): error is ChaosError {
    return typeof error === "object" && error !== null && marker in error;
  }
}
