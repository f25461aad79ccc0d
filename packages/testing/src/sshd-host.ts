import { type ChildProcess, spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createConnection } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import type { NetworkNamespace } from "./network-namespace.js";
import { runCommand } from "./run-command.js";

/** A real OpenSSH server started for a test, reached by a key the test generated. */
export interface SshdHost {
  /** Address to connect to (the namespace's address, or 127.0.0.1). */
  host: string;
  port: number;
  username: string;
  /** Client private key (ed25519, no passphrase) authorised on this server. */
  privateKeyPath: string;
  /** A known_hosts file holding exactly this server's host key. */
  knownHostsPath: string;
  /** The server's public host key line (`ssh-ed25519 AAAA…`). */
  hostPublicKey: string;
  /** Temporary directory holding keys, config and logs. */
  directory: string;
  /** PID of the listening sshd. */
  pid: number;
  /** PIDs of the per-connection sshd processes (dropping them cuts live sessions). */
  sessionPids(): Promise<number[]>;
  stop(): Promise<void>;
}

export interface SshdHostOptions {
  /** Run sshd inside this namespace, on its address; loopback otherwise. */
  namespace?: NetworkNamespace;
  port?: number;
  /** Listen on the namespace's IPv6 address instead of its IPv4 one. */
  ipv6?: boolean;
  /** Write a passphrase-protected client key instead. */
  passphrase?: string;
  /** Environment variables sshd sets for every session (`SetEnv`), e.g. a PATH without some tool. */
  environment?: Record<string, string>;
}

function randomPort(): number {
  return 20_000 + Math.floor(Math.random() * 30_000);
}

async function waitForPort(host: string, port: number, timeoutMs: number, process: ChildProcess): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (process.exitCode !== null) throw new Error(`sshd exited with ${process.exitCode}`);
    const open = await new Promise<boolean>((resolve) => {
      const socket = createConnection({ host, port }, () => {
        socket.destroy();
        resolve(true);
      });
      socket.on("error", () => resolve(false));
    });
    if (open) return;
    await sleep(50);
  }
  throw new Error(`sshd did not listen on ${host}:${port} within ${timeoutMs} ms`);
}

/** Generates a key pair with ssh-keygen; returns the public key line. */
export async function generateKey(path: string, passphrase = ""): Promise<string> {
  await runCommand("ssh-keygen", ["-q", "-t", "ed25519", "-N", passphrase, "-C", "chaos-test", "-f", path]);
  return readFileSync(`${path}.pub`, "utf8").trim();
}

/** Starts Debian's sshd (`/usr/sbin/sshd -D`) with its own host key, client key and known_hosts. */
export async function startSshdHost(options: SshdHostOptions = {}): Promise<SshdHost> {
  const directory = mkdtempSync(join(tmpdir(), "chaos-sshd-"));
  // sshd insists on its privilege-separation directory.
  mkdirSync("/run/sshd", { recursive: true, mode: 0o755 });
  const hostKeyPath = join(directory, "host_key");
  const hostPublicKey = await generateKey(hostKeyPath);
  const privateKeyPath = join(directory, "client_key");
  const clientPublicKey = await generateKey(privateKeyPath, options.passphrase ?? "");
  writeFileSync(join(directory, "authorized_keys"), `${clientPublicKey}\n`, { mode: 0o600 });
  const host = options.namespace ? (options.ipv6 ? options.namespace.namespaceAddress6 : options.namespace.namespaceAddress) : "127.0.0.1";
  const [keyType, keyData] = hostPublicKey.split(" ");
  let lastError: unknown;
  for (let attempt = 0; attempt < 5; attempt++) {
    const port = options.port ?? randomPort();
    writeFileSync(
      join(directory, "sshd_config"),
      [
        `Port ${port}`,
        `ListenAddress ${host}`,
        `HostKey ${hostKeyPath}`,
        `AuthorizedKeysFile ${join(directory, "authorized_keys")}`,
        `PidFile ${join(directory, "sshd.pid")}`,
        "PermitRootLogin prohibit-password",
        "PasswordAuthentication no",
        "KbdInteractiveAuthentication no",
        "UsePAM no",
        "StrictModes no",
        "LogLevel ERROR",
        // bash skips ~/.bashrc below the top shell level; root's .bashrc on CI machines (pyenv…) can take seconds per command.
        `SetEnv SHLVL=1${Object.entries(options.environment ?? {})
          .map(([key, value]) => ` ${key}=${value}`)
          .join("")}`,
        "",
      ].join("\n"),
    );
    const command = ["/usr/sbin/sshd", "-D", "-e", "-f", join(directory, "sshd_config")];
    const child = options.namespace
      ? spawn("ip", ["netns", "exec", options.namespace.name, ...command], { stdio: ["ignore", "ignore", "pipe"] })
      : spawn(command[0] as string, command.slice(1), { stdio: ["ignore", "ignore", "pipe"] });
    const stderr: string[] = [];
    child.stderr?.on("data", (chunk: Buffer) => stderr.push(chunk.toString()));
    try {
      await waitForPort(host, port, 5000, child);
    } catch (error) {
      lastError = new Error(`${(error as Error).message}: ${stderr.join("")}`);
      child.kill("SIGKILL");
      continue;
    }
    const knownHostsPath = join(directory, "known_hosts");
    writeFileSync(knownHostsPath, `[${host}]:${port} ${keyType} ${keyData}\n`);
    const pid = child.pid as number;
    return {
      host,
      port,
      username: "root",
      privateKeyPath,
      knownHostsPath,
      hostPublicKey,
      directory,
      pid,
      sessionPids: async () =>
        (await runCommand("ps", ["-o", "pid=", "--ppid", String(pid)]).catch(() => ""))
          .split("\n")
          .map((line) => Number(line.trim()))
          .filter(Boolean),
      stop: async () => {
        if (child.exitCode === null) {
          child.kill("SIGTERM");
          await new Promise((resolve) => child.once("exit", resolve));
        }
        rmSync(directory, { recursive: true, force: true });
      },
    };
  }
  throw lastError;
}
