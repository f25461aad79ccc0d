import type { ParsedExperiment } from "../config/config-schema.js";
import { parseDuration, sleepFor } from "../duration.js";
import { ChaosError, ConnectionError, ExitCode, SkillError, UnfinishedExperimentError } from "../errors/index.js";
import type { ExperimentStatus } from "../events/chaos-event.js";
import type { EventBus } from "../events/event-bus.js";
import type { Journal } from "../journal/journal.js";
import type { JsonValue, Metrics } from "../json.js";
import { redactSecrets, redactText } from "../redact.js";
import type { Registry } from "../registry.js";
import type { AnySkill, InjectContext, PlanContext, SkillPlan } from "../skill.js";
import type { Inventory, TargetSession } from "../target.js";
import { newExperimentId } from "./experiment-id.js";
import { currentOwner, heartbeatIntervalMs, ownerState } from "./experiment-owner.js";
import { type ExperimentReport, emptyRollbackReport, type SkillReport } from "./report.js";
import { resourceFilter } from "./resource-filter.js";
import { rollBackSteps } from "./roll-back-steps.js";

export interface RunExperimentOptions {
  registry: Registry;
  journal: Journal;
  events: EventBus;
  /** Connect, discover and print the plan; change nothing. */
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
  /**
   * Watches the hold (`chaos agent`'s model): reads what the skills measured and may end the hold
   * early. Started when the hold starts; rollback never waits for it.
   */
  observer?: (hold: HoldObservation) => void;
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

interface SkillRun {
  skill: AnySkill;
  params: Record<string, unknown>;
  plan: SkillPlan;
  report: SkillReport;
  running?: Promise<Metrics | undefined>;
}

/**
 * connect → discover → select → plan → inject → hold → roll back (LIFO) → report.
 * Whatever happens after the first injection, rollback runs (from a `finally`).
 */
export async function runExperiment(experiment: ParsedExperiment, options: RunExperimentOptions): Promise<ExperimentReport> {
  const { registry, journal, events } = options;
  const experimentId = newExperimentId();
  const target = registry.target(experiment.target);
  if (!target) throw new ChaosError(`no agent for target ${experiment.target} is installed`, { exitCode: ExitCode.invalidConfig });
  const identity = target.identify(experiment.target_config);
  const durationMs = parseDuration(experiment.duration) ?? 0;
  const log = events.logger(experimentId);
  const startedAt = new Date();
  const report: ExperimentReport = {
    experimentId,
    name: experiment.name,
    target: experiment.target,
    identity,
    status: "succeeded",
    startedAt: startedAt.toISOString(),
    finishedAt: "",
    durationMs,
    heldMs: 0,
    skills: [],
    rollback: emptyRollbackReport(),
  };
  const finish = (status: ExperimentStatus) => {
    report.status = status;
    report.finishedAt = new Date().toISOString();
    events.emit({ type: "experiment_finished", experimentId, name: experiment.name, status });
    return report;
  };

  if (!options.dryRun && !options.force) {
    const unfinished = journal.unfinishedExperiments().find((record) => record.identity === identity);
    if (unfinished) {
      const running = unfinished.owner && ownerState(unfinished.owner, unfinished.heartbeatAt) === "alive" ? unfinished.owner : undefined;
      throw new UnfinishedExperimentError(unfinished.id, identity, running);
    }
  }
  events.emit({
    type: "experiment_started",
    experimentId,
    name: experiment.name,
    target: experiment.target,
    identity,
    dryRun: Boolean(options.dryRun),
  });

  let session: TargetSession;
  try {
    session = await target.connect(experiment.target_config, { experimentId, log });
  } catch (error) {
    throw ChaosError.isInstance(error) ? error : new ConnectionError(identity, redactText((error as Error).message), { cause: error });
  }

  try {
    const inventory = selectResources(await session.discover(), experiment.resource_filters);
    const runs = await planSkills(
      experiment,
      { experimentId, session, inventory, durationMs, allowDangerous: experiment.allow_dangerous, log },
      registry,
      events,
    );
    report.skills = runs.map((run) => run.report);
    if (options.dryRun) return finish("dry_run");

    const owner = currentOwner();
    journal.beginExperiment({
      owner,
      id: experimentId,
      name: experiment.name,
      target: experiment.target,
      identity,
      targetConfig: experiment.target_config as JsonValue,
      configFile: options.configFile,
      configHash: options.configHash,
      plugins: options.plugins ?? [],
      startedAt: startedAt.toISOString(),
      deadline: new Date(startedAt.getTime() + durationMs).toISOString(),
    });

    const stopInjecting = new AbortController();
    const holdEnded = new AbortController();
    const onExternalAbort = () => {
      stopInjecting.abort();
      holdEnded.abort();
    };
    options.signal?.addEventListener("abort", onExternalAbort, { once: true });
    if (options.signal?.aborted) onExternalAbort();
    // The heartbeat tells `chaos recover` this experiment is alive. If another process took it over
    // (`recover --force` from another host after the heartbeat lapsed), this one must stop at once
    // and leave the rollback to it: two rollbacks of the same steps at once is what ownership prevents.
    let takenOver = false;
    const stillOwned = () => {
      try {
        return journal.heartbeat(experimentId, owner);
      } catch (error) {
        // A busy or failing journal is no sign of a takeover: the rollback must still run.
        log.warn(`could not write the heartbeat to the journal: ${(error as Error).message}`);
        return true;
      }
    };
    const heartbeat = setInterval(() => {
      if (stillOwned()) return;
      takenOver = true;
      onExternalAbort();
    }, heartbeatIntervalMs);
    heartbeat.unref();
    const runtime = new Map<string, unknown>();
    const measurements: Record<string, Metrics> = {};
    let failure: unknown;

    try {
      const inject = async (run: SkillRun) => {
        if (stopInjecting.signal.aborted) return;
        try {
          const context: InjectContext<unknown, TargetSession> = {
            experimentId,
            session,
            inventory,
            durationMs,
            allowDangerous: experiment.allow_dangerous,
            log,
            params: run.params,
            plan: run.plan,
            journal: { record: (undo) => journal.recordStep(experimentId, run.skill.name, undo) },
            signal: stopInjecting.signal,
            holdEnded: holdEnded.signal,
            runtime,
            progress: (done, total, note) => events.emit({ type: "progress", experimentId, skill: run.skill.name, done, total, note }),
            observe: (metrics) => {
              measurements[run.skill.name] = { ...measurements[run.skill.name], ...metrics };
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
          failure ??= error;
          stopInjecting.abort();
          events.emit({ type: "skill_failed", experimentId, skill: run.skill.name, error: message });
        }
      };
      if (experiment.parallel) await Promise.all(runs.map(inject));
      else for (const run of runs) await inject(run);

      if (!failure && !stopInjecting.signal.aborted) {
        events.emit({ type: "hold_started", experimentId, durationMs });
        for (const run of runs)
          if (run.report.metrics) measurements[run.skill.name] = { ...run.report.metrics, ...measurements[run.skill.name] };
        options.observer?.({
          experimentId,
          signal: holdEnded.signal,
          measurements: () => structuredClone(measurements),
          endHold: (reason) => {
            if (holdEnded.signal.aborted) return;
            report.holdEndedEarly = redactText(reason);
            log.info(`hold ended early: ${report.holdEndedEarly}`);
            holdEnded.abort();
          },
        });
        const holdStart = Date.now();
        await sleepFor(durationMs, holdEnded.signal);
        report.heldMs = Date.now() - holdStart;
      }
    } finally {
      holdEnded.abort();
      await collectRunningLoad(runs);
      options.signal?.removeEventListener("abort", onExternalAbort);
      clearInterval(heartbeat);
      if (takenOver || !stillOwned()) {
        report.error = "another process took this experiment over (chaos recover --force); it finishes the rollback";
        finish("rollback_incomplete");
      } else {
        report.rollback = await rollBackSteps({
          experimentId,
          journal,
          registry,
          session,
          events,
          runtime,
          attempts: options.rollbackAttempts,
        });
        const complete = report.rollback.failed.length === 0 && report.rollback.conflicts.length === 0;
        if (failure) report.error = redactText((failure as Error).message ?? String(failure));
        const outcome = !complete
          ? "rollback_incomplete"
          : failure
            ? "failed_rolled_back"
            : options.signal?.aborted
              ? "interrupted_rolled_back"
              : "succeeded";
        journal.finishExperiment(experimentId, report.rollback.failed.length === 0 ? "finished" : "rollback_incomplete", outcome);
        finish(outcome);
      }
    }
    return report;
  } finally {
    await session.close().catch((error: Error) => log.warn(`closing the connection failed: ${redactText(error.message)}`));
  }
}

/** Keeps the resources `resource_filters` allow (all of them when there are no filters). */
export function selectResources(inventory: Inventory, filters: string[]): Inventory {
  if (filters.length === 0) return inventory;
  const tests = filters.map(resourceFilter);
  return { ...inventory, resources: inventory.resources.filter((resource) => tests.some((test) => test(resource.name))) };
}

async function planSkills(
  experiment: ParsedExperiment,
  base: Omit<PlanContext<unknown, TargetSession>, "params">,
  registry: Registry,
  events: EventBus,
): Promise<SkillRun[]> {
  const counts: Record<string, number> = {};
  for (const resource of base.inventory.resources) counts[resource.kind] = (counts[resource.kind] ?? 0) + 1;
  events.emit({ type: "resources_discovered", experimentId: base.experimentId, counts, selected: base.inventory.resources.length });

  const runs: SkillRun[] = [];
  for (const entry of experiment.skills) {
    const skill = registry.skill(entry.skill_name);
    if (!skill) throw new ChaosError(`unknown skill ${entry.skill_name}`, { exitCode: ExitCode.invalidConfig });
    const params = entry.params;
    let plan: SkillPlan;
    try {
      plan = skill.plan ? await skill.plan({ ...base, params }) : { targets: [], summary: skill.description };
    } catch (error) {
      // Refusals happen before anything changed: the experiment does not fit this target.
      const message = redactText((error as Error).message ?? String(error));
      throw new SkillError(skill.name, message.startsWith(`${skill.name}: `) ? message.slice(skill.name.length + 2) : message, {
        exitCode: ExitCode.invalidConfig,
        cause: error,
      });
    }
    events.emit({
      type: "skill_planned",
      experimentId: base.experimentId,
      skill: skill.name,
      targets: plan.targets,
      summary: plan.summary,
    });
    runs.push({
      skill,
      params,
      plan,
      report: { skill: skill.name, params: redactSecrets(entry.params), targets: plan.targets, plan: plan.summary, injected: false },
    });
  }
  return runs;
}

async function collectRunningLoad(runs: SkillRun[]) {
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
