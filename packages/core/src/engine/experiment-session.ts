import type { ParsedExperiment } from "../config/config-schema.js";
import { parseDuration, sleepFor } from "../duration.js";
import { ChaosError, ConnectionError, ExitCode, SkillError, UnfinishedExperimentError } from "../errors/index.js";
import type { ExperimentStatus } from "../events/chaos-event.js";
import type { EventBus } from "../events/event-bus.js";
import type { Journal } from "../journal/journal.js";
import type { JsonValue, Metrics } from "../json.js";
import { redactSecrets, redactText } from "../redact.js";
import type { Registry } from "../registry.js";
import type { AnySkill, InjectContext, SkillPlan } from "../skill.js";
import type { Inventory, Target, TargetSession } from "../target.js";
import { newExperimentId } from "./experiment-id.js";
import { currentOwner, heartbeatIntervalMs, ownerState } from "./experiment-owner.js";
import { type ExperimentReport, emptyRollbackReport, type SkillReport } from "./report.js";
import { resourceFilter } from "./resource-filter.js";
import { rollBackSteps } from "./roll-back-steps.js";

export interface ExperimentSessionOptions {
  registry: Registry;
  journal: Journal;
  events: EventBus;
  /** Connect, discover and plan only: `inject` is refused. No journal check either. */
  dryRun?: boolean;
  /** Aborted on SIGINT/SIGTERM: stop injecting, skip the rest of the hold, roll back. */
  signal?: AbortSignal;
  /** Run even though the journal holds an unfinished experiment on the same target. */
  force?: boolean;
  configFile?: string;
  configHash?: string;
  plugins?: string[];
  /** Tries per rollback step before leaving it to `chaos recover`. */
  rollbackAttempts?: number;
}

/** What an observer of the hold can see and do. */
export interface HoldObservation {
  experimentId: string;
  /** Aborted when the hold ends, for whatever reason. */
  signal: AbortSignal;
  /** The latest measurements of each skill (the running load's too). */
  measurements(): Record<string, Metrics>;
  /** Ends the hold now; rollback follows as after a full hold. */
  endHold(reason: string): void;
}

/** One skill of the experiment as planned: what `plan` returns, one per entry of `skills:`. */
export interface PlannedSkill {
  skill: AnySkill;
  params: Record<string, unknown>;
  plan: SkillPlan;
  report: SkillReport;
  running?: Promise<Metrics | undefined>;
}

type Stage = "connected" | "discovered" | "planned" | "injected" | "finished";

/**
 * One experiment, offered as the engine's steps: `open` (check the journal, connect) →
 * `discover` → `plan` → `inject` → `hold` → `rollBack` → `close`. `chaos run`, `chaos agent`
 * and the daemon drive these same calls (`runExperiment` is the plain sequence), so each has the
 * journal, ownership and rollback of the others. Steps must come in that order; once `inject`
 * has been called, `rollBack` must follow, whatever happened (call it from a `finally`).
 */
export class ExperimentSession {
  readonly report: ExperimentReport;
  private stage: Stage = "connected";
  private inventory: Inventory = { resources: [] };
  private planned: PlannedSkill[] = [];
  private readonly durationMs: number;
  private readonly log;
  private readonly owner = currentOwner();
  private readonly stopInjecting = new AbortController();
  private readonly holdEnded = new AbortController();
  private readonly runtime = new Map<string, unknown>();
  private readonly measurements: Record<string, Metrics> = {};
  private heartbeat?: NodeJS.Timeout;
  private takenOver = false;
  private failure: unknown;
  private journaled = false;

  private constructor(
    readonly experimentId: string,
    private readonly experiment: ParsedExperiment,
    private readonly options: ExperimentSessionOptions,
    private readonly session: TargetSession,
    identity: string,
    startedAt: Date,
  ) {
    this.durationMs = parseDuration(experiment.duration) ?? 0;
    this.log = options.events.logger(this.experimentId);
    this.report = {
      experimentId: this.experimentId,
      name: experiment.name,
      target: experiment.target,
      identity,
      status: "succeeded",
      startedAt: startedAt.toISOString(),
      finishedAt: "",
      durationMs: this.durationMs,
      heldMs: 0,
      skills: [],
      rollback: emptyRollbackReport(),
    };
  }

  /**
   * Refuses a target that holds an unfinished experiment (unless `force` or a dry run), announces
   * the experiment and connects. Nothing has changed on the target when this returns.
   */
  static async open(experiment: ParsedExperiment, options: ExperimentSessionOptions): Promise<ExperimentSession> {
    const target = options.registry.target(experiment.target);
    if (!target) throw new ChaosError(`no agent for target ${experiment.target} is installed`, { exitCode: ExitCode.invalidConfig });
    const identity = target.identify(experiment.target_config);
    if (!options.dryRun && !options.force) await refuseUnfinished(options.journal, identity);
    const startedAt = new Date();
    // The id is drawn before connecting so the connection's log lines carry it.
    const experimentId = newExperimentId();
    options.events.emit({
      type: "experiment_started",
      experimentId,
      name: experiment.name,
      target: experiment.target,
      identity,
      dryRun: Boolean(options.dryRun),
    });
    const session = await connect(target, experiment, identity, experimentId, options.events);
    return new ExperimentSession(experimentId, experiment, options, session, identity, startedAt);
  }

  /** Discovers the target and keeps what `resource_filters` allow. */
  async discover(): Promise<Inventory> {
    this.advance("connected", "discovered");
    this.inventory = selectResources(await this.session.discover(), this.experiment.resource_filters);
    const counts: Record<string, number> = {};
    for (const resource of this.inventory.resources) counts[resource.kind] = (counts[resource.kind] ?? 0) + 1;
    this.options.events.emit({
      type: "resources_discovered",
      experimentId: this.experimentId,
      counts,
      selected: this.inventory.resources.length,
    });
    return this.inventory;
  }

  /** Plans every skill on the discovered resources; a refusal here means nothing changed. */
  async plan(): Promise<readonly PlannedSkill[]> {
    this.advance("discovered", "planned");
    for (const entry of this.experiment.skills) this.planned.push(await this.planSkill(entry.skill_name, entry.params));
    this.report.skills = this.planned.map((run) => run.report);
    return this.planned;
  }

  /**
   * Journals the experiment, starts the heartbeat and injects the planned skills (in parallel when
   * the experiment says so). A skill that fails stops the others; the failure is kept for the
   * report. Returns whether the hold should follow.
   */
  async inject(): Promise<boolean> {
    if (this.options.dryRun) throw new Error("a dry run injects nothing");
    this.advance("planned", "injected");
    const { journal, signal } = this.options;
    await journal.beginExperiment({
      owner: this.owner,
      id: this.experimentId,
      name: this.experiment.name,
      target: this.experiment.target,
      identity: this.report.identity,
      targetConfig: this.experiment.target_config as JsonValue,
      configFile: this.options.configFile,
      configHash: this.options.configHash,
      plugins: this.options.plugins ?? [],
      startedAt: this.report.startedAt,
      deadline: new Date(Date.parse(this.report.startedAt) + this.durationMs).toISOString(),
    });
    this.journaled = true;
    signal?.addEventListener("abort", this.onExternalAbort, { once: true });
    if (signal?.aborted) this.onExternalAbort();
    // The heartbeat tells `chaos recover` this experiment is alive. If another process took it over
    // (`recover --force` from another host after the heartbeat lapsed), this one must stop at once
    // and leave the rollback to it: two rollbacks of the same steps at once is what ownership prevents.
    let beating = false;
    this.heartbeat = setInterval(async () => {
      // A slow journal must not pile heartbeats up: one at a time.
      if (beating) return;
      beating = true;
      const owned = await this.stillOwned();
      beating = false;
      if (owned) return;
      this.takenOver = true;
      this.onExternalAbort();
    }, heartbeatIntervalMs);
    this.heartbeat.unref();

    if (this.experiment.parallel) await Promise.all(this.planned.map((run) => this.injectSkill(run)));
    else for (const run of this.planned) await this.injectSkill(run);
    return !this.failure && !this.stopInjecting.signal.aborted;
  }

  /**
   * Holds the faults for the experiment's duration, or until a signal or the observer ends the
   * hold. The observer starts with the hold; nothing waits for it.
   */
  async hold(observer?: (hold: HoldObservation) => void): Promise<void> {
    if (this.stage !== "injected" || this.holdEnded.signal.aborted) return;
    this.options.events.emit({ type: "hold_started", experimentId: this.experimentId, durationMs: this.durationMs });
    for (const run of this.planned)
      if (run.report.metrics) this.measurements[run.skill.name] = { ...run.report.metrics, ...this.measurements[run.skill.name] };
    observer?.({
      experimentId: this.experimentId,
      signal: this.holdEnded.signal,
      measurements: () => structuredClone(this.measurements),
      endHold: (reason) => {
        if (this.holdEnded.signal.aborted) return;
        this.report.holdEndedEarly = redactText(reason);
        this.log.info(`hold ended early: ${this.report.holdEndedEarly}`);
        this.holdEnded.abort();
      },
    });
    const holdStart = Date.now();
    await sleepFor(this.durationMs, this.holdEnded.signal);
    this.report.heldMs = Date.now() - holdStart;
  }

  /**
   * Stops the running load, rolls every journaled step back (LIFO) unless another process took
   * the experiment over, and finishes the experiment in the journal. Never throws for a step that
   * could not be undone: the report says so.
   */
  async rollBack(): Promise<ExperimentReport> {
    if (this.stage === "finished") return this.report;
    if (this.stage !== "injected") throw new Error("rollBack follows inject");
    this.stage = "finished";
    this.holdEnded.abort();
    await collectRunningLoad(this.planned);
    this.options.signal?.removeEventListener("abort", this.onExternalAbort);
    clearInterval(this.heartbeat);
    // Journaling the experiment failed: nothing was injected, and the error is on its way up.
    if (!this.journaled) return this.report;
    if (this.takenOver || !(await this.stillOwned())) {
      this.report.error = "another process took this experiment over (chaos recover --force); it finishes the rollback";
      return this.finish("rollback_incomplete");
    }
    const { journal, registry, events } = this.options;
    const rollback = await rollBackSteps({
      experimentId: this.experimentId,
      journal,
      registry,
      session: this.session,
      events,
      runtime: this.runtime,
      attempts: this.options.rollbackAttempts,
    });
    this.report.rollback = rollback;
    const complete = rollback.failed.length === 0 && rollback.conflicts.length === 0;
    if (this.failure) this.report.error = redactText((this.failure as Error).message ?? String(this.failure));
    const outcome = !complete
      ? "rollback_incomplete"
      : this.failure
        ? "failed_rolled_back"
        : this.options.signal?.aborted
          ? "interrupted_rolled_back"
          : "succeeded";
    await journal.finishExperiment(this.experimentId, rollback.failed.length === 0 ? "finished" : "rollback_incomplete", outcome);
    return this.finish(outcome);
  }

  /** Ends a run that stopped before injecting (a dry run): its report, status `dry_run`. */
  finishWithoutInjecting(): ExperimentReport {
    if (this.stage === "injected") throw new Error("an injected experiment ends with rollBack");
    this.stage = "finished";
    return this.finish("dry_run");
  }

  /** Closes the connection; a failure here is only a warning. */
  async close(): Promise<void> {
    await this.session.close().catch((error: Error) => this.log.warn(`closing the connection failed: ${redactText(error.message)}`));
  }

  private readonly onExternalAbort = () => {
    this.stopInjecting.abort();
    this.holdEnded.abort();
  };

  private async stillOwned(): Promise<boolean> {
    try {
      return await this.options.journal.heartbeat(this.experimentId, this.owner);
    } catch (error) {
      // A busy or failing journal is no sign of a takeover: the rollback must still run.
      this.log.warn(`could not write the heartbeat to the journal: ${(error as Error).message}`);
      return true;
    }
  }

  private advance(from: Stage, to: Stage) {
    // A programming error in a driver of the steps, never a user's.
    if (this.stage !== from) throw new Error(`engine steps out of order: the experiment is ${this.stage}, the next step needs it ${from}`);
    this.stage = to;
  }

  private finish(status: ExperimentStatus): ExperimentReport {
    this.report.status = status;
    this.report.finishedAt = new Date().toISOString();
    this.options.events.emit({ type: "experiment_finished", experimentId: this.experimentId, name: this.experiment.name, status });
    return this.report;
  }

  private async planSkill(name: string, params: Record<string, unknown>): Promise<PlannedSkill> {
    const skill = this.options.registry.skill(name);
    if (!skill) throw new ChaosError(`unknown skill ${name}`, { exitCode: ExitCode.invalidConfig });
    let plan: SkillPlan;
    try {
      plan = skill.plan
        ? await skill.plan({
            experimentId: this.experimentId,
            session: this.session,
            inventory: this.inventory,
            durationMs: this.durationMs,
            allowDangerous: this.experiment.allow_dangerous,
            log: this.log,
            params,
          })
        : { targets: [], summary: skill.description };
    } catch (error) {
      // Refusals happen before anything changed: the experiment does not fit this target.
      const message = redactText((error as Error).message ?? String(error));
      throw new SkillError(skill.name, message.startsWith(`${skill.name}: `) ? message.slice(skill.name.length + 2) : message, {
        exitCode: ExitCode.invalidConfig,
        cause: error,
      });
    }
    this.options.events.emit({
      type: "skill_planned",
      experimentId: this.experimentId,
      skill: skill.name,
      targets: plan.targets,
      summary: plan.summary,
    });
    return {
      skill,
      params,
      plan,
      report: { skill: skill.name, params: redactSecrets(params), targets: plan.targets, plan: plan.summary, injected: false },
    };
  }

  private async injectSkill(run: PlannedSkill): Promise<void> {
    if (this.stopInjecting.signal.aborted) return;
    const { events, journal } = this.options;
    const experimentId = this.experimentId;
    try {
      const context: InjectContext<unknown, TargetSession> = {
        experimentId,
        session: this.session,
        inventory: this.inventory,
        durationMs: this.durationMs,
        allowDangerous: this.experiment.allow_dangerous,
        log: this.log,
        params: run.params,
        plan: run.plan,
        journal: { record: (undo) => journal.recordStep(experimentId, run.skill.name, undo) },
        signal: this.stopInjecting.signal,
        holdEnded: this.holdEnded.signal,
        runtime: this.runtime,
        progress: (done, total, note) => events.emit({ type: "progress", experimentId, skill: run.skill.name, done, total, note }),
        observe: (metrics) => {
          this.measurements[run.skill.name] = { ...this.measurements[run.skill.name], ...metrics };
          events.emit({ type: "observation", experimentId, skill: run.skill.name, metrics });
        },
      };
      const result = await run.skill.inject(context);
      Object.assign(run.report, { injected: true, summary: result.summary, metrics: result.metrics });
      run.running = result.running;
      events.emit({ type: "skill_injected", experimentId, skill: run.skill.name, summary: result.summary, metrics: result.metrics });
    } catch (error) {
      const message = redactText((error as Error).message ?? String(error));
      run.report.error = message;
      this.failure ??= error;
      this.stopInjecting.abort();
      events.emit({ type: "skill_failed", experimentId, skill: run.skill.name, error: message });
    }
  }
}

/** Keeps the resources `resource_filters` allow (all of them when there are no filters). */
export function selectResources(inventory: Inventory, filters: string[]): Inventory {
  if (filters.length === 0) return inventory;
  const tests = filters.map(resourceFilter);
  return { ...inventory, resources: inventory.resources.filter((resource) => tests.some((test) => test(resource.name))) };
}

async function refuseUnfinished(journal: Journal, identity: string) {
  const unfinished = (await journal.unfinishedExperiments()).find((record) => record.identity === identity);
  if (!unfinished) return;
  const running = unfinished.owner && ownerState(unfinished.owner, unfinished.heartbeatAt) === "alive" ? unfinished.owner : undefined;
  throw new UnfinishedExperimentError(unfinished.id, identity, running);
}

async function connect(
  target: Target<unknown, TargetSession>,
  experiment: ParsedExperiment,
  identity: string,
  experimentId: string,
  events: EventBus,
) {
  try {
    return await target.connect(experiment.target_config, { experimentId, log: events.logger(experimentId) });
  } catch (error) {
    throw ChaosError.isInstance(error) ? error : new ConnectionError(identity, redactText((error as Error).message), { cause: error });
  }
}

async function collectRunningLoad(runs: PlannedSkill[]) {
  await Promise.all(
    runs.map(async (run) => {
      if (!run.running) return;
      try {
        const metrics = await run.running;
        if (metrics) run.report.metrics = { ...run.report.metrics, ...metrics };
      } catch (error) {
        run.report.error ??= redactText((error as Error).message);
      }
    }),
  );
}
