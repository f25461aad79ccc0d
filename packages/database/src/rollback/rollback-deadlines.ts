import { parseDuration } from "@chaos-agents/core";
import type { DatabaseConfig, DatabaseKind } from "../database-config.js";

/** The deadlines of one rollback, in milliseconds. */
export interface RollbackDeadlines {
  lockTimeoutMs: number;
  statementTimeoutMs: number;
  lockRetryBudgetMs: number;
}

export function rollbackDeadlines(config: DatabaseConfig): RollbackDeadlines {
  const { lock_timeout, statement_timeout, lock_retry_budget } = config.rollback;
  return {
    lockTimeoutMs: Math.max(1, parseDuration(lock_timeout) ?? 5000),
    statementTimeoutMs: Math.max(1, parseDuration(statement_timeout) ?? 600_000),
    lockRetryBudgetMs: parseDuration(lock_retry_budget) ?? 120_000,
  };
}

/**
 * PostgreSQL: startup options for every connection of the rollback's pool. Session settings
 * rather than SET LOCAL per transaction, so that the statements a rollback runs outside a
 * transaction have the same deadlines.
 */
export function postgresDeadlineOptions(deadlines: RollbackDeadlines): string {
  return `-c lock_timeout=${Math.ceil(deadlines.lockTimeoutMs)} -c statement_timeout=${Math.ceil(deadlines.statementTimeoutMs)}`;
}

/**
 * MySQL/MariaDB: row locks (innodb_lock_wait_timeout) and metadata locks such as LOCK TABLES
 * (lock_wait_timeout) both wait whole seconds. The statement limit differs: MariaDB's
 * max_statement_time (seconds) bounds every statement, MySQL's max_execution_time (ms) SELECTs.
 */
export function mysqlDeadlineStatements(deadlines: RollbackDeadlines, mariadb: boolean): string[] {
  const lockSeconds = Math.max(1, Math.ceil(deadlines.lockTimeoutMs / 1000));
  return [
    `SET SESSION innodb_lock_wait_timeout = ${lockSeconds}, lock_wait_timeout = ${lockSeconds}`,
    mariadb
      ? `SET SESSION max_statement_time = ${(deadlines.statementTimeoutMs / 1000).toFixed(3)}`
      : `SET SESSION max_execution_time = ${Math.ceil(deadlines.statementTimeoutMs)}`,
  ];
}

/** A statement gave up waiting for a lock (the server rolled back that statement, or on deadlock the transaction). */
export function isLockTimeout(kind: DatabaseKind, error: unknown): boolean {
  const { code, errno } = (error ?? {}) as { code?: string; errno?: number };
  // 55P03 lock_not_available; 40P01 deadlock_detected (the application's transaction and chaos's wait on each other).
  if (kind === "postgres") return code === "55P03" || code === "40P01";
  // 1205 lock wait timeout (row or metadata lock), 1213 deadlock.
  return errno === 1205 || errno === 1213;
}

/** A statement ran past the statement deadline. */
export function isStatementTimeout(kind: DatabaseKind, error: unknown): boolean {
  const { code, errno, message } = (error ?? {}) as { code?: string; errno?: number; message?: string };
  if (kind === "postgres") return code === "57014" && /statement timeout/.test(message ?? "");
  // MariaDB 1969 (max_statement_time), MySQL 3024 (max_execution_time).
  return errno === 1969 || errno === 3024;
}
