import { shellQuote } from "../shell-quote.js";
import { buildCommand } from "./build-command.js";

/**
 * A command abandoned over SSH keeps running on the host: closing its channel signals nothing
 * (no terminal), and OpenSSH's signal request reaches neither sudo's children nor, here, the
 * command at all. A timed-out injection would go on injecting after the rollback. So each
 * command first names its process group (sshd gives every session its own) on standard error,
 * and a timeout kills that group from a second channel. Processes that left the group on
 * purpose (`setsid` holders, which rollback stops) are not touched.
 */
const marker = "chaos-process-group:";

/**
 * `text`, run by a POSIX sh that writes its process group to stderr (read from /proc, so on
 * Linux only; elsewhere nothing is written) and then becomes the command.
 */
export function reportingProcessGroup(text: string): string {
  const script = `read -r _ _ _ _ chaos_group _ 2>/dev/null < /proc/$$/stat && echo "${marker}$chaos_group" >&2; exec sh -c "$1"`;
  return `sh -c ${shellQuote(script)} sh ${shellQuote(text)}`;
}

/** The process group named at the start of `stderr`, once its line is complete, and the stderr without that line. */
export function takeProcessGroup(stderr: string): { group?: number; rest: string } {
  if (!stderr.startsWith(marker)) return { rest: stderr };
  const end = stderr.indexOf("\n");
  if (end < 0) return { rest: stderr };
  const group = Number(stderr.slice(marker.length, end));
  return { ...(Number.isSafeInteger(group) && group > 1 ? { group } : {}), rest: stderr.slice(end + 1) };
}

/**
 * Kills every process still in `group`, with sudo when the command ran with it (its processes
 * are root's), and prints how many. Walks /proc, since neither dash's nor busybox's `kill`
 * takes a negative pid; twice, for a child forked during the first pass. The fields after the
 * last ")" of a stat line are state, parent and group: a command name may hold spaces.
 */
export function killProcessGroupCommand(group: number, sudo: boolean): string {
  const script = `chaos_killed=0
for chaos_pass in 1 2; do
  for chaos_proc in /proc/[0-9]*; do
    read -r chaos_stat < "$chaos_proc/stat" 2>/dev/null || continue
    set -- \${chaos_stat##*) }
    [ "$3" = ${group} ] && kill -s KILL "\${chaos_proc#/proc/}" 2>/dev/null && chaos_killed=$((chaos_killed + 1))
  done
done
echo "$chaos_killed"`;
  return buildCommand({ script }, sudo);
}
