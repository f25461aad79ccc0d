import { experimentVariable } from "./host/detached-process.js";
import { runScript } from "./host/host-script.js";
import type { ServerHost } from "./host/server-host.js";
import { shellQuote } from "./shell-quote.js";

/**
 * Removes what an experiment left on a host that the journal may not know of: processes
 * carrying its id (loads, a dead-man timer), its chaos-owned directories (work dir, fill
 * directories on every mount, memory files) and iptables chains named after it.
 * Restored services are never tagged, so they survive it.
 */
export async function sweepHost(host: ServerHost, experimentId: string): Promise<string[]> {
  await host.workDirectory();
  const chainPrefix = `CHAOS-${experimentId.replace(/[^A-Za-z0-9]/g, "").slice(-8)}-`;
  const output = await runScript(
    host.connection,
    "sweeping",
    `for chaos_pid in $(chaos_kill_tagged ${shellQuote(`${experimentVariable}=${experimentId}`)} KILL | cut -d' ' -f2); do echo "process $chaos_pid"; done
# Fill directories on every mount, read from /proc/self/mounts where the kernel escapes blanks: no name is split.
# Removed only when chaos (this user) owns them and they are no symlink.
chaos_remove_own_directory() {
  if chaos_own_directory "$1"; then rm -rf -- "$1" && echo "directory $1"; fi
}
chaos_remove_own_directory ${shellQuote(host.experimentDir(experimentId))}
chaos_remove_own_directory ${shellQuote(`/dev/shm/chaos-agents-${experimentId}`)}
while read -r chaos_device chaos_mount chaos_rest; do
  case "$chaos_mount" in *'\\011'*|*'\\012'*) continue ;; esac
  chaos_mount=$(printf '%s\\n' "$chaos_mount" | sed 's/\\\\040/ /g; s/\\\\134/\\\\/g')
  chaos_remove_own_directory "\${chaos_mount%/}/.chaos-agents-${experimentId}"
done < /proc/self/mounts
for chaos_firewall in iptables ip6tables; do
  command -v "$chaos_firewall" >/dev/null 2>&1 || continue
  for chaos_chain in $("$chaos_firewall" -w -S 2>/dev/null | awk -v chaos_prefix=${shellQuote(chainPrefix)} '$1 == "-N" && index($2, chaos_prefix) == 1 {print $2}'); do
    "$chaos_firewall" -w -S OUTPUT | grep -- "-j $chaos_chain\\$" | sed 's/^-A/-D/' | while read -r chaos_rule; do eval ""$chaos_firewall" -w $chaos_rule"; done
    "$chaos_firewall" -w -F "$chaos_chain" && "$chaos_firewall" -w -X "$chaos_chain" && echo "$chaos_firewall chain $chaos_chain"
  done
done
true`,
  );
  return output
    .split("\n")
    .filter(Boolean)
    .map((line) => `${host.key}: ${line}`);
}
