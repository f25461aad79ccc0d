import { type ChildProcess, spawn } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { shopSchema } from "@chaos-agents/database";
import {
  createTestDatabase,
  freePort,
  makeTempDirectory,
  runChaos,
  startScriptedLlmServer,
  type TestDatabase,
} from "@chaos-agents/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

// MCP servers as genuine peers: the reference "everything" server from npm, over stdio, SSE and
// streamable HTTP, through the official MCP client, while a scripted model plans.
const everything = fileURLToPath(import.meta.resolve("@modelcontextprotocol/server-everything/package.json")).replace(
  /package\.json$/,
  "dist/index.js",
);
const temp = makeTempDirectory("chaos-mcp-");
let db: TestDatabase;
const servers: ChildProcess[] = [];

beforeAll(async () => {
  db = await createTestDatabase("postgres");
  for (const statement of shopSchema.postgres) await db.execute(statement);
});
afterAll(async () => {
  for (const server of servers) server.kill();
  await db?.drop();
  temp.remove();
});

/** Starts the everything server on a loopback port with the given transport; resolves once it listens. */
async function startEverything(transport: "sse" | "streamableHttp"): Promise<number> {
  const port = await freePort();
  const child = spawn(process.execPath, [everything, transport], { env: { PATH: process.env.PATH, PORT: String(port) }, stdio: "pipe" });
  servers.push(child);
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("the MCP server did not start")), 20_000);
    child.stderr?.on("data", (chunk: Buffer) => {
      if (chunk.toString().includes(String(port))) {
        clearTimeout(timer);
        resolve();
      }
    });
  });
  return port;
}

function llmConfig(mcpServer: string): string {
  const path = join(temp.path, `llm-${Math.random().toString(36).slice(2)}.yaml`);
  writeFileSync(
    path,
    `llm: { provider: anthropic, model: claude-sonnet-4-5, api_key: "\${ANTHROPIC_API_KEY}" }
targets:
  shop: { target: database, target_config: { connection_url: "${db.url}", db_type: postgres } }
mcp_servers:
  - ${mcpServer}
max_turns: 4
`,
  );
  return path;
}

async function planWith(mcpServer: string) {
  const config = llmConfig(mcpServer);
  const server = await startScriptedLlmServer("anthropic", [
    { toolCalls: [{ name: "everything__echo", input: { message: "runbook check" } }] },
    { toolCalls: [{ name: "everything__get-env", input: {} }] },
    {
      toolCalls: [
        {
          name: "submit_experiment",
          input: {
            experiment: { name: "reads", target_alias: "shop", skills: [{ skill_name: "db.select_load", params: { queries: 100 } }] },
            rationale: "read load, informed by the runbook",
          },
        },
      ],
    },
  ]);
  const result = await runChaos(["plan", "Stress reads on the shop database", "--config", config], {
    ANTHROPIC_API_KEY: "sk-ant-test-key-never-in-a-body",
    ANTHROPIC_BASE_URL: server.baseUrl,
  });
  await server.close();
  if (server.requests.length === 0) throw new Error(`chaos plan never called the model: ${result.stderr}`);
  return { result, server, toolNames: JSON.parse(server.requests[0]!.body).tools.map((tool: { name: string }) => tool.name) as string[] };
}

describe("chaos plan with MCP servers", () => {
  it("offers a stdio server's read-only tools, fenced and redacted, and not its other tools or chaos's secrets", async () => {
    const { result, server, toolNames } = await planWith(
      `{ name: everything, transport: { type: stdio, command: "${process.execPath}", args: ["${everything}", "stdio"] }, env: { SERVICE_PASSWORD: "mcp-secret-value" } }`,
    );
    expect(result.exitCode, result.stderr).toBe(0);
    expect(result.stderr).toMatch(/MCP everything: \d+ tools \(\d+ not read-only, left out: the server is not trusted\)/);
    expect(toolNames).toContain("everything__echo");
    expect(toolNames).not.toContain("everything__toggle-simulated-logging");
    const results = server.toolResults();
    expect(results[0]).toMatch(/^<<<untrusted data from MCP tool everything\.echo[\s\S]*runbook check/);
    expect(results[1]).toContain("SERVICE_PASSWORD");
    for (const request of server.requests) {
      expect(request.body).not.toContain("mcp-secret-value");
      expect(request.body).not.toContain("sk-ant-test-key-never-in-a-body"); // not in the MCP server's environment at all
    }
  });

  it("a trusted server offers its other tools too", async () => {
    const { toolNames } = await planWith(
      `{ name: everything, transport: stdio, command: "${process.execPath}", args: ["${everything}", "stdio"], trusted: true }`,
    );
    expect(toolNames).toContain("everything__toggle-simulated-logging");
  });

  it.each([
    ["sse", "sse", "/sse"],
    ["http", "streamableHttp", "/mcp"],
  ] as const)("reaches a server over %s", async (type, transport, path) => {
    const port = await startEverything(transport);
    const { result, server } = await planWith(`{ name: everything, transport: ${type}, url: "http://127.0.0.1:${port}${path}" }`);
    expect(result.exitCode, result.stderr).toBe(0);
    expect(server.toolResults()[0]).toContain("runbook check");
  });

  it("a server that cannot start is noted and planning goes on without it", async () => {
    const { result } = await planWith(`{ name: everything, transport: stdio, command: "/nonexistent/mcp-server" }`);
    expect(result.stderr).toContain("MCP everything: not available");
    expect(result.exitCode).toBe(0);
  });
});
