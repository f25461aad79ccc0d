import { z } from "zod";
import { type TargetKind, targetKinds } from "../target.js";

/** `targets:` — each target named once, with its credentials (through `${ENV}`), for every config form. */
export const targetsSchema = z
  .record(
    z.string().regex(/^[A-Za-z][\w.-]*$/, "a target alias starts with a letter and holds letters, digits, `_`, `-` and `.`"),
    z.strictObject({
      target: z.enum(targetKinds, { error: `expected one of ${targetKinds.join(", ")}` }),
      target_config: z.record(z.string(), z.unknown()),
    }),
  )
  .default({});

export type TargetAliases = z.output<typeof targetsSchema>;

/**
 * Replaces `target_alias: NAME` in each experiment (raw, before validation) by the `target` and
 * `target_config` the `targets:` section gives NAME, so everything after sees an ordinary
 * experiment. Reports an unknown alias, or an alias beside its own `target`/`target_config`.
 * Returns the experiments it resolved (their target_config is checked once, under `targets:`).
 */
export function resolveTargetAliases(
  targets: unknown,
  experiments: { value: Record<string, unknown>; path: PropertyKey[] }[],
  report: (path: PropertyKey[], message: string) => void,
): Set<Record<string, unknown>> {
  const resolved = new Set<Record<string, unknown>>();
  const known = targets && typeof targets === "object" && !Array.isArray(targets) ? (targets as Record<string, unknown>) : {};
  for (const { value: experiment, path } of experiments) {
    if (!("target_alias" in experiment)) continue;
    const alias = experiment.target_alias;
    const entry = typeof alias === "string" ? known[alias] : undefined;
    if ("target" in experiment || "target_config" in experiment) {
      report([...path, "target_alias"], "give either target_alias or target and target_config, not both");
    } else if (!entry || typeof entry !== "object") {
      const names = Object.keys(known);
      report(
        [...path, "target_alias"],
        `unknown target alias ${JSON.stringify(alias)}; ${names.length ? `the targets: section names ${names.join(", ")}` : "the config has no targets: section"}`,
      );
    } else {
      const { target, target_config } = entry as { target?: TargetKind; target_config?: unknown };
      experiment.target = target;
      experiment.target_config = structuredClone(target_config);
      resolved.add(experiment);
    }
    delete experiment.target_alias;
  }
  return resolved;
}
