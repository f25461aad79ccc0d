import { commandLine, shellQuote } from "../shell-quote.js";
import { runScript } from "./host-script.js";
import type { ServerHost } from "./server-host.js";

/** Environment variable every process chaos starts carries; a sweep kills what it names. */
export const experimentVariable = "CHAOS_AGENTS_EXPERIMENT";
/** Environment variable naming one started process (or group) exactly, for its rollback. */
export const tagVariable = "CHAOS_AGENTS_TAG";

/** A process chaos started, as the journal knows it: a reused PID never matches all three. */
export interface StartedProcess {
  pid: number;
  /** Clock ticks since boot, from /proc/PID/stat. */
  startTime: string;
  bootId: string;
}

/**
 * Starts `argv` in its own session, detached from the connection, tagged with the experiment
 * id and `tag` in its environment so rollback and sweep find it even without its PID.
 */
export async function startDetached(host: ServerHost, experimentId: string, tag: string, argv: string[]): Promise<StartedProcess> {
  await host.workDirectory();
  const logDir = host.experimentDir(experimentId);
  const output = await runScript(
    host.connection,
    `starting ${argv[0]}`,
    `(umask 077; mkdir -p ${shellQuote(logDir)})
${experimentVariable}=${shellQuote(experimentId)} ${tagVariable}=${shellQuote(tag)} setsid ${commandLine(argv)} </dev/null >>${shellQuote(`${logDir}/processes.log`)} 2>&1 &
chaos_pid=$!
echo "$chaos_pid $(chaos_start_time "$chaos_pid") $(chaos_boot_id)"`,
  );
  const [pid, startTime, bootId] = output.trim().split(" ");
  if (!pid || !startTime || !bootId) throw new Error(`${argv[0]} exited at once on ${host.key}; see ${logDir}/processes.log`);
  return { pid: Number(pid), startTime, bootId };
}

/** Script that stops what a tag names: the recorded process group if it is still the same, then anything carrying the tag. */
export function stopTaggedScript(tag: string, process?: StartedProcess): string {
  const byPid = process
    ? `if chaos_same_process ${process.pid} ${shellQuote(process.startTime)} ${shellQuote(process.bootId)}; then kill -TERM -${process.pid} 2>/dev/null || kill -TERM ${process.pid} 2>/dev/null; chaos_stopped=yes; fi`
    : "";
  // chaos_stopped: set when a process was still there to stop (an earlier step may have stopped it).
  return `chaos_stopped=
${byPid}
[ -n "$(chaos_kill_tagged ${shellQuote(`${tagVariable}=${tag}`)} TERM)" ] && chaos_stopped=yes
for chaos_wait in 1 2 3 4 5 6 7 8 9 10; do
  chaos_left=$(chaos_kill_tagged ${shellQuote(`${tagVariable}=${tag}`)} 0)
  [ -z "$chaos_left" ] && break
  sleep 0.2
done
chaos_kill_tagged ${shellQuote(`${tagVariable}=${tag}`)} KILL >/dev/null
true`;
}
