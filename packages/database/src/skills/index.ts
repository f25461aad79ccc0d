import type { AnySkill } from "@chaos-agents/core";
import { withRollbackDeadlines } from "../rollback/rollback-step.js";
import { dbConfigChange } from "./db-config-change.js";
import { dbConnectionStress } from "./db-connection-stress.js";
import { dbInsertLoad } from "./db-insert-load.js";
import { dbLockContention } from "./db-lock-contention.js";
import { dbSelectLoad } from "./db-select-load.js";
import { dbUpdateLoad } from "./db-update-load.js";

/** Every built-in db.* skill, in the order `list-skills` shows them. */
export const databaseSkills: AnySkill[] = [
  dbInsertLoad,
  dbUpdateLoad,
  dbConfigChange,
  dbSelectLoad,
  dbConnectionStress,
  dbLockContention,
].map((skill: AnySkill) => withRollbackDeadlines(skill));
