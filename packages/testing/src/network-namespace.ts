import { randomBytes } from "node:crypto";
import { runCommand } from "./run-command.js";

/** A network namespace joined to the host by a veth pair, each end with its own address. */
export interface NetworkNamespace {
  name: string;
  /** Address of the host end (how the namespace reaches the host). */
  hostAddress: string;
  /** Address inside the namespace (how the host reaches it). */
  namespaceAddress: string;
  /** IPv6 (unique local) address of the host end. */
  hostAddress6: string;
  /** IPv6 (unique local) address inside the namespace. */
  namespaceAddress6: string;
  /** veth interface inside the namespace. */
  namespaceInterface: string;
  /** Runs a program inside the namespace. */
  exec(file: string, args: string[]): Promise<string>;
  /** Deletes the namespace and its veth pair; safe to call twice. */
  remove(): Promise<void>;
}

/** True when `ip netns` works here (root, a kernel with namespaces). */
export async function networkNamespacesWork(): Promise<boolean> {
  const probe = `chaos-probe-${randomBytes(3).toString("hex")}`;
  try {
    await runCommand("ip", ["netns", "add", probe]);
    await runCommand("ip", ["netns", "delete", probe]);
    return true;
  } catch {
    return false;
  }
}

/** Creates a namespace with a random name and a random 10.x.y.0/30 link, so parallel test files never collide. */
export async function createNetworkNamespace(): Promise<NetworkNamespace> {
  const suffix = randomBytes(3).toString("hex");
  const name = `chaos-test-${suffix}`;
  const hostInterface = `vc${suffix}h`;
  const namespaceInterface = `vc${suffix}n`;
  const second = 100 + ((randomBytes(1)[0] ?? 0) % 100);
  const third = randomBytes(1)[0] ?? 0;
  const fourth = ((randomBytes(1)[0] ?? 0) % 64) * 4;
  const hostAddress = `10.${second}.${third}.${fourth + 1}`;
  const namespaceAddress = `10.${second}.${third}.${fourth + 2}`;
  const prefix6 = `fd00:c4a0:${suffix.slice(0, 4)}:${suffix.slice(4)}${third.toString(16).padStart(2, "0")}`;
  const hostAddress6 = `${prefix6}::1`;
  const namespaceAddress6 = `${prefix6}::2`;
  await runCommand("ip", ["netns", "add", name]);
  const remove = async () => {
    await runCommand("ip", ["link", "delete", hostInterface]).catch(() => undefined);
    await runCommand("ip", ["netns", "delete", name]).catch(() => undefined);
  };
  try {
    await runCommand("ip", ["link", "add", hostInterface, "type", "veth", "peer", "name", namespaceInterface]);
    await runCommand("ip", ["link", "set", namespaceInterface, "netns", name]);
    await runCommand("ip", ["addr", "add", `${hostAddress}/30`, "dev", hostInterface]);
    await runCommand("ip", ["link", "set", hostInterface, "up"]);
    await runCommand("ip", ["-n", name, "addr", "add", `${namespaceAddress}/30`, "dev", namespaceInterface]);
    await runCommand("ip", ["-n", name, "link", "set", namespaceInterface, "up"]);
    await runCommand("ip", ["-n", name, "link", "set", "lo", "up"]);
    // nodad: usable at once, without waiting for duplicate address detection.
    await runCommand("ip", ["-6", "addr", "add", `${hostAddress6}/64`, "dev", hostInterface, "nodad"]);
    await runCommand("ip", ["-n", name, "-6", "addr", "add", `${namespaceAddress6}/64`, "dev", namespaceInterface, "nodad"]);
  } catch (error) {
    await remove();
    throw error;
  }
  return {
    name,
    hostAddress,
    namespaceAddress,
    hostAddress6,
    namespaceAddress6,
    namespaceInterface,
    exec: (file, args) => runCommand("ip", ["netns", "exec", name, file, ...args]),
    remove,
  };
}
