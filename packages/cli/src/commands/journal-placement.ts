import { lookup } from "node:dns/promises";
import { ChaosError, ExitCode, isPostgresJournalUrl, type ParsedExperiment, redactText } from "@chaos-agents/core";

const defaultPorts: Record<string, number> = { postgres: 5432, postgresql: 5432, mysql: 3306, mariadb: 3306 };

interface ServerAddress {
  addresses: Set<string>;
  port: number;
  database: string;
}

/**
 * Refuses a PostgreSQL journal on a database server an experiment of the same file attacks: the
 * faults (connection exhaustion, config changes, load) would reach the journal that must record
 * and undo them. The same server is refused even for another database on it, since such faults
 * are server-wide. Host names are resolved, so `localhost` and `127.0.0.1` are one server.
 */
export async function refuseJournalOnAttackedServer(
  journalLocation: string,
  experiments: { path: string; experiment: ParsedExperiment }[],
  fileName: string,
): Promise<void> {
  if (!isPostgresJournalUrl(journalLocation)) return;
  const journal = await serverOf(journalLocation);
  if (!journal) return;
  for (const { path, experiment } of experiments) {
    if (experiment.target !== "database") continue;
    const url = experiment.target_config.connection_url;
    if (typeof url !== "string") continue;
    const target = await serverOf(url);
    if (!target || target.port !== journal.port || ![...target.addresses].some((address) => journal.addresses.has(address))) continue;
    const same = target.database === journal.database ? "the very database" : `database ${target.database} on the same server`;
    throw new ChaosError(
      `${fileName}: ${path} (${experiment.name}) attacks ${same} as the journal ${redactText(journalLocation)}; ` +
        "its faults could lose the undo data that must repair them. Put the journal on another database server (--journal, CHAOS_JOURNAL or a daemon's settings.journal)",
      { exitCode: ExitCode.invalidConfig },
    );
  }
}

async function serverOf(location: string): Promise<ServerAddress | undefined> {
  let url: URL;
  try {
    url = new URL(location);
  } catch {
    return undefined;
  }
  const scheme = url.protocol.replace(/:$/, "").toLowerCase();
  // A Unix socket (host in the query, or none at all) is this machine's server.
  const host = url.hostname.replace(/^\[|\]$/g, "") || url.searchParams.get("host") || "localhost";
  const port = Number(url.port) || defaultPorts[scheme] || 0;
  const database = decodeURIComponent(url.pathname.replace(/^\//, "")) || decodeURIComponent(url.username);
  const addresses = new Set<string>([host]);
  if (!host.startsWith("/")) {
    try {
      for (const found of await lookup(host, { all: true })) addresses.add(found.address);
    } catch {
      // Unresolvable here: compared by name only.
    }
  } else addresses.add("localhost");
  // Loopback names are one machine, whichever family they resolve to.
  if ([...addresses].some((address) => address === "localhost" || address === "::1" || address.startsWith("127."))) {
    for (const loopback of ["localhost", "127.0.0.1", "::1"]) addresses.add(loopback);
  }
  return { addresses, port, database };
}
