import { type ParsedExperiment, policySchema } from "@chaos-agents/core";
import { describe, expect, it } from "vitest";
import { checkPolicy } from "./check-policy.js";

const experiment = (skill_name: string, params: Record<string, unknown>, extra: Partial<ParsedExperiment> = {}): ParsedExperiment => ({
  name: "proposal",
  target: skill_name.startsWith("db.") ? "database" : "server",
  target_config: {},
  skills: [{ skill_name, params }],
  duration: "1m",
  parallel: false,
  resource_filters: [],
  allow_dangerous: false,
  ...extra,
});
const defaults = policySchema.parse(undefined);

describe("checkPolicy", () => {
  it("keeps the strict defaults: rows, connections, disk, memory, duration, allow_dangerous", () => {
    expect(checkPolicy(experiment("db.insert_load", { rows_per_table: 10_000 }), "db", defaults)).toEqual([]);
    expect(checkPolicy(experiment("db.update_load", { rows: 10_001 }), "db", defaults)).toEqual([
      "skills[0] db.update_load: rows 10001 is above the policy's 10000",
    ]);
    expect(checkPolicy(experiment("db.connection_stress", { fraction: 0.5 }), "db", defaults)).toEqual([
      "skills[0] db.connection_stress: fraction 0.5 is above the policy's 0.25",
    ]);
    expect(checkPolicy(experiment("db.connection_stress", { connections: 5 }), "db", defaults)[0]).toContain("give fraction");
    expect(checkPolicy(experiment("server.disk_fill", { percent: 60 }), "web", defaults)).toEqual([
      "skills[0] server.disk_fill: percent 60% is above the policy's 50%",
    ]);
    expect(checkPolicy(experiment("server.memory_stress", { size: "4GiB" }), "web", defaults)[0]).toContain("give percent");
    expect(checkPolicy(experiment("server.cpu_stress", {}, { duration: "11m" }), "web", defaults)).toEqual([
      "duration 11m is longer than the policy's 10m",
    ]);
    expect(checkPolicy(experiment("db.config_change", {}, { allow_dangerous: true }), "db", defaults)).toEqual([
      "allow_dangerous is not allowed by the policy",
    ]);
  });

  it("refuses skills, targets, tables, services and paths the policy protects or does not allow", () => {
    const policy = policySchema.parse({
      allowed_skills: ["db.insert_load", "server.permission_change", "server.service_stop"],
      allowed_targets: ["db", "web"],
      protected_tables: ["public.payments"],
      protected_schemas: ["billing"],
      protected_services: ["postgresql"],
      protected_paths: ["/etc"],
    });
    expect(checkPolicy(experiment("db.select_load", {}), "db", policy)[0]).toContain("skill not allowed");
    expect(checkPolicy(experiment("db.insert_load", { tables: ["orders"] }), "prod", policy)[0]).toBe(
      "target prod is not allowed (allowed: db, web)",
    );
    expect(checkPolicy(experiment("db.insert_load", { tables: ["payments", "billing.invoices", "orders"] }), "db", policy)).toEqual([
      "skills[0] db.insert_load: table payments is protected",
      "skills[0] db.insert_load: table billing.invoices is protected",
    ]);
    expect(checkPolicy(experiment("db.insert_load", {}), "db", policy)).toEqual([
      "skills[0] db.insert_load: name the tables (tables: [...]); this policy protects some",
    ]);
    expect(checkPolicy(experiment("server.service_stop", { services: ["postgresql"] }), "web", policy)).toEqual([
      "skills[0] server.service_stop: service postgresql is protected",
    ]);
    expect(checkPolicy(experiment("server.service_stop", { max_services: 2 }), "web", policy)).toEqual([
      "skills[0] server.service_stop: name the services (services: [...]); this policy protects some",
    ]);
    expect(checkPolicy(experiment("server.permission_change", { paths: ["/etc/passwd", "/srv/app.conf"] }), "web", policy)).toEqual([
      "skills[0] server.permission_change: path /etc/passwd is under the protected /etc",
    ]);
  });
});
