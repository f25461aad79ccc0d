import type { Table } from "../discovery/database-schema.js";

/**
 * Triggers of a table that fire on UPDATE, named for a plan: chaos's statements and its
 * restore fire them, and whatever they do is part of the experiment's blast radius.
 */
export function updateTriggersOf(table: Table): string[] {
  return table.triggers
    .filter((trigger) => /\bUPDATE\b/i.test(trigger.definition.split(/\sON\s/i)[0] ?? trigger.definition))
    .map((trigger) => `${table.qualifiedName}.${trigger.name}`);
}
