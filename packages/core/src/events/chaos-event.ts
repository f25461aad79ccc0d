import { z } from "zod";

/** Bumped when an event changes in a way a consumer must know of; added fields do not bump it. */
export const eventSchemaVersion = 1;

const metrics = z.record(z.string(), z.union([z.number(), z.string()]));
const base = {
  /** The events' schema version, on every event. */
  schema_version: z.literal(eventSchemaVersion),
  /** ISO time the event was emitted. */
  at: z.string(),
  experimentId: z.string().optional(),
};
const experimentStatus = z.enum(["succeeded", "dry_run", "failed_rolled_back", "interrupted_rolled_back", "rollback_incomplete"]);

/** Everything an experiment tells the outside world, in order: the documented JSON lines of `--output json`. */
export const chaosEventSchema = z.discriminatedUnion("type", [
  z.object({
    ...base,
    type: z.literal("experiment_started"),
    name: z.string(),
    target: z.string(),
    identity: z.string(),
    dryRun: z.boolean(),
  }),
  z.object({ ...base, type: z.literal("resources_discovered"), counts: z.record(z.string(), z.number()), selected: z.number() }),
  z.object({ ...base, type: z.literal("skill_planned"), skill: z.string(), targets: z.array(z.string()), summary: z.string() }),
  z.object({ ...base, type: z.literal("skill_injected"), skill: z.string(), summary: z.string(), metrics: metrics.optional() }),
  z.object({ ...base, type: z.literal("skill_failed"), skill: z.string(), error: z.string() }),
  z.object({ ...base, type: z.literal("progress"), skill: z.string(), done: z.number(), total: z.number(), note: z.string().optional() }),
  z.object({ ...base, type: z.literal("hold_started"), durationMs: z.number() }),
  z.object({ ...base, type: z.literal("observation"), skill: z.string().optional(), metrics }),
  z.object({
    ...base,
    type: z.literal("rollback_step_done"),
    stepId: z.number(),
    skill: z.string(),
    summary: z.string().optional(),
    conflicts: z.array(z.string()).optional(),
    /** How long the step took, retries included. */
    durationMs: z.number().optional(),
  }),
  z.object({ ...base, type: z.literal("rollback_step_failed"), stepId: z.number(), skill: z.string(), error: z.string() }),
  z.object({ ...base, type: z.literal("experiment_finished"), name: z.string(), status: experimentStatus }),
  z.object({ ...base, type: z.literal("log"), level: z.enum(["debug", "info", "warn", "error"]), message: z.string() }),
  z.object({ ...base, type: z.literal("rollback_started"), steps: z.number() }),
  /** The last line of every command under `--output json`, whether it succeeded or not. */
  z.object({
    ...base,
    type: z.literal("command_finished"),
    command: z.string(),
    exitCode: z.number(),
    ok: z.boolean(),
    /** What went wrong (the first line of the error), when something did. */
    error: z.string().optional(),
    /** Every problem of an invalid config, with its place in the file. */
    issues: z
      .array(z.object({ path: z.string(), message: z.string(), line: z.number().optional(), column: z.number().optional() }))
      .optional(),
    /** The command's facts in structured form (validate: the config's form and experiments; recover: what it did). */
    details: z.record(z.string(), z.unknown()).optional(),
    /** Whatever the command printed as text (a table, a plan), kept here so stdout holds only JSON lines. */
    text: z.string().optional(),
  }),
]);

export type ChaosEvent = z.output<typeof chaosEventSchema>;
export type ExperimentStatus = z.output<typeof experimentStatus>;
export type ChaosEventType = ChaosEvent["type"];

/** Distributes the omitted fields over the union so callers can emit `{ type, … }` literals. */
type WithoutStamp<Event> = Event extends unknown ? Omit<Event, "at" | "schema_version"> : never;
export type ChaosEventInput = WithoutStamp<ChaosEvent>;

/** JSON Schema of the event lines (committed as schema/chaos-events.schema.json). */
export function eventsJsonSchema(): Record<string, unknown> {
  return {
    ...z.toJSONSchema(chaosEventSchema, { target: "draft-2020-12" }),
    $id: "https://chaos-agents.dev/schema/events.json",
    title: `Chaos Agents events, schema_version ${eventSchemaVersion}`,
  };
}
