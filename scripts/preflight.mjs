// `npm test` starts here: the suite needs real tools and servers on this machine. Where one is
// missing, say so in one line and stop, rather than fail in many test files with stack traces.
// `npm run test:all` (scripts/setup-test-host.sh, as root on Debian/Ubuntu) installs them.
import { accessSync, constants, readdirSync } from "node:fs";
import { connect } from "node:net";
import { delimiter, join } from "node:path";

// Root's tools live in the sbin directories, which a user's PATH may leave out.
const onPath = (name) =>
  [...(process.env.PATH ?? "").split(delimiter), "/usr/sbin", "/sbin"].some((directory) => {
    try {
      accessSync(join(directory, name), constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
const executable = (path) => {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
};
const postgresBinary = (name) => {
  try {
    return readdirSync("/usr/lib/postgresql").some((version) => executable(`/usr/lib/postgresql/${version}/bin/${name}`));
  } catch {
    return false;
  }
};
const answers = (port) =>
  new Promise((resolve) => {
    const socket = connect({ host: "127.0.0.1", port, timeout: 2000 });
    const done = (ok) => {
      socket.destroy();
      resolve(ok);
    };
    socket.once("connect", () => done(true));
    socket.once("error", () => done(false));
    socket.once("timeout", () => done(false));
  });

// What each test needs, with the Debian package that brings it.
const tools = [
  ["sshd", executable("/usr/sbin/sshd"), "openssh-server"],
  ["ssh-keygen", onPath("ssh-keygen"), "openssh-client"],
  ["ip", onPath("ip"), "iproute2"],
  ["iptables", onPath("iptables"), "iptables"],
  ["stress-ng", onPath("stress-ng"), "stress-ng"],
  ["sudo", onPath("sudo"), "sudo"],
  ["pgbench", postgresBinary("pgbench"), "postgresql"],
  ["script", onPath("script"), "bsdutils"],
  ["openssl", onPath("openssl"), "openssl"],
];
const missing = tools.filter(([, present]) => !present).map(([name, , from]) => `${name} (${from})`);
if (!(await answers(5432))) missing.push("PostgreSQL at 127.0.0.1:5432");
if (!(await answers(3306))) missing.push("MariaDB at 127.0.0.1:3306");
// Not installable here (Debian has only kubectl 1.20, the npm registry none): without it the
// tests that drive the Kubernetes simulator with kubectl skip, and this says so up front.
if (!executable("/usr/bin/kubectl")) {
  process.stderr.write(
    "preflight: no /usr/bin/kubectl: the kubectl tests (simulator fidelity, deploy/kubernetes manifests, k8s:sandbox) will be skipped; install kubectl 1.32 or newer to run them\n",
  );
}
if (missing.length > 0) {
  process.stderr.write(
    `preflight: the test suite needs ${missing.join(", ")}; run \`npm run test:all\` as root (it installs and starts them)\n`,
  );
  process.exit(1);
}
