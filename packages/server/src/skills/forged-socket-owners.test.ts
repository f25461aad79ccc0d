import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Registry } from "@chaos-agents/core";
import {
  freePort,
  processIdentity,
  runInProcess,
  type SshTestbed,
  startForgedNameListener,
  startRootBystander,
  startSshTestbed,
  type TestProcess,
} from "@chaos-agents/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { serverSkills } from "../index.js";
import { createServerTarget } from "../server-target.js";

/**
 * `ss -p` prints process names unescaped, and any process may name itself: `nobody`'s
 * listener named `x",pid=<root bystander>` makes ss list the bystander as an owner of its
 * port. Owners come from /proc instead; the forged claim is named, and the bystander, which
 * listens nowhere, is never a service that service_stop would kill.
 */
const registry = new Registry().addTarget(createServerTarget(), serverSkills);
let scratch: string;
let testbed: SshTestbed;

beforeAll(async () => {
  scratch = mkdtempSync(join(tmpdir(), "chaos-forged-owners-"));
  testbed = await startSshTestbed({ prefix: "chaos-forged-owners-ssh-", daemon: false });
});

afterAll(async () => {
  await testbed?.stop();
  rmSync(scratch, { recursive: true, force: true });
});

const transports = [
  { transport: "local", targetConfig: () => ({ local: true, work_dir: join(scratch, "work-local") }), namespace: () => undefined },
  {
    transport: "ssh",
    targetConfig: () => testbed.targetConfig({ work_dir: join(scratch, "work-ssh") }),
    namespace: () => testbed.namespace?.name,
  },
];

function experiment(targetConfig: Record<string, unknown>, skill: string, params: Record<string, unknown>) {
  return {
    name: "forged socket owners",
    target: "server" as const,
    target_config: targetConfig,
    skills: [{ skill_name: skill, params }],
    duration: "1s",
  };
}

describe.each(transports)("socket owners a process name forges ($transport)", ({ transport, targetConfig, namespace }) => {
  let bystander: TestProcess & { name: string };
  let attacker: TestProcess;
  let port: number;
  let claim: RegExp;

  beforeAll(async () => {
    bystander = await startRootBystander();
    port = await freePort();
    attacker = await startForgedNameListener({ comm: `x",pid=${bystander.pid}`, port, namespace: namespace() });
    const host = transport === "local" ? "local" : `${testbed.sshd.host}:${testbed.sshd.port}`;
    claim = new RegExp(
      `${host.replace(/[.]/g, "\\.")}: ss -p lists PID ${bystander.pid} as an owner of port ${port}, but that process holds no socket listening there`,
    );
  });

  afterAll(async () => {
    await attacker?.stop();
    await bystander?.stop();
  });

  it("the attack is real: ss -p lists the root bystander as an owner of nobody's port", () => {
    const ss = ["ss", "-Htlnp", `sport = :${port}`];
    const output = execFileSync(
      ...((namespace() ? ["ip", ["netns", "exec", namespace(), ...ss]] : [ss[0], ss.slice(1)]) as [string, string[]]),
    ).toString();
    expect(output).toMatch(new RegExp(`pid=${bystander.pid}\\b`));
    expect(output).toContain(`pid=${attacker.pid},`);
  });

  it("service_stop never stops the bystander as that port's service, and its refusal names the refused claim", async () => {
    const before = processIdentity(bystander.pid);
    const error = await runInProcess(registry, experiment(targetConfig(), "server.service_stop", { services: [bystander.name] })).catch(
      (failure: Error) => failure,
    );
    expect(String(error)).toMatch(new RegExp(`no running service named ${bystander.name} may be stopped`));
    expect(String(error)).toMatch(claim);
    expect(processIdentity(bystander.pid)).toEqual(before);
  });

  it("port_saturation takes the port's owner from /proc, and its plan in the report names the refused claim", async () => {
    const before = processIdentity(bystander.pid);
    const { report } = await runInProcess(registry, experiment(targetConfig(), "server.port_saturation", { port, connections: 3 }));
    expect(report.status).toBe("succeeded");
    const plan = report.skills[0]?.plan ?? "";
    expect(plan).toContain(`PID ${attacker.pid})`);
    expect(plan).not.toMatch(new RegExp(`\\(owners: [^)]*\\b${bystander.pid}\\b`));
    expect(plan).toMatch(claim);
    expect(processIdentity(bystander.pid)).toEqual(before);
  });
});
