import { homedir } from "node:os";
import { join } from "node:path";

/** Expands a leading `~/` the way a shell would, so config paths read like the user's own. */
export function expandHome(path: string): string {
  return path === "~" ? homedir() : path.startsWith("~/") ? join(homedir(), path.slice(2)) : path;
}
