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

/**
 * MySQL update triggers whose body writes somewhere (INSERT, UPDATE, DELETE, REPLACE, CALL):
 * their rows cannot be listed there. One that only sets `NEW.` columns stamps the row itself,
 * which the row images capture.
 */
export function triggersWritingElsewhere(table: Table): string[] {
  return table.triggers
    .filter((trigger) => {
      const [event = "", body = ""] = trigger.definition.split(/:\s/, 2);
      return /\bUPDATE\b/i.test(event) && /\b(INSERT|UPDATE|DELETE|REPLACE|CALL)\b/i.test(body);
    })
    .map((trigger) => `${table.qualifiedName}.${trigger.name}`);
}
