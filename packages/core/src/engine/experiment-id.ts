import { randomBytes } from "node:crypto";

/**
 * Short, sortable and safe in every place it is embedded (file names, k8s labels, SQL
 * comments, process arguments): `c20261128t033500-a1b2c3`.
 */
export function newExperimentId(now = new Date()): string {
  const stamp = now
    .toISOString()
    .replace(/[-:]/g, "")
    .replace(/\.\d+Z$/, "")
    .toLowerCase();
  return `c${stamp}-${randomBytes(3).toString("hex")}`;
}
