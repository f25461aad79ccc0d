import type { HostConnection } from "../transports/host-connection.js";
import { runScript } from "./host-script.js";

export type InitSystem = "systemd" | "openrc" | "sysv" | "none";

/** What a host is like, probed once per connection. */
export interface HostFacts {
  euid: number;
  bootId: string;
  initSystem: InitSystem;
  /** Tools found on PATH (stress-ng, bash, perl, setpriv, ss, tc, iptables…). */
  tools: string[];
  cpus: number;
  /** Port of the SSH server we came in through; undefined for the local transport. */
  sshPort?: number;
  /** Address of this side of the SSH connection, as the host sees it. */
  sshClientAddress?: string;
  hostname: string;
  os: string;
}

const probedTools = [
  "stress-ng",
  "bash",
  "perl",
  "setpriv",
  "ss",
  "tc",
  "iptables",
  "ip6tables",
  "fallocate",
  "base64",
  "systemctl",
  "rc-service",
  "service",
];

export async function probeHostFacts(connection: HostConnection): Promise<HostFacts> {
  // Without sudo: sudo would reset SSH_CONNECTION, which tells which session to keep alive.
  const output = await runScript(
    connection,
    "probing the host",
    `
echo "euid=$(id -u)"
echo "boot_id=$(chaos_boot_id)"
if [ -d /run/systemd/system ]; then echo init=systemd
elif command -v openrc >/dev/null 2>&1 && [ -d /run/openrc ]; then echo init=openrc
elif [ "$(cat /proc/1/comm 2>/dev/null)" = init ] && [ -d /etc/init.d ]; then echo init=sysv
else echo init=none; fi
for tool in ${probedTools.join(" ")}; do command -v "$tool" >/dev/null 2>&1 && echo "tool=$tool"; done
echo "cpus=$(nproc 2>/dev/null || echo 1)"
echo "ssh=\${SSH_CONNECTION:-}"
echo "hostname=$(hostname 2>/dev/null || cat /etc/hostname)"
. /etc/os-release 2>/dev/null; echo "os=\${PRETTY_NAME:-unknown}"
`,
    { sudo: false },
  );
  const values = new Map<string, string[]>();
  for (const line of output.split("\n")) {
    const index = line.indexOf("=");
    if (index < 0) continue;
    const key = line.slice(0, index);
    values.set(key, [...(values.get(key) ?? []), line.slice(index + 1)]);
  }
  const first = (key: string) => values.get(key)?.[0] ?? "";
  const ssh = first("ssh").split(" ");
  return {
    euid: Number(first("euid")),
    bootId: first("boot_id"),
    initSystem: (first("init") || "none") as InitSystem,
    tools: values.get("tool") ?? [],
    cpus: Number(first("cpus")) || 1,
    sshPort: ssh.length === 4 ? Number(ssh[3]) : undefined,
    sshClientAddress: ssh.length === 4 ? ssh[0] : undefined,
    hostname: first("hostname"),
    os: first("os"),
  };
}
