import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export interface Certificate {
  key: string;
  certificate: string;
}

/**
 * A fresh self-signed certificate for 127.0.0.1 and localhost, made with openssl: the simulator
 * serves HTTPS like a real API server, and the kubeconfig trusts exactly this certificate.
 */
export function selfSignedCertificate(host: string): Certificate {
  const directory = mkdtempSync(join(tmpdir(), "chaos-k8s-tls-"));
  try {
    const altNames = [/^\d+\.\d+\.\d+\.\d+$/.test(host) ? `IP:${host}` : `DNS:${host}`, "IP:127.0.0.1", "DNS:localhost"];
    execFileSync(
      "openssl",
      [
        "req",
        "-x509",
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:prime256v1",
        "-nodes",
        "-keyout",
        join(directory, "key.pem"),
        "-out",
        join(directory, "certificate.pem"),
        "-days",
        "7",
        "-subj",
        "/CN=chaos-agents-kubernetes-simulator",
        "-addext",
        `subjectAltName=${[...new Set(altNames)].join(",")}`,
      ],
      { stdio: ["ignore", "ignore", "pipe"] },
    );
    return { key: readFileSync(join(directory, "key.pem"), "utf8"), certificate: readFileSync(join(directory, "certificate.pem"), "utf8") };
  } finally {
    rmSync(directory, { recursive: true, force: true });
  }
}
