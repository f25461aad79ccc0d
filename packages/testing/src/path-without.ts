import { mkdirSync, readdirSync, symlinkSync } from "node:fs";
import { join } from "node:path";

/** The directories a root shell searches on Debian, in order. */
const systemDirectories = ["/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin"];

/**
 * A directory of symlinks to every program on the system PATH except those `left out`
 * matches, for a PATH that makes a host look as if those tools were not installed (no
 * package is removed). Returns the directory, to use as the whole PATH.
 */
export function pathWithout(leftOut: RegExp, directory: string): string {
  mkdirSync(directory, { recursive: true, mode: 0o755 });
  const linked = new Set<string>();
  for (const system of systemDirectories) {
    let entries: string[];
    try {
      entries = readdirSync(system);
    } catch {
      continue;
    }
    for (const entry of entries) {
      if (linked.has(entry) || leftOut.test(entry)) continue;
      linked.add(entry);
      symlinkSync(join(system, entry), join(directory, entry));
    }
  }
  return directory;
}
