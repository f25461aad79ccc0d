export { checkPolicy } from "./check-policy.js";
export { createLanguageModel, type ModelSettings, type ProviderName, resolveModelSettings } from "./language-model.js";
export { connectMcpServers, type McpTools } from "./mcp-tools.js";
export { type PlanExperimentOptions, type PlanOutcome, planExperiment } from "./plan-experiment.js";
export { type PlanFileInput, renderPlanFile } from "./plan-file.js";
export { type AcceptedPlan, createPlannerTools, type DryRun, type PlannedExperiment } from "./planner-tools.js";
export { extractPromptTargets, type PromptTarget, savedPromptTarget } from "./prompt-targets.js";
export { untrustedData } from "./untrusted-data.js";
