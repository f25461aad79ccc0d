import { createHmac, randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { entriesFor, hostKeyAlgorithmsFor, knownHostName, parseKnownHosts, verifyHostKey } from "./known-hosts.js";

function keyBlob(type: string, body: string): Buffer {
  const typeBytes = Buffer.from(type);
  const length = Buffer.alloc(4);
  length.writeUInt32BE(typeBytes.length);
  return Buffer.concat([length, typeBytes, Buffer.from(body)]);
}

describe("known_hosts", () => {
  const good = keyBlob("ssh-ed25519", "good-key");
  const other = keyBlob("ssh-ed25519", "other-key");
  const salt = randomBytes(20);
  const hashed = `|1|${salt.toString("base64")}|${createHmac("sha1", salt).update("[10.0.0.9]:2222").digest("base64")}`;
  const text = [
    "# comment",
    `10.0.1.50,web1 ssh-ed25519 ${good.toString("base64")}`,
    `${hashed} ssh-ed25519 ${good.toString("base64")}`,
    `*.example.com,!evil.example.com ssh-rsa ${good.toString("base64")}`,
    `@revoked 10.0.1.51 ssh-ed25519 ${other.toString("base64")}`,
    `@cert-authority *.corp ssh-ed25519 ${other.toString("base64")}`,
  ].join("\n");
  const entries = parseKnownHosts(text);

  it("names non-standard ports the way OpenSSH does", () => {
    expect(knownHostName("10.0.1.50", 22)).toBe("10.0.1.50");
    expect(knownHostName("10.0.1.50", 2222)).toBe("[10.0.1.50]:2222");
  });

  it("matches plain, hashed and wildcard entries, and refuses other keys", () => {
    expect(verifyHostKey(entries, "10.0.1.50", good)).toBe("match");
    expect(verifyHostKey(entries, "web1", other)).toBe("mismatch");
    expect(verifyHostKey(entries, "[10.0.0.9]:2222", good)).toBe("match");
    expect(verifyHostKey(entries, "[10.0.0.9]:2223", good)).toBe("unknown");
    expect(verifyHostKey(entries, "db.example.com", good)).toBe("match");
    expect(verifyHostKey(entries, "evil.example.com", good)).toBe("unknown");
    expect(verifyHostKey(entries, "10.0.1.51", other)).toBe("revoked");
    expect(entriesFor(entries, "x.corp")).toEqual([]);
  });

  it("offers only the host key algorithms known_hosts can verify", () => {
    expect(hostKeyAlgorithmsFor(entriesFor(entries, "10.0.1.50"))).toEqual(["ssh-ed25519"]);
    expect(hostKeyAlgorithmsFor(entriesFor(entries, "db.example.com"))).toEqual(["rsa-sha2-512", "rsa-sha2-256", "ssh-rsa"]);
  });
});
