import {
  type AnySkill,
  defineSkill,
  type Inventory,
  positiveInteger,
  Registry,
  type Target,
  type TargetKind,
  type TargetSession,
} from "@chaos-agents/core";
import { z } from "zod";

/** Shared, in-memory state that recording skills change and tests inspect. */
export interface RecordingWorld {
  /** The "target": name → value. Skills change entries; rollback must restore them. */
  values: Map<string, string>;
  /** Every call in order: "inject:a", "rollback:a"… */
  calls: string[];
  /** Connections opened and closed. */
  connections: { opened: number; closed: number };
}

export interface RecordingFaults {
  /** Injecting this value's skill throws after journaling. */
  failInjectOf?: string;
  /** Rollback of this value throws this many times before succeeding (Infinity: always). */
  failRollbackOf?: { value: string; times: number };
  /** Rollback reports a conflict for this value instead of restoring it. */
  conflictOn?: string;
  /** Connecting throws. */
  refuseConnection?: boolean;
}

/**
 * A protocol-complete target for engine tests: discovery lists `values`, the `set_value`
 * skill journals the old value before changing it, rollback restores it (idempotently).
 */
export function createRecordingTarget(kind: TargetKind = "server", world: RecordingWorld = newWorld(), faults: RecordingFaults = {}) {
  const target: Target<{ name: string }, TargetSession> = {
    kind,
    configSchema: z.strictObject({ name: z.string(), password: z.string().optional() }),
    identify: (config) => `memory://${config.name}`,
    async connect(config) {
      if (faults.refuseConnection) throw new Error(`connection refused for memory://user:pw@${config.name}`);
      world.connections.opened++;
      return {
        identity: `memory://${config.name}`,
        discover: async (): Promise<Inventory> => ({
          resources: [...world.values.keys()].map((name) => ({ kind: "value", name })),
        }),
        close: async () => {
          world.connections.closed++;
        },
      };
    },
  };

  const rollbackFailures = new Map<string, number>();
  const setValue = defineSkill<
    { names?: string[]; value: string; repeat: number },
    TargetSession,
    { name: string; before: string; after: string }
  >({
    name: `${prefixOf(kind)}.set_value`,
    target: kind,
    description: "Set discovered values (test skill)",
    reversible: true,
    params: z.strictObject({ names: z.array(z.string()).optional(), value: z.string(), repeat: positiveInteger().default(1) }),
    async plan({ params, inventory }) {
      const known = inventory.resources.map((resource) => resource.name);
      const names = params.names ?? known;
      for (const name of names) if (!known.includes(name)) throw new Error(`no value named ${name}`);
      return { targets: names, summary: `set ${names.join(", ")} to ${params.value}` };
    },
    async inject({ params, plan, journal, signal }) {
      for (const name of plan.targets) {
        if (signal.aborted) break;
        world.calls.push(`inject:${name}`);
        await journal.record({ name, before: world.values.get(name) ?? "", after: params.value });
        world.values.set(name, params.value);
        if (faults.failInjectOf === name) throw new Error(`inject of ${name} failed`);
        await new Promise((resolve) => setImmediate(resolve));
      }
      return { summary: `set ${plan.targets.length} values`, metrics: { values: plan.targets.length } };
    },
    async rollback(_context, undo) {
      world.calls.push(`rollback:${undo.name}`);
      if (faults.failRollbackOf?.value === undo.name) {
        const failures = rollbackFailures.get(undo.name) ?? 0;
        if (failures < faults.failRollbackOf.times) {
          rollbackFailures.set(undo.name, failures + 1);
          throw new Error(`rollback of ${undo.name} failed`);
        }
      }
      if (faults.conflictOn === undo.name) return { conflicts: [`${undo.name} was changed by someone else`] };
      if (world.values.get(undo.name) === undo.after) world.values.set(undo.name, undo.before);
      return { summary: `restored ${undo.name}` };
    },
  });

  const readOnly = defineSkill<Record<string, never>, TargetSession>({
    name: `${prefixOf(kind)}.observe_values`,
    target: kind,
    description: "Read values until the hold ends (test skill)",
    reversible: false,
    params: z.strictObject({}),
    async inject({ holdEnded }) {
      world.calls.push("observe:start");
      const running = new Promise<{ reads: number }>((resolve) => {
        let reads = 0;
        const timer = setInterval(() => reads++, 5);
        holdEnded.addEventListener("abort", () => {
          clearInterval(timer);
          world.calls.push("observe:stop");
          resolve({ reads: reads + 1 });
        });
      });
      return { summary: "observing", running };
    },
    async rollback() {
      return undefined;
    },
  });

  const skills: AnySkill[] = [setValue, readOnly];
  return { target, skills, world, registry: new Registry().addTarget(target, skills) };
}

export function newWorld(values: Record<string, string> = { alpha: "1", beta: "2", gamma: "3" }): RecordingWorld {
  return { values: new Map(Object.entries(values)), calls: [], connections: { opened: 0, closed: 0 } };
}

function prefixOf(kind: TargetKind): string {
  return kind === "database" ? "db" : kind === "kubernetes" ? "k8s" : "server";
}
