import { execFileSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { connectMcpServers } from "./mcp-tools.js";

describe("MCP servers that do not answer", () => {
  it("a stdio server that starts and never answers is stopped at the deadline, noted, and planning goes on", async () => {
    // A number of this test's own, so ps finds this server and no other sleep.
    const seconds = String(40_000 + (process.pid % 10_000));
    const running = () =>
      execFileSync("ps", ["-eo", "args"])
        .toString()
        .split("\n")
        .filter((line) => line.trim() === `sleep ${seconds}`);
    const started = Date.now();
    const mcp = await connectMcpServers(
      [
        { name: "hung", transport: "stdio", command: "sleep", args: [seconds], env: {}, trusted: false },
        { name: "missing", transport: "stdio", command: "/nonexistent/mcp-server", args: [], env: {}, trusted: false },
      ],
      { PATH: process.env.PATH },
      500,
    );
    try {
      expect(Date.now() - started).toBeLessThan(5000);
      expect(mcp.notes).toEqual([
        "MCP hung: not available (it did not connect and list its tools within 0.5 s); planning without it",
        expect.stringMatching(/^MCP missing: not available \(.+\); planning without it$/),
      ]);
      expect(Object.keys(mcp.tools)).toEqual([]);
      for (let wait = 0; wait < 20 && running().length > 0; wait++) await new Promise((resolve) => setTimeout(resolve, 100));
      expect(running()).toEqual([]);
    } finally {
      await mcp.close();
    }
  });
});
