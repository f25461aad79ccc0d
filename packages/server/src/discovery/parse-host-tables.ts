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

/** Parses `df -PkT` (sizes in KiB). */
export function parseMounts(text: string): MountRow[] {
  const rows: MountRow[] = [];
  for (const line of text.split("\n").slice(1)) {
    const match = /^(\S+)\s+(\S+)\s+(\d+)\s+(\d+)\s+(\d+)\s+\S+\s+(\/.*)$/.exec(line);
    if (!match) continue;
    rows.push({
      device: match[1] ?? "",
      type: match[2] ?? "",
      sizeBytes: Number(match[3]) * 1024,
      usedBytes: Number(match[4]) * 1024,
      availableBytes: Number(match[5]) * 1024,
      mountPoint: match[6] ?? "",
    });
  }
  return rows;
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
