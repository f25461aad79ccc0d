import { shellQuote } from "../shell-quote.js";
import { experimentVariable, tagVariable } from "./detached-process.js";
import { runScript, scriptPrelude } from "./host-script.js";
import type { ServerHost } from "./server-host.js";

/**
 * The dead-man's switch: each fault leaves its own undo script on the host, and one detached
 * timer per experiment runs whatever scripts are still there (newest first) once the deadline
 * plus a grace period has passed. Rollback removes a fault's script (disarm); the last one
 * out stops the timer. Undo scripts are the same guarded, idempotent scripts rollback runs,
 * so the timer and `chaos recover` can both run without harm.
 */
export function deadManDir(host: ServerHost, experimentId: string): string {
  return `${host.experimentDir(experimentId)}/dead-man`;
}

/** Arms of one experiment on one host run one after another, so two concurrent faults never start two timers. */
const armQueues = new Map<string, Promise<unknown>>();

/**
 * Writes the fault's undo script and makes sure the timer runs; call before the fault is visible.
 * Without `fireInMs` (switch disabled) only the script is written: the scripts still tell the
 * last rollback when every fault is undone and the experiment directory can go.
 */
export function armDeadMan(host: ServerHost, experimentId: string, key: string, undoScript: string, fireInMs?: number): Promise<void> {
  const queueKey = `${host.key} ${experimentId}`;
  const armed = (armQueues.get(queueKey) ?? Promise.resolve())
    .catch(() => undefined)
    .then(() => armNow(host, experimentId, key, undoScript, fireInMs));
  armQueues.set(queueKey, armed);
  void armed
    .finally(() => {
      if (armQueues.get(queueKey) === armed) armQueues.delete(queueKey);
    })
    .catch(() => undefined);
  return armed;
}

async function armNow(host: ServerHost, experimentId: string, key: string, undoScript: string, fireInMs?: number): Promise<void> {
  await host.workDirectory();
  const dir = deadManDir(host, experimentId);
  const seconds = Math.max(1, Math.ceil((fireInMs ?? 0) / 1000));
  // The timer's own script: sleep, then run the remaining undo scripts newest first.
  const timer = `sleep ${seconds}
for chaos_undo in $(ls -1r "$0"/undo-*.sh 2>/dev/null); do
  # Only scripts chaos wrote: owned by this user, writable by no one else.
  [ "$(stat -c '%u %a' -- "$chaos_undo" 2>/dev/null)" = "$(id -u) 600" ] || continue
  if sh "$chaos_undo" >>"$0/fired.log" 2>&1; then rm -f "$chaos_undo"; fi
done`;
  await runScript(
    host.connection,
    "arming the dead-man's switch",
    `umask 077
mkdir -p ${shellQuote(dir)}
cat > ${shellQuote(`${dir}/undo-${key}.sh`)}
if [ -f ${shellQuote(`${dir}/timer`)} ]; then read chaos_timer_pid chaos_timer_start chaos_timer_boot < ${shellQuote(`${dir}/timer`)}; fi
if ${fireInMs === undefined ? "false" : "true"} && ! chaos_same_process "\${chaos_timer_pid:-0}" "\${chaos_timer_start:-}" "\${chaos_timer_boot:-}"; then
  ${experimentVariable}=${shellQuote(experimentId)} ${tagVariable}=${shellQuote(`${experimentId}/dead-man`)} setsid sh -c ${shellQuote(timer)} ${shellQuote(dir)} </dev/null >/dev/null 2>&1 &
  chaos_pid=$!
  echo "$chaos_pid $(chaos_start_time "$chaos_pid") $(chaos_boot_id)" > ${shellQuote(`${dir}/timer`)}
fi`,
    { stdin: `${scriptPrelude}\n${undoScript}\n` },
  );
}

/** Removes the fault's undo script; when none is left, stops the timer and removes the experiment directory. */
export async function disarmDeadMan(host: ServerHost, experimentId: string, key: string): Promise<void> {
  await host.workDirectory();
  const dir = deadManDir(host, experimentId);
  await runScript(
    host.connection,
    "disarming the dead-man's switch",
    `[ -d ${shellQuote(dir)} ] || exit 0
rm -f ${shellQuote(`${dir}/undo-${key}.sh`)}
if ! ls ${shellQuote(dir)}/undo-*.sh >/dev/null 2>&1; then
  if [ -f ${shellQuote(`${dir}/timer`)} ]; then
    read chaos_timer_pid chaos_timer_start chaos_timer_boot < ${shellQuote(`${dir}/timer`)}
    if chaos_same_process "$chaos_timer_pid" "$chaos_timer_start" "$chaos_timer_boot"; then kill -TERM -"$chaos_timer_pid" 2>/dev/null || kill -TERM "$chaos_timer_pid" 2>/dev/null; fi
  fi
  # Every fault of this experiment on this host is undone: its files (logs, saved environments) can go.
  rm -rf ${shellQuote(host.experimentDir(experimentId))}
fi
true`,
  );
}
