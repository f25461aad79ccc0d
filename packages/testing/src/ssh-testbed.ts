import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createNetworkNamespace, type NetworkNamespace, networkNamespacesWork } from "./network-namespace.js";
import { type SshdHost, startSshdHost } from "./sshd-host.js";
import { startTestDaemon, type TestDaemon } from "./test-daemon.js";

/** A test host reached over SSH: its own namespace (where `ip netns` works), a small tmpfs, and a daemon the test owns. */
export interface SshTestbed {
  /** Null where network namespaces do not work (sshd then listens on a loopback port). */
  namespace: NetworkNamespace | undefined;
  sshd: SshdHost;
  daemon: TestDaemon | undefined;
  /** Temporary directory for the test's files; removed by `stop`. */
  scratch: string;
  /** A tmpfs of `mountSize` mounted under `scratch`, safe to fill. */
  mountPoint: string;
  /** `target_config` for the server agent reaching this host (work dir under `scratch`). */
  targetConfig(overrides?: Record<string, unknown>): Record<string, unknown>;
  /** Runs a program where the SSH host lives (inside its namespace when there is one). */
  onHost(file: string, args: string[]): string;
  stop(): Promise<void>;
}

export async function startSshTestbed(
  options: {
    daemon?: boolean;
    mountSize?: string;
    prefix?: string;
    /** SSH over IPv6 (needs network namespaces). */
    ipv6?: boolean;
    /** Environment variables of every SSH session (see SshdHostOptions). */
    environment?: Record<string, string>;
  } = {},
): Promise<SshTestbed> {
  const scratch = mkdtempSync(join(tmpdir(), options.prefix ?? "chaos-ssh-testbed-"));
  const mountPoint = join(scratch, "fill");
  mkdirSync(mountPoint);
  // Mounted before sshd starts: `ip netns exec` gives sshd its own mount namespace, which later mounts may not reach.
  execFileSync("mount", ["-t", "tmpfs", "-o", `size=${options.mountSize ?? "8m"}`, "tmpfs", mountPoint]);
  let namespace: NetworkNamespace | undefined;
  let sshd: SshdHost | undefined;
  let daemon: TestDaemon | undefined;
  const stop = async () => {
    await daemon?.stop();
    await sshd?.stop();
    await namespace?.remove();
    try {
      execFileSync("umount", [mountPoint]);
    } catch {
      // Not mounted (any more).
    }
    rmSync(scratch, { recursive: true, force: true });
  };
  try {
    namespace = (await networkNamespacesWork()) ? await createNetworkNamespace() : undefined;
    sshd = await startSshdHost({ namespace, ipv6: options.ipv6 && namespace !== undefined, environment: options.environment });
    daemon = options.daemon === false ? undefined : await startTestDaemon({ namespace: namespace?.name });
  } catch (error) {
    await stop();
    throw error;
  }
  const host = sshd;
  return {
    namespace,
    sshd: host,
    daemon,
    scratch,
    mountPoint,
    targetConfig: (overrides = {}) => ({
      hosts: [{ host: host.host, port: host.port, username: host.username, auth: { type: "key", private_key_path: host.privateKeyPath } }],
      known_hosts_path: host.knownHostsPath,
      work_dir: join(scratch, "work"),
      ...overrides,
    }),
    onHost: (file, args) => {
      const command = namespace ? ["ip", "netns", "exec", namespace.name, file, ...args] : [file, ...args];
      return execFileSync(command[0] as string, command.slice(1)).toString();
    },
    stop,
  };
}
