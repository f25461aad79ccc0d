import { Cron } from "croner";
import { z } from "zod";
import { parseDuration } from "../duration.js";
import { targetKinds } from "../target.js";
import { durationText, positiveInteger, regexText } from "./params.js";
import { policySchema } from "./policy-schema.js";
import { targetsSchema } from "./target-aliases.js";

export const skillEntrySchema = z.strictObject({
  skill_name: z.string().min(1, "expected a skill name such as db.insert_load"),
  params: z.record(z.string(), z.unknown()).default({}),
});

export const experimentSchema = z.strictObject({
  name: z.string().min(1, "expected a name"),
  target: z.enum(targetKinds, { error: `expected one of ${targetKinds.join(", ")}` }),
  target_config: z.record(z.string(), z.unknown()),
  skills: z.array(skillEntrySchema).min(1, "expected at least one skill"),
  /** How long faults are held before rollback. */
  duration: durationText()
    .refine((text) => (parseDuration(text) ?? 1) > 0, 'a hold of 0 shows nothing: give it a length such as "30s" (the shortest is "1ms")')
    .default("30s"),
  parallel: z.boolean().default(false),
  resource_filters: z.array(regexText()).default([]),
  /** Lets skills do what endangers durability or needs a restart (db.config_change). */
  allow_dangerous: z.boolean().default(false),
});

const pluginsSchema = z.array(z.string().min(1)).default([]);

export const experimentsFileSchema = z.strictObject({
  plugins: pluginsSchema,
  targets: targetsSchema,
  experiments: z.array(experimentSchema).min(1, "expected at least one experiment"),
});

const cronText = z.string().superRefine((text, context) => {
  try {
    new Cron(text, { paused: true });
  } catch (error) {
    context.addIssue({ code: "custom", message: `not a valid cron schedule: ${(error as Error).message}` });
  }
});

const timezoneText = z.string().superRefine((zone, context) => {
  try {
    new Intl.DateTimeFormat("en", { timeZone: zone });
  } catch {
    context.addIssue({ code: "custom", message: `unknown time zone "${zone}" (an IANA name such as Europe/Berlin or UTC)` });
  }
});

export const daemonFileSchema = z.strictObject({
  plugins: pluginsSchema,
  targets: targetsSchema,
  settings: z
    .strictObject({
      max_concurrent: positiveInteger().default(1),
      /** Where each run's JSON report goes (default: the state folder's reports/). */
      report_dir: z.string().min(1).optional(),
      /**
       * Where the journal lives: a SQLite file, or a postgres:// URL that several daemons share
       * (write its password as ${ENV}; `--journal` wins over it).
       */
      journal: z.string().min(1).optional(),
    })
    .default({ max_concurrent: 1 }),
  experiments: z
    .array(
      z.strictObject({
        experiment: experimentSchema,
        /** Six fields (seconds first) or five. */
        schedule: cronText,
        /** IANA time zone the schedule is read in (default: the machine's). */
        timezone: timezoneText.optional(),
        enabled: z.boolean().default(true),
      }),
    )
    .min(1, "expected at least one scheduled experiment"),
});

const trusted = z.boolean().default(false).describe("offer this server's tools that are not marked read-only too");
const mcpFlat = z.discriminatedUnion("transport", [
  z.strictObject({
    name: z.string().min(1),
    transport: z.literal("stdio"),
    command: z.string().min(1),
    args: z.array(z.string()).default([]),
    env: z.record(z.string(), z.string()).default({}),
    trusted,
  }),
  z.strictObject({
    name: z.string().min(1),
    transport: z.enum(["sse", "http"]),
    url: z.url(),
    headers: z.record(z.string(), z.string()).default({}),
    trusted,
  }),
]);
// The seed's form: `transport: {type: stdio, command, args}` (or `{type: sse|http, url}`), `env` beside it.
const mcpNested = z.strictObject({
  name: z.string().min(1),
  transport: z.discriminatedUnion("type", [
    z.strictObject({ type: z.literal("stdio"), command: z.string().min(1), args: z.array(z.string()).default([]) }),
    z.strictObject({ type: z.enum(["sse", "http"]), url: z.url(), headers: z.record(z.string(), z.string()).default({}) }),
  ]),
  env: z.record(z.string(), z.string()).default({}),
  trusted,
});
/** One MCP server, in either form, as one flat shape. */
const mcpServerSchema = z.union([mcpFlat, mcpNested]).transform((server) => {
  if (typeof server.transport === "string") return server as z.output<typeof mcpFlat>;
  const { transport, ...rest } = server as z.output<typeof mcpNested>;
  return transport.type === "stdio"
    ? { ...rest, transport: "stdio" as const, command: transport.command, args: transport.args }
    : { name: rest.name, trusted: rest.trusted, transport: transport.type, url: transport.url, headers: transport.headers };
});
export type McpServerConfig = z.output<typeof mcpServerSchema>;

export const llmFileSchema = z.strictObject({
  plugins: pluginsSchema,
  targets: targetsSchema,
  llm: z.strictObject({
    provider: z.enum(["anthropic", "openai", "ollama"]),
    api_key: z.string().optional(),
    model: z.string().min(1),
    max_tokens: positiveInteger().optional(),
    base_url: z.url().optional(),
    /** Streamed answers (the default): the model's text and tool calls show as they arrive. false: whole answers. */
    stream: z.boolean().default(true).describe("ask the provider for streamed answers (shown as they arrive); false: whole answers"),
  }),
  mcp_servers: z.array(mcpServerSchema).default([]),
  max_turns: positiveInteger().default(10),
  /** Tokens (input + output) the planning may spend at most. */
  max_total_tokens: positiveInteger().optional(),
  /** Discovered names leave the machine as tokens (table_1…), mapped back in the plan. */
  anonymize_names: z.boolean().default(false),
  /** How long planning may take at most, e.g. "2m". */
  max_planning_time: durationText().optional(),
  policy: policySchema,
});

export type ExperimentInput = z.input<typeof experimentSchema>;
export type ParsedExperiment = z.output<typeof experimentSchema>;
export type DaemonFile = z.output<typeof daemonFileSchema>;
export type LlmFile = z.output<typeof llmFileSchema>;

/** Which of the three config forms a document is, judged by its top-level keys. */
export function configFormOf(document: unknown): "experiments" | "daemon" | "llm" {
  if (!document || typeof document !== "object") return "experiments";
  const record = document as Record<string, unknown>;
  if ("llm" in record || "mcp_servers" in record || "max_turns" in record || "policy" in record) return "llm";
  const experiments = record.experiments;
  const scheduled = Array.isArray(experiments) && experiments.some((entry) => entry && typeof entry === "object" && "schedule" in entry);
  return "settings" in record || scheduled ? "daemon" : "experiments";
}
