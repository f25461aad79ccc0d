import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { type AddressInfo, createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Logger } from "@chaos-agents/core";
import {
  createNetworkNamespace,
  generateKey,
  type NetworkNamespace,
  networkNamespacesWork,
  type SshdHost,
  startSshdHost,
} from "@chaos-agents/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { commandLine } from "../shell-quote.js";
import { createLocalConnection } from "./local-connection.js";
import { createSshConnection, type SshConnectionOptions } from "./ssh-connection.js";

const warnings: string[] = [];
const log: Logger = { debug: () => undefined, info: () => undefined, warn: (message) => warnings.push(message), error: () => undefined };

let namespace: NetworkNamespace | undefined;
let sshd: SshdHost;
let scratch: string;

beforeAll(async () => {
  namespace = (await networkNamespacesWork()) ? await createNetworkNamespace() : undefined;
  sshd = await startSshdHost({ namespace });
  scratch = mkdtempSync(join(tmpdir(), "chaos-ssh-test-"));
});

afterAll(async () => {
  await sshd?.stop();
  await namespace?.remove();
  rmSync(scratch, { recursive: true, force: true });
});

/** The host's processes whose command line holds `tag` (the sshd host shares this machine's process table). */
function processesTagged(tag: string): string[] {
  return execFileSync("ps", ["-eo", "args"])
    .toString()
    .split("\n")
    .filter((line) => line.includes(tag));
}

/** A script with a child and a grandchild running for half a minute, as an injection script has: every one must go. */
const childAndGrandchild = (tag: string) => `sh -c 'sleep 30; echo ${tag}' & sleep 31; echo ${tag}`;

function options(overrides: Partial<SshConnectionOptions> = {}): SshConnectionOptions {
  return {
    host: sshd.host,
    port: sshd.port,
    username: sshd.username,
    auth: { type: "key", private_key_path: sshd.privateKeyPath },
    hostKeyPolicy: "strict",
    knownHostsPath: sshd.knownHostsPath,
    connectTimeoutMs: 5000,
    keepaliveIntervalMs: 1000,
    sudo: false,
    log,
    ...overrides,
  };
}

describe("ssh transport (real OpenSSH server)", () => {
  it("runs argv and scripts with stdin and exit codes, verified against known_hosts", async () => {
    const connection = createSshConnection(options());
    try {
      const result = await connection.exec(["sh", "-c", 'read line; echo "got $line"; echo oops >&2; exit 3'], { stdin: "hello\n" });
      expect(result).toEqual({ stdout: "got hello\n", stderr: "oops\n", exitCode: 3 });
      const script = await connection.exec({ script: "echo $SSH_CONNECTION" });
      expect(script.stdout.trim().split(" ")[3]).toBe(String(sshd.port));
      if (namespace) {
        // Really inside the namespace: its veth is there.
        expect((await connection.exec(["ip", "-o", "link"])).stdout).toContain(namespace.namespaceInterface);
      }
    } finally {
      await connection.close();
    }
  });

  it("treats a hostile file name as a file name", async () => {
    const connection = createSshConnection(options());
    const directory = join(scratch, "quoting");
    const hostile = join(directory, "x; touch PWNED; $(touch PWNED2)");
    try {
      await connection.exec(["mkdir", "-p", directory]);
      const result = await connection.exec({ script: `cd ${commandLine([directory])} && touch ${commandLine([hostile])} && ls -1` });
      expect(result.exitCode).toBe(0);
      expect(existsSync(hostile)).toBe(true);
      expect(existsSync(join(directory, "PWNED"))).toBe(false);
      expect(existsSync(join(directory, "PWNED2"))).toBe(false);
    } finally {
      await connection.close();
    }
  });

  it("refuses a host whose key is not the one in known_hosts", async () => {
    const wrongKnownHosts = join(scratch, "wrong_known_hosts");
    const otherKey = await generateKey(join(scratch, "other_host_key"));
    writeFileSync(wrongKnownHosts, `[${sshd.host}]:${sshd.port} ${otherKey}\n`);
    const connection = createSshConnection(options({ knownHostsPath: wrongKnownHosts }));
    await expect(connection.exec(["true"])).rejects.toThrow(/HOST KEY MISMATCH/);
    // accept-new never overrides a known, different key either.
    const acceptNew = createSshConnection(options({ knownHostsPath: wrongKnownHosts, hostKeyPolicy: "accept-new" }));
    await expect(acceptNew.exec(["true"])).rejects.toThrow(/HOST KEY MISMATCH/);
    expect(readFileSync(wrongKnownHosts, "utf8").trim().split("\n")).toHaveLength(1);
  });

  it("refuses an unknown host when strict, learns it with accept-new, and warns loudly when off", async () => {
    const empty = join(scratch, "known_hosts_new");
    await expect(createSshConnection(options({ knownHostsPath: empty })).exec(["true"])).rejects.toThrow(
      /not in .*host_key_policy: strict/,
    );
    const learner = createSshConnection(options({ knownHostsPath: empty, hostKeyPolicy: "accept-new" }));
    expect((await learner.exec(["echo", "ok"])).stdout).toBe("ok\n");
    await learner.close();
    expect(readFileSync(empty, "utf8")).toContain(`[${sshd.host}]:${sshd.port} ${sshd.hostPublicKey.split(" ").slice(0, 2).join(" ")}`);
    // What was learned is now enforced strictly.
    const strict = createSshConnection(options({ knownHostsPath: empty }));
    expect((await strict.exec(["true"])).exitCode).toBe(0);
    await strict.close();
    const off = createSshConnection(options({ knownHostsPath: "/nonexistent", hostKeyPolicy: "off" }));
    expect((await off.exec(["true"])).exitCode).toBe(0);
    await off.close();
    expect(warnings.some((message) => message.includes("HOST KEY CHECKING IS OFF"))).toBe(true);
  });

  it("names a private key file that is missing, or not a file", async () => {
    for (const [path, why] of [
      [join(scratch, "no-such-key"), "there is no such file (check the path)"],
      [scratch, "it is a directory, not a file"],
    ] as const) {
      const connection = createSshConnection(options({ auth: { type: "key", private_key_path: path } }));
      await expect(connection.exec(["true"])).rejects.toThrow(`cannot read the private key ${path} (auth.private_key_path): ${why}`);
      await connection.close();
    }
  });

  it("authenticates with a passphrase-protected key", async () => {
    const keyPath = join(scratch, "passphrase_key");
    const publicKey = await generateKey(keyPath, "correct horse");
    writeFileSync(
      join(sshd.directory, "authorized_keys"),
      `${readFileSync(join(sshd.directory, "authorized_keys"), "utf8")}${publicKey}\n`,
    );
    const connection = createSshConnection(options({ auth: { type: "key", private_key_path: keyPath, passphrase: "correct horse" } }));
    expect((await connection.exec(["whoami"])).stdout).toBe("root\n");
    await connection.close();
    const wrong = createSshConnection(options({ auth: { type: "key", private_key_path: keyPath, passphrase: "wrong" } }));
    await expect(wrong.exec(["true"])).rejects.toThrow();
  });

  it("authenticates through ssh-agent", async () => {
    const socket = join(scratch, "agent.sock");
    const agentOutput = execFileSync("ssh-agent", ["-a", socket, "-s"]).toString();
    const agentPid = Number(/SSH_AGENT_PID=(\d+)/.exec(agentOutput)?.[1]);
    try {
      execFileSync("ssh-add", [sshd.privateKeyPath], { env: { ...process.env, SSH_AUTH_SOCK: socket }, stdio: "ignore" });
      const connection = createSshConnection(options({ auth: { type: "agent", socket } }));
      expect((await connection.exec(["echo", "via agent"])).stdout).toBe("via agent\n");
      await connection.close();
    } finally {
      process.kill(agentPid, "SIGTERM");
    }
  });

  it("runs commands and scripts (with stdin) through sudo -n when asked", async () => {
    const connection = createSshConnection(options({ sudo: true }));
    try {
      // sudo resets the environment: SSH_CONNECTION is gone under sudo, present without it.
      const viaSudo = await connection.exec({ script: 'echo "${SSH_CONNECTION:-none} $(id -u)"; cat' }, { stdin: "piped" });
      expect(viaSudo).toMatchObject({ stdout: "none 0\npiped", exitCode: 0 });
      const direct = await connection.exec({ script: 'echo "${SSH_CONNECTION:-none}"' }, { sudo: false });
      expect(direct.stdout.trim()).not.toBe("none");
    } finally {
      await connection.close();
    }
  });

  it("reconnects by itself after the connection was dropped", async () => {
    const connection = createSshConnection(options());
    try {
      expect((await connection.exec(["echo", "one"])).stdout).toBe("one\n");
      const sessions = await sshd.sessionPids();
      expect(sessions.length).toBeGreaterThan(0);
      for (const pid of sessions) process.kill(pid, "SIGKILL");
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect((await connection.exec(["echo", "two"])).stdout).toBe("two\n");
    } finally {
      await connection.close();
    }
  });

  // A dropped connection signals nothing either: the command chaos was running goes on on the host.
  it("kills, on the next command, what a lost connection cut off", async () => {
    const tag = `chaos-cut-off-${process.pid}`;
    const running = () => processesTagged(tag);
    const connection = createSshConnection(options());
    try {
      const cutOff = connection.exec({ script: childAndGrandchild(tag) }).catch((failure: Error) => failure);
      for (let wait = 0; wait < 50 && running().length < 2; wait++) await new Promise((resolve) => setTimeout(resolve, 100));
      expect(running().length).toBeGreaterThanOrEqual(2);
      for (const pid of await sshd.sessionPids()) process.kill(pid, "SIGKILL");
      expect(String(await cutOff)).toMatch(
        /the connection was lost while the command ran; its process group \d+ is killed on the host before the next command/,
      );
      // Still running until chaos is back on the host...
      expect(running().length).toBeGreaterThanOrEqual(2);
      // ...which kills it before anything else.
      expect((await connection.exec(["echo", "back"])).stdout).toBe("back\n");
      expect(running()).toEqual([]);
      expect(warnings.join("\n")).toMatch(
        /a command was cut off by a lost connection; killed the [1-9]\d* process\(es\) left of its process group/,
      );
    } finally {
      await connection.close();
      for (const line of running()) warnings.push(`left running: ${line}`);
    }
  });

  // The network to the host goes (packets dropped, no reset) while a command runs: it times out,
  // and its kill cannot get through either. Once chaos is back, that command is killed first.
  it("kills, once the host is reachable again, a command that timed out while it was not", async (context) => {
    if (!namespace) return context.skip("no network namespaces here: sshd runs on loopback, which cannot be cut off alone");
    const tag = `chaos-unreachable-${process.pid}`;
    const running = () => processesTagged(tag);
    const drop = ["INPUT", "-p", "tcp", "--dport", String(sshd.port), "-j", "DROP"];
    const connection = createSshConnection(options());
    try {
      const timedOut = connection.exec({ script: childAndGrandchild(tag) }, { timeoutMs: 1500 }).catch((failure: Error) => failure);
      for (let wait = 0; wait < 50 && running().length < 2; wait++) await new Promise((resolve) => setTimeout(resolve, 100));
      expect(running().length).toBeGreaterThanOrEqual(2);
      await namespace.exec("iptables", ["-w", "-I", ...drop]);
      try {
        expect(String(await timedOut)).toMatch(/timed out after 1500 ms \(killing its process group \d+ on the host failed/);
        expect(running().length).toBeGreaterThanOrEqual(2);
      } finally {
        await namespace.exec("iptables", ["-w", "-D", ...drop]);
      }
      expect((await connection.exec(["echo", "back"])).stdout).toBe("back\n");
      expect(running()).toEqual([]);
      expect(warnings.join("\n")).toMatch(/a command timed out and could not be killed then; killed the [1-9]\d* process\(es\) left/);
    } finally {
      await connection.close();
      for (const line of running()) warnings.push(`left running: ${line}`);
    }
  });

  it("gives up connecting after connect_timeout when the peer never speaks SSH", async () => {
    const silent = createServer(() => undefined);
    await new Promise<void>((resolve) => silent.listen(0, "127.0.0.1", resolve));
    const port = (silent.address() as AddressInfo).port;
    try {
      const started = Date.now();
      const connection = createSshConnection(options({ host: "127.0.0.1", port, hostKeyPolicy: "off", connectTimeoutMs: 500 }));
      await expect(connection.exec(["true"])).rejects.toThrow(/Timed out/i);
      expect(Date.now() - started).toBeLessThan(5000);
    } finally {
      silent.close();
    }
  });

  it("times a command out", async () => {
    const connection = createSshConnection(options());
    await expect(connection.exec(["sleep", "5"], { timeoutMs: 300 })).rejects.toThrow(/timed out/);
    await connection.close();
    await expect(createLocalConnection().exec(["sleep", "5"], { timeoutMs: 300 })).rejects.toThrow(/timed out/);
  });

  // Closing an SSH channel signals nothing: without the kill, the command (and the fault it was
  // injecting) would go on after chaos gave up on it, and after its rollback.
  it.each([false, true])("kills what a timed-out command left running on the host (sudo: %s)", async (sudo) => {
    const tag = `chaos-timeout-${process.pid}-${sudo}`;
    const running = () => processesTagged(tag);
    const connection = createSshConnection(options({ sudo }));
    try {
      const error = await connection.exec({ script: childAndGrandchild(tag) }, { timeoutMs: 500 }).catch((failure: Error) => failure);
      expect(String(error)).toMatch(
        /timed out after 500 ms \(killed the [1-9]\d* process\(es\) left of its process group \d+ on the host\)/,
      );
      expect(running()).toEqual([]);
      // The connection still works, and a command that finishes in time shows no trace of the group it names.
      expect(await connection.exec(["sh", "-c", "echo out; echo err >&2"])).toEqual({ stdout: "out\n", stderr: "err\n", exitCode: 0 });
    } finally {
      await connection.close();
      for (const line of running()) warnings.push(`left running: ${line}`);
    }
  });
});
