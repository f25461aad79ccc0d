import { existsSync } from "node:fs";
import { join } from "node:path";
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

// "namespace staging" and "the staging namespace"; the name may not be a little word of the sentence.
const namespaceThenName = /\bnamespace\s+([a-z0-9][-a-z0-9]*)/gi;
const nameThenNamespace = /\b(?:the|a|our|its)\s+([a-z0-9][-a-z0-9]*)\s+namespace\b/gi;
const notNames = new Set([
  "the",
  "a",
  "an",
  "this",
  "that",
  "each",
  "every",
  "any",
  "our",
  "my",
  "its",
  "in",
  "from",
  "to",
  "of",
  "on",
  "and",
  "with",
  "between",
  "namespace",
]);

/**
 * Without a config, the cluster that KUBECONFIG (or ~/.kube/config) points at is a target too,
 * `cluster`, in the namespace the goal names ("pods in the staging namespace"), else the
 * kubeconfig's default. Nothing of the kubeconfig enters the plan: recover reads it again.
 */
export function kubeconfigTarget(goal: string, env: NodeJS.ProcessEnv, homeDirectory: string): TargetAliases {
  const path = (env.KUBECONFIG ?? "").split(":").find(Boolean) ?? join(homeDirectory, ".kube", "config");
  if (!existsSync(path)) return {};
  const namespaces = [...goal.matchAll(namespaceThenName), ...goal.matchAll(nameThenNamespace)]
    .sort((left, right) => (left.index ?? 0) - (right.index ?? 0))
    .map((match) => (match[1] ?? "").toLowerCase())
    .filter((name) => !notNames.has(name));
  const namespace = namespaces.length > 1 ? [...new Set(namespaces)] : namespaces[0];
  return { cluster: { target: "kubernetes", target_config: namespace ? { namespace } : {} } };
}
