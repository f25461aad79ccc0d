import type { JsonValue } from "@chaos-agents/core";
import type { DiscoveredService } from "../discovery/discover-host.js";

/**
 * Everything a rollback needs to bring a service back, in a fresh process, with nothing but
 * the journal: its manager and name, and for the plain-process backend its identity and
 * command line. The environment stays on the host (a 0600 file in the experiment directory)
 * because it may hold secrets the journal must never see.
 */
export interface ServiceRecord {
  [key: string]: JsonValue;
  manager: "systemd" | "openrc" | "sysv" | "process";
  name: string;
  pid: number;
  startTime: string;
  bootId: string;
  argv: string[];
  exe: string;
  cwd: string;
  uid: number;
  gid: number;
  /** Where its stdout/stderr went (regular files are appended to again on restart). */
  stdout: string;
  stderr: string;
  ports: number[];
  /** Host-side copy of /proc/PID/environ (NUL-separated, mode 0600). */
  environmentFile: string;
}

function regularFile(path: string | undefined): string {
  return path?.startsWith("/") && !/^\/(dev|proc|sys)\//.test(path) && !path.endsWith(" (deleted)") ? path : "/dev/null";
}

export function serviceRecordOf(service: DiscoveredService, experimentDir: string, key: string): ServiceRecord {
  const process = service.process;
  return {
    manager: service.manager,
    name: service.name,
    pid: service.pid,
    startTime: process?.startTime ?? "",
    bootId: service.bootId,
    argv: process?.argv ?? [],
    exe: process?.exe ?? "",
    cwd: process?.cwd ?? "/",
    uid: process?.uid ?? 0,
    gid: process?.gid ?? 0,
    stdout: regularFile(process?.openFiles["1"]),
    stderr: regularFile(process?.openFiles["2"]),
    ports: service.ports,
    environmentFile: `${experimentDir}/environment-${key}`,
  };
}
