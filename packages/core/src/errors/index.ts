export { ChaosError, ExitCode } from "./chaos-error.js";
export { ConfigError, type ConfigIssue, formatIssue } from "./config-error.js";
export { ConnectionError } from "./connection-error.js";
export { RollbackBlockedError } from "./rollback-blocked-error.js";
export { SkillError } from "./skill-error.js";
export { UnfinishedExperimentError } from "./unfinished-experiment-error.js";
