import type { InjectContext, JsonValue, RollbackContext } from "@chaos-agents/core";
import { type StartedProcess, startDetached, stopTaggedScript } from "../host/detached-process.js";
import type { ServerSession } from "../server-session.js";
import { shellQuote } from "../shell-quote.js";
import { type HostUndo, journalAndArm, newDeadManKey, rollBackWithScript } from "./skill-support.js";

/** Undo of load chaos started on a host: tagged processes and, optionally, files holding memory. */
export interface LoadUndo extends HostUndo {
  /** `<experimentId>/<key>`: in the environment of every process this load started. */
  tag: string;
  /** What the load is, for messages ("2 CPU workers"). */
  what: string;
  /** Null in the record written before the start (the PID is not known yet). */
  process: (StartedProcess & { [key: string]: JsonValue }) | null;
  /** Files created for the load (inside chaos-owned directories), removed by rollback. */
  files: string[];
}

export function loadUndoScript(undo: LoadUndo): string {
  // Only inside a directory chaos made (in /dev/shm anyone could have put one there first).
  const files = undo.files
    .map((file) => {
      const directory = shellQuote(file.slice(0, file.lastIndexOf("/")) || "/");
      return `if chaos_own_directory ${directory}; then rm -f ${shellQuote(file)}; rmdir ${directory} 2>/dev/null; fi`;
    })
    .join("\n");
  return `${stopTaggedScript(undo.tag, undo.process ?? undefined)}
${files}
if [ -n "$chaos_stopped" ]; then echo ${shellQuote(`note: stopped ${undo.what}`)}; else echo ${shellQuote(`note: ${undo.what}: already stopped`)}; fi`;
}

/**
 * Starts a load process tagged with the experiment: the tag is journaled before the start
 * (so a crash in between still lets rollback and sweep find it), then the PID and start time.
 * A skill whose undo does more than stop the load (port_saturation checks the ports are free
 * again) passes its own record fields and undo script, so the dead-man's switch runs that same script.
 */
export async function startTaggedLoad<Params>(
  context: InjectContext<Params, ServerSession>,
  hostKey: string,
  what: string,
  argv: (tag: string) => string[],
  files: string[] = [],
  extra: { [key: string]: JsonValue } = {},
  undoScript: (undo: LoadUndo) => string = loadUndoScript,
): Promise<StartedProcess> {
  const host = context.session.host(hostKey);
  const deadManKey = newDeadManKey();
  const tag = `${context.experimentId}/${deadManKey}`;
  const before: LoadUndo = { ...extra, host: hostKey, deadManKey, tag, what, process: null, files };
  await journalAndArm(context, before, undoScript(before));
  const started = await startDetached(host, context.experimentId, tag, argv(tag));
  await context.journal.record({ ...before, process: { ...started } });
  return started;
}

export function rollBackLoad(context: RollbackContext<ServerSession>, undo: LoadUndo) {
  return rollBackWithScript(context, undo, `stopping ${undo.what}`, loadUndoScript(undo));
}
