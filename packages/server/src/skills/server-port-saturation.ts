import { defineSkill, type RollbackContext, SkillError, type SkillPlan } from "@chaos-agents/core";
import { z } from "zod";
import { runSkillScript } from "../host/host-script.js";
import type { ServerSession } from "../server-session.js";
import { shellQuote } from "../shell-quote.js";
import {
  forEachTarget,
  hostOf,
  hostsIn,
  refuse,
  refusedOwnerClaims,
  refusedSuffix,
  resourcesOf,
  rollBackWithScript,
  selectedHosts,
  selfStopSeconds,
} from "./skill-support.js";
import { type LoadUndo, loadUndoScript, startTaggedLoad } from "./tagged-load.js";

const name = "server.port_saturation";

/** Host names and IP addresses only: they end up in holder scripts and in messages. */
const addressPattern = /^[A-Za-z0-9.:-]+$/;

/** Connections the `port` variant holds when `connections` is not given (its default before the ephemeral variant). */
const defaultPortConnections = 200;

const params = z
  .strictObject({
    port: z.number().int().min(1).max(65535).optional().describe("A listening TCP port discovery found (never the SSH port)."),
    ephemeral: z
      .strictObject({
        host: z.string().regex(addressPattern, "expected a host name or IP address").describe("the destination's host name or IP address"),
        port: z.number().int().min(1).max(65535).describe("the destination's TCP port"),
      })
      .optional()
      .describe("A destination the host connects out to: holding connections to it uses up the host's ephemeral ports."),
    connections: z
      .number()
      .int()
      .positive()
      .max(65535)
      .optional()
      .describe(
        "Connections held open per host. With `port`: 200 unless given. With `ephemeral`: the free ephemeral ports minus a margin kept free, which is also the most that may be asked for.",
      ),
    address: z
      .string()
      .min(1)
      .optional()
      .describe("With `port`: the address the connections go to, seen from the host itself (127.0.0.1 unless given)."),
  })
  .refine((value) => (value.port === undefined) !== (value.ephemeral === undefined), "expected exactly one of `port` or `ephemeral`")
  .refine(
    (value) => value.ephemeral === undefined || value.address === undefined,
    "`address` goes with `port`; `ephemeral` names its own host",
  )
  .refine(
    (value) => value.port === undefined || (value.connections ?? defaultPortConnections) <= 20_000,
    "expected at most 20000 connections to a `port`",
  );

type Params = z.output<typeof params>;

/** The ephemeral variant's record also says where its connections went, so rollback can check their ports are free again. */
export type PortSaturationUndo = LoadUndo & { ephemeral?: { port: number; portsFile: string } };

interface EphemeralPlan {
  host: string;
  connections: number;
  /** The host's ip_local_port_range, for the summary. */
  range: string;
}

/**
 * Ephemeral ports always left free, so the agent's own session, DNS lookups and the system can
 * still connect: 5% of the range, at least 16 ports.
 */
export function ephemeralMargin(rangeSize: number): number {
  return Math.max(16, Math.ceil(rangeSize * 0.05));
}

/**
 * The most connections the ephemeral variant may hold: the ports of the range that are neither
 * reserved (ip_local_reserved_ports: the kernel never hands them out), in use, nor in the margin.
 */
export function ephemeralCap(low: number, high: number, inUse: number, reserved: number): number {
  const size = high - low + 1;
  return Math.max(0, size - reserved - inUse - ephemeralMargin(size));
}

/** A bash holder: opens up to `connections` sockets with /dev/tcp, writes how many it got, then holds them. */
export function holderCommand(address: string, port: number, connections: number, seconds: number, countFile: string): string[] {
  const script = `ulimit -n $(( ${connections} + 64 )) 2>/dev/null || ulimit -n "$(ulimit -Hn)"
chaos_open=0
for chaos_index in $(seq 1 ${connections}); do
  exec {chaos_fd}<>/dev/tcp/${address}/${port} 2>/dev/null || break
  chaos_open=$((chaos_open + 1))
done
echo "$chaos_open" > "$0"
sleep ${seconds}`;
  return ["bash", "-c", script, countFile];
}

/**
 * A perl holder for the ephemeral variant. Perl rather than bash because its sockets get SO_LINGER 0:
 * closing them (also when the holder is killed) sends a reset instead of a FIN, so no socket is left
 * in FIN-WAIT or TIME-WAIT holding its port for a minute after rollback. It stops at the first
 * connection that fails or takes over 5 s, writes the local ports it holds, then how many, and holds them.
 */
export function ephemeralHolderCommand(
  host: string,
  port: number,
  connections: number,
  seconds: number,
  countFile: string,
  portsFile: string,
): string[] {
  const perl = `use strict; use warnings;
use Socket qw(getaddrinfo AF_INET SOCK_STREAM SOL_SOCKET SO_LINGER unpack_sockaddr_in unpack_sockaddr_in6);
my ($host, $port, $wanted, $seconds, $count_file, $ports_file) = @ARGV;
my ($error, @peers) = getaddrinfo($host, $port, { socktype => SOCK_STREAM });
warn "cannot resolve $host: $error\\n" if $error;
my (@held, @ports);
for (1 .. ($error ? 0 : $wanted)) {
  my $peer = $peers[0];
  socket(my $socket, $peer->{family}, SOCK_STREAM, 0) or do { warn "socket: $!\\n"; last };
  setsockopt($socket, SOL_SOCKET, SO_LINGER, pack("ii", 1, 0)) or do { warn "SO_LINGER: $!\\n"; last };
  my $connected = eval { local $SIG{ALRM} = sub { die "timed out\\n" }; alarm 5; my $ok = connect($socket, $peer->{addr}); alarm 0; $ok };
  if (!$connected) { warn "connection " . (@held + 1) . " to $host:$port: " . ($@ || $!) . "\\n"; last }
  my $local = getsockname($socket);
  push @ports, ($peer->{family} == AF_INET ? (unpack_sockaddr_in($local))[0] : (unpack_sockaddr_in6($local))[0]);
  push @held, $socket;
}
open(my $ports_out, ">", $ports_file) or die "$ports_file: $!\\n"; print $ports_out map { "$_\\n" } @ports; close $ports_out;
open(my $count_out, ">", $count_file) or die "$count_file: $!\\n"; print $count_out scalar(@held), "\\n"; close $count_out;
sleep $seconds;`;
  // perl cannot raise its own descriptor limit without extra modules, so sh does it and then becomes perl (same PID, same tag).
  const launcher = `ulimit -n $(( ${connections} + 64 )) 2>/dev/null || ulimit -n "$(ulimit -Hn)"; exec perl -e "$0" -- "$@"`;
  return ["sh", "-c", launcher, perl, host, String(port), String(connections), String(seconds), countFile, portsFile];
}

/**
 * Stops the holder, then (ephemeral variant) waits until none of the local ports it held is
 * still connected to the destination port: the ports are free again, or the conflict is reported.
 * The ports file is read before the load's undo removes it.
 */
export function portSaturationUndoScript(undo: PortSaturationUndo): string {
  if (!undo.ephemeral) return loadUndoScript(undo);
  const { port, portsFile } = undo.ephemeral;
  const stillHeld = `ss -Htan ${shellQuote(`dport = :${port}`)} | awk '{ count = split($4, parts, ":"); print parts[count] }' | grep -cxF -e "$chaos_held_ports"`;
  return `chaos_held_ports=$(cat ${shellQuote(portsFile)} 2>/dev/null)
${loadUndoScript(undo)}
if [ -n "$chaos_held_ports" ] && command -v ss >/dev/null 2>&1; then
  for chaos_wait in $(seq 1 25); do
    chaos_busy=$(${stillHeld})
    [ "$chaos_busy" -eq 0 ] && break
    sleep 0.2
  done
  if [ "$chaos_busy" -eq 0 ]; then echo ${shellQuote(`note: the ephemeral ports held toward port ${port} are free again`)}
  else echo "conflict: $chaos_busy ephemeral ports held toward port ${port} are still connected after the holder stopped"; fi
fi
true`;
}

/** Counts the file's first line once it is written (up to 15 s); 0 when the holder never wrote it. */
function waitForCountScript(countFile: string): string {
  return `for chaos_wait in $(seq 1 150); do [ -s ${shellQuote(countFile)} ] && { cat ${shellQuote(countFile)}; exit 0; }; sleep 0.1; done; echo 0`;
}

export const serverPortSaturation = defineSkill<Params, ServerSession, PortSaturationUndo>({
  name,
  target: "server",
  description:
    "Hold `connections` TCP connections open to a listening `port` (exhausting its accept queue or worker slots), or to an outbound `ephemeral: {host, port}` destination, using up the host's free ephemeral ports (ip_local_port_range minus those in use or reserved, always leaving 5% / at least 16 free; needs perl). Rollback closes them and checks the ports are free again.",
  params,
  reversible: true,
  async plan({ params: parameters, inventory, session }): Promise<SkillPlan> {
    if (parameters.ephemeral) {
      const { host: destination, port: destinationPort } = parameters.ephemeral;
      const hosts = selectedHosts(name, inventory);
      const plans = await forEachTarget(session, hosts, async (key): Promise<EphemeralPlan> => {
        const host = session.host(key);
        const tools = (await host.facts()).tools;
        if (!tools.includes("perl")) refuse(name, `${key} has no perl, which holds the ephemeral connections (with SO_LINGER 0)`);
        if (!tools.includes("ss")) refuse(name, `${key} has no ss (iproute2), which counts the ephemeral ports in use`);
        // cat, not `read <`: dash reads byte by byte, and a sysctl file read at an offset past 0 returns nothing (dash saw "4").
        // Every TCP socket whose local port is in the range counts as in use, whatever its state or destination;
        // a reserved port counts as reserved only (a program may still bind one explicitly).
        const output = await runSkillScript(
          name,
          host.connection,
          "reading the ephemeral port range",
          `set -- $(cat /proc/sys/net/ipv4/ip_local_port_range)
echo "$1 $2"
ss -Htan | awk -v low="$1" -v high="$2" -v reserved="$(cat /proc/sys/net/ipv4/ip_local_reserved_ports 2>/dev/null)" '
BEGIN { count = split(reserved, lists, ","); for (i = 1; i <= count; i++) { if (split(lists[i], ends, "-") < 2) ends[2] = ends[1]; for (port = ends[1] + 0; port <= ends[2] + 0; port++) if (port >= low && port <= high) kept[port] = 1 } }
{ count = split($4, parts, ":"); port = parts[count] + 0; if (port >= low && port <= high && !(port in kept) && !(port in seen)) { seen[port] = 1; used++ } }
END { for (port in kept) held++; print used + 0, held + 0 }'`,
        );
        const [low = 0, high = 0, inUse = 0, reserved = 0] = output.trim().split(/\s+/).map(Number);
        if (!(low > 0 && high >= low)) refuse(name, `${key}: cannot read /proc/sys/net/ipv4/ip_local_port_range (got "${output.trim()}")`);
        const cap = ephemeralCap(low, high, inUse, reserved);
        const range = `${low}-${high}`;
        const margin = ephemeralMargin(high - low + 1);
        const taken = `${inUse} in use${reserved ? `, ${reserved} reserved` : ""}`;
        if (cap === 0)
          refuse(name, `${key}: ephemeral range ${range} has ${taken}, leaving none to hold beyond the ${margin} always kept free`);
        if (parameters.connections !== undefined && parameters.connections > cap) {
          refuse(
            name,
            `${key}: ${parameters.connections} connections would leave fewer than ${margin} ephemeral ports free (range ${range}, ${taken}); at most ${cap}`,
          );
        }
        return { host: key, connections: parameters.connections ?? cap, range };
      });
      return {
        targets: hosts.map((key) => `${key}/host`),
        summary: `hold ${plans.map((plan) => `${plan.connections} ephemeral ports on ${plan.host} (range ${plan.range})`).join(", ")} with connections to ${destination}:${destinationPort}`,
        details: { plans: plans as never },
      };
    }
    const address = parameters.address ?? "127.0.0.1";
    const connections = parameters.connections ?? defaultPortConnections;
    if (!addressPattern.test(address)) refuse(name, `address ${address} is not a host name or IP address`);
    const ports = resourcesOf(inventory, "port").filter((resource) => resource.details?.port === parameters.port);
    const refusedOwners = refusedOwnerClaims(inventory, hostsIn(inventory), parameters.port);
    if (ports.length === 0)
      refuse(
        name,
        `no host listens on port ${parameters.port} (or it belongs to a protected process such as sshd)${refusedSuffix("refused socket owners", refusedOwners)}`,
      );
    const hosts = [...new Set(ports.map(hostOf))];
    for (const key of hosts) {
      if (!(await session.host(key).facts()).tools.includes("bash"))
        refuse(name, `${key} has no bash, which holds the connections (/dev/tcp)`);
    }
    // Owners as /proc shows them (never as `ss -p` names them), so the report says whose port this is.
    const owners = ports.map(
      (resource) => `${hostOf(resource)} PID ${((resource.details?.pids as number[] | undefined) ?? []).join(", ")}`,
    );
    return {
      targets: ports.map((resource) => resource.name),
      summary: `hold ${connections} connections to port ${parameters.port} on ${hosts.join(", ")} (owners: ${owners.join("; ")})${refusedSuffix("refused socket owners", refusedOwners)}`,
      details: { hosts },
    };
  },
  async inject(context) {
    const seconds = selfStopSeconds(context);
    if (context.params.ephemeral) {
      const { host: destination, port: destinationPort } = context.params.ephemeral;
      const { plans } = context.plan.details as unknown as { plans: EphemeralPlan[] };
      const held = await forEachTarget(context.session, plans, async (plan) => {
        const host = context.session.host(plan.host);
        const prefix = `${host.experimentDir(context.experimentId)}/ephemeral-${destinationPort}-${Date.now()}`;
        const countFile = `${prefix}.count`;
        const portsFile = `${prefix}.ports`;
        await startTaggedLoad(
          context,
          plan.host,
          `${plan.connections} connections to ${destination}:${destinationPort}`,
          () => ephemeralHolderCommand(destination, destinationPort, plan.connections, seconds, countFile, portsFile),
          [countFile, portsFile],
          { ephemeral: { port: destinationPort, portsFile } },
          portSaturationUndoScript,
        );
        const opened = Number(
          (await runSkillScript(name, host.connection, "waiting for the connections", waitForCountScript(countFile))).trim(),
        );
        // Nothing held means nothing is saturated: fail, so the engine rolls the (idle) holder back at once.
        if (opened === 0)
          throw new SkillError(
            name,
            `${plan.host}: no connection to ${destination}:${destinationPort} could be opened; see ${host.experimentDir(context.experimentId)}/processes.log`,
          );
        return `${plan.host}: ${opened}/${plan.connections}`;
      });
      return { summary: `holding ephemeral ports with connections to ${destination}:${destinationPort}: ${held.join(", ")}`, metrics: {} };
    }
    const { hosts } = context.plan.details as { hosts: string[] };
    const port = context.params.port as number;
    const connections = context.params.connections ?? defaultPortConnections;
    const address = context.params.address ?? "127.0.0.1";
    const held = await forEachTarget(context.session, hosts, async (key) => {
      const host = context.session.host(key);
      const countFile = `${host.experimentDir(context.experimentId)}/port-${port}-${Date.now()}.count`;
      await startTaggedLoad(
        context,
        key,
        `${connections} connections to port ${port}`,
        () => holderCommand(address, port, connections, seconds, countFile),
        [countFile],
      );
      const opened = await runSkillScript(name, host.connection, "waiting for the connections", waitForCountScript(countFile));
      return `${key}: ${Number(opened.trim())}/${connections}`;
    });
    return { summary: `holding connections to port ${port}: ${held.join(", ")}`, metrics: {} };
  },
  rollback(context: RollbackContext<ServerSession>, undo: PortSaturationUndo) {
    return rollBackWithScript(context, undo, `stopping ${undo.what}`, portSaturationUndoScript(undo));
  },
});
