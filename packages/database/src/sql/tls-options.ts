import { readFileSync } from "node:fs";
import type { DatabaseConfig } from "../database-config.js";

/** The `ssl` option both drivers take, from `target_config.tls`; undefined when TLS is off. */
export function tlsOptions(config: DatabaseConfig) {
  if (!config.tls?.enabled) return undefined;
  return {
    rejectUnauthorized: config.tls.reject_unauthorized,
    ca: config.tls.ca_file ? readFileSync(config.tls.ca_file, "utf8") : undefined,
    cert: config.tls.cert_file ? readFileSync(config.tls.cert_file, "utf8") : undefined,
    key: config.tls.key_file ? readFileSync(config.tls.key_file, "utf8") : undefined,
  };
}
