import { execFileSync, spawn } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { newExperimentId } from "@chaos-agents/core";
import { asAttacker, type SshTestbed, startSshTestbed } from "@chaos-agents/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createServerTarget } from "./server-target.js";

let testbed: SshTestbed;
const log = { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined };

beforeAll(async () => {
  testbed = await startSshTestbed({ daemon: false, mountSize: "4m", prefix: "chaos-sweep-" });
});

afterAll(async () => {
  await testbed?.stop();
});

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return !/^\S+ \S+ Z/.test(
      execFileSync("cat", [`/proc/${pid}/stat`])
        .toString()
        .replace(/\(.*\)/, "x"),
    );
  } catch {
    return false;
  }
}

describe("sweep", () => {
  it("removes what carries the experiment id and nothing else", async () => {
    const experimentId = newExperimentId();
    const { namespace, mountPoint } = testbed;
    const workDir = String(testbed.targetConfig().work_dir);
    // Leftovers the journal never heard of: a tagged process, chaos directories, an iptables chain.
    const tagged = spawn("sleep", ["60"], {
      env: { ...process.env, CHAOS_AGENTS_EXPERIMENT: experimentId },
      detached: true,
      stdio: "ignore",
    });
    const untagged = spawn("sleep", ["60"], {
      env: { ...process.env, CHAOS_AGENTS_EXPERIMENT: "someone-else" },
      detached: true,
      stdio: "ignore",
    });
    tagged.unref();
    untagged.unref();
    mkdirSync(join(workDir, experimentId), { recursive: true });
    mkdirSync(join(mountPoint, `.chaos-agents-${experimentId}`));
    writeFileSync(join(mountPoint, `.chaos-agents-${experimentId}`, "fill.bin"), "x");
    mkdirSync(join(mountPoint, ".chaos-agents-other"));
    const chain = `CHAOS-${experimentId.replace(/[^A-Za-z0-9]/g, "").slice(-8)}-abcd`;
    if (namespace) {
      await namespace.exec("iptables", ["-w", "-N", chain]);
      await namespace.exec("iptables", ["-w", "-I", "OUTPUT", "-o", namespace.namespaceInterface, "-j", chain]);
    }

    const target = createServerTarget();
    const session = await target.connect(target.configSchema.parse(testbed.targetConfig()), { experimentId, log });
    try {
      const swept = await target.sweep?.(session, experimentId);
      expect(swept?.some((line) => line.includes(`process ${tagged.pid}`))).toBe(true);
      expect(swept?.some((line) => line.includes(`.chaos-agents-${experimentId}`))).toBe(true);
      await sleep(200);
      expect(alive(tagged.pid as number)).toBe(false);
      expect(alive(untagged.pid as number)).toBe(true);
      expect(existsSync(join(workDir, experimentId))).toBe(false);
      expect(existsSync(join(mountPoint, `.chaos-agents-${experimentId}`))).toBe(false);
      expect(existsSync(join(mountPoint, ".chaos-agents-other"))).toBe(true);
      if (namespace) {
        expect(swept).toContain(`${session.hosts[0]?.key}: iptables chain ${chain}`);
        expect(await namespace.exec("iptables", ["-S"])).not.toContain(chain);
      }
      // Idempotent: nothing left the second time.
      expect(await target.sweep?.(session, experimentId)).toEqual([]);
    } finally {
      await session.close();
      process.kill(untagged.pid as number, "SIGKILL");
    }
  });

  it("leaves directories with the experiment's name that another user made (local)", async () => {
    const experimentId = newExperimentId();
    const memoryDirectory = `/dev/shm/chaos-agents-${experimentId}`;
    const fillDirectory = join(testbed.mountPoint, `.chaos-agents-${experimentId}`);
    asAttacker('mkdir "$1" && echo mine > "$1/data"', memoryDirectory);
    mkdirSync(fillDirectory);
    writeFileSync(join(fillDirectory, "data"), "mine");
    execFileSync("chown", ["-R", "65534:65534", fillDirectory]);
    const target = createServerTarget();
    const session = await target.connect(target.configSchema.parse({ local: true, work_dir: join(testbed.scratch, "work-local") }), {
      experimentId,
      log,
    });
    try {
      expect(await target.sweep?.(session, experimentId)).toEqual([]);
      expect(readFileSync(join(memoryDirectory, "data"), "utf8")).toBe("mine\n");
      expect(readFileSync(join(fillDirectory, "data"), "utf8")).toBe("mine");
    } finally {
      await session.close();
      rmSync(memoryDirectory, { recursive: true, force: true });
      rmSync(fillDirectory, { recursive: true, force: true });
    }
  });
});
