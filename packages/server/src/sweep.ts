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
for chaos_dir in ${shellQuote(host.experimentDir(experimentId))} ${shellQuote(`/dev/shm/chaos-agents-${experimentId}`)} $(df -P 2>/dev/null | awk 'NR>1 {print $6}' | sed 's#/*$#/.chaos-agents-${experimentId}#'); do
  if [ -d "$chaos_dir" ]; then rm -rf "$chaos_dir" && echo "directory $chaos_dir"; fi
done
if command -v iptables >/dev/null 2>&1; then
  for chaos_chain in $(iptables -w -S 2>/dev/null | awk -v chaos_prefix=${shellQuote(chainPrefix)} '$1 == "-N" && index($2, chaos_prefix) == 1 {print $2}'); do
    iptables -w -S OUTPUT | grep -- "-j $chaos_chain\\$" | sed 's/^-A/-D/' | while read -r chaos_rule; do eval "iptables -w $chaos_rule"; done
    iptables -w -F "$chaos_chain" && iptables -w -X "$chaos_chain" && echo "iptables chain $chaos_chain"
  done
fi
true`,
  );
  return output
    .split("\n")
    .filter(Boolean)
    .map((line) => `${host.key}: ${line}`);
}
