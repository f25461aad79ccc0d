import { Registry } from "@chaos-agents/core";
import { createDatabaseTarget, databaseSkills } from "@chaos-agents/database";
import { createKubernetesTarget, kubernetesSkills } from "@chaos-agents/kubernetes";
import { createServerTarget, serverSkills } from "@chaos-agents/server";

/** Every target and skill that ships with chaos; plugins add to it per config. */
export function createBuiltinRegistry(): Registry {
  return new Registry()
    .addTarget(createDatabaseTarget(), databaseSkills)
    .addTarget(createServerTarget(), serverSkills)
    .addTarget(createKubernetesTarget(), kubernetesSkills);
}
