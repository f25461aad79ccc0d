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
}

/** Reads /proc for each PID (those gone are left out). */
export async function readProcessDetails(connection: HostConnection, pids: number[]): Promise<Map<number, ProcessDetails>> {
  const details = new Map<number, ProcessDetails>();
  if (pids.length === 0) return details;
  const output = await runScript(
    connection,
    "reading process details",
    `for chaos_pid in ${pids.join(" ")}; do
  [ -d /proc/$chaos_pid ] || continue
  echo "@@$chaos_pid"
  echo "start=$(chaos_start_time $chaos_pid)"
  echo "exe=$(readlink /proc/$chaos_pid/exe 2>/dev/null)"
  echo "cwd=$(readlink /proc/$chaos_pid/cwd 2>/dev/null)"
  echo "ids=$(awk '/^Uid:/{u=$2} /^Gid:/{g=$2} END{print u" "g}' /proc/$chaos_pid/status 2>/dev/null)"
  echo "argv=$(od -An -v -tx1 < /proc/$chaos_pid/cmdline 2>/dev/null | tr -d ' \\n')"
  ls -l /proc/$chaos_pid/fd 2>/dev/null | sed -n 's#.* \\([0-9][0-9]*\\) -> \\(/.*\\)$#fd=\\1 \\2#p'
done`,
  );
  for (const [pidText, body] of splitSections(output)) {
    const values = new Map<string, string>();
    const openFiles: Record<string, string> = {};
    for (const line of body.split("\n")) {
      const index = line.indexOf("=");
      if (index < 0) continue;
      const key = line.slice(0, index);
      const value = line.slice(index + 1);
      if (key === "fd") {
        const space = value.indexOf(" ");
        openFiles[value.slice(0, space)] = value.slice(space + 1);
      } else values.set(key, value);
    }
    const [uid, gid] = (values.get("ids") ?? "").split(" ").map(Number);
    const startTime = values.get("start") ?? "";
    if (!startTime) continue;
    details.set(Number(pidText), {
      pid: Number(pidText),
      startTime,
      argv: decodeNulSeparatedHex(values.get("argv") ?? ""),
      exe: (values.get("exe") ?? "").replace(/ \(deleted\)$/, ""),
      cwd: values.get("cwd") || "/",
      uid: uid ?? 0,
      gid: gid ?? 0,
      openFiles,
    });
  }
  return details;
}
