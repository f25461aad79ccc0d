import type { TargetAliases } from "@chaos-agents/core";

/** A connection URL written in the goal itself, made a target the model knows only by alias. */
export interface PromptTarget {
  alias: string;
  url: string;
  /** The environment variable a saved plan reads the password from (`${…}` in its URL). */
  passwordVariable?: string;
}

const connectionUrl = /\b(postgres(?:ql)?|mysql|mariadb):\/\/[^\s"'<>]+/gi;

/**
 * Takes connection URLs out of the goal: each becomes a target `db-1`, `db-2`… and the goal names
 * it by alias, so the URL (and its password) is never sent to the provider.
 */
export function extractPromptTargets(goal: string): { goal: string; targets: PromptTarget[]; aliases: TargetAliases } {
  const targets: PromptTarget[] = [];
  const rewritten = goal.replace(connectionUrl, (match) => {
    const url = match.replace(/[.,;:)]+$/, "");
    const alias = `db-${targets.length + 1}`;
    const password = (() => {
      try {
        return new URL(url).password;
      } catch {
        return "";
      }
    })();
    targets.push({ alias, url, passwordVariable: password ? `${alias.replace(/\W/g, "_").toUpperCase()}_PASSWORD` : undefined });
    return `the database target "${alias}"${match.slice(url.length)}`;
  });
  const aliases: TargetAliases = Object.fromEntries(
    targets.map((target) => [
      target.alias,
      {
        target: "database",
        target_config: { connection_url: target.url, db_type: /^(mysql|mariadb):/i.test(target.url) ? "mysql" : "postgres" },
      },
    ]),
  );
  return { goal: rewritten, targets, aliases };
}

/** The target entry a saved plan writes for a prompt target: its password as a `${VARIABLE}` reference. */
export function savedPromptTarget(target: PromptTarget, entry: TargetAliases[string]): unknown {
  if (!target.passwordVariable) return entry;
  const url = new URL(target.url);
  const withReference = target.url.replace(`:${url.password}@`, `:\${${target.passwordVariable}}@`);
  return { ...entry, target_config: { ...entry.target_config, connection_url: withReference } };
}
