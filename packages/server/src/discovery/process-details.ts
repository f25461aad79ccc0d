import { decodeHostName, decodeNulSeparatedNames, describeRefusal } from "../host/host-names.js";
import { runScript } from "../host/host-script.js";
import type { HostConnection } from "../transports/host-connection.js";
import { decodeNulSeparatedHex, splitSections } from "./parse-host-tables.js";

/** What it takes to recognise a process again and to start it again the same way. */
export interface ProcessDetails {
  pid: number;
  startTime: string;
  /** Its argv as /proc/PID/cmdline holds it (a daemon may have rewritten it). */
  argv: string[];
  /** Resolved executable (/proc/PID/exe). */
  exe: string;
  cwd: string;
  uid: number;
  gid: number;
  /** Files the process has open, by descriptor number (stdout is "1"). */
  openFiles: Record<string, string>;
  /** Open files whose names chaos refuses (newlines, control characters, not UTF-8), described for the report. */
  refusedFiles: string[];
}

/** Reads /proc for each PID (those gone are left out). */
export async function readProcessDetails(connection: HostConnection, pids: number[]): Promise<Map<number, ProcessDetails>> {
  const details = new Map<number, ProcessDetails>();
  if (pids.length === 0) return details;
  const output = await runScript(
    connection,
    "reading process details",
    // Link targets travel hex-encoded: a file name holding a newline cannot forge a line of this output.
    `chaos_hex_link() {
  chaos_link=$(readlink -- "$1" 2>/dev/null && echo .) || return 0
  printf '%s' "\${chaos_link%?.}" | od -An -v -tx1 | tr -d ' \\n'
}
# Descriptor number and link target of each open file, NUL-separated (GNU find does it in one process).
if find /proc/self/fd -maxdepth 0 -printf '' >/dev/null 2>&1; then
  chaos_fd_links() { find /proc/$1/fd -mindepth 1 -maxdepth 1 -printf '%f\\000%l\\000' 2>/dev/null; }
else
  chaos_fd_links() {
    for chaos_fd in /proc/$1/fd/*; do
      chaos_link=$(readlink -- "$chaos_fd" 2>/dev/null && echo .) || continue
      printf '%s\\000%s\\000' "\${chaos_fd##*/}" "\${chaos_link%?.}"
    done
  }
fi
for chaos_pid in ${pids.join(" ")}; do
  [ -d /proc/$chaos_pid ] || continue
  echo "@@$chaos_pid"
  echo "start=$(chaos_start_time $chaos_pid)"
  echo "exe=$(chaos_hex_link /proc/$chaos_pid/exe)"
  echo "cwd=$(chaos_hex_link /proc/$chaos_pid/cwd)"
  echo "ids=$(awk '/^Uid:/{u=$2} /^Gid:/{g=$2} END{print u" "g}' /proc/$chaos_pid/status 2>/dev/null)"
  echo "argv=$(od -An -v -tx1 < /proc/$chaos_pid/cmdline 2>/dev/null | tr -d ' \\n')"
  echo "fds=$(chaos_fd_links $chaos_pid | od -An -v -tx1 | tr -d ' \\n')"
done
true`,
  );
  for (const [pidText, body] of splitSections(output)) {
    const values = new Map<string, string>();
    const openFiles: Record<string, string> = {};
    const refusedFiles: string[] = [];
    for (const line of body.split("\n")) {
      const index = line.indexOf("=");
      if (index < 0) continue;
      const key = line.slice(0, index);
      const value = line.slice(index + 1);
      values.set(key, value);
    }
    const [uid, gid] = (values.get("ids") ?? "").split(" ").map(Number);
    const links = decodeNulSeparatedNames(values.get("fds") ?? "");
    for (let index = 0; index + 1 < links.length; index += 2) {
      const [descriptor, file] = [links[index], links[index + 1]];
      if (!descriptor?.ok || !/^\d+$/.test(descriptor.name) || !file) throw new Error(`unexpected descriptor list of process ${pidText}`);
      // Pipes, sockets and the like (`pipe:[1234]`) are no files.
      if (!file.ok) refusedFiles.push(describeRefusal(file));
      else if (file.name.startsWith("/")) openFiles[descriptor.name] = file.name;
    }
    const startTime = values.get("start") ?? "";
    const exe = decodeHostName(values.get("exe") ?? "");
    const cwd = decodeHostName(values.get("cwd") ?? "");
    // A process whose program or directory has such a name could not be started again as it was: not offered.
    if (!startTime || !exe.ok || !cwd.ok) continue;
    details.set(Number(pidText), {
      pid: Number(pidText),
      startTime,
      argv: decodeNulSeparatedHex(values.get("argv") ?? ""),
      exe: exe.name.replace(/ \(deleted\)$/, ""),
      cwd: cwd.name || "/",
      uid: uid ?? 0,
      gid: gid ?? 0,
      openFiles,
      refusedFiles,
    });
  }
  return details;
}
