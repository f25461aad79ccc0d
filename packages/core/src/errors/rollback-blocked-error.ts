import { ChaosError, ExitCode } from "./chaos-error.js";

const marker = Symbol.for("chaos-agents.rollback-blocked-error");

/**
 * A rollback step that someone else's lock (or a deadline) kept from finishing, after the skill
 * already retried it within its own budget. The engine does not retry it again at once: the
 * step stays pending for `chaos recover`, and the message says what blocks it.
 */
export class RollbackBlockedError extends ChaosError {
  readonly [marker] = true;

  constructor(message: string, options: { cause?: unknown } = {}) {
    super(message, { exitCode: ExitCode.rollbackIncomplete, cause: options.cause });
  }

  /** Survives two copies of the package, like ChaosError.isInstance. */
  static isBlocked(error: unknown): error is RollbackBlockedError {
    return typeof error === "object" && error !== null && marker in error;
  }
}
