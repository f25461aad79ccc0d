import { SkillError } from "@chaos-agents/core";
import type { ExecOptions, HostConnection } from "../transports/host-connection.js";

/**
 * Shell functions every generated script may use. Start times come from /proc/PID/stat
 * (field 22, after the command name, which may hold spaces): with the boot id they make a
 * process identity that a reused PID never matches.
 */
export const scriptPrelude = `
chaos_start_time() { sed 's/^.*) //' "/proc/$1/stat" 2>/dev/null | cut -d' ' -f20; }
chaos_boot_id() { cat /proc/sys/kernel/random/boot_id 2>/dev/null; }
chaos_same_process() {
  [ -n "$2" ] && [ "$(chaos_boot_id)" = "$3" ] || return 1
  chaos_stat=$(sed 's/^.*) //' "/proc/$1/stat" 2>/dev/null) || return 1
  # A zombie (state Z) has exited already; only its parent has not reaped it yet.
  case "$chaos_stat" in Z*|X*) return 1;; esac
  [ "$(echo "$chaos_stat" | cut -d' ' -f20)" = "$2" ]
}
# A directory chaos can trust as its own: a real directory (no symlink) of this user that no one else can write.
chaos_own_directory() {
  [ -d "$1" ] && [ ! -L "$1" ] || return 1
  chaos_owner_mode=$(stat -c '%u %a' -- "$1") || return 1
  [ "\${chaos_owner_mode% *}" = "$(id -u)" ] && [ $(( 0\${chaos_owner_mode#* } & 022 )) -eq 0 ]
}
chaos_tagged_pids() {
  if printf 'a\\000' | grep -qzxF a 2>/dev/null; then
    grep -lzxF -- "$1" /proc/[0-9]*/environ 2>/dev/null | cut -d/ -f3
  else
    for chaos_dir in /proc/[0-9]*; do
      tr '\\000' '\\n' < "$chaos_dir/environ" 2>/dev/null | grep -qxF -- "$1" && echo "\${chaos_dir#/proc/}"
    done
  fi
}
chaos_kill_tagged() {
  for chaos_pid in $(chaos_tagged_pids "$1"); do
    [ "$chaos_pid" = "$$" ] && continue
    kill -"\${2:-TERM}" "$chaos_pid" 2>/dev/null && echo "killed $chaos_pid"
  done
}
`;

/** A command on a host failed; carries its output for the error message. */
export class HostCommandError extends Error {
  constructor(
    readonly host: string,
    readonly exitCode: number | null,
    readonly stderr: string,
    what: string,
  ) {
    super(`${what} on ${host} failed (exit ${exitCode ?? "signal"}): ${stderr.trim().split("\n").slice(-3).join(" | ") || "no output"}`);
  }
}

/** Runs a script (with the prelude) and returns its stdout; a non-zero exit throws HostCommandError. */
export async function runScript(connection: HostConnection, what: string, script: string, options: ExecOptions = {}): Promise<string> {
  const result = await connection.exec({ script: `${scriptPrelude}\n${script}` }, options);
  if (result.exitCode !== 0) throw new HostCommandError(connection.key, result.exitCode, result.stderr || result.stdout, what);
  return result.stdout;
}

/** Same as runScript, but a failure is a SkillError of `skill` (used while planning and injecting). */
export async function runSkillScript(skill: string, connection: HostConnection, what: string, script: string, options: ExecOptions = {}) {
  try {
    return await runScript(connection, what, script, options);
  } catch (error) {
    throw new SkillError(skill, (error as Error).message, { cause: error });
  }
}
