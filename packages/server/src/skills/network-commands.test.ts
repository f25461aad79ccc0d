import { describe, expect, it } from "vitest";
import { lossCommands, qdiscCommands } from "./server-network-latency.js";

const base = { interface: "eth0", delay_ms: 0, jitter_ms: 0, loss_percent: 0, corruption_percent: 0, exclude_ports: [] };

describe("network_latency command building (this kernel has no netem: real runs cover tbf and iptables)", () => {
  it("puts netem under the degraded htb class and keeps the SSH port in the untouched one", () => {
    expect(qdiscCommands({ ...base, delay_ms: 100, jitter_ms: 20, corruption_percent: 1, rate: "1mbit" }, "eth0", [22, 8443])).toEqual([
      "tc qdisc add dev eth0 root handle c4a0: htb default 2",
      "tc class add dev eth0 parent c4a0: classid c4a0:1 htb rate 100gbit quantum 60000",
      "tc class add dev eth0 parent c4a0: classid c4a0:2 htb rate 100gbit quantum 60000",
      "tc filter add dev eth0 parent c4a0: protocol ip prio 1 u32 match ip sport 22 0xffff flowid c4a0:1",
      "tc filter add dev eth0 parent c4a0: protocol ipv6 prio 2 u32 match ip6 sport 22 0xffff flowid c4a0:1",
      "tc filter add dev eth0 parent c4a0: protocol ip prio 1 u32 match ip sport 8443 0xffff flowid c4a0:1",
      "tc filter add dev eth0 parent c4a0: protocol ipv6 prio 2 u32 match ip6 sport 8443 0xffff flowid c4a0:1",
      "tc qdisc add dev eth0 parent c4a0:2 handle c4a1: netem delay 100ms 20ms corrupt 1%",
      "tc qdisc add dev eth0 parent c4a1: handle c4a2: tbf rate 1mbit burst 32kbit latency 400ms",
    ]);
  });

  it("drops a random share with iptables, sparing the SSH port", () => {
    expect(lossCommands(25, "eth0", "CHAOS-abcdef12-0001", [22])).toEqual([
      "iptables -w -N CHAOS-abcdef12-0001",
      "iptables -w -A CHAOS-abcdef12-0001 -p tcp --sport 22 -j RETURN",
      "iptables -w -A CHAOS-abcdef12-0001 -m statistic --mode random --probability 0.2500 -j DROP",
      "iptables -w -I OUTPUT -o eth0 -j CHAOS-abcdef12-0001",
    ]);
  });

  it("gives IPv6 the same chain through ip6tables, sparing the SSH port there too", () => {
    expect(
      lossCommands(100, "eth0", "CHAOS-abcdef12-0002", [22], ["iptables", "ip6tables"]).filter((command) =>
        command.startsWith("ip6tables"),
      ),
    ).toEqual([
      "ip6tables -w -N CHAOS-abcdef12-0002",
      "ip6tables -w -A CHAOS-abcdef12-0002 -p tcp --sport 22 -j RETURN",
      "ip6tables -w -A CHAOS-abcdef12-0002 -m statistic --mode random --probability 1.0000 -j DROP",
      "ip6tables -w -I OUTPUT -o eth0 -j CHAOS-abcdef12-0002",
    ]);
  });
});
