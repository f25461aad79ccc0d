import { describe, expect, it } from "vitest";
import { isCriticalPath } from "./critical-paths.js";
import { processName, protectedProcessIds } from "./discover-host.js";
import { parseListeningSockets, parseMounts, parseProcesses } from "./parse-host-tables.js";

describe("host tables", () => {
  it("parses ps, ss and the mounts listing", () => {
    const processes = parseProcesses(
      [
        "    1     0     0 root 0.0  1234 /sbin/init",
        "  812     1     0 root 0.1  5120 sshd: /usr/sbin/sshd -D [listener]",
        "  900     2     0 root 0.0     0 [kworker/0:1]",
        " 1500     1    33 www-data 2.5 20480 nginx: master process /usr/sbin/nginx",
      ].join("\n"),
    );
    expect(processes).toHaveLength(4);
    expect(processes[3]).toEqual({
      pid: 1500,
      ppid: 1,
      uid: 33,
      user: "www-data",
      cpuPercent: 2.5,
      memoryKb: 20480,
      command: "nginx: master process /usr/sbin/nginx",
    });
    expect(processName(processes[3]?.command ?? "")).toBe("nginx");
    expect([...protectedProcessIds(processes, [4242, 4241])].sort((a, b) => a - b)).toEqual([1, 2, 812, 900, 4241, 4242]);

    const sockets = parseListeningSockets(
      'LISTEN 0 511 0.0.0.0:80 0.0.0.0:* users:(("nginx",pid=1501,fd=6),("nginx",pid=1500,fd=6))\nLISTEN 0 128 [::]:22 [::]:* users:(("sshd",pid=812,fd=4))',
    );
    expect(sockets).toEqual([
      { address: "0.0.0.0", port: 80, pids: [1501, 1500] },
      { address: "[::]", port: 22, pids: [812] },
    ]);
    const { mounts, refused } = parseMounts(
      [
        "mount\t/dev/vda\t/\text4\t4096 250 100 90",
        "mount\tproc\t/proc\tproc\t4096 0 0 0",
        "mount\ttmpfs\t/srv/my\\040data\ttmpfs\t4096 4096 4096 4096",
        "refused\t/home/eve/x\\012tmpfs\\011/",
        "mount\ttmpfs\t/home/eve/\u0001bell\ttmpfs\t4096 1 1 1",
      ].join("\n"),
    );
    expect(mounts.map((mount) => mount.mountPoint)).toEqual(["/", "/srv/my data"]);
    expect(mounts[1]).toEqual({
      device: "tmpfs",
      type: "tmpfs",
      sizeBytes: 16384 * 1024,
      usedBytes: 0,
      availableBytes: 16384 * 1024,
      mountPoint: "/srv/my data",
    });
    expect(refused).toEqual([
      '"/home/eve/x\\ntmpfs\\t/" holds a newline or control character',
      '"/home/eve/\\u0001bell" holds a newline or control character',
    ]);
    expect(() => parseMounts("mount\t/dev/vda\t/\text4\tforged")).toThrow(/unexpected mount listing line/);
  });

  it("knows critical paths", () => {
    for (const path of [
      "/",
      "/etc/passwd",
      "/etc/shadow",
      "/bin",
      "/usr/lib/x.so",
      "/etc/ssh/sshd_config",
      "/root/.ssh/authorized_keys",
      "/home/a/.ssh",
      "/boot/vmlinuz",
      "/etc",
    ]) {
      expect(isCriticalPath(path), path).toBe(true);
    }
    for (const path of ["/etc/nginx/nginx.conf", "/srv/app/config.yml", "/var/log/app.log", "/tmp/chaos-test/file"]) {
      expect(isCriticalPath(path), path).toBe(false);
    }
    expect(isCriticalPath("/var/tmp/chaos-agents/x", ["/var/tmp/chaos-agents"])).toBe(true);
  });
});
