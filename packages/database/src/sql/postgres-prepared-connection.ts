import type { Duplex } from "node:stream";
import pg from "pg";
import { serialize } from "pg-protocol";

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
 * options), then the worker speaks the extended query protocol on its socket directly: one
 * Bind + Execute + Sync per query, built by pg's own protocol package and sent in one write;
 * of the reply only the frames are read (rows are never decoded), and an ErrorResponse.
 *
 * Why not `client.query`: pg spends about 30 µs of JavaScript per query (a Describe and a
 * RowDescription each time, result and field objects, a cloned config), which on a small
 * machine takes the CPU the server needs and caps a read load well below what the server can
 * answer. This path costs under a third of that.
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
  onMessages(socket, (type, body) => {
    if (type === errorResponse) failure = serverError(body);
    else if (type === readyForQuery) {
      const error = failure;
      failure = undefined;
      settle(error);
    }
  });
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

const errorResponse = 0x45; // 'E'
const readyForQuery = 0x5a; // 'Z'

/** Splits the socket's bytes into backend messages: a type byte, then a length that counts itself. */
function onMessages(socket: Duplex, handle: (type: number, body: Buffer) => void): void {
  let partial: Buffer | undefined;
  socket.on("data", (chunk: Buffer) => {
    const buffer = partial ? Buffer.concat([partial, chunk]) : chunk;
    let offset = 0;
    while (buffer.length - offset >= 5) {
      const end = offset + 1 + buffer.readInt32BE(offset + 1);
      if (end > buffer.length) break;
      handle(buffer[offset] as number, buffer.subarray(offset + 5, end));
      offset = end;
    }
    partial = offset < buffer.length ? buffer.subarray(offset) : undefined;
  });
}

/** An ErrorResponse's fields (a code byte, then a NUL-terminated text, until a NUL) as an Error. */
function serverError(body: Buffer): Error {
  const fields = new Map<string, string>();
  for (let offset = 0; offset < body.length && body[offset] !== 0; ) {
    const end = body.indexOf(0, offset + 1);
    if (end < 0) break;
    fields.set(String.fromCharCode(body[offset] as number), body.toString("utf8", offset + 1, end));
    offset = end + 1;
  }
  return Object.assign(new Error(fields.get("M") ?? "PostgreSQL reported an error"), {
    code: fields.get("C"),
    severity: fields.get("S"),
    detail: fields.get("D"),
  });
}
