import { describe, expect, it } from "vitest";
import { isCriticalPath } from "./critical-paths.js";
import { processName, protectedProcessIds } from "./discover-host.js";
import { listeningSockets, parseMounts, parseProcesses, refutedOwnerClaims } from "./parse-host-tables.js";

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

    const sockets = listeningSockets(
      ["0100007F:0050 4572", "00000000000000000000000000000000:0016 5366", "00000000:1F90 0"].join("\n"),
      ["/proc/1501/fd socket:[4572]", "/proc/1500/fd socket:[4572]", "/proc/1500/fd socket:[4572]", "/proc/812/fd socket:[5366]"].join(
        "\n",
      ),
    );
    expect(sockets).toEqual([
      { port: 80, inode: "4572", pids: [1501, 1500] },
      { port: 22, inode: "5366", pids: [812] },
    ]);
    expect(() => listeningSockets("0100007F:0050 4572 forged", "")).toThrow(/unexpected line in \/proc\/net\/tcp/);
    expect(() => listeningSockets("", "/proc/1/fd socket:[4572]\nx")).toThrow(/unexpected line in the socket descriptor listing/);
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

  it("names the owners ss -p claims that /proc refutes, whatever the process names hold", () => {
    const sockets = listeningSockets("0100007F:0050 4572", "/proc/1500/fd socket:[4572]");
    // A process named `x",pid=1` (its comm) and one whose name holds a newline.
    const claims = [
      '|LISTEN 0 511 127.0.0.1:80 0.0.0.0:* users:(("nginx",pid=1500,fd=6),("x",pid=1",pid=1500,fd=7))',
      '|LISTEN 0 5 127.0.0.1:81 0.0.0.0:* users:(("a',
      '|b",pid=77,fd=3))',
      "@@ps unprefixed lines are not ss output",
    ].join("\n");
    expect(refutedOwnerClaims(claims, sockets)).toEqual([
      "ss -p lists PID 1 as an owner of port 80, but that process holds no socket listening there (a process name can forge ss's list); refused",
      "ss -p lists PID 77 on a line that names no port (a process name split the line); refused",
    ]);
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
