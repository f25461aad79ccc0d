import { createMCPClient, type MCPClient } from "@ai-sdk/mcp";
import { StdioMCPTransport } from "@ai-sdk/mcp/mcp-stdio";
import { type McpServerConfig, redactText } from "@chaos-agents/core";
import type { ToolSet } from "ai";
import { untrustedData } from "./untrusted-data.js";

export interface McpTools {
  /** The servers' tools, named `<server>__<tool>`; their results come back as untrusted data. */
  tools: ToolSet;
  /** One line per server: what it offers, or why it is left out. */
  notes: string[];
  close(): Promise<void>;
}

/** What a stdio server inherits from chaos's environment: enough to start, none of chaos's secrets. */
const inheritedVariables = ["PATH", "HOME", "LANG", "TMPDIR", "NODE_OPTIONS"];

/** How long a server has to connect and list its tools before planning goes on without it. */
export const mcpConnectTimeoutMs = 20_000;

/**
 * Connects the config's MCP servers (stdio, SSE, streamable HTTP) through the official MCP client
 * and offers their tools to the model. Only tools a server marks read-only (`readOnlyHint`) are
 * offered unless the config marks the server `trusted`. A server that fails to start is noted and
 * left out; planning goes on without it.
 */
export async function connectMcpServers(
  servers: McpServerConfig[],
  env: NodeJS.ProcessEnv = process.env,
  connectTimeoutMs = mcpConnectTimeoutMs,
): Promise<McpTools> {
  const clients: MCPClient[] = [];
  const tools: ToolSet = {};
  const notes: string[] = [];
  for (const server of servers) {
    const transport =
      server.transport === "stdio"
        ? new StdioMCPTransport({
            command: server.command,
            args: server.args,
            env: { ...Object.fromEntries(inheritedVariables.flatMap((name) => (env[name] ? [[name, env[name]]] : []))), ...server.env },
            stderr: "ignore",
          })
        : { type: server.transport, url: server.url, headers: server.headers };
    try {
      // A server that starts but never answers would hold planning for ever: it gets a deadline,
      // and a stdio one is stopped when it misses it.
      const connecting = (async () => {
        const client = await createMCPClient({ name: "chaos-agents", transport });
        clients.push(client);
        return { client, listed: await client.listTools() };
      })();
      connecting.catch(() => undefined); // what fails after the deadline is already noted
      const { client, listed } = await withinDeadline(connecting, connectTimeoutMs, async () => {
        if (transport instanceof StdioMCPTransport) await transport.close().catch(() => undefined);
      });
      const offered = listed.tools.filter((tool) => server.trusted || tool.annotations?.readOnlyHint === true);
      for (const [name, definition] of Object.entries(client.toolsFromDefinitions({ ...listed, tools: offered }))) {
        const execute = definition.execute;
        if (!execute) continue;
        tools[`${server.name}__${name}`] = {
          ...definition,
          description: `[MCP server ${server.name}] ${definition.description ?? name}`,
          execute: async (input: unknown, options: Parameters<typeof execute>[1]) =>
            untrustedData(`MCP tool ${server.name}.${name}`, await execute(input as never, options)),
        } as ToolSet[string];
      }
      const left = listed.tools.length - offered.length;
      notes.push(
        `MCP ${server.name}: ${offered.length} tools${left ? ` (${left} not read-only, left out: the server is not trusted)` : ""}`,
      );
    } catch (error) {
      notes.push(`MCP ${server.name}: not available (${redactText((error as Error).message)}); planning without it`);
    }
  }
  return { tools, notes, close: async () => void (await Promise.allSettled(clients.map((client) => client.close()))) };
}

/** `work`'s result, or an error once `deadlineMs` passed (after `giveUp` ran). */
async function withinDeadline<T>(work: Promise<T>, deadlineMs: number, giveUp: () => Promise<void>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      void giveUp().finally(() => reject(new Error(`it did not connect and list its tools within ${deadlineMs / 1000} s`)));
    }, deadlineMs);
  });
  try {
    return await Promise.race([work, deadline]);
  } finally {
    clearTimeout(timer);
  }
}
