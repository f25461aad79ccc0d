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
 * A process group on a host, and when its leader started (clock ticks since boot): a group id
 * is a pid, and once every process of the group is gone the number may be handed out again.
 */
export interface ProcessGroup {
  id: number;
  leaderStart: string;
}

/**
 * After "pid (comm) " of a /proc stat line (a command name may hold spaces and parentheses),
 * the fields are state, parent, group, session, …: the group is $3, the start time \${20}.
 */
const statFields = "set -- ${chaos_stat##*) }";

/**
 * `text`, run by a POSIX sh that writes its process group and its leader's start time to
 * stderr, then becomes the command. Only a group of the command's own is named: one that this
 * sh or the login shell that started it leads (sshd makes each session one), never one led by
 * an SSH server or an init, should a server not give sessions groups of their own. Read from
 * /proc, so on Linux only; elsewhere nothing is written.
 */
export function reportingProcessGroup(text: string): string {
  const script = `chaos_command=$1
if read -r chaos_stat 2>/dev/null < /proc/$$/stat; then
  ${statFields}
  chaos_group=$3
  if [ "$chaos_group" = "$$" ] || [ "$chaos_group" = "$PPID" ]; then
    read -r chaos_leader 2>/dev/null < "/proc/$chaos_group/comm"
    case "$chaos_leader" in
      sshd* | dropbear* | systemd* | init) ;;
      *) if read -r chaos_stat 2>/dev/null < "/proc/$chaos_group/stat"; then
           ${statFields}
           echo "${marker}$chaos_group \${20}" >&2
         fi ;;
    esac
  fi
fi
exec sh -c "$chaos_command"`;
  return `sh -c ${shellQuote(script)} sh ${shellQuote(text)}`;
}

/** The process group named at the start of `stderr`, once its line is complete, and the stderr without that line. */
export function takeProcessGroup(stderr: string): { group?: ProcessGroup; rest: string } {
  if (!stderr.startsWith(marker)) return { rest: stderr };
  const end = stderr.indexOf("\n");
  if (end < 0) return { rest: stderr };
  const [idText = "", leaderStart = ""] = stderr.slice(marker.length, end).split(" ");
  const id = Number(idText);
  const valid = Number.isSafeInteger(id) && id > 1 && /^\d+$/.test(leaderStart);
  return { ...(valid ? { group: { id, leaderStart } } : {}), rest: stderr.slice(end + 1) };
}

/**
 * Kills every process still in `group`, with sudo when the command ran with it (its processes
 * are root's), and prints how many. Walks /proc, since neither dash's nor busybox's `kill`
 * takes a negative pid; twice, for a child forked during the first pass. Kills nothing, and
 * prints "reused", when a process of another start time now holds the group's number: the
 * group is then someone else's.
 */
export function killProcessGroupCommand(group: ProcessGroup, sudo: boolean): string {
  const script = `if read -r chaos_stat 2>/dev/null < /proc/${group.id}/stat; then
  ${statFields}
  [ "\${20}" = ${group.leaderStart} ] || { echo reused; exit 0; }
fi
chaos_killed=0
for chaos_pass in 1 2; do
  for chaos_proc in /proc/[0-9]*; do
    read -r chaos_stat < "$chaos_proc/stat" 2>/dev/null || continue
    ${statFields}
    [ "$3" = ${group.id} ] && kill -s KILL "\${chaos_proc#/proc/}" 2>/dev/null && chaos_killed=$((chaos_killed + 1))
  done
done
echo "$chaos_killed"`;
  return buildCommand({ script }, sudo);
}
