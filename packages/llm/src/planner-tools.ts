import {
  ConfigError,
  describeSkill,
  type Inventory,
  type Logger,
  type ParsedExperiment,
  type Policy,
  parseExperiment,
  type Registry,
  redactText,
  type TargetAliases,
} from "@chaos-agents/core";
import { tool } from "ai";
import { z } from "zod";
import type { Anonymizer } from "./anonymizer.js";
import { checkPolicy } from "./check-policy.js";
import { untrustedData } from "./untrusted-data.js";

/** A proposal that passed validation and policy. */
export interface AcceptedPlan {
  alias: string;
  /** The experiment as `chaos run` takes it, with `target_alias` in place of target + target_config. */
  experiment: PlannedExperiment;
  /** The same, resolved against its target, ready for the engine. */
  parsed: ParsedExperiment;
  rationale: string;
  /** What each skill would touch, from a dry run on the real target: resources, intensity, duration. */
  blastRadius: string[];
}

/** A dry run of a proposal on its target (connect, discover, plan each skill): refusals, or what it would touch. */
export type DryRun = (experiment: ParsedExperiment) => Promise<{ errors: string[] } | { blastRadius: string[] }>;

export type PlannedExperiment = Omit<ParsedExperiment, "target" | "target_config"> & { target_alias: string };

export interface PlannerToolsOptions {
  registry: Registry;
  /** Targets by alias, with their secrets: used here to connect, never shown to the model. */
  targets: TargetAliases;
  policy: Policy;
  log: Logger;
  /** Rejected submissions after which the model is told to stop. */
  maxSubmissions?: number;
  /** Plans the proposal on the real target, so refusals (an unknown table) come back to the model. */
  dryRun?: DryRun;
  /** Discovered names leave the machine as tokens, and tokens in proposals are mapped back. */
  anonymizer?: Anonymizer;
}

/** Resources of one kind shown to the model at most; the rest are counted. */
const resourcesPerKind = 60;

/**
 * The model's tools: read-only discovery of the configured targets, the skill catalogue, and
 * `submit_experiment`, which validates and policy-checks a proposal in code and answers with every
 * problem so the model can repair it.
 */
export function createPlannerTools(options: PlannerToolsOptions) {
  const { registry, targets, policy, anonymizer } = options;
  const inventories = new Map<string, Promise<Inventory>>();
  const maxSubmissions = options.maxSubmissions ?? 5;
  let submissions = 0;
  let accepted: AcceptedPlan | undefined;
  const allowedSkills = () => registry.skills().filter((skill) => !policy.allowed_skills || policy.allowed_skills.includes(skill.name));
  const aliases = () => Object.keys(targets).filter((alias) => !policy.allowed_targets || policy.allowed_targets.includes(alias));

  const discoverAlias = (alias: string): Promise<Inventory> => {
    let inventory = inventories.get(alias);
    if (!inventory) {
      inventory = connectAndDiscover(alias);
      inventories.set(alias, inventory);
    }
    return inventory;
  };
  const connectAndDiscover = async (alias: string): Promise<Inventory> => {
    const entry = targets[alias]!;
    const target = registry.target(entry.target);
    if (!target) throw new Error(`no agent for target kind ${entry.target} is installed`);
    const session = await target.connect(target.configSchema.parse(entry.target_config), { experimentId: "plan", log: options.log });
    try {
      return await session.discover();
    } finally {
      await session.close().catch(() => undefined);
    }
  };

  const tools = {
    list_targets: tool({
      description: "List the targets you may plan against: their aliases and kinds (database, server, kubernetes).",
      inputSchema: z.object({}),
      execute: async () => aliases().map((alias) => ({ target_alias: alias, kind: targets[alias]!.target })),
    }),
    discover: tool({
      description:
        "Read-only discovery of one target: what it holds (tables, services, mounts, processes…) and facts about it. Changes nothing.",
      inputSchema: z.object({ target_alias: z.string().describe("an alias from list_targets") }),
      execute: async ({ target_alias }) => {
        if (!aliases().includes(target_alias)) return `unknown target alias ${target_alias}; known: ${aliases().join(", ")}`;
        try {
          const inventory = await discoverAlias(target_alias);
          return untrustedData(`discovery of ${target_alias}`, compactInventory(anonymizer ? anonymizer.inventory(inventory) : inventory));
        } catch (error) {
          return `discovery of ${target_alias} failed: ${redactText((error as Error).message)}`;
        }
      },
    }),
    list_skills: tool({
      description: "List the skills (fault injections) you may use, with the kind of target each acts on.",
      inputSchema: z.object({}),
      execute: async () => allowedSkills().map((skill) => ({ name: skill.name, target: skill.target, description: skill.description })),
    }),
    describe_skill: tool({
      description: "Describe one skill: what it does and its params as JSON Schema, with a description of every param.",
      inputSchema: z.object({ skill_name: z.string() }),
      execute: async ({ skill_name }) => {
        const skill = allowedSkills().find((candidate) => candidate.name === skill_name);
        if (!skill) return `unknown or disallowed skill ${skill_name}; call list_skills`;
        return describeSkill(skill);
      },
    }),
    submit_experiment: tool({
      description:
        "Submit the experiment you propose. It is validated and checked against the policy in code; the answer lists every problem to fix, or says it was accepted (then stop).",
      inputSchema: z.object({
        experiment: z
          .record(z.string(), z.unknown())
          .describe("one entry of a config's experiments: list: name, target_alias, skills [{skill_name, params}], duration, …"),
        rationale: z.string().describe("why this experiment tests the goal, and what to watch while it runs"),
      }),
      execute: async ({ experiment, rationale }) => {
        if (accepted) return { accepted: true, note: "an experiment was accepted already; stop" };
        if (++submissions > maxSubmissions) return { accepted: false, errors: [`${maxSubmissions} submissions were rejected; stop`] };
        const result = await review(
          anonymizer ? anonymizer.reveal(experiment) : experiment,
          anonymizer ? anonymizer.reveal(rationale) : rationale,
        );
        if ("errors" in result)
          return { accepted: false, errors: result.errors.map((error) => (anonymizer ? anonymizer.hide(error) : error)) };
        accepted = result;
        return { accepted: true };
      },
    }),
  };

  /** Validation exactly as for a config file, then the policy. */
  const review = async (input: Record<string, unknown>, rationale: string): Promise<AcceptedPlan | { errors: string[] }> => {
    const { target_alias: alias, ...rest } = input;
    if ("target" in rest || "target_config" in rest) return { errors: ["name the target with target_alias only"] };
    if (typeof alias !== "string" || !aliases().includes(alias)) {
      return { errors: [`target_alias must be one of ${aliases().join(", ") || "(no targets configured)"}`] };
    }
    const entry = targets[alias]!;
    let parsed: ParsedExperiment;
    try {
      parsed = parseExperiment({ ...rest, target: entry.target, target_config: entry.target_config } as never, registry);
    } catch (error) {
      if (!ConfigError.isInstance(error)) throw error;
      return {
        errors: (error as ConfigError).issues.map((issue) => redactText(issue.path ? `${issue.path}: ${issue.message}` : issue.message)),
      };
    }
    const violations = checkPolicy(parsed, alias, policy);
    if (violations.length > 0) return { errors: violations.map((violation) => `policy: ${violation}`) };
    const tried = options.dryRun ? await options.dryRun(parsed) : { blastRadius: [] };
    if ("errors" in tried) return { errors: tried.errors.map((error) => `on the target: ${redactText(error)}`) };
    const { target: _target, target_config: _config, ...planned } = parsed;
    return { alias, parsed, rationale, blastRadius: tried.blastRadius, experiment: { ...planned, target_alias: alias } };
  };

  return { tools, accepted: () => accepted, submissions: () => submissions };
}

/** The inventory grouped by kind, each resource's name and details, at most `resourcesPerKind` of each. */
function compactInventory(inventory: Inventory) {
  const byKind = new Map<string, unknown[]>();
  const counts = new Map<string, number>();
  for (const resource of inventory.resources) {
    counts.set(resource.kind, (counts.get(resource.kind) ?? 0) + 1);
    const list = byKind.get(resource.kind) ?? [];
    if (list.length < resourcesPerKind) list.push(resource.details ? { name: resource.name, ...resource.details } : resource.name);
    byKind.set(resource.kind, list);
  }
  return {
    facts: inventory.facts ?? {},
    resources: Object.fromEntries(
      [...byKind].map(([kind, list]) => [kind, { count: counts.get(kind), shown: list.length, items: list }] as const),
    ),
  };
}
