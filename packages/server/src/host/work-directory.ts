import { ChaosError, ExitCode } from "@chaos-agents/core";
import { shellQuote } from "../shell-quote.js";
import type { HostConnection } from "../transports/host-connection.js";
import { runScript } from "./host-script.js";

/**
 * The work dir holds scripts that chaos (and its dead-man's switch) run as root, and files that
 * name processes rollback signals. So it is checked the way OpenSSH's StrictModes checks
 * `~/.ssh`: the directory and every directory above it belong to root or to the user chaos runs
 * as, and no one else can write them. One relaxation: a world-writable directory with the
 * sticky bit (`/tmp`, `/var/tmp`) may be an ancestor, because the kernel lets no one else rename
 * or remove the root-owned entry below it. Symlinks on the way must belong to root (or that
 * user) too, and the work dir itself must not be one.
 */
function checkScript(workDir: string, create: boolean): string {
  const directory = shellQuote(workDir);
  return `chaos_uid=$(id -u)
chaos_refuse() { printf 'refused: %s\\n' "$*"; exit 0; }
chaos_owned() { [ "$1" = 0 ] || [ "$1" = "$chaos_uid" ]; }
chaos_check_directory() {
  chaos_info=$(stat -L -c '%F|%u|%a' -- "$1" 2>/dev/null) || chaos_refuse "$1 cannot be read"
  chaos_type=\${chaos_info%%|*}; chaos_rest=\${chaos_info#*|}; chaos_owner=\${chaos_rest%%|*}; chaos_mode=\${chaos_rest#*|}
  [ "$chaos_type" = directory ] || chaos_refuse "$1 is not a directory"
  chaos_owned "$chaos_owner" || chaos_refuse "$1 belongs to uid $chaos_owner, not to root"
  if [ $(( 0$chaos_mode & 022 )) -ne 0 ] && { [ "$2" = last ] || [ $(( 0$chaos_mode & 01000 )) -eq 0 ]; }; then
    chaos_refuse "$1 is writable by group or others (mode $chaos_mode)"
  fi
}
chaos_check_chain() {
  chaos_path=$1; chaos_place=\${2:-last}
  while :; do
    if [ -L "$chaos_path" ]; then
      chaos_owner=$(stat -c '%u' -- "$chaos_path")
      [ "$chaos_place" = last ] && chaos_refuse "$chaos_path is a symlink"
      chaos_owned "$chaos_owner" || chaos_refuse "$chaos_path is a symlink that belongs to uid $chaos_owner, not to root"
    fi
    chaos_check_directory "$chaos_path" "$chaos_place"
    [ "$chaos_path" = / ] && break
    chaos_path=$(dirname -- "$chaos_path"); chaos_place=parent
  done
}
if [ ! -e ${directory} ] && [ ! -L ${directory} ]; then
  ${
    create
      ? `(umask 077; mkdir -p -- ${directory}) || chaos_refuse "${workDir} cannot be created"`
      : `# Not created yet: whatever exists above it must be safe already.
  chaos_existing=$(dirname -- ${directory})
  while [ ! -e "$chaos_existing" ] && [ ! -L "$chaos_existing" ]; do chaos_existing=$(dirname -- "$chaos_existing"); done
  chaos_check_chain "$chaos_existing" parent; chaos_check_chain "$(readlink -f -- "$chaos_existing")" parent; exit 0`
  }
fi
chaos_check_chain ${directory}
chaos_check_chain "$(readlink -f -- ${directory})"
true`;
}

/**
 * Verifies the work dir on one host (creating it root-owned and 0700 when `create` and it is
 * missing); throws a ChaosError (invalid config: nothing was changed) saying what is wrong and
 * what to do.
 */
export async function verifyWorkDirectory(connection: HostConnection, workDir: string, create: boolean): Promise<void> {
  const output = await runScript(connection, `checking the work dir ${workDir}`, checkScript(workDir, create));
  const refusal = output.split("\n").find((line) => line.startsWith("refused: "));
  if (refusal === undefined) return;
  throw new ChaosError(
    `work_dir ${workDir} on ${connection.key} is not safe: ${refusal.slice(9)}. Chaos runs undo scripts from it as root, so it and every directory above it must belong to root (or the user chaos runs as) and be writable by no one else. Look at what is inside and remove it, or set work_dir to such a directory.`,
    { exitCode: ExitCode.invalidConfig },
  );
}
