import type { AnySkill } from "@chaos-agents/core";
import { dbConfigChange } from "./db-config-change.js";
import { dbInsertLoad } from "./db-insert-load.js";
import { dbUpdateLoad } from "./db-update-load.js";

/** Every built-in db.* skill, in the order `list-skills` shows them. */
export const databaseSkills: AnySkill[] = [dbInsertLoad, dbUpdateLoad, dbConfigChange];
