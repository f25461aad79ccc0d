import { closeSync, openSync, readFileSync, unlinkSync, writeSync } from "node:fs";
import { ChaosError, ExitCode } from "@chaos-agents/core";

/** A PID file this process holds; `release` removes it if it is still ours. */
export interface PidFile {
  path: string;
  /** The pid of a dead daemon whose file was taken over, if any. */
  tookOverFrom?: number;
  release(): void;
}

/**
 * Takes the PID file exclusively: created with O_EXCL, so of two daemons starting at once one wins.
 * A file naming a live process refuses the start; one naming a dead process is taken over.
 */
export function acquirePidFile(path: string): PidFile {
  let tookOverFrom: number | undefined;
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const descriptor = openSync(path, "wx", 0o644);
      writeSync(descriptor, `${process.pid}\n`);
      closeSync(descriptor);
      return {
        path,
        tookOverFrom,
        release: () => {
          if (readPid(path) === process.pid) unlinkSync(path);
        },
      };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") {
        throw new ChaosError(`cannot create the PID file ${path}: ${(error as Error).message}`, { exitCode: ExitCode.usage, cause: error });
      }
    }
    const holder = readPid(path);
    if (holder !== undefined && holder !== process.pid && isRunning(holder)) {
      throw new ChaosError(`another chaos daemon (pid ${holder}) holds ${path}; stop it first, or give this one another --pid-file`, {
        exitCode: ExitCode.unfinishedExperiment,
      });
    }
    tookOverFrom = holder;
    try {
      unlinkSync(path);
    } catch {
      // Another daemon removed it first; the next O_EXCL create decides.
    }
  }
  throw new ChaosError(`could not take the PID file ${path}: another daemon keeps taking it`, { exitCode: ExitCode.unfinishedExperiment });
}

function readPid(path: string): number | undefined {
  try {
    const pid = Number(readFileSync(path, "utf8").trim());
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}
