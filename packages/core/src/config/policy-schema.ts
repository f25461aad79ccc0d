import { z } from "zod";
import { durationText } from "./params.js";

/**
 * `policy:` of an LLM config: what a model's proposal may do. Strict by default; a user widens it
 * here, never a model. Enforced in code on every proposal (`@chaos-agents/llm` checkPolicy).
 */
export const policySchema = z
  .strictObject({
    allowed_skills: z.array(z.string()).optional().describe("skills a proposal may use (default: every built-in skill)"),
    allowed_targets: z.array(z.string()).optional().describe("target aliases a proposal may name (default: every configured target)"),
    protected_schemas: z.array(z.string()).default([]).describe("database schemas no proposal may touch"),
    protected_tables: z.array(z.string()).default([]).describe("tables (name or schema.name) no proposal may touch"),
    protected_services: z.array(z.string()).default([]).describe("services no proposal may stop or signal"),
    protected_paths: z.array(z.string()).default([]).describe("paths (and what is under them) no proposal may change"),
    protected_namespaces: z.array(z.string()).default([]).describe("Kubernetes namespaces no proposal may touch"),
    max_rows_per_table: z.number().int().positive().default(10_000).describe("rows a load skill may insert or update per table"),
    max_connections_fraction: z.number().positive().max(1).default(0.25).describe("fraction of max_connections a proposal may hold"),
    max_pods: z.number().int().positive().default(1).describe("pods a proposal may kill at once"),
    max_workload_percent: z.number().positive().max(100).default(10).describe("percent of a workload's pods a proposal may kill"),
    max_disk_percent: z.number().positive().max(100).default(50).describe("percent of a filesystem's free space a proposal may fill"),
    max_memory_percent: z.number().positive().max(100).default(25).describe("percent of memory a proposal may hold"),
    max_duration: durationText().default("10m").describe("longest hold a proposal may ask for"),
    allow_dangerous: z.boolean().default(false).describe("let proposals set allow_dangerous (restart-only or durability settings)"),
  })
  .default({
    protected_schemas: [],
    protected_tables: [],
    protected_services: [],
    protected_paths: [],
    protected_namespaces: [],
    max_rows_per_table: 10_000,
    max_connections_fraction: 0.25,
    max_pods: 1,
    max_workload_percent: 10,
    max_disk_percent: 50,
    max_memory_percent: 25,
    max_duration: "10m",
    allow_dangerous: false,
  });

export type Policy = z.output<typeof policySchema>;
