import type { Metrics } from "../json.js";

interface EventBase {
  /** ISO time the event was emitted. */
  at: string;
  experimentId?: string;
}

/** Everything an experiment tells the outside world, in order. */
export type ChaosEvent = EventBase &
  (
    | { type: "experiment_started"; name: string; target: string; identity: string; dryRun: boolean }
    | { type: "resources_discovered"; counts: Record<string, number>; selected: number }
    | { type: "skill_planned"; skill: string; targets: string[]; summary: string }
    | { type: "skill_injected"; skill: string; summary: string; metrics?: Metrics }
    | { type: "skill_failed"; skill: string; error: string }
    | { type: "progress"; skill: string; done: number; total: number; note?: string }
    | { type: "hold_started"; durationMs: number }
    | { type: "observation"; skill?: string; metrics: Metrics }
    | { type: "rollback_step_done"; stepId: number; skill: string; summary?: string; conflicts?: string[] }
    | { type: "rollback_step_failed"; stepId: number; skill: string; error: string }
    | { type: "experiment_finished"; name: string; status: ExperimentStatus }
    | { type: "log"; level: "debug" | "info" | "warn" | "error"; message: string }
  );

export type ExperimentStatus = "succeeded" | "dry_run" | "failed_rolled_back" | "interrupted_rolled_back" | "rollback_incomplete";

export type ChaosEventType = ChaosEvent["type"];

/** Distributes the omitted fields over the union so callers can emit `{ type, … }` literals. */
type WithoutTime<Event> = Event extends unknown ? Omit<Event, "at"> : never;
export type ChaosEventInput = WithoutTime<ChaosEvent>;
