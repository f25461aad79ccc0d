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

/** One listening TCP socket from `ss -Htlnp`. */
export interface ListeningSocket {
  address: string;
  port: number;
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

/** Parses `ss -Htlnp`: `LISTEN 0 128 0.0.0.0:22 0.0.0.0:* users:(("sshd",pid=1,fd=3))`. */
export function parseListeningSockets(text: string): ListeningSocket[] {
  const sockets: ListeningSocket[] = [];
  for (const line of text.split("\n")) {
    const fields = line.trim().split(/\s+/);
    const local = fields[3];
    if (!local) continue;
    const separator = local.lastIndexOf(":");
    const port = Number(local.slice(separator + 1));
    if (!Number.isInteger(port) || port <= 0) continue;
    const pids = [...line.matchAll(/pid=(\d+)/g)].map((match) => Number(match[1]));
    sockets.push({ address: local.slice(0, separator), port, pids: [...new Set(pids)] });
  }
  return sockets;
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
