import { defaultJournalPath, formatDuration, ownerState } from "@chaos-agents/core";
import type { CommandIo, GlobalOptions } from "../command-context.js";
import { openJournalForCommand } from "./open-journal.js";

/** One unfinished experiment as `chaos status` shows it. */
interface StatusRow {
  experimentId: string;
  name: string;
  target: string;
  identity: string;
  /** running: its owner is alive; unfinished: its owner is gone and `chaos recover` will finish it. */
  state: "running" | "unfinished";
  owner?: { host: string; pid: number };
  startedAt: string;
  ageMs: number;
  heartbeatAt?: string;
  steps: number;
  stepsLeft: number;
}

/** Lists running and unfinished experiments; changes nothing. */
export async function status(options: GlobalOptions, io: CommandIo): Promise<number> {
  const journal = await openJournalForCommand(defaultJournalPath(io.env, options.journal));
  let rows: StatusRow[];
  try {
    const now = Date.now();
    const records = await journal.unfinishedExperiments();
    const steps = await Promise.all(records.map(async (record) => [await journal.steps(record.id), await journal.pendingSteps(record.id)]));
    rows = records.map((record, index) => ({
      experimentId: record.id,
      name: record.name,
      target: record.target,
      identity: record.identity,
      state: record.owner && ownerState(record.owner, record.heartbeatAt, now) === "alive" ? "running" : "unfinished",
      owner: record.owner && { host: record.owner.host, pid: record.owner.pid },
      startedAt: record.startedAt,
      ageMs: now - Date.parse(record.startedAt),
      heartbeatAt: record.heartbeatAt,
      steps: steps[index]?.[0]?.length ?? 0,
      stepsLeft: steps[index]?.[1]?.length ?? 0,
    }));
  } finally {
    await journal.close();
  }
  if (options.output === "json") {
    io.result?.({ experiments: rows });
    return 0;
  }
  if (rows.length === 0) {
    io.stdout.write("no running or unfinished experiments\n");
    return 0;
  }
  for (const row of rows) {
    const owner = row.owner ? `pid ${row.owner.pid} on ${row.owner.host}` : "no owner recorded";
    io.stdout.write(
      `${row.state === "running" ? "▶ running   " : "✗ unfinished"} ${row.name} [${row.experimentId}] on ${row.target} ${row.identity}\n` +
        `    ${owner}, started ${formatDuration(row.ageMs)} ago, ${row.stepsLeft} of ${row.steps} rollback steps left` +
        (row.state === "unfinished" ? "; `chaos recover` finishes it" : "") +
        "\n",
    );
  }
  return 0;
}
