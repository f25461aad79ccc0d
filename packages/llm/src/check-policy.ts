import { type ParsedExperiment, type Policy, parseDuration } from "@chaos-agents/core";

/**
 * Every way a proposed experiment leaves the policy, each a sentence the model can act on; empty
 * when it fits. Runs on the validated experiment (defaults filled in), whatever the model said.
 */
export function checkPolicy(experiment: ParsedExperiment, alias: string, policy: Policy): string[] {
  const violations: string[] = [];
  if (policy.allowed_targets && !policy.allowed_targets.includes(alias)) {
    violations.push(`target ${alias} is not allowed (allowed: ${policy.allowed_targets.join(", ") || "none"})`);
  }
  const holdMs = parseDuration(experiment.duration) ?? 0;
  const maxHoldMs = parseDuration(policy.max_duration) ?? 0;
  if (holdMs > maxHoldMs) violations.push(`duration ${experiment.duration} is longer than the policy's ${policy.max_duration}`);
  if (experiment.allow_dangerous && !policy.allow_dangerous) violations.push("allow_dangerous is not allowed by the policy");
  for (const [index, entry] of experiment.skills.entries()) {
    const where = `skills[${index}] ${entry.skill_name}`;
    if (policy.allowed_skills && !policy.allowed_skills.includes(entry.skill_name)) {
      violations.push(`${where}: skill not allowed (allowed: ${policy.allowed_skills.join(", ") || "none"})`);
      continue;
    }
    for (const problem of skillViolations(entry.skill_name, entry.params, policy)) violations.push(`${where}: ${problem}`);
  }
  return violations;
}

/** The intensity caps and protected names that apply to one skill's params. */
function skillViolations(skill: string, params: Record<string, unknown>, policy: Policy): string[] {
  const problems: string[] = [];
  const number = (name: string) => (typeof params[name] === "number" ? (params[name] as number) : undefined);
  const cap = (name: string, limit: number, unit = "") => {
    const value = number(name);
    if (value !== undefined && value > limit) problems.push(`${name} ${value}${unit} is above the policy's ${limit}${unit}`);
  };
  const [target] = skill.split(".");

  if (target === "db") {
    cap("rows_per_table", policy.max_rows_per_table);
    cap("rows", policy.max_rows_per_table);
    problems.push(...protectedTables(params, policy));
  }
  if (skill === "db.connection_stress") {
    cap("fraction", policy.max_connections_fraction);
    if (params.connections !== undefined) {
      problems.push(`give fraction (at most ${policy.max_connections_fraction}) rather than a number of connections`);
    }
  }
  if (skill === "server.disk_fill") {
    cap("percent", policy.max_disk_percent, "%");
    if (params.size !== undefined) problems.push(`give percent (at most ${policy.max_disk_percent}) rather than a size`);
  }
  if (skill === "server.memory_stress") {
    cap("percent", policy.max_memory_percent, "%");
    if (params.size !== undefined) problems.push(`give percent (at most ${policy.max_memory_percent}) rather than a size`);
  }
  if (target === "server") problems.push(...protectedServicesAndPaths(params, policy));
  if (skill === "server.service_stop" && params.services === undefined && policy.protected_services.length > 0) {
    problems.push("name the services (services: [...]); this policy protects some");
  }
  if (target === "k8s") {
    cap("count", policy.max_pods);
    cap("percent", policy.max_workload_percent, "%");
    const namespace = params.namespace;
    if (typeof namespace === "string" && policy.protected_namespaces.includes(namespace)) {
      problems.push(`namespace ${namespace} is protected`);
    }
  }
  return problems;
}

function protectedTables(params: Record<string, unknown>, policy: Policy): string[] {
  if (policy.protected_tables.length === 0 && policy.protected_schemas.length === 0) return [];
  const tables = Array.isArray(params.tables) ? params.tables.map(String) : undefined;
  // Without `tables` a skill takes every table it may use, protected ones included.
  if (!tables || tables.length === 0) return ["name the tables (tables: [...]); this policy protects some"];
  return tables
    .filter((table) => {
      const [schema, name] = table.includes(".") ? table.split(".", 2) : [undefined, table];
      return (
        policy.protected_tables.some((entry) => entry === table || entry === name || entry.endsWith(`.${table}`)) ||
        (schema !== undefined && policy.protected_schemas.includes(schema))
      );
    })
    .map((table) => `table ${table} is protected`);
}

function protectedServicesAndPaths(params: Record<string, unknown>, policy: Policy): string[] {
  const problems: string[] = [];
  const services = [params.services, params.service, params.name].flat().filter((value): value is string => typeof value === "string");
  for (const service of services) if (policy.protected_services.includes(service)) problems.push(`service ${service} is protected`);
  const paths = [params.paths, params.path].flat().filter((value): value is string => typeof value === "string");
  for (const path of paths) {
    const guarded = policy.protected_paths.find((root) => path === root || path.startsWith(`${root.replace(/\/$/, "")}/`));
    if (guarded) problems.push(`path ${path} is under the protected ${guarded}`);
  }
  return problems;
}
