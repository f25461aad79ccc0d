import type { ServerHost } from "../host/server-host.js";
import { commandLine, shellQuote } from "../shell-quote.js";
import type { ServiceRecord } from "./service-record.js";

/** Tools a restart may use, as probed on the host. */
export interface RestartTools {
  bash: boolean;
  setpriv: boolean;
  euid: number;
}

/** What a restart may use on a host, from its probed facts. */
export async function restartToolsOf(host: ServerHost): Promise<RestartTools> {
  const facts = await host.facts();
  return { bash: facts.tools.includes("bash"), setpriv: facts.tools.includes("setpriv"), euid: facts.euid };
}

const initCommands = {
  systemd: (verb: string, name: string) => `systemctl ${verb} ${shellQuote(`${name}.service`)}`,
  sysv: (verb: string, name: string) => `service ${shellQuote(name)} ${verb}`,
  openrc: (verb: string, name: string) => `rc-service ${shellQuote(name)} ${verb}`,
};

function isActive(record: ServiceRecord): string {
  if (record.manager === "systemd") return `systemctl is-active --quiet ${shellQuote(`${record.name}.service`)}`;
  if (record.manager === "process") return "chaos_service_running";
  return `${initCommands[record.manager]("status", record.name)} >/dev/null 2>&1`;
}

/** Shell functions that recognise a plain-process service: same executable, same argv, its ports listening. */
function processFunctions(record: ServiceRecord): string {
  const argvHex = Buffer.from(record.argv.map((word) => `${word}\0`).join("")).toString("hex");
  const ports = record.ports.map((port) => `[ -n "$(ss -Htln ${shellQuote(`sport = :${port}`)} 2>/dev/null)" ] || return 1`).join("\n  ");
  // One grep narrows /proc to processes whose command line holds argv[0]; only those are checked in full.
  const firstWord = record.argv[0] ?? record.exe;
  return `chaos_service_pid() {
  for chaos_file in $(grep -lF -- ${shellQuote(firstWord)} /proc/[0-9]*/cmdline 2>/dev/null); do
    chaos_dir=\${chaos_file%/cmdline}
    [ "$(readlink "$chaos_dir/exe" 2>/dev/null)" = ${shellQuote(record.exe)} ] || continue
    [ "$(od -An -v -tx1 < "$chaos_dir/cmdline" 2>/dev/null | tr -d ' \\n')" = ${shellQuote(argvHex)} ] || continue
    echo "\${chaos_dir#/proc/}"; return 0
  done
  return 1
}
# A log file only this user can have put there: no symlink, this user's own (or missing), in a directory of this user that no one else can write.
chaos_safe_log() {
  [ "$1" = /dev/null ] && return 0
  [ ! -L "$1" ] && chaos_own_directory "$(dirname -- "$1")" && { [ ! -e "$1" ] || [ "$(stat -c '%u' -- "$1")" = "$(id -u)" ]; }
}
chaos_service_running() {
  chaos_service_pid >/dev/null || return 1
  ${ports || "true"}
}`;
}

/**
 * Stops a service. The plain-process backend signals the recorded process only while it is
 * still the same process (PID + start time + boot), after saving its environment on the host.
 */
export function stopServiceScript(record: ServiceRecord, signal = "TERM"): string {
  if (record.manager !== "process") return `${initCommands[record.manager]("stop", record.name)}`;
  return `if ! chaos_same_process ${record.pid} ${shellQuote(record.startTime)} ${shellQuote(record.bootId)}; then echo gone; exit 0; fi
(umask 077; mkdir -p "$(dirname ${shellQuote(record.environmentFile)})" && cat /proc/${record.pid}/environ > ${shellQuote(record.environmentFile)})
kill -${signal} ${record.pid}
for chaos_wait in $(seq 1 50); do chaos_same_process ${record.pid} ${shellQuote(record.startTime)} ${shellQuote(record.bootId)} || { echo stopped; exit 0; }; sleep 0.2; done
kill -KILL ${record.pid} 2>/dev/null
echo killed`;
}

/** How the plain-process backend starts a recorded command line again, as its user, in its directory, with its environment. */
function relaunchCommand(record: ServiceRecord, tools: RestartTools): string {
  // A daemon that rewrote its title (argv in one word with spaces) is started from its executable alone.
  const rewritten = record.argv.length === 1 && /\s/.test(record.argv[0] ?? "");
  const program = rewritten || record.argv.length === 0 ? [record.exe] : record.argv;
  const keepArgv0 = !rewritten && tools.bash && program[0] !== record.exe;
  const launch = keepArgv0
    ? ["bash", "-c", 'exec -a "$0" "$@"', program[0] ?? record.exe, record.exe, ...program.slice(1)]
    : [record.exe, ...program.slice(1)];
  const asUser = record.uid !== tools.euid && tools.setpriv ? `setpriv --reuid=${record.uid} --regid=${record.gid} --clear-groups ` : "";
  // The log files are opened by the launcher after setpriv, as the service's user: a log path that user
  // swapped for a symlink during the hold then opens only what that user could open anyway.
  const launcher = 'chaos_out=$1; chaos_err=$2; shift 2; exec "$@" </dev/null >>"$chaos_out" 2>>"$chaos_err"';
  // Backgrounded so xargs and this shell exit at once: the daemon is reparented like any daemon, with no chaos process above it.
  const inner = `${asUser}sh -c ${shellQuote(launcher)} chaos-launch "$chaos_stdout" "$chaos_stderr" env -i "$@" ${commandLine(launch)} &`;
  // Opened as chaos's own user (root), a log goes only where no one else can swap it: else /dev/null.
  const logCheck = asUser
    ? ""
    : ["stdout", "stderr"]
        .map(
          (stream) =>
            `chaos_safe_log "$chaos_${stream}" || { echo "note: $chaos_${stream} is not root's alone (a symlink, or in a directory others can write); the restarted ${record.name.replace(/[^A-Za-z0-9._@-]/g, "_")} writes its ${stream} to /dev/null"; chaos_${stream}=/dev/null; }\n`,
        )
        .join("");
  return `(cd ${shellQuote(record.cwd)} 2>/dev/null || cd /
chaos_stdout=${shellQuote(record.stdout)}; chaos_stderr=${shellQuote(record.stderr)}
${logCheck}export chaos_stdout chaos_stderr
if [ -f ${shellQuote(record.environmentFile)} ]; then
  setsid xargs -0 sh -c ${shellQuote(inner)} chaos-restart < ${shellQuote(record.environmentFile)} >/dev/null 2>&1 &
else
  echo ${shellQuote(`note: the saved environment of ${record.name} is gone; started with an empty one`)}
  setsid sh -c ${shellQuote(inner)} chaos-restart </dev/null >/dev/null 2>&1 &
fi)`;
}

/**
 * Brings a stopped or killed service back and checks it runs. Idempotent: a service that
 * is already running (never stopped, or started by someone else) is left as it is.
 */
export function restoreServiceScript(record: ServiceRecord, tools: RestartTools): string {
  if (record.manager !== "process") {
    const masked =
      record.manager === "systemd"
        ? `if [ "$(systemctl is-enabled ${shellQuote(`${record.name}.service`)} 2>/dev/null)" = masked ]; then echo ${shellQuote(`conflict: ${record.name} was masked since chaos stopped it; not started`)}; exit 0; fi\n`
        : "";
    return `${masked}if ${isActive(record)}; then echo ${shellQuote(`note: ${record.name} was already running`)}; exit 0; fi
${initCommands[record.manager]("start", record.name)}
for chaos_wait in $(seq 1 25); do ${isActive(record)} && { echo ${shellQuote(`note: started ${record.name}`)}; exit 0; }; sleep 0.2; done
echo ${shellQuote(`${record.name} did not come back after start`)} >&2; exit 1`;
  }
  return `${processFunctions(record)}
if chaos_same_process ${record.pid} ${shellQuote(record.startTime)} ${shellQuote(record.bootId)}; then echo ${shellQuote(`note: ${record.name} was never stopped`)}; exit 0; fi
if chaos_service_running; then echo "note: ${record.name} already runs (pid $(chaos_service_pid))"; rm -f ${shellQuote(record.environmentFile)}; exit 0; fi
if ! chaos_service_pid >/dev/null; then
${relaunchCommand(record, tools)}
fi
for chaos_wait in $(seq 1 50); do
  if chaos_service_running; then echo "note: restarted ${record.name} (pid $(chaos_service_pid))"; rm -f ${shellQuote(record.environmentFile)}; exit 0; fi
  sleep 0.2
done
echo ${shellQuote(`${record.name} was restarted from its recorded command line but is not running (or not listening) after 10 s`)} >&2
exit 1`;
}
