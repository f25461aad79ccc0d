import { readFileSync } from "node:fs";
import { fileErrorInWords, type Logger } from "@chaos-agents/core";
import ssh2 from "ssh2";
import type { HostKeyPolicy } from "../server-config.js";
import { buildCommand } from "./build-command.js";
import { expandHome } from "./expand-home.js";
import { defaultExecTimeoutMs, type ExecOptions, type ExecResult, type HostConnection } from "./host-connection.js";
import {
  appendKnownHost,
  entriesFor,
  fingerprint,
  hostKeyAlgorithmsFor,
  keyTypeOf,
  knownHostName,
  readKnownHosts,
  verifyHostKey,
} from "./known-hosts.js";
import { killProcessGroupCommand, type ProcessGroup, reportingProcessGroup, takeProcessGroup } from "./remote-process-group.js";

export type SshAuth =
  | { type: "key"; private_key_path: string; passphrase?: string }
  | { type: "agent"; socket?: string }
  | { type: "password"; password: string };

export interface SshConnectionOptions {
  host: string;
  port: number;
  username: string;
  auth: SshAuth;
  hostKeyPolicy: HostKeyPolicy;
  knownHostsPath: string;
  connectTimeoutMs: number;
  keepaliveIntervalMs: number;
  sudo: boolean;
  log: Logger;
}

/** Raised when the host's key is not the one known_hosts holds; never retried. */
export class HostKeyError extends Error {}

/**
 * Runs commands over SSH (ssh2). Connects on first use and again after the connection
 * dropped, so a rollback after a network blip reconnects by itself.
 */
export function createSshConnection(options: SshConnectionOptions): HostConnection {
  let client: ssh2.Client | undefined;
  let connecting: Promise<ssh2.Client> | undefined;
  let closed = false;

  const connect = (): Promise<ssh2.Client> => {
    if (client) return Promise.resolve(client);
    connecting ??= openClient(options).then(
      (opened) => {
        connecting = undefined;
        if (closed) {
          opened.end();
          throw new Error("connection closed");
        }
        client = opened;
        const forget = () => {
          if (client === opened) client = undefined;
        };
        opened.on("close", forget);
        opened.on("error", forget);
        return opened;
      },
      (error) => {
        connecting = undefined;
        throw error;
      },
    );
    return connecting;
  };

  const key = options.port === 22 ? options.host : `${options.host}:${options.port}`;
  // Process groups of commands left running (cut off by a lost connection, or timed out where the
  // kill could not get through): killed before the next command runs.
  const orphans: { group: ProcessGroup; sudo: boolean; why: string }[] = [];
  const killOrphans = async (current: ssh2.Client) => {
    for (const orphan of orphans.splice(0)) {
      options.log.warn(`${key}: a command ${orphan.why}; ${(await killGroup(current, orphan.group, orphan.sudo)).words}`);
    }
  };

  const exec = async (command: readonly string[] | { script: string }, execOptions: ExecOptions = {}): Promise<ExecResult> => {
    const sudo = execOptions.sudo ?? options.sudo;
    const text = buildCommand(command, sudo);
    // A channel that could not even open means the command never ran: one fresh connection may retry it.
    for (let attempt = 1; ; attempt++) {
      const current = await connect();
      await killOrphans(current);
      try {
        return await runOnChannel(current, text, execOptions, sudo);
      } catch (error) {
        if (error instanceof ConnectionLostError && error.group) {
          orphans.push({ group: error.group, sudo, why: "was cut off by a lost connection" });
        } else if (error instanceof CommandTimeoutError && error.group && !error.killed) {
          orphans.push({ group: error.group, sudo, why: "timed out and could not be killed then" });
        }
        if (!(error instanceof ChannelOpenError) || attempt >= 2) throw error;
        if (client === current) client = undefined;
        current.end();
      }
    }
  };

  return {
    key,
    identity: `ssh://${options.username}@${options.host}:${options.port}`,
    sudo: options.sudo,
    exec,
    close: async () => {
      closed = true;
      client?.end();
      client = undefined;
    },
  };
}

class ChannelOpenError extends Error {}

/** A command ran past its deadline; `killed` says whether its process group was killed on the host. */
class CommandTimeoutError extends Error {
  constructor(
    readonly group: ProcessGroup | undefined,
    readonly killed: boolean,
    message: string,
  ) {
    super(message);
  }
}

/** The channel ended without an exit status: the connection went while the command ran, and it may still run. */
class ConnectionLostError extends Error {
  constructor(
    readonly group: ProcessGroup | undefined,
    text: string,
    cause?: string,
  ) {
    super(
      `the connection was lost while the command ran${cause ? ` (${cause})` : ""}; ${
        group === undefined
          ? "it did not name its process group, so it may still run on the host"
          : `its process group ${group.id} is killed on the host before the next command`
      }: ${text.slice(0, 120)}`,
    );
  }
}

function openClient(options: SshConnectionOptions): Promise<ssh2.Client> {
  const name = knownHostName(options.host, options.port);
  const knownHostsPath = expandHome(options.knownHostsPath);
  const entries = options.hostKeyPolicy === "off" ? [] : readKnownHosts(knownHostsPath);
  const known = entriesFor(entries, name);
  if (options.hostKeyPolicy === "strict" && known.length === 0) {
    return Promise.reject(
      new HostKeyError(
        `${name} is not in ${knownHostsPath} (host_key_policy: strict); add it with \`ssh-keyscan -p ${options.port} ${options.host}\` after checking its fingerprint`,
      ),
    );
  }
  if (options.hostKeyPolicy === "off") {
    options.log.warn(`HOST KEY CHECKING IS OFF for ${name}: anyone on the network path can impersonate this host`);
  }
  let hostKeyProblem: HostKeyError | undefined;
  const hostVerifier = (key: Buffer): boolean => {
    if (options.hostKeyPolicy === "off") return true;
    const verdict = verifyHostKey(entries, name, key);
    if (verdict === "match") return true;
    if (verdict === "unknown" && options.hostKeyPolicy === "accept-new") {
      appendKnownHost(knownHostsPath, name, key);
      options.log.warn(`learned the host key of ${name} (${keyTypeOf(key)} ${fingerprint(key)}) into ${knownHostsPath}`);
      return true;
    }
    hostKeyProblem = new HostKeyError(
      verdict === "mismatch"
        ? `HOST KEY MISMATCH for ${name}: it presented ${keyTypeOf(key)} ${fingerprint(key)}, which is not the key in ${knownHostsPath}; refusing to connect (possible man-in-the-middle)`
        : `the host key of ${name} (${fingerprint(key)}) is ${verdict} in ${knownHostsPath}; refusing to connect`,
    );
    return false;
  };

  const config: ssh2.ConnectConfig = {
    host: options.host,
    port: options.port,
    username: options.username,
    readyTimeout: options.connectTimeoutMs,
    keepaliveInterval: options.keepaliveIntervalMs,
    keepaliveCountMax: 3,
    hostVerifier,
  };
  const algorithms = hostKeyAlgorithmsFor(known);
  if (algorithms.length > 0) config.algorithms = { serverHostKey: algorithms as ssh2.ServerHostKeyAlgorithm[] };
  try {
    applyAuth(config, options.auth);
  } catch (error) {
    return Promise.reject(error);
  }

  return new Promise((resolve, reject) => {
    const client = new ssh2.Client();
    client.once("ready", () => resolve(client));
    // Kept for the client's whole life: ssh2 may emit a second error (e.g. after a timeout), which must never go unhandled.
    client.on("error", (error) => {
      reject(hostKeyProblem ?? error);
      client.end();
    });
    client.connect(config);
  });
}

function readPrivateKey(path: string): Buffer {
  try {
    return readFileSync(path);
  } catch (error) {
    throw new Error(`cannot read the private key ${path} (auth.private_key_path): ${fileErrorInWords(error)}`);
  }
}

function applyAuth(config: ssh2.ConnectConfig, auth: SshAuth): void {
  if (auth.type === "key") {
    config.privateKey = readPrivateKey(expandHome(auth.private_key_path));
    if (auth.passphrase !== undefined) config.passphrase = auth.passphrase;
  } else if (auth.type === "agent") {
    const socket = auth.socket ?? process.env.SSH_AUTH_SOCK;
    if (!socket) throw new Error("auth type agent needs `socket` or SSH_AUTH_SOCK");
    config.agent = expandHome(socket);
  } else {
    config.password = auth.password;
  }
}

/** Runs one command on its own channel; `killOnTimeout: false` for the kill itself, which must not start another. */
function runOnChannel(client: ssh2.Client, text: string, options: ExecOptions, sudo: boolean, killOnTimeout = true): Promise<ExecResult> {
  const timeoutMs = options.timeoutMs ?? defaultExecTimeoutMs;
  return new Promise((resolve, reject) => {
    let channel: ssh2.ClientChannel | undefined;
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    let timedOut = false;
    const timer = setTimeout(async () => {
      timedOut = true;
      // Killed before the channel closes, so nothing the command started outlives the timeout.
      const { group } = takeProcessGroup(Buffer.concat(stderr).toString());
      const outcome = killOnTimeout ? await killGroup(client, group, sudo) : { killed: false, words: "not killed" };
      channel?.close();
      reject(
        new CommandTimeoutError(group, outcome.killed, `command timed out after ${timeoutMs} ms (${outcome.words}): ${text.slice(0, 120)}`),
      );
    }, timeoutMs);
    try {
      client.exec(reportingProcessGroup(text), (error, stream) => {
        if (error) {
          clearTimeout(timer);
          reject(new ChannelOpenError(error.message));
          return;
        }
        channel = stream;
        let exited = false;
        let exitCode: number | null = null;
        stream.on("data", (chunk: Buffer) => stdout.push(chunk));
        stream.stderr.on("data", (chunk: Buffer) => stderr.push(chunk));
        stream.on("exit", (code: number | null) => {
          exited = true;
          exitCode = typeof code === "number" ? code : null;
        });
        stream.on("close", () => {
          clearTimeout(timer);
          // Killed by its timeout: the timeout's error is the answer, not the exit of a killed command.
          if (timedOut) return;
          const { group, rest } = takeProcessGroup(Buffer.concat(stderr).toString());
          if (!exited) reject(new ConnectionLostError(group, text));
          else resolve({ stdout: Buffer.concat(stdout).toString(), stderr: rest, exitCode });
        });
        stream.on("error", (streamError: Error) => {
          clearTimeout(timer);
          if (!timedOut)
            reject(new ConnectionLostError(takeProcessGroup(Buffer.concat(stderr).toString()).group, text, streamError.message));
        });
        stream.end(options.stdin ?? "");
      });
    } catch (error) {
      clearTimeout(timer);
      // ssh2 throws synchronously when the connection is already gone: the command never ran.
      reject(new ChannelOpenError((error as Error).message));
    }
  });
}

/** Kills the process group a command named on stderr (undefined: it named none); says what became of its processes. */
async function killGroup(client: ssh2.Client, group: ProcessGroup | undefined, sudo: boolean): Promise<{ killed: boolean; words: string }> {
  if (group === undefined)
    return { killed: false, words: "it did not name its process group, so whatever it started may still run on the host" };
  const result = await runOnChannel(client, killProcessGroupCommand(group, sudo), { timeoutMs: 10_000 }, sudo, false).catch(
    (error: Error) => ({ exitCode: null, stdout: "", stderr: error.message }),
  );
  if (result.exitCode !== 0) {
    return {
      killed: false,
      words: `killing its process group ${group.id} on the host failed: ${result.stderr.trim() || `exit ${result.exitCode}`}`,
    };
  }
  if (result.stdout.trim() === "reused") {
    return {
      killed: true,
      words: `its process group ${group.id} is gone, and its number now belongs to another program: nothing was killed`,
    };
  }
  return { killed: true, words: `killed the ${Number(result.stdout) || 0} process(es) left of its process group ${group.id} on the host` };
}
