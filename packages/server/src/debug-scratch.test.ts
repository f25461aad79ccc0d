import { startSshdHost } from "@chaos-agents/testing";
import { it } from "vitest";
import { discoverHost } from "./discovery/discover-host.js";
import { probeHostFacts } from "./host/host-facts.js";
import { createServerHost } from "./host/server-host.js";
import { serverConfigSchema } from "./server-config.js";
import { createLocalConnection } from "./transports/local-connection.js";
import { createSshConnection } from "./transports/ssh-connection.js";

it("debug", async () => {
  const sshd = await startSshdHost();
  const log = { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined };
  const ssh = createSshConnection({
    host: sshd.host,
    port: sshd.port,
    username: "root",
    auth: { type: "key", private_key_path: sshd.privateKeyPath },
    hostKeyPolicy: "strict",
    knownHostsPath: sshd.knownHostsPath,
    connectTimeoutMs: 5000,
    keepaliveIntervalMs: 5000,
    sudo: false,
    log,
  });
  let t = Date.now();
  await ssh.exec(["true"]);
  console.log("connect", Date.now() - t);
  for (const connection of [ssh, createLocalConnection()]) {
    t = Date.now();
    for (let i = 0; i < 10; i++) await connection.exec(["true"]);
    console.log(connection.key, "10 execs", Date.now() - t);
    t = Date.now();
    await probeHostFacts(connection);
    console.log("facts", Date.now() - t);
    t = Date.now();
    await discoverHost(createServerHost(connection, "/tmp/x"), serverConfigSchema.parse({ local: true }));
    console.log("discover", Date.now() - t);
  }
  await ssh.close();
  await sshd.stop();
});
