import type { z } from "zod";
import type { Logger } from "./events/logger.js";
import type { JsonValue, Metrics } from "./json.js";
import type { Inventory, TargetKind, TargetSession } from "./target.js";

/** What a skill will do, decided before anything changes; printed by `--dry-run`. */
export interface SkillPlan {
  /** Names of the resources it will act on. */
  targets: string[];
  /** One line for humans: "insert 10000 rows into public.users, public.orders". */
  summary: string;
  /** Anything the skill wants to carry from plan to inject. */
  details?: JsonValue;
}

export interface PlanContext<Params, Session extends TargetSession> {
  experimentId: string;
  params: Params;
  session: Session;
  /** Discovered resources that `resource_filters` allow; the only ones a skill may touch. */
  inventory: Inventory;
  /** How long the fault is held, in milliseconds. */
  durationMs: number;
  /** The experiment said `allow_dangerous: true`: skills may do what endangers durability or needs a restart. */
  allowDangerous: boolean;
  log: Logger;
}

/** Durable record of undo data: when `record` returns, the data is on disk. */
export interface UndoJournal {
  /**
   * Writes one rollback step; the promise settles once it is durable (fsynced, or committed in
   * PostgreSQL). Await it before making the change visible. Resolves to the step id.
   */
  record(undo: JsonValue): Promise<number>;
}

export interface InjectContext<Params, Session extends TargetSession> extends PlanContext<Params, Session> {
  plan: SkillPlan;
  journal: UndoJournal;
  /** Aborted when the experiment must stop injecting (signal, another skill failed). */
  signal: AbortSignal;
  /** Aborted when the hold ends: load started by `inject` should stop then. */
  holdEnded: AbortSignal;
  /** In-process handles (open connections, child processes) that rollback can use when it runs in the same process. */
  runtime: Map<string, unknown>;
  /** Reports progress of a long step (rows inserted so far…). */
  progress(done: number, total: number, note?: string): void;
  /** Reports a measurement taken while the fault is active. */
  observe(metrics: Metrics): void;
}

export interface InjectResult {
  summary: string;
  metrics?: Metrics;
  /** Load that keeps running until `holdEnded`; resolves with its final measurements. */
  running?: Promise<Metrics | undefined>;
}

export interface RollbackContext<Session extends TargetSession> {
  experimentId: string;
  session: Session;
  /** Same map as at inject time when rollback runs in that process; empty in `chaos recover`. */
  runtime: Map<string, unknown>;
  log: Logger;
  /** What an earlier try of this step saved with `saveCheckpoint` (also in `chaos recover`), if anything. */
  checkpoint?: JsonValue;
  /**
   * Durably saves a note for the next try of this step (durable once the promise settles: await
   * it): journal the id of a transaction before its COMMIT, so a try after a crash can ask whether
   * it committed.
   */
  saveCheckpoint(checkpoint: JsonValue): Promise<void>;
}

export interface RollbackResult {
  summary?: string;
  /**
   * Things deliberately left alone because someone else changed them since
   * (a row the application updated). Reported loudly; never retried.
   */
  conflicts?: string[];
  metrics?: Metrics;
}

/**
 * A named fault. `inject` acts on what `plan` selected and journals undo data before each
 * change becomes visible; `rollback` undoes one journaled step, is idempotent, and
 * undoes only what the experiment did.
 */
export interface Skill<Params = unknown, Session extends TargetSession = TargetSession, Undo extends JsonValue = JsonValue> {
  /** `<target>.<verb_or_noun>`, e.g. `db.insert_load`. */
  name: string;
  target: TargetKind;
  /** One line; feeds `list-skills` and LLM tool descriptions. */
  description: string;
  params: z.ZodType<Params>;
  /** False for read-only skills that need no rollback (they record no steps). */
  reversible: boolean;
  /** Checks params against the inventory and chooses targets; must not change anything. Throw SkillError to refuse. */
  plan?(context: PlanContext<Params, Session>): Promise<SkillPlan>;
  inject(context: InjectContext<Params, Session>): Promise<InjectResult>;
  rollback(context: RollbackContext<Session>, undo: Undo): Promise<RollbackResult | undefined>;
}

/** Identity function that gives a skill literal its types. */
export function defineSkill<Params, Session extends TargetSession, Undo extends JsonValue = JsonValue>(
  skill: Skill<Params, Session, Undo>,
): Skill<Params, Session, Undo> {
  return skill;
}

// biome-ignore lint/suspicious/noExplicitAny: the registry holds skills of every params type.
export type AnySkill = Skill<any, any, any>;
