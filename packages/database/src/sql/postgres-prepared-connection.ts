import type { Duplex } from "node:stream";
import pg from "pg";
import { type DatabaseError, parse, serialize } from "pg-protocol";

/** A connection that runs statements prepared once, many times over, and discards their rows. */
export interface PreparedConnection {
  /** The backend's PID, to cancel a statement still running. */
  readonly serverId: number;
  /** Runs statement number `index` with `values` (text, or null for NULL); resolves once the server is ready again. */
  execute(index: number, values: readonly (string | null)[]): Promise<void>;
  close(): Promise<void>;
}

const executeAndSync = Buffer.concat([serialize.execute(), serialize.sync()]);

/**
 * Opens a PostgreSQL connection for a load worker. pg opens it (authentication, TLS, session
 * options), then the worker speaks the extended query protocol on its socket directly, through
 * pg's own protocol package: one Bind + Execute + Sync per query, in one write, and the reply
 * read without building result objects.
 *
 * Why not `client.query`: pg spends about 30 µs of JavaScript per query (a Describe and a
 * RowDescription each time, result and field objects, a cloned config), which on a small
 * machine takes the CPU the server needs and caps a read load well below what the server can
 * answer. This path costs about a third of that.
 */
export async function openPreparedConnection(config: pg.ClientConfig, statements: readonly string[]): Promise<PreparedConnection> {
  const client = new pg.Client(config);
  client.on("error", () => undefined);
  await client.connect();
  let serverId = 0;
  try {
    const { rows } = await client.query<{ pid: number }>("SELECT pg_backend_pid() AS pid");
    serverId = Number(rows[0]?.pid ?? 0);
  } catch (error) {
    await client.end().catch(() => undefined);
    throw error;
  }

  // From here on pg's client never reads this socket again: every reply is this module's.
  const socket: Duplex = client.connection.stream;
  socket.removeAllListeners("data");
  let waiting: { resolve(): void; reject(error: Error): void } | undefined;
  let failure: Error | undefined;
  let closed: Error | undefined;
  const settle = (error?: Error) => {
    const current = waiting;
    waiting = undefined;
    if (error) current?.reject(error);
    else current?.resolve();
  };
  parse(socket, (message) => {
    if (message.name === "error") failure = message as DatabaseError;
    else if (message.name === "readyForQuery") {
      const error = failure;
      failure = undefined;
      settle(error);
    }
  }).catch(() => undefined);
  socket.once("close", () => {
    closed = new Error("the connection to PostgreSQL closed");
    settle(closed);
  });

  const send = (message: Buffer) =>
    new Promise<void>((resolve, reject) => {
      if (closed) return reject(closed);
      // Replies carry no query id: a second statement in flight could take the first's reply.
      if (waiting) return reject(new Error("a prepared connection runs one statement at a time"));
      waiting = { resolve, reject };
      socket.write(message);
    });

  const names = statements.map((_, index) => `chaos_prepared_${index}`);
  const connection: PreparedConnection = {
    serverId,
    execute: (index, values) =>
      send(Buffer.concat([serialize.bind({ statement: names[index], values: values as unknown[] }), executeAndSync])),
    async close() {
      if (closed) return;
      const ended = new Promise((resolve) => socket.once("close", resolve));
      socket.end(serialize.end());
      // A server that never answers the Terminate must not hold the worker open.
      await Promise.race([ended, new Promise((resolve) => setTimeout(resolve, 2000).unref())]);
      socket.destroy();
    },
  };
  try {
    await send(Buffer.concat([...statements.map((text, index) => serialize.parse({ name: names[index], text })), serialize.sync()]));
  } catch (error) {
    await connection.close();
    throw error;
  }
  return connection;
}
