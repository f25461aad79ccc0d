import type { DatabaseSession } from "../database-session.js";
import type { Column } from "../discovery/database-schema.js";
import type { SqlExecutor } from "../sql/sql-client.js";
import { greaterThan } from "../values/generate-value.js";
import type { TableUpdatePlan } from "./update-batch.js";

/**
 * New random values for a batch of locked rows: one statement for the whole batch, and row by
 * row only when some row's values break a constraint (that row is then left unchanged).
 */
export async function writeRandomValues(
  executor: SqlExecutor,
  session: DatabaseSession,
  plan: TableUpdatePlan,
  keys: string[][],
): Promise<number> {
  const values = keys.map(() => newValues(plan.columns, plan.makers, plan.rules, plan.compensate));
  const postgres = session.dialect.kind === "postgres";
  if (postgres) await executor.query("SAVEPOINT chaos_batch");
  try {
    const written = await writeAll(executor, session, plan, keys, values);
    if (postgres) await executor.query("RELEASE SAVEPOINT chaos_batch");
    return written;
  } catch (error) {
    if (!session.dialect.isConstraintViolation(error)) throw error;
    // MySQL undid just the failed statement; PostgreSQL goes back to the savepoint.
    if (postgres) await executor.query("ROLLBACK TO SAVEPOINT chaos_batch");
    return writeRowByRow(executor, session, plan, keys, values);
  }
}

/** One UPDATE joined to the batch's keys and values, all sent as text and cast by the server. */
async function writeAll(
  executor: SqlExecutor,
  session: DatabaseSession,
  plan: TableUpdatePlan,
  keys: string[][],
  values: (string | null)[][],
): Promise<number> {
  const { dialect } = session;
  const target = dialect.table(plan.table);
  const keyMatch = plan.keyColumns
    .map(
      (column, index) =>
        `${target}.${dialect.quote(column.name)} = ${postgresOr(session, `v.k${index}::${column.sqlType}`, `v.k${index}`)}`,
    )
    .join(" AND ");
  if (dialect.kind === "postgres") {
    const sets = plan.columns.map((column, index) => `${dialect.quote(column.name)} = v.c${index}::${column.sqlType}`).join(", ");
    const names = [...plan.keyColumns.map((_, index) => `k${index}`), ...plan.columns.map((_, index) => `c${index}`)];
    const arrays = names.map((_, index) => `$${index + 1}::text[]`).join(", ");
    const result = await executor.query(`UPDATE ${target} SET ${sets} FROM unnest(${arrays}) AS v(${names.join(", ")}) WHERE ${keyMatch}`, [
      ...plan.keyColumns.map((_, index) => keys.map((key) => key[index] ?? null)),
      ...plan.columns.map((_, index) => values.map((row) => row[index] ?? null)),
    ]);
    return result.rowCount;
  }
  const row = [
    ...plan.keyColumns.map((column, index) => `${dialect.fromText("?", column)} AS k${index}`),
    ...plan.columns.map((column, index) => `${dialect.fromText("?", column)} AS c${index}`),
  ].join(", ");
  const derived = keys.map(() => `SELECT ${row}`).join(" UNION ALL ");
  const sets = plan.columns.map((column, index) => `${target}.${dialect.quote(column.name)} = v.c${index}`).join(", ");
  const result = await executor.query(
    `UPDATE ${target} JOIN (${derived}) AS v ON ${keyMatch} SET ${sets}`,
    keys.flatMap((key, index) => [...key, ...(values[index] ?? [])]),
  );
  return result.rowCount;
}

function postgresOr(session: DatabaseSession, postgres: string, mysql: string): string {
  return session.dialect.kind === "postgres" ? postgres : mysql;
}

/**
 * The same values row by row. A row whose values break a constraint is left unchanged (a
 * savepoint on PostgreSQL; MySQL undoes just the failed statement by itself).
 */
async function writeRowByRow(
  executor: SqlExecutor,
  session: DatabaseSession,
  plan: TableUpdatePlan,
  keys: string[][],
  batchValues: (string | null)[][],
): Promise<number> {
  const { dialect } = session;
  let written = 0;
  for (const [rowIndex, key] of keys.entries()) {
    const values = batchValues[rowIndex] ?? [];
    let parameter = 0;
    const next = () => dialect.placeholder(++parameter);
    const assignments = plan.columns.map((column) => `${dialect.quote(column.name)} = ${dialect.fromText(next(), column)}`).join(", ");
    const where = plan.keyColumns.map((column) => `${dialect.quote(column.name)} = ${dialect.fromText(next(), column)}`).join(" AND ");
    const savepoint = dialect.kind === "postgres" ? `chaos_row_${rowIndex}` : undefined;
    if (savepoint) await executor.query(`SAVEPOINT ${savepoint}`);
    try {
      await executor.query(`UPDATE ${dialect.table(plan.table)} SET ${assignments} WHERE ${where}`, [...values, ...key]);
      if (savepoint) await executor.query(`RELEASE SAVEPOINT ${savepoint}`);
      written++;
    } catch (error) {
      if (!dialect.isConstraintViolation(error)) throw error;
      if (savepoint) await executor.query(`ROLLBACK TO SAVEPOINT ${savepoint}`);
    }
  }
  return written;
}

/** Fresh values for one row; a column a CHECK says must exceed another one chaos also changes is made after it. */
function newValues(
  columns: Column[],
  makers: (() => string | null)[],
  rules: TableUpdatePlan["rules"],
  compensate: string[],
): (string | null)[] {
  // No NULL in an additive column: the application's `c = c + delta` would turn it into NULL and lose the delta.
  const values: (string | null)[] = columns.map((column, index) =>
    column.nullable && !compensate.includes(column.name) && Math.random() < 0.05 ? null : (makers[index] as () => string | null)(),
  );
  columns.forEach((column, index) => {
    const other = rules.get(column.name)?.greaterThan;
    const otherIndex = columns.findIndex((candidate) => candidate.name === other);
    const otherValue = values[otherIndex];
    if (otherIndex >= 0 && otherValue && values[index] !== null) values[index] = greaterThan(otherValue, column) ?? values[index] ?? null;
  });
  return values;
}
