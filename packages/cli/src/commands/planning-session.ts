import { readFileSync } from "node:fs";
import { homedir } from "node:os";
import {
  ChaosError,
  EventBus,
  ExitCode,
  type LlmFile,
  openSqliteJournal,
  type Policy,
  parseDuration,
  policySchema,
  type Registry,
  runExperiment,
  type TargetAliases,
} from "@chaos-agents/core";
import {
  Anonymizer,
  connectMcpServers,
  createLanguageModel,
  type DryRun,
  extractPromptTargets,
  kubeconfigTarget,
  type PlanOutcome,
  type ProviderName,
  planExperiment,
  renderPlanFile,
  resolveModelSettings,
  savedPromptTarget,
} from "@chaos-agents/llm";
import type { LanguageModel, ToolSet } from "ai";
import { parse as parseYaml } from "yaml";
import type { CommandIo, GlobalOptions } from "../command-context.js";
import { loadConfigForCommand } from "./load-config-for-command.js";
import { createPlannerView, isTerminal } from "./planner-view.js";

/** Options `chaos plan` and `chaos agent` share. */
export interface PlanningOptions extends GlobalOptions {
  config?: string;
  provider?: ProviderName;
  model?: string;
  maxTurns?: string;
  save?: string;
  /** Discovered names leave the machine as tokens. */
  anonymize?: boolean;
  /** false (`--no-stream`): ask the provider for whole answers. */
  stream?: boolean;
}

export interface PlanningResult {
  outcome: PlanOutcome;
  /** The goal as the model saw it (URLs replaced by aliases). */
  goal: string;
  model: LanguageModel;
  provider: ProviderName;
  modelId: string;
  maxTokens: number;
  /** The MCP servers' tools, still connected for the hold; `close` disconnects them. */
  contextTools: ToolSet;
  close(): Promise<void>;
  /** The plan as a config file (`chaos run` takes it as it is). */
  planFile: string;
  /** Environment variables the plan file reads that the user must set (a password from the goal). */
  variablesToSet: string[];
  modelName: string;
}

/**
 * Everything between a goal in words and an accepted experiment: the config's targets and
 * policy, targets written in the goal, the model, the planner's turns shown as they happen.
 */
export async function planFromGoal(goal: string, options: PlanningOptions, registry: Registry, io: CommandIo): Promise<PlanningResult> {
  const loaded = options.config ? await loadConfigForCommand(options.config, registry, io) : undefined;
  const config = loaded?.config;
  if (config?.form === "daemon") {
    throw new ChaosError(`${options.config} is a daemon config; plan and agent take an LLM config (llm:, targets:, policy:)`, {
      exitCode: ExitCode.invalidConfig,
    });
  }
  const llm: LlmFile["llm"] | undefined = config?.form === "llm" ? config.llm : undefined;
  const policy: Policy = config?.form === "llm" ? config.policy : policySchema.parse(undefined);
  const maxTurns = options.maxTurns ? Number(options.maxTurns) : config?.form === "llm" ? config.max_turns : 10;
  if (!Number.isInteger(maxTurns) || maxTurns < 1) {
    throw new ChaosError(`--max-turns ${options.maxTurns}: expected a positive whole number`, { exitCode: ExitCode.usage });
  }

  const fromGoal = extractPromptTargets(goal);
  // Without a config, what the goal names and the cluster of KUBECONFIG; a config's targets are the whole list.
  const fromCluster = config ? {} : kubeconfigTarget(fromGoal.goal, io.env, homedir());
  const targets: TargetAliases = { ...(config?.targets ?? {}), ...fromCluster, ...fromGoal.aliases };
  if (Object.keys(targets).length === 0) {
    const kubeconfig = io.env.KUBECONFIG?.split(":").find(Boolean);
    throw new ChaosError(
      "no target to plan against: name targets in a config's targets: section (--config), write a connection URL in the goal, or set KUBECONFIG" +
        (kubeconfig && !config ? ` (it names ${kubeconfig}, which does not exist)` : ""),
      { exitCode: ExitCode.invalidConfig },
    );
  }
  const settings = resolveModelSettings(llm, { provider: options.provider, model: options.model }, io.env);
  const modelName = `${settings.provider} ${settings.model}`;
  const quiet = new EventBus();
  io.stderr.write(`planning with ${modelName}, at most ${maxTurns} turns, targets: ${Object.keys(targets).join(", ")}\n`);

  const mcp = await connectMcpServers(config?.form === "llm" ? config.mcp_servers : [], io.env);
  for (const note of mcp.notes) io.stderr.write(`${note}\n`);
  const model = createLanguageModel(settings);
  // The AI SDK's notes on how an adapter adapted the request (a JSON Schema keyword it dropped)
  // are for whoever debugs a provider: shown with -v, not on every run.
  (globalThis as { AI_SDK_LOG_WARNINGS?: unknown }).AI_SDK_LOG_WARNINGS = options.verbose
    ? ({ warnings }: { warnings: unknown[] }) => {
        for (const warning of warnings) io.stderr.write(`  debug: AI SDK: ${JSON.stringify(warning)}\n`);
      }
    : false;
  const view = createPlannerView(io.stderr, isTerminal(io.stderr));
  const outcome = await planExperiment({
    goal: fromGoal.goal,
    model,
    registry,
    targets,
    policy,
    maxTurns,
    maxTokens: settings.maxTokens,
    maxTotalTokens: config?.form === "llm" ? config.max_total_tokens : undefined,
    maxPlanningMs: config?.form === "llm" && config.max_planning_time ? parseDuration(config.max_planning_time) : undefined,
    log: quiet.logger(),
    dryRun: dryRunOn(registry),
    signal: io.signal,
    stream: settings.stream && options.stream !== false,
    onProgress: view.onProgress,
    onTurn: view.onTurn,
    contextTools: mcp.tools,
    anonymizer: options.anonymize || (config?.form === "llm" && config.anonymize_names) ? new Anonymizer() : undefined,
  }).catch(async (error: unknown) => {
    await mcp.close();
    throw error;
  });

  const promptTarget = fromGoal.targets.find((target) => target.alias === outcome.alias);
  // A prompt URL's password becomes a ${VARIABLE}; a config's entry is copied as written; the
  // kubeconfig's cluster holds no secret (recover reads the kubeconfig again).
  const targetEntry = promptTarget
    ? savedPromptTarget(promptTarget, targets[outcome.alias]!)
    : options.config
      ? rawTargetEntry(options.config, outcome.alias)
      : targets[outcome.alias];
  const planFile = renderPlanFile({
    goal: fromGoal.goal,
    model: modelName,
    rationale: outcome.rationale,
    alias: outcome.alias,
    targetEntry,
    experiment: outcome.experiment,
  });
  return {
    outcome,
    planFile,
    modelName,
    goal: fromGoal.goal,
    model,
    provider: settings.provider,
    modelId: settings.model,
    maxTokens: settings.maxTokens,
    contextTools: mcp.tools,
    close: mcp.close,
    variablesToSet: promptTarget?.passwordVariable ? [promptTarget.passwordVariable] : [],
  };
}

/** The target entry as the config file wrote it: `${ENV}` references stay references. */
function rawTargetEntry(file: string, alias: string): unknown {
  const raw = parseYaml(readFileSync(file, "utf8")) as { targets?: Record<string, unknown> };
  return raw.targets?.[alias];
}

/** Plans a proposal with the engine's own dry run: refusals go back to the model, the rest is the blast radius. */
function dryRunOn(registry: Registry): DryRun {
  return async (experiment) => {
    const journal = openSqliteJournal(":memory:");
    try {
      const report = await runExperiment(experiment, { registry, journal, events: new EventBus(), dryRun: true });
      return {
        blastRadius: report.skills.map(
          (skill) =>
            `${skill.skill}: ${skill.plan}${skill.targets.length ? ` (on ${skill.targets.join(", ")})` : ""}, held ${experiment.duration}`,
        ),
      };
    } catch (error) {
      return { errors: [(error as Error).message] };
    } finally {
      await journal.close();
    }
  };
}

/** The human summary of a plan: why, what it touches, what it cost. */
export function describePlan(result: PlanningResult): string {
  const { outcome } = result;
  return [
    `rationale: ${outcome.rationale}`,
    "blast radius:",
    ...outcome.blastRadius.map((line) => `  - ${line}`),
    `model: ${result.modelName}, ${outcome.turns} turns, ${outcome.inputTokens} input and ${outcome.outputTokens} output tokens`,
    ...result.variablesToSet.map((variable) => `note: the plan reads the password from $${variable}; set it before \`chaos run\``),
  ].join("\n");
}
