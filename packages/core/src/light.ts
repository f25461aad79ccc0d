// What the CLI needs before it knows which command runs: errors, exit codes, redaction. Kept apart
// from the index (config schemas, journal, engine) so `chaos --help` does not load them.
export { ChaosError, ExitCode } from "./errors/chaos-error.js";
export { redactText } from "./redact.js";
