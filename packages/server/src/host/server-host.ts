import type { HostConnection } from "../transports/host-connection.js";
import { type HostFacts, probeHostFacts } from "./host-facts.js";
import { verifyWorkDirectory } from "./work-directory.js";

/** One host of a session: its connection, what it is like, and where chaos keeps its files there. */
export interface ServerHost {
  /** Same as `connection.key`; undo data names its host with it. */
  readonly key: string;
  readonly connection: HostConnection;
  /** Chaos-owned directory on the host (`work_dir`). */
  readonly workDir: string;
  /** Probed on first use, then cached. */
  facts(): Promise<HostFacts>;
  /** `<work_dir>/<experimentId>`: every file chaos creates outside a filled mount lives here. */
  experimentDir(experimentId: string): string;
  /** Creates the work dir if missing and verifies that only root can write it (once per session); call before writing or reading anything in it. */
  workDirectory(): Promise<void>;
}

export function createServerHost(connection: HostConnection, workDir: string): ServerHost {
  let facts: Promise<HostFacts> | undefined;
  let verified: Promise<void> | undefined;
  return {
    key: connection.key,
    connection,
    workDir,
    facts: () => {
      facts ??= probeHostFacts(connection).catch((error) => {
        facts = undefined;
        throw error;
      });
      return facts;
    },
    experimentDir: (experimentId) => `${workDir}/${experimentId}`,
    // Checked once: once it and its parents are root's alone, no one else can swap them later.
    workDirectory: () => {
      verified ??= verifyWorkDirectory(connection, workDir, true).catch((error) => {
        verified = undefined;
        throw error;
      });
      return verified;
    },
  };
}
