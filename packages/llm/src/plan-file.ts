import { stringify } from "yaml";
import type { PlannedExperiment } from "./planner-tools.js";

export interface PlanFileInput {
  goal: string;
  model: string;
  rationale: string;
  /** The target entry as the source config wrote it (with `${ENV}` references, never resolved secrets). */
  alias: string;
  targetEntry: unknown;
  experiment: PlannedExperiment;
}

/** The plan as a config file `chaos run` takes as it is: the target by alias, the experiment, the why in comments. */
export function renderPlanFile(input: PlanFileInput): string {
  const comment = (text: string) =>
    text
      .split("\n")
      .map((line) => `# ${line}`.trimEnd())
      .join("\n");
  const body = stringify({ targets: { [input.alias]: input.targetEntry }, experiments: [input.experiment] }, { lineWidth: 120 });
  return `${comment(`Planned by chaos plan (${input.model}) for: ${input.goal}`)}\n${comment(`Rationale: ${input.rationale}`)}\n${body}`;
}
