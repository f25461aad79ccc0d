import { checkName, describeRefusal } from "../host/host-names.js";

/** One row of `ps`. */
export interface ProcessRow {
  pid: number;
  ppid: number;
  uid: number;
  user: string;
  cpuPercent: number;
  memoryKb: number;
  command: string;
}

/** One listening TCP socket, from /proc/net/tcp{,6}, with the processes that hold it open. */
export interface ListeningSocket {
  port: number;
  /** The socket's inode: what `/proc/PID/fd/N` links to (`socket:[INODE]`). */
  inode: string;
  /** Processes holding the socket, found in /proc, never taken from a listing that prints process names. */
  pids: number[];
}

/** One filesystem from `df -PkT`. */
export interface MountRow {
  device: string;
  type: string;
  sizeBytes: number;
  usedBytes: number;
  availableBytes: number;
  mountPoint: string;
}

/** Parses `ps -eo pid=,ppid=,uid=,user:64=,pcpu=,rss=,args=`. */
export function parseProcesses(text: string): ProcessRow[] {
  const rows: ProcessRow[] = [];
  for (const line of text.split("\n")) {
    const match = /^\s*(\d+)\s+(\d+)\s+(\d+)\s+(\S+)\s+([\d.]+)\s+(\d+)\s+(.*)$/.exec(line);
    if (!match) continue;
    rows.push({
      pid: Number(match[1]),
      ppid: Number(match[2]),
      uid: Number(match[3]),
      user: match[4] ?? "",
      cpuPercent: Number(match[5]),
      memoryKb: Number(match[6]),
      command: match[7] ?? "",
    });
  }
  return rows;
}

/**
 * Who listens where, read from /proc alone. `ss -p` is not used for owners: it prints process
 * names unescaped, so a process that names itself `x",pid=1234` makes its port list PID 1234
 * too. The kernel's own tables hold no name: the listening sockets' inodes (state 0A in
 * /proc/net/tcp{,6}), and each process's descriptors that link to `socket:[INODE]`.
 * `ss -Htlnp` is still listed, only to name the owner claims it makes that /proc refutes.
 */
export const listeningListing = `echo @@listen; awk '$4 == "0A" { print $2, $10 }' /proc/net/tcp /proc/net/tcp6 2>/dev/null
echo @@sockets
if find /proc/self/fd -maxdepth 0 -printf '' >/dev/null 2>&1; then
  find /proc/[0-9]*/fd -mindepth 1 -maxdepth 1 -lname 'socket:*' -printf '%h %l\\n' 2>/dev/null
else
  for chaos_fd in /proc/[0-9]*/fd/*; do
    chaos_link=$(readlink "$chaos_fd" 2>/dev/null) || continue
    case "$chaos_link" in socket:*) echo "\${chaos_fd%/*} $chaos_link" ;; esac
  done
fi
# Each line prefixed: a process name holding a newline cannot start a line of its own (such as a forged @@ section).
echo @@claims; ss -Htlnp 2>/dev/null | sed 's/^/|/'`;

/** Parses the `listen` section (`LOCAL_ADDRESS:PORT INODE`, hex as the kernel prints it) strictly. */
export function parseListeningInodes(text: string): { port: number; inode: string }[] {
  const sockets: { port: number; inode: string }[] = [];
  for (const line of text.split("\n")) {
    if (line === "") continue;
    const match = /^(?:[0-9A-F]{8}|[0-9A-F]{32}):([0-9A-F]{4}) (\d+)$/.exec(line);
    if (!match) throw new Error(`unexpected line in /proc/net/tcp: ${JSON.stringify(line)}`);
    // Inode 0 is a socket no process holds any more.
    if (match[2] !== "0") sockets.push({ port: Number.parseInt(match[1] ?? "", 16), inode: match[2] ?? "" });
  }
  return sockets;
}

/** Parses the `sockets` section (`/proc/PID/fd socket:[INODE]`) strictly: socket inode → PIDs holding it. */
export function parseSocketHolders(text: string): Map<string, number[]> {
  const holders = new Map<string, number[]>();
  for (const line of text.split("\n")) {
    if (line === "") continue;
    const match = /^\/proc\/(\d+)\/fd socket:\[(\d+)\]$/.exec(line);
    if (!match) throw new Error(`unexpected line in the socket descriptor listing: ${JSON.stringify(line)}`);
    const [pid, inode] = [Number(match[1]), match[2] ?? ""];
    const pids = holders.get(inode) ?? [];
    if (!pids.includes(pid)) pids.push(pid);
    holders.set(inode, pids);
  }
  return holders;
}

/** Listening sockets with the processes /proc shows holding them. */
export function listeningSockets(listen: string, sockets: string): ListeningSocket[] {
  const holders = parseSocketHolders(sockets);
  return parseListeningInodes(listen).map((socket) => ({ ...socket, pids: holders.get(socket.inode) ?? [] }));
}

/**
 * The owner claims of `ss -Htlnp` that /proc does not confirm, described for the report: each
 * `pid=N` on a line for port P where process N holds no socket listening on P. The text is read
 * only for these numbers; nothing from it is acted on.
 */
export function refutedOwnerClaims(ssText: string, sockets: ListeningSocket[]): string[] {
  const owners = new Map<number, Set<number>>();
  for (const socket of sockets) owners.set(socket.port, new Set([...(owners.get(socket.port) ?? []), ...socket.pids]));
  const refuted = new Set<string>();
  for (const line of ssText.split("\n")) {
    if (!line.startsWith("|")) continue;
    const local = line.slice(1).trim().split(/\s+/)[3] ?? "";
    const port = Number(local.slice(local.lastIndexOf(":") + 1));
    const claimed = [...line.matchAll(/pid=(\d+)/g)].map((match) => Number(match[1]));
    const known = Number.isInteger(port) && port > 0;
    for (const pid of claimed) {
      if (known && owners.get(port)?.has(pid)) continue;
      refuted.add(
        known
          ? `ss -p lists PID ${pid} as an owner of port ${port}, but that process holds no socket listening there (a process name can forge ss's list); refused`
          : `ss -p lists PID ${pid} on a line that names no port (a process name split the line); refused`,
      );
    }
  }
  return [...refuted];
}

/** What the mounts listing prints per filesystem: `mount<TAB>device<TAB>mount point<TAB>type<TAB>block-size blocks free available`, names as /proc/self/mounts escapes them. */
export const mountsListing = `while read -r chaos_device chaos_mount chaos_type chaos_rest; do
  case "$chaos_mount" in *'\\011'*|*'\\012'*) printf 'refused\\t%s\\n' "$chaos_mount"; continue ;; esac
  chaos_path=$(printf '%s\\n' "$chaos_mount" | sed 's/\\\\040/ /g; s/\\\\134/\\\\/g')
  chaos_sizes=$(stat -f -c '%S %b %f %a' -- "$chaos_path" 2>/dev/null) || continue
  printf 'mount\\t%s\\t%s\\t%s\\t%s\\n' "$chaos_device" "$chaos_mount" "$chaos_type" "$chaos_sizes"
done < /proc/self/mounts`;

/** Undoes the octal escapes of /proc/self/mounts (`\\040` is a space). */
export function unescapeMountField(field: string): string {
  // The kernel escapes only space, tab, newline and backslash: ASCII, so each escape is one character.
  return field.replace(/\\([0-7]{3})/g, (_, octal: string) => String.fromCharCode(Number.parseInt(octal, 8)));
}

/**
 * Parses the mounts listing strictly. Pseudo filesystems (no blocks) are left out; a mount
 * point that holds a newline or another control character is refused (listed in `refused`),
 * never split. An over-mounted point keeps its last (visible) filesystem.
 */
export function parseMounts(text: string): { mounts: MountRow[]; refused: string[] } {
  const byMountPoint = new Map<string, MountRow>();
  const refused: string[] = [];
  for (const line of text.split("\n")) {
    if (line === "") continue;
    const fields = line.split("\t");
    if (fields[0] === "refused") {
      refused.push(`${JSON.stringify(unescapeMountField(fields[1] ?? ""))} holds a newline or control character`);
      continue;
    }
    const sizes = /^(\d+) (\d+) (\d+) (\d+)$/.exec(fields[4] ?? "");
    if (fields[0] !== "mount" || fields.length !== 5 || !sizes) throw new Error(`unexpected mount listing line: ${JSON.stringify(line)}`);
    const mountPoint = unescapeMountField(fields[2] ?? "");
    const name = checkName(mountPoint);
    if (!name.ok || !mountPoint.startsWith("/")) {
      refused.push(name.ok ? `${JSON.stringify(mountPoint)} is not an absolute path` : describeRefusal(name));
      continue;
    }
    const [blockSize, blocks, free, available] = sizes.slice(1).map(Number) as [number, number, number, number];
    if (blocks === 0) continue;
    byMountPoint.set(mountPoint, {
      device: unescapeMountField(fields[1] ?? ""),
      type: fields[3] ?? "",
      sizeBytes: blocks * blockSize,
      usedBytes: (blocks - free) * blockSize,
      availableBytes: available * blockSize,
      mountPoint,
    });
  }
  return { mounts: [...byMountPoint.values()], refused };
}

/** Splits `@@name` sections of a discovery script's output. */
export function splitSections(text: string): Map<string, string> {
  const sections = new Map<string, string>();
  let current = "";
  const lines: string[] = [];
  const flush = () => {
    if (current) sections.set(current, lines.join("\n"));
    lines.length = 0;
  };
  for (const line of text.split("\n")) {
    if (line.startsWith("@@")) {
      flush();
      current = line.slice(2).trim();
    } else lines.push(line);
  }
  flush();
  return sections;
}

/** Decodes `od -An -v -tx1` output of a NUL-separated /proc file into its strings. */
export function decodeNulSeparatedHex(hex: string): string[] {
  const bytes = Buffer.from(hex.replace(/\s+/g, ""), "hex");
  const words = bytes.toString("utf8").split("\0");
  if (words.at(-1) === "") words.pop();
  return words;
}
