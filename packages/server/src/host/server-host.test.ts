import { describe, expect, it } from "vitest";
import { mapWithLimit } from "../concurrency.js";
import { createServerTarget } from "../server-target.js";
import { buildCommand } from "../transports/build-command.js";

const log = { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined };

describe("host plumbing", () => {
  it("wraps commands in sudo -n only when asked, quoting scripts as one word", () => {
    expect(buildCommand(["chmod", "000", "--", "/tmp/a b"], false)).toBe("chmod 000 -- '/tmp/a b'");
    expect(buildCommand(["id"], true)).toBe("sudo -n -- id");
    expect(buildCommand({ script: "echo 'x'; id" }, true)).toBe(`sudo -n -- sh -c 'echo '\\''x'\\''; id'`);
  });

  it("never runs more than the limit at once and keeps the order of results", async () => {
    let running = 0;
    let most = 0;
    const results = await mapWithLimit([5, 1, 4, 2, 3, 1], 2, async (value) => {
      running++;
      most = Math.max(most, running);
      await new Promise((resolve) => setTimeout(resolve, value * 5));
      running--;
      return value * 10;
    });
    expect(results).toEqual([50, 10, 40, 20, 30, 10]);
    expect(most).toBe(2);
  });

  it("after the first failure starts nothing new, waits for what is running, then throws that failure", async () => {
    const started: number[] = [];
    const finished: number[] = [];
    const failure = await mapWithLimit([0, 1, 2, 3], 2, async (value) => {
      started.push(value);
      if (value === 1) throw new Error("host 1 failed");
      await new Promise((resolve) => setTimeout(resolve, 100));
      finished.push(value);
      return value;
    }).catch((error: Error) => error);
    expect(String(failure)).toBe("Error: host 1 failed");
    // 0 was running when 1 failed: it finished before the error came out; 2 and 3 never started.
    expect(started).toEqual([0, 1]);
    expect(finished).toEqual([0]);
  });

  it("with discovery disabled, lists only the hosts", async () => {
    const target = createServerTarget();
    const session = await target.connect(target.configSchema.parse({ local: true, discovery: { enabled: false } }), {
      experimentId: "x",
      log,
    });
    try {
      const inventory = await session.discover();
      expect(inventory.resources.map((resource) => resource.name)).toEqual(["local/host"]);
      expect(inventory.facts).toMatchObject({ discovery: "disabled" });
    } finally {
      await session.close();
    }
  });

  it("rejects a config without hosts, and keeps the user-facing format", () => {
    const target = createServerTarget();
    expect(target.configSchema.safeParse({}).success).toBe(false);
    const parsed = target.configSchema.parse({
      hosts: [{ host: "10.0.1.50", port: 22, username: "chaos-agent", auth: { type: "key", private_key_path: "~/.ssh/id_ed25519" } }],
      discovery: { enabled: true, exclude_services: ["docker", "containerd"] },
    });
    expect(parsed.host_key_policy).toBe("strict");
    expect(target.identify(parsed)).toBe("ssh://chaos-agent@10.0.1.50:22");
  });
});
