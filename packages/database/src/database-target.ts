import type { AnySkill, Target, TargetSession } from "@chaos-agents/core";
import { z } from "zod";

export const databaseSkills: AnySkill[] = [];

export function createDatabaseTarget(): Target<{ connection_url: string }, TargetSession> {
  return {
    kind: "database",
    configSchema: z.object({ connection_url: z.string(), db_type: z.enum(["postgres", "mysql"]) }),
    identify: (config) => config.connection_url,
    async connect() {
      throw new Error("todo");
    },
  };
}
