import { ChaosError, ExitCode } from "./chaos-error.js";

/**
 * A skill refused its input or failed while injecting. Raised before any change when
 * it comes from planning (unknown table, value out of range...).
 */
export class SkillError extends ChaosError {
  readonly skill: string;

  constructor(skill: string, message: string, options: { cause?: unknown; exitCode?: ExitCode } = {}) {
    super(`${skill}: ${message}`, { exitCode: options.exitCode ?? ExitCode.experimentFailedRolledBack, cause: options.cause });
    this.skill = skill;
  }
}
