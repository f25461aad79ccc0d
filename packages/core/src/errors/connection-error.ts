import { ChaosError, ExitCode } from "./chaos-error.js";
import { networkErrorInWords } from "./network-error-words.js";

/** The target could not be reached; nothing was changed. */
export class ConnectionError extends ChaosError {
  readonly target: string;

  constructor(target: string, message: string, options: { cause?: unknown } = {}) {
    super(`cannot connect to ${target}: ${networkErrorInWords(options.cause) ?? message}`, {
      exitCode: ExitCode.connectionFailed,
      cause: options.cause,
    });
    this.target = target;
  }
}
