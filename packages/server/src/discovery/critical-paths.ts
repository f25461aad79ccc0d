/** Directories that are never a target themselves (their contents may be). */
const criticalDirectories = new Set([
  "/",
  "/etc",
  "/var",
  "/tmp",
  "/var/tmp",
  "/home",
  "/root",
  "/opt",
  "/srv",
  "/mnt",
  "/media",
  "/run",
  "/var/lib",
  "/var/log",
]);

/** Trees whose every file is off limits: the system cannot boot, log in or run programs without them. */
const criticalTrees = [
  "/bin",
  "/sbin",
  "/usr",
  "/lib",
  "/lib32",
  "/lib64",
  "/libx32",
  "/boot",
  "/dev",
  "/proc",
  "/sys",
  "/etc/ssh",
  "/etc/pam.d",
  "/etc/security",
  "/etc/sudoers.d",
  "/etc/systemd",
  "/etc/init.d",
  "/var/lib/dpkg",
  "/var/lib/rpm",
  "/var/lib/apt",
];

const criticalFiles = new Set([
  "/etc/passwd",
  "/etc/shadow",
  "/etc/group",
  "/etc/gshadow",
  "/etc/sudoers",
  "/etc/fstab",
  "/etc/hosts",
  "/etc/resolv.conf",
  "/etc/nsswitch.conf",
  "/etc/ld.so.cache",
  "/etc/ld.so.conf",
  "/etc/os-release",
  "/etc/hostname",
]);

/**
 * True for paths no skill may change whatever the config says: the root, system binaries and
 * libraries, account databases, SSH configuration and keys. Pass an absolute, resolved path.
 */
export function isCriticalPath(path: string, extraProtected: readonly string[] = []): boolean {
  const normalized = path.length > 1 ? path.replace(/\/+$/, "") : path;
  if (criticalDirectories.has(normalized) || criticalFiles.has(normalized)) return true;
  if (normalized.split("/").includes(".ssh")) return true;
  return [...criticalTrees, ...extraProtected].some((tree) => normalized === tree || normalized.startsWith(`${tree}/`));
}
