export {
  configFormOf,
  type DaemonFile,
  daemonFileSchema,
  type ExperimentInput,
  experimentSchema,
  experimentsFileSchema,
  type LlmFile,
  llmFileSchema,
  type McpServerConfig,
  type ParsedExperiment,
} from "./config/config-schema.js";
export { interpolateEnv } from "./config/interpolate.js";
export { journaledTargetConfig } from "./config/journaled-target-config.js";
export { configJsonSchema } from "./config/json-schema.js";
export { type ChaosConfig, type LoadedConfig, loadConfigFile, parseConfigText, parseExperiment } from "./config/load-config.js";
export { durationText, fraction, nonNegativeInteger, positiveInteger, regexText } from "./config/params.js";
export { type Policy, policySchema } from "./config/policy-schema.js";
export { type TargetAliases, targetsSchema } from "./config/target-aliases.js";
export { describeSkill, formatSkillDescription, type SkillDescription } from "./describe-skill.js";
export { formatDuration, parseDuration, sleepFor } from "./duration.js";
export { summarizeConflicts } from "./engine/conflict-summary.js";
export { newExperimentId } from "./engine/experiment-id.js";
export { currentOwner, heartbeatIntervalMs, heartbeatLapseMs, ownerOfProcess, ownerState } from "./engine/experiment-owner.js";
export {
  ExperimentSession,
  type ExperimentSessionOptions,
  type HoldObservation,
  type PlannedSkill,
  selectResources,
} from "./engine/experiment-session.js";
export {
  type RecoveredExperiment,
  type RecoverOptions,
  type RecoverResult,
  recoverExperiments,
  type SkippedExperiment,
} from "./engine/recover.js";
export {
  type ExperimentReport,
  formatReport,
  type PlannerReport,
  type RollbackFailure,
  type RollbackReport,
  type SkillReport,
} from "./engine/report.js";
export { counted, formatMetrics, statusInWords } from "./engine/report-words.js";
export { rollBackSteps } from "./engine/roll-back-steps.js";
export { type RunExperimentOptions, runExperiment } from "./engine/run-experiment.js";
export { fileErrorInWords } from "./errors/file-error-words.js";
export {
  ChaosError,
  ConfigError,
  type ConfigIssue,
  ConnectionError,
  ExitCode,
  formatIssue,
  RollbackBlockedError,
  SkillError,
  UnfinishedExperimentError,
} from "./errors/index.js";
export {
  type ChaosEvent,
  type ChaosEventInput,
  type ChaosEventType,
  chaosEventSchema,
  type ExperimentStatus,
  eventSchemaVersion,
  eventsJsonSchema,
} from "./events/chaos-event.js";
export { createConsoleSink } from "./events/console-sink.js";
export { EventBus, type EventSink } from "./events/event-bus.js";
export { createJsonLinesSink } from "./events/json-lines-sink.js";
export type { Logger } from "./events/logger.js";
export { createWebhookSink } from "./events/webhook-sink.js";
export type {
  ExperimentOwner,
  ExperimentRecord,
  Journal,
  JournalRetention,
  ScheduledRunClaim,
  ScheduledRunClaimResult,
  ScheduledRunRecord,
  StepRecord,
} from "./journal/journal.js";
export { defaultJournalPath, defaultStateDirectory, stateDirectoryOf } from "./journal/journal-path.js";
export { isPostgresJournalUrl, openPostgresJournal } from "./journal/postgres-journal.js";
export { openSqliteJournal } from "./journal/sqlite-journal.js";
export type { JsonValue, Metrics } from "./json.js";
export { loadPluginSkills } from "./plugins.js";
export { containsRedaction, REDACTED, redactSecrets, redactText } from "./redact.js";
export { type AnyTarget, closest, Registry } from "./registry.js";
export {
  type AnySkill,
  defineSkill,
  type InjectContext,
  type InjectResult,
  type PlanContext,
  type RollbackContext,
  type RollbackResult,
  type Skill,
  type SkillPlan,
  type UndoJournal,
} from "./skill.js";
export {
  type ConnectContext,
  type Inventory,
  type Resource,
  type Target,
  type TargetKind,
  type TargetSession,
  targetKinds,
} from "./target.js";
