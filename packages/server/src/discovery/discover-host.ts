import type { Resource } from "@chaos-agents/core";
import type { HostFacts } from "../host/host-facts.js";
import { runScript } from "../host/host-script.js";
import type { ServerHost } from "../host/server-host.js";
import type { ServerConfig } from "../server-config.js";
import { isCriticalPath } from "./critical-paths.js";
import {
  type ListeningSocket,
  listeningListing,
  listeningSockets,
  mountsListing,
  type ProcessRow,
  parseMounts,
  parseProcesses,
  refutedOwnerClaims,
  splitSections,
} from "./parse-host-tables.js";
import { type ProcessDetails, readProcessDetails } from "./process-details.js";
import { resolveServiceManager } from "./resolve-service-manager.js";

/** Services that keep the agent connected or the host alive; never stopped, whatever the config says. */
const protectedServiceNames =
  /^(ssh|sshd|openssh-server|dropbear|systemd-.*|dbus|dbus-broker|init|getty@.*|serial-getty@.*|console-getty)$/;

/** Listing commands, each in its own section; a missing tool leaves its section empty. Only the service manager in use is asked (`service --status-all` alone can take seconds). */
function listingScript(manager: string): string {
  const services: Record<string, string> = {
    systemd: "systemctl show --type=service --state=running -p Id -p MainPID '*' 2>/dev/null",
    sysv: "service --status-all 2>/dev/null",
    openrc: "rc-status -s 2>/dev/null",
    process: "true",
  };
  return `
echo @@ps; ps -eo pid=,ppid=,uid=,user:64=,pcpu=,rss=,args= 2>/dev/null
${listeningListing}
echo @@mounts; ${mountsListing}
echo @@self; chaos_pid=$$; while [ "$chaos_pid" -gt 1 ] 2>/dev/null; do echo "$chaos_pid"; chaos_pid=$(awk '/^PPid:/{print $2}' /proc/$chaos_pid/status 2>/dev/null || echo 0); done
echo @@${manager}; ${services[manager] ?? "true"}
true
`;
}

/** A service as discovery found it; `details` of a `service` resource. */
export interface DiscoveredService {
  host: string;
  name: string;
  manager: "systemd" | "openrc" | "sysv" | "process";
  /** Main PID when known (0 otherwise). */
  pid: number;
  /** Process backend: everything needed to start it again. */
  process?: ProcessDetails;
  bootId: string;
  ports: number[];
}

/** Discovers one host: processes, listening ports, filesystems, services and the files they use. */
export async function discoverHost(host: ServerHost, config: ServerConfig): Promise<{ resources: Resource[]; facts: HostFacts }> {
  const facts = await host.facts();
  const manager = resolveServiceManager(config.service_manager, facts);
  const sections = splitSections(await runScript(host.connection, "discovery", listingScript(manager)));
  const processes = parseProcesses(sections.get("ps") ?? "");
  const sockets = listeningSockets(sections.get("listen") ?? "", sections.get("sockets") ?? "");
  const protectedPids = protectedProcessIds(processes, (sections.get("self") ?? "").split("\n").map(Number).filter(Boolean));
  const label = host.key;
  const resources: Resource[] = [{ kind: "host", name: `${label}/host`, details: { host: label, ...facts } }];

  const { mounts, refused: refusedMounts } = parseMounts(sections.get("mounts") ?? "");
  // Named in the host's facts: a mount point chaos will not act on is reported, not silently missing.
  if (refusedMounts.length) (resources[0]?.details as Record<string, unknown>).refusedMounts = refusedMounts;
  // Named too: a process that forged its way into ss's owner list, and the PID it named.
  const refusedOwners = refutedOwnerClaims(sections.get("claims") ?? "", sockets);
  if (refusedOwners.length) (resources[0]?.details as Record<string, unknown>).refusedOwners = refusedOwners;
  for (const mount of mounts) {
    resources.push({ kind: "mount", name: `${label}/mount:${mount.mountPoint}`, details: { host: label, ...mount } });
  }
  for (const process of processes) {
    if (protectedPids.has(process.pid)) continue;
    resources.push({
      kind: "process",
      name: `${label}/process:${process.pid}`,
      details: { host: label, ...process, name: processName(process.command) },
    });
  }
  const portsByPid = new Map<number, number[]>();
  const pidsByPort = new Map<number, Set<number>>();
  for (const socket of sockets) {
    for (const pid of socket.pids) portsByPid.set(pid, [...new Set([...(portsByPid.get(pid) ?? []), socket.port])]);
    pidsByPort.set(socket.port, new Set([...(pidsByPort.get(socket.port) ?? []), ...socket.pids]));
  }
  for (const [port, pids] of pidsByPort) {
    // A port whose owner cannot be seen might be sshd's or the agent's own: never a target.
    if (pids.size === 0 || [...pids].some((pid) => protectedPids.has(pid))) continue;
    resources.push({ kind: "port", name: `${label}/port:${port}`, details: { host: label, port, pids: [...pids] } });
  }

  const services =
    manager === "process"
      ? await processServices(host, processes, sockets, protectedPids, facts.bootId)
      : initServices(manager, sections, label, facts.bootId);
  const excluded = new Set(config.discovery.exclude_services);
  const byPid = await readProcessDetails(
    host.connection,
    services.filter((service) => service.pid > 0 && !service.process).map((service) => service.pid),
  );
  const seenPaths = new Set<string>();
  const processResources = new Map(
    resources.filter((resource) => resource.kind === "process").map((resource) => [resource.details?.pid, resource]),
  );
  for (const service of services) {
    if (excluded.has(service.name) || protectedServiceNames.test(service.name) || protectedPids.has(service.pid)) continue;
    service.ports = portsByPid.get(service.pid) ?? [];
    // The main process knows its service, so process_kill can restart it even when resource_filters keep only processes.
    const mainProcess = processResources.get(service.pid);
    if (mainProcess?.details) mainProcess.details.service = { ...service } as unknown as Record<string, unknown>;
    const details = service.process ?? byPid.get(service.pid);
    const openFiles = details?.openFiles ?? {};
    resources.push({
      kind: "service",
      name: `${label}/service:${service.name}`,
      // Files left out for their names are listed, so that a skill acting on the service's files reports them.
      details: { ...service, refusedFiles: details?.refusedFiles ?? [] } as unknown as Record<string, unknown>,
    });
    for (const path of Object.values(openFiles)) {
      if (seenPaths.has(path) || !isServiceFile(path, config.work_dir)) continue;
      seenPaths.add(path);
      resources.push({ kind: "path", name: `${label}/path:${path}`, details: { host: label, path, service: service.name } });
    }
  }
  return { resources, facts };
}

/** PID 1, kernel threads, every SSH daemon, and the agent's own chain of processes. */
export function protectedProcessIds(processes: ProcessRow[], ownChain: number[]): Set<number> {
  const protectedPids = new Set<number>([1, 2, ...ownChain]);
  for (const process of processes) {
    if (process.pid === 2 || process.ppid === 2 || process.ppid === 0) protectedPids.add(process.pid);
    if (/^sshd\b/.test(processName(process.command)) || /^sshd:/.test(process.command)) protectedPids.add(process.pid);
  }
  return protectedPids;
}

/** The short name of a process: the basename of its first word (`nginx: master process` → `nginx`). */
export function processName(command: string): string {
  const first = command.trim().split(/\s+/)[0] ?? "";
  return (first.split("/").pop() ?? first).replace(/:$/, "");
}

function isServiceFile(path: string, workDir: string): boolean {
  if (path.endsWith(" (deleted)") || /^\/(dev|proc|sys|run)\//.test(path)) return false;
  return !isCriticalPath(path, [workDir]);
}

/**
 * Without an init system, a service is a process that listens on a TCP port and whose
 * ancestors do not (nginx workers share their master's socket; the master is the service).
 */
async function processServices(
  host: ServerHost,
  processes: ProcessRow[],
  sockets: ListeningSocket[],
  protectedPids: Set<number>,
  bootId: string,
): Promise<DiscoveredService[]> {
  const parents = new Map(processes.map((process) => [process.pid, process.ppid]));
  const listeners = new Set(sockets.flatMap((socket) => socket.pids).filter((pid) => !protectedPids.has(pid)));
  const hasListeningAncestor = (pid: number) => {
    for (let current = parents.get(pid); current && current > 1; current = parents.get(current)) if (listeners.has(current)) return true;
    return false;
  };
  const roots = [...listeners].filter((pid) => !hasListeningAncestor(pid)).sort((left, right) => left - right);
  const details = await readProcessDetails(host.connection, roots);
  const services: DiscoveredService[] = [];
  const nameCounts = new Map<string, number>();
  for (const pid of roots) {
    const process = details.get(pid);
    if (!process) continue;
    const name = sanitizeName(processName(process.argv.join(" ")) || processName(process.exe));
    nameCounts.set(name, (nameCounts.get(name) ?? 0) + 1);
    services.push({ host: host.key, name, manager: "process", pid, process, bootId, ports: [] });
  }
  // Two daemons of the same program: each is named with its PID so both stay addressable.
  for (const service of services) if ((nameCounts.get(service.name) ?? 0) > 1) service.name = `${service.name}-${service.pid}`;
  return services;
}

function initServices(
  manager: "systemd" | "openrc" | "sysv",
  sections: Map<string, string>,
  host: string,
  bootId: string,
): DiscoveredService[] {
  const services: DiscoveredService[] = [];
  if (manager === "systemd") {
    for (const block of (sections.get("systemd") ?? "").split(/\n\s*\n/)) {
      const id = /Id=(\S+)/.exec(block)?.[1];
      if (!id?.endsWith(".service")) continue;
      services.push({
        host,
        name: id.replace(/\.service$/, ""),
        manager,
        pid: Number(/MainPID=(\d+)/.exec(block)?.[1] ?? 0),
        bootId,
        ports: [],
      });
    }
  } else if (manager === "sysv") {
    for (const line of (sections.get("sysv") ?? "").split("\n")) {
      const name = /^\s*\[ \+ \]\s+(\S+)/.exec(line)?.[1];
      if (name) services.push({ host, name, manager, pid: 0, bootId, ports: [] });
    }
  } else {
    for (const line of (sections.get("openrc") ?? "").split("\n")) {
      const name = /^\s*(\S+)\s+\[\s*started/.exec(line)?.[1];
      if (name) services.push({ host, name, manager, pid: 0, bootId, ports: [] });
    }
  }
  return services;
}

function sanitizeName(name: string): string {
  return name.replace(/[^A-Za-z0-9._@-]/g, "_") || "unnamed";
}
