import { execFileSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import type { ServiceRecord } from "./service-record.js";
import { restoreServiceScript, stopServiceScript } from "./service-scripts.js";

function record(overrides: Partial<ServiceRecord>): ServiceRecord {
  return {
    manager: "systemd",
    name: "nginx",
    pid: 0,
    startTime: "",
    bootId: "",
    argv: [],
    exe: "",
    cwd: "/",
    uid: 0,
    gid: 0,
    stdout: "/dev/null",
    stderr: "/dev/null",
    ports: [],
    environmentFile: "/var/tmp/chaos-agents/x/environment-1",
    ...overrides,
  };
}

const tools = { bash: true, setpriv: true, euid: 0 };

/** Parses a script with `sh -n`: generated scripts must at least be valid shell. */
function assertValidShell(script: string) {
  execFileSync("sh", ["-n", "-c", script]);
}

describe("service scripts for init systems (command building; no systemd or OpenRC on this machine)", () => {
  it("drives systemctl, service and rc-service with quoted names", () => {
    expect(stopServiceScript(record({ manager: "systemd" }))).toBe("systemctl stop nginx.service");
    expect(stopServiceScript(record({ manager: "sysv", name: "apache2" }))).toBe("service apache2 stop");
    expect(stopServiceScript(record({ manager: "openrc", name: "sshd; reboot" }))).toBe("rc-service 'sshd; reboot' stop");
    const systemd = restoreServiceScript(record({ manager: "systemd" }), tools);
    expect(systemd).toContain("systemctl is-active --quiet nginx.service");
    expect(systemd).toContain("systemctl start nginx.service");
    expect(systemd).toContain("masked");
    expect(restoreServiceScript(record({ manager: "openrc", name: "redis" }), tools)).toContain("rc-service redis start");
    expect(restoreServiceScript(record({ manager: "sysv", name: "cron" }), tools)).toContain("service cron status");
    for (const manager of ["systemd", "sysv", "openrc", "process"] as const) {
      assertValidShell(
        restoreServiceScript(
          record({ manager, name: "x'; rm -rf / #", argv: ["/usr/bin/x", "a b"], exe: "/usr/bin/x", ports: [80] }),
          tools,
        ),
      );
      assertValidShell(stopServiceScript(record({ manager, name: "x", pid: 1234, startTime: "99", bootId: "b" })));
    }
  });

  it("restarts a plain process as its user only when setpriv exists", () => {
    const service = record({ manager: "process", argv: ["myd", "--flag"], exe: "/opt/myd", uid: 33, gid: 33 });
    expect(restoreServiceScript(service, tools)).toContain("setpriv --reuid=33 --regid=33 --clear-groups");
    expect(restoreServiceScript(service, { ...tools, setpriv: false })).not.toContain("setpriv");
    // Without bash the original argv[0] cannot be kept; the executable starts under its own name.
    expect(restoreServiceScript(service, { ...tools, bash: false })).not.toContain("exec -a");
  });
});
