import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import { dirname, resolve } from "node:path";
import { type Document, isMap, isScalar, isSeq, LineCounter, parseDocument, parse as parseYaml, Scalar } from "yaml";
import type { z } from "zod";
import { fileErrorInWords } from "../errors/file-error-words.js";
import { ConfigError, type ConfigIssue } from "../errors/index.js";
import { loadPluginSkills, resolvePluginPath } from "../plugins.js";
import { closest, type Registry } from "../registry.js";
import { type TargetKind, targetKinds } from "../target.js";
import {
  configFormOf,
  type DaemonFile,
  daemonFileSchema,
  type ExperimentInput,
  experimentSchema,
  experimentsFileSchema,
  type LlmFile,
  llmFileSchema,
  type ParsedExperiment,
} from "./config-schema.js";
import { interpolateEnv, protectReferences, restoreReferences } from "./interpolate.js";
import { knownKeysAt } from "./schema-keys.js";
import { resolveTargetAliases, type TargetAliases } from "./target-aliases.js";
import { formatPath, type IssuePath, positionOf } from "./yaml-positions.js";

export type ChaosConfig =
  | { form: "experiments"; plugins: string[]; targets: TargetAliases; experiments: ParsedExperiment[] }
  | ({ form: "daemon" } & DaemonFile)
  | ({ form: "llm" } & LlmFile);

export interface LoadedConfig {
  /** Absolute path of the file. */
  file: string;
  /** sha256 of the file's bytes: recorded in the journal with every experiment. */
  hash: string;
  config: ChaosConfig;
  warnings: ConfigIssue[];
}

export interface LoadConfigOptions {
  /** Built-in targets and skills; plugin skills named by the config are added to it. */
  registry: Registry;
  env?: NodeJS.ProcessEnv;
}

/** Reads, interpolates and validates a config file; throws one ConfigError listing every problem. */
export async function loadConfigFile(file: string, options: LoadConfigOptions): Promise<LoadedConfig> {
  const absolute = resolve(file);
  let text: string;
  try {
    text = await readFile(absolute, "utf8");
  } catch (error) {
    throw new ConfigError(file, [{ path: "", message: `cannot read the file: ${fileErrorInWords(error)}` }]);
  }
  const result = await parseConfigText(text, { ...options, file, directory: dirname(absolute) });
  if (result.errors.length > 0) throw new ConfigError(file, result.errors);
  return {
    file: absolute,
    hash: createHash("sha256").update(text).digest("hex"),
    config: result.config as ChaosConfig,
    warnings: result.warnings,
  };
}

interface ParseResult {
  config?: ChaosConfig;
  errors: ConfigIssue[];
  warnings: ConfigIssue[];
}

/** The whole pipeline on text: YAML → ${ENV} → form schema → plugins → target configs → skill params. */
export async function parseConfigText(
  text: string,
  options: LoadConfigOptions & { file: string; directory: string },
): Promise<ParseResult> {
  const lineCounter = new LineCounter();
  const document = parseDocument(protectReferences(text), { lineCounter, prettyErrors: true, uniqueKeys: true });
  const errors: ConfigIssue[] = [];
  const warnings: ConfigIssue[] = [];
  const at = (path: IssuePath, message: string, atKey = false): ConfigIssue => ({
    path: formatPath(path),
    message,
    ...positionOf(document, lineCounter, path, atKey),
  });

  for (const error of document.errors) {
    const position = error.linePos?.[0];
    // The position is printed once, in front; the parser's own copy of it and its trailing colon go.
    const message = (error.message.split("\n")[0] ?? "").replace(/ at line \d+, column \d+:?$/, "").replace(/:$/, "");
    errors.push({ path: "", message: `YAML: ${message}`, line: position?.line, column: position?.col });
  }
  if (errors.length > 0) return { errors, warnings };

  interpolateDocument(document, options.env ?? process.env, (path, message) => errors.push(at(path, message)));
  let raw: unknown;
  try {
    raw = document.toJS({ maxAliasCount: 100 });
  } catch (error) {
    // yaml refuses alias expansions that grow without bound (the "billion laughs" attack).
    const message = /alias/i.test((error as Error).message)
      ? "YAML: its aliases (*name) expand to too much data; a config never needs that many, so write the values out"
      : `YAML: ${(error as Error).message}`;
    return { errors: [...errors, { path: "", message }], warnings };
  }
  if (raw === null || typeof raw !== "object" || Array.isArray(raw)) {
    return { errors: [...errors, { path: "", message: "expected a mapping with an `experiments` list" }], warnings };
  }

  const form = configFormOf(raw);
  const record = raw as Record<string, unknown>;
  // Aliases first: an experiment that names its target by alias is then an ordinary experiment.
  const experiments = experimentsOf(record, form);
  const badAliases = new Set<string>();
  const aliased = resolveTargetAliases(record.targets, experiments, (path, message) => {
    badAliases.add(formatPath(path.slice(0, -1)));
    errors.push(at(path, message, true));
  });
  const schema = form === "llm" ? llmFileSchema : form === "daemon" ? daemonFileSchema : experimentsFileSchema;
  const parsed = schema.safeParse(raw, { reportInput: true });
  // An experiment whose alias was wrong has no target: that is one problem, already said.
  const isAliasEcho = (issue: ConfigIssue) => badAliases.has(issue.path.replace(/\.(target|target_config)$/, ""));
  if (!parsed.success) errors.push(...zodIssues(parsed.error.issues, [], at, schema).filter((issue) => !isAliasEcho(issue)));

  const plugins = await loadPlugins(record.plugins, options, (path, message) => errors.push(at(path, message)));

  // Experiments are checked on the raw document too, so a bad skill is reported alongside a bad top-level key.
  validateTargets(record.targets, options.registry, at, errors);
  // `chaos recover` finds an experiment's target again by its name: two of one name would be ambiguous.
  const seen = new Map<unknown, number>();
  experiments.forEach(({ value, path }, index) => {
    const first = seen.get(value.name);
    if (typeof value.name === "string" && first !== undefined) {
      errors.push(
        at([...path, "name"], `another experiment (the ${ordinal(first + 1)}) is named "${value.name}" too; names must be unique`),
      );
    }
    if (!seen.has(value.name)) seen.set(value.name, index);
  });
  experiments.forEach(({ value, path }) => {
    validateExperiment(value, path, options.registry, at, errors, !aliased.has(value));
  });

  if (errors.length > 0 || !parsed.success) return { errors: firstPerPath(errors.sort(byPosition)), warnings };
  const config = { form, ...(parsed.data as object), plugins } as ChaosConfig;
  applyParsedExperiments(config, options.registry);
  return { config, errors, warnings };
}

function ordinal(position: number): string {
  const suffix =
    position % 10 === 1 && position !== 11
      ? "st"
      : position % 10 === 2 && position !== 12
        ? "nd"
        : position % 10 === 3 && position !== 13
          ? "rd"
          : "th";
  return `${position}${suffix}`;
}

function byPosition(left: ConfigIssue, right: ConfigIssue): number {
  return (left.line ?? 0) - (right.line ?? 0) || (left.column ?? 0) - (right.column ?? 0);
}

type At = (path: IssuePath, message: string, atKey?: boolean) => ConfigIssue;

function interpolateDocument(document: Document, env: NodeJS.ProcessEnv, report: (path: IssuePath, message: string) => void) {
  const walk = (node: unknown, path: PropertyKey[]) => {
    if (isMap(node)) {
      for (const pair of node.items) walk(pair.value, [...path, isScalar(pair.key) ? String(pair.key.value) : "?"]);
    } else if (isSeq(node)) {
      for (const [index, item] of node.items.entries()) walk(item, [...path, index]);
    } else if (isScalar(node) && typeof node.value === "string") {
      const written = restoreReferences(node.value);
      node.value = written;
      if (!written.includes("${")) return;
      const { text, missing } = interpolateEnv(written, env);
      for (const name of missing) {
        report(path, `environment variable ${name} is not set (set it, or give a default: \${${name}:-value})`);
      }
      node.value = node.type === Scalar.PLAIN ? retype(text) : text;
    }
  };
  walk(document.contents, []);
}

/** An unquoted `${ROWS}` that becomes "100" should be the number 100, as if written literally. */
function retype(text: string): unknown {
  try {
    const value: unknown = parseYaml(text);
    return value === null || typeof value === "object" ? text : value;
  } catch {
    return text;
  }
}

async function loadPlugins(
  value: unknown,
  options: LoadConfigOptions & { directory: string },
  report: (path: IssuePath, message: string) => void,
): Promise<string[]> {
  if (!Array.isArray(value)) return [];
  const loaded: string[] = [];
  for (const [index, entry] of value.entries()) {
    if (typeof entry !== "string") continue;
    const path = resolvePluginPath(entry, options.directory);
    try {
      for (const skill of await loadPluginSkills(path)) options.registry.addSkill(skill);
      loaded.push(path);
    } catch (error) {
      report(["plugins", index], `cannot load plugin ${entry}: ${(error as Error).message}`);
    }
  }
  return loaded;
}

function experimentsOf(record: Record<string, unknown>, form: string): { value: Record<string, unknown>; path: PropertyKey[] }[] {
  if (!Array.isArray(record.experiments) || form === "llm") return [];
  return record.experiments.flatMap((entry: unknown, index) => {
    if (!entry || typeof entry !== "object") return [];
    if (form === "daemon") {
      const inner = (entry as Record<string, unknown>).experiment;
      return inner && typeof inner === "object"
        ? [{ value: inner as Record<string, unknown>, path: ["experiments", index, "experiment"] }]
        : [];
    }
    return [{ value: entry as Record<string, unknown>, path: ["experiments", index] }];
  });
}

function validateTargets(targets: unknown, registry: Registry, at: At, errors: ConfigIssue[]) {
  if (!targets || typeof targets !== "object") return;
  for (const [alias, entry] of Object.entries(targets)) {
    const { target: kind, target_config: config } = (entry ?? {}) as { target?: TargetKind; target_config?: unknown };
    const target = kind && targetKinds.includes(kind) ? registry.target(kind) : undefined;
    if (!target || !config || typeof config !== "object") continue;
    const result = target.configSchema.safeParse(config, { reportInput: true });
    if (!result.success) errors.push(...zodIssues(result.error.issues, ["targets", alias, "target_config"], at, target.configSchema));
  }
}

function validateExperiment(
  experiment: Record<string, unknown>,
  path: PropertyKey[],
  registry: Registry,
  at: At,
  errors: ConfigIssue[],
  checkTargetConfig = true,
) {
  const kind = targetKinds.includes(experiment.target as TargetKind) ? (experiment.target as TargetKind) : undefined;
  const target = kind && registry.target(kind);
  if (checkTargetConfig && target && experiment.target_config && typeof experiment.target_config === "object") {
    const result = target.configSchema.safeParse(experiment.target_config, { reportInput: true });
    if (!result.success) errors.push(...zodIssues(result.error.issues, [...path, "target_config"], at, target.configSchema));
  }
  if (!Array.isArray(experiment.skills)) return;
  experiment.skills.forEach((entry: unknown, index) => {
    if (!entry || typeof entry !== "object") return;
    const { skill_name: name, params } = entry as { skill_name?: unknown; params?: unknown };
    if (typeof name !== "string") return;
    const entryPath = [...path, "skills", index];
    const skill = registry.skill(name);
    if (!skill) {
      const suggestion = registry.suggestSkill(name);
      errors.push(
        at(
          [...entryPath, "skill_name"],
          `unknown skill "${name}"${suggestion ? `; did you mean "${suggestion}"?` : "; run `chaos list-skills` to see them all"}`,
        ),
      );
      return;
    }
    if (kind && skill.target !== kind) {
      errors.push(
        at([...entryPath, "skill_name"], `skill ${name} acts on ${skill.target} targets, but this experiment's target is ${kind}`),
      );
    }
    const result = skill.params.safeParse(params ?? {}, { reportInput: true });
    if (!result.success) errors.push(...zodIssues(result.error.issues, [...entryPath, "params"], at, skill.params));
  });
}

/** Replaces raw target configs and params with what their schemas produced (defaults filled in). */
function applyParsedExperiments(config: ChaosConfig, registry: Registry) {
  const experiments =
    config.form === "experiments"
      ? config.experiments
      : config.form === "daemon"
        ? config.experiments.map((entry) => entry.experiment)
        : [];
  for (const experiment of experiments) applySchemas(experiment, registry);
}

/** Replaces an experiment's target config and params with what their schemas produce (defaults filled in). */
function applySchemas(experiment: ParsedExperiment, registry: Registry): ParsedExperiment {
  const target = registry.target(experiment.target);
  if (target) experiment.target_config = target.configSchema.parse(experiment.target_config) as Record<string, unknown>;
  for (const entry of experiment.skills) {
    const skill = registry.skill(entry.skill_name);
    if (skill) entry.params = skill.params.parse(entry.params) as Record<string, unknown>;
  }
  return experiment;
}

/**
 * One experiment written in code (tests, the demo, future planners), validated exactly as a
 * config file's: the experiment schema, then its target's config schema, each skill's existence,
 * target and params. Throws a ConfigError (exit 3) naming every problem.
 */
export function parseExperiment(experiment: ExperimentInput, registry: Registry): ParsedExperiment {
  const parsed = experimentSchema.safeParse(experiment, { reportInput: true });
  const errors: ConfigIssue[] = [];
  const at: At = (path, message) => ({ path: formatPath(path), message });
  if (!parsed.success) errors.push(...zodIssues(parsed.error.issues, [], at, experimentSchema));
  validateExperiment(experiment as Record<string, unknown>, [], registry, at, errors);
  if (!parsed.success || errors.length > 0) throw new ConfigError(`experiment "${String(experiment?.name ?? "")}"`, errors);
  return applySchemas(parsed.data, registry);
}

function zodIssues(issues: z.core.$ZodIssue[], prefix: PropertyKey[], at: At, schema?: z.core.$ZodType): ConfigIssue[] {
  return issues.flatMap((issue) => {
    const path = [...prefix, ...issue.path];
    if (issue.code === "unrecognized_keys") {
      const known = schema ? knownKeysAt(schema, issue.path) : [];
      return issue.keys.map((key) => {
        const suggestion = closest(key, known) ?? known.find((name) => name.split("_").includes(key.toLowerCase()));
        const message = suggestion
          ? `unknown key "${key}": did you mean "${suggestion}"? (unknown keys are not ignored)`
          : `unknown key "${key}" (check its spelling; unknown keys are not ignored)`;
        return at([...path, key], message, true);
      });
    }
    if (issue.code === "invalid_union" && issue.errors.length > 0) {
      // Report the branch that got furthest rather than "invalid input".
      const deepest = [...issue.errors].sort((left, right) => depth(right) - depth(left))[0] ?? [];
      return zodIssues(
        deepest.map((inner) => ({ ...inner, path: [...issue.path, ...inner.path] })),
        prefix,
        at,
        schema,
      );
    }
    return [at(path, describe(issue))];
  });
}

/** One problem per place: the first (a value of the wrong type need not also be told it is too big). */
function firstPerPath(issues: ConfigIssue[]): ConfigIssue[] {
  const seen = new Set<string>();
  return issues.filter((issue) => {
    if (seen.has(issue.path)) return false;
    seen.add(issue.path);
    return true;
  });
}

function depth(issues: z.core.$ZodIssue[]): number {
  return Math.max(0, ...issues.map((issue) => issue.path.length));
}

function describe(issue: z.core.$ZodIssue): string {
  const input = (issue as { input?: unknown }).input;
  // zod's own type words ("expected record, received undefined") become the config's.
  if (issue.code === "invalid_type" && issue.message.startsWith("Invalid input: expected ")) {
    const wanted = typeWords[issue.expected] ?? issue.expected;
    if (input === undefined) return `missing: expected ${wanted}`;
    return `expected ${wanted}, got ${input === null || typeof input !== "object" ? shown(input) : Array.isArray(input) ? "a list" : "a mapping"}`;
  }
  let message = issue.message
    .replace(/^Invalid input: /, "")
    .replace(
      /^Invalid discriminator value\. Expected (.+)$/,
      (_, choices: string) => `expected one of ${choices.replaceAll("'", "").split(" | ").join(", ")}`,
    );
  message = message.replace(/, received \w+$/, "").replace(/\brecord\b/, "a mapping (key: value)");
  if (input !== undefined && (input === null || typeof input !== "object")) message += `, got ${shown(input)}`;
  if (issue.code === "invalid_value" && typeof input === "string") {
    const suggestion = closest(input, issue.values.map(String));
    if (suggestion) message += `; did you mean "${suggestion}"?`;
  }
  return message;
}

const typeWords: Record<string, string> = {
  string: "text",
  number: "a number",
  int: "a whole number",
  boolean: "true or false",
  object: "a mapping (key: value)",
  record: "a mapping (key: value)",
  array: "a list",
};

/** A value as the user wrote it; numbers too large to be counts say so instead of printing 1e+300. */
function shown(input: unknown): string {
  if (typeof input === "number" && Number.isFinite(input) && Math.abs(input) > Number.MAX_SAFE_INTEGER) return "a number too large to use";
  return JSON.stringify(input);
}
