import type { DatabaseSession } from "../database-session.js";

/** Cancels whatever statement the workers still run (only theirs: chaos's own connections). */
export async function cancelRunningStatements(session: DatabaseSession, serverIds: number[]): Promise<void> {
  const ids = serverIds.filter((id) => id > 0);
  if (ids.length === 0) return;
  if (session.dialect.kind === "postgres") {
    await session.client
      .query("SELECT pg_cancel_backend(pid) FROM pg_stat_activity WHERE pid = ANY($1::int[]) AND application_name = $2", [
        ids,
        session.connectionTag,
      ])
      .catch(() => undefined);
    return;
  }
  for (const id of ids) await session.client.query(`KILL QUERY ${Math.trunc(id)}`).catch(() => undefined);
}
