import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const preflight = fileURLToPath(new URL("../../../scripts/preflight.mjs", import.meta.url));
const run = (path: string) => spawnSync(process.execPath, [preflight], { env: { PATH: path }, encoding: "utf8" });

describe("npm test's preflight", () => {
  it("passes on a machine that has every tool and server the suite needs", () => {
    const result = run(process.env.PATH ?? "");
    expect(result.stderr).toBe("");
    expect(result.status).toBe(0);
  });

  it("names everything missing in one line and stops, where tools are not on PATH", () => {
    const result = run("/nonexistent");
    expect(result.status).toBe(1);
    expect(result.stderr.trimEnd().split("\n")).toHaveLength(1);
    expect(result.stderr).toMatch(/^preflight: the test suite needs .*stress-ng \(stress-ng\).*; run `npm run test:all` as root/);
  });
});
