import { createHash, createHmac } from "node:crypto";
import { appendFileSync, existsSync, mkdirSync, readFileSync } from "node:fs";
import { dirname } from "node:path";

/** One usable line of a known_hosts file. */
export interface KnownHostEntry {
  /** Host patterns as written (`host`, `[host]:port`, `*.example.com`, `!bad`, or a hashed `|1|salt|hash`). */
  patterns: string[];
  /** `ssh-ed25519`, `ecdsa-sha2-nistp256`, `ssh-rsa`… */
  keyType: string;
  key: Buffer;
  revoked: boolean;
}

/** What known_hosts says about one host's key. */
export type HostKeyVerdict = "match" | "mismatch" | "unknown" | "revoked";

/** The name known_hosts uses for a host: `host` on port 22, `[host]:port` otherwise. */
export function knownHostName(host: string, port: number): string {
  return port === 22 ? host : `[${host}]:${port}`;
}

export function readKnownHosts(path: string): KnownHostEntry[] {
  if (!existsSync(path)) return [];
  return parseKnownHosts(readFileSync(path, "utf8"));
}

export function parseKnownHosts(text: string): KnownHostEntry[] {
  const entries: KnownHostEntry[] = [];
  for (const rawLine of text.split("\n")) {
    const line = rawLine.trim();
    if (!line || line.startsWith("#")) continue;
    const fields = line.split(/\s+/);
    let marker: string | undefined;
    if (fields[0]?.startsWith("@")) marker = fields.shift();
    // Certificate authorities sign host certificates, which this agent does not check.
    if (marker === "@cert-authority") continue;
    const [hosts, keyType, base64] = fields;
    if (!hosts || !keyType || !base64) continue;
    entries.push({ patterns: hosts.split(","), keyType, key: Buffer.from(base64, "base64"), revoked: marker === "@revoked" });
  }
  return entries;
}

function matchesPattern(pattern: string, name: string): boolean {
  if (pattern.startsWith("|1|")) {
    const [, , salt, hash] = pattern.split("|");
    if (!salt || !hash) return false;
    return createHmac("sha1", Buffer.from(salt, "base64")).update(name).digest("base64") === hash;
  }
  const regex = new RegExp(
    `^${pattern
      .replace(/[.+^${}()|[\]\\]/g, "\\$&")
      .replace(/\*/g, ".*")
      .replace(/\?/g, ".")}$`,
    "i",
  );
  return regex.test(name);
}

/** Entries that name the host (a negated pattern excludes the line, as OpenSSH does). */
export function entriesFor(entries: KnownHostEntry[], name: string): KnownHostEntry[] {
  return entries.filter((entry) => {
    if (entry.patterns.some((pattern) => pattern.startsWith("!") && matchesPattern(pattern.slice(1), name))) return false;
    return entry.patterns.some((pattern) => !pattern.startsWith("!") && matchesPattern(pattern, name));
  });
}

export function verifyHostKey(entries: KnownHostEntry[], name: string, key: Buffer): HostKeyVerdict {
  const known = entriesFor(entries, name);
  if (known.some((entry) => entry.revoked && entry.key.equals(key))) return "revoked";
  const usable = known.filter((entry) => !entry.revoked);
  if (usable.length === 0) return "unknown";
  return usable.some((entry) => entry.key.equals(key)) ? "match" : "mismatch";
}

/** `SHA256:…` as `ssh-keygen -lf` prints it. */
export function fingerprint(key: Buffer): string {
  return `SHA256:${createHash("sha256").update(key).digest("base64").replace(/=+$/, "")}`;
}

/** The key type written inside an SSH public key blob (its first string). */
export function keyTypeOf(key: Buffer): string {
  const length = key.readUInt32BE(0);
  return key.subarray(4, 4 + length).toString();
}

/** Appends a learned key (policy `accept-new`), creating the file and its directory when missing. */
export function appendKnownHost(path: string, name: string, key: Buffer): void {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  appendFileSync(path, `${name} ${keyTypeOf(key)} ${key.toString("base64")}\n`, { mode: 0o600 });
}

/**
 * Host key algorithms to offer so the server presents a key type known_hosts holds
 * (a host with RSA and Ed25519 keys would otherwise present whichever ssh2 prefers).
 */
export function hostKeyAlgorithmsFor(entries: KnownHostEntry[]): string[] {
  const algorithms = new Set<string>();
  for (const entry of entries) {
    if (entry.revoked) continue;
    if (entry.keyType === "ssh-rsa") for (const algorithm of ["rsa-sha2-512", "rsa-sha2-256", "ssh-rsa"]) algorithms.add(algorithm);
    else algorithms.add(entry.keyType);
  }
  return [...algorithms];
}
