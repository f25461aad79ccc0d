import type { ExperimentRecord } from "../journal/journal.js";
import { redactSecrets } from "../redact.js";
import type { Registry } from "../registry.js";
import { loadConfigFile } from "./load-config.js";

/**
 * The full target config of a journaled experiment, read back from its config file: the
 * experiment with the same name and target whose redacted config matches the journal's.
 */
export async function journaledTargetConfig(
  record: ExperimentRecord,
  registry: Registry,
  configFile = record.configFile,
): Promise<unknown | undefined> {
  if (!configFile) return undefined;
  const { config } = await loadConfigFile(configFile, { registry });
  const experiments =
    config.form === "experiments"
      ? config.experiments
      : config.form === "daemon"
        ? config.experiments.map((entry) => entry.experiment)
        : [];
  const expected = JSON.stringify(record.targetConfig);
  return experiments.find(
    (experiment) =>
      experiment.name === record.name &&
      experiment.target === record.target &&
      JSON.stringify(redactSecrets(experiment.target_config)) === expected,
  )?.target_config;
}
