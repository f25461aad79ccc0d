import { type LlmProtocol, startScriptedLlmServer } from "@chaos-agents/testing";
import { streamText, tool } from "ai";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { createLanguageModel } from "./language-model.js";
import { type PlannerProgress, progressOf, StreamBrokenOff } from "./planner-progress.js";

// The real AI SDK adapters reading the scripted server's streams: what the planner's view gets.
const input = {
  experiment: { name: "write-load", target_alias: "shop", skills: [{ skill_name: "db.insert_load", params: { rows_per_table: 40 } }] },
};

async function streamOnce(protocol: LlmProtocol, reply: Parameters<typeof startScriptedLlmServer>[1][number]) {
  const server = await startScriptedLlmServer(protocol, [reply]);
  const seen: PlannerProgress[] = [];
  try {
    const result = streamText({
      model: createLanguageModel({
        provider: protocol,
        model: { anthropic: "claude-sonnet-4-5", openai: "gpt-5", ollama: "llama3.1" }[protocol],
        apiKey: "test-key",
        baseUrl: server.baseUrl,
        maxTokens: 100,
        stream: true,
      }),
      prompt: "plan",
      tools: { submit_experiment: tool({ inputSchema: z.object({ experiment: z.unknown() }) }) },
      maxRetries: 0,
      onError: () => {},
    });
    for await (const part of result.fullStream) {
      const progress = progressOf(part);
      if (progress) seen.push(progress);
    }
    return { seen, usage: await result.totalUsage };
  } finally {
    await server.close();
  }
}

describe("streamed answers through the real adapters", () => {
  it.each(["anthropic", "openai"] as const)(
    "%s: a tool call's JSON arrives in several deltas that add up to the input",
    async (protocol) => {
      const { seen, usage } = await streamOnce(protocol, {
        text: "Proposing a small write load.",
        toolCalls: [{ name: "submit_experiment", input }],
      });
      const text = seen.filter((part) => part.type === "text").map((part) => part.text);
      expect(text.length).toBeGreaterThan(1);
      expect(text.join("")).toBe("Proposing a small write load.");
      const deltas = seen.filter((part) => part.type === "tool-input-delta").map((part) => part.delta);
      expect(deltas.filter((delta) => delta.length > 0).length).toBeGreaterThan(5);
      expect(JSON.parse(deltas.join(""))).toEqual(input);
      expect(seen.find((part) => part.type === "tool-input-start")).toMatchObject({ toolName: "submit_experiment" });
      expect(seen.at(-1)).toMatchObject({ type: "tool-call", toolName: "submit_experiment", input });
      expect(usage).toMatchObject({ inputTokens: 1200, outputTokens: 80 });
    },
  );

  it("ollama: text in NDJSON pieces, the tool call whole, the counts in the done line", async () => {
    const { seen, usage } = await streamOnce("ollama", {
      text: "Proposing a small write load.",
      toolCalls: [{ name: "submit_experiment", input }],
    });
    expect(seen.filter((part) => part.type === "text").length).toBeGreaterThan(1);
    expect(seen.at(-1)).toMatchObject({ type: "tool-call", toolName: "submit_experiment", input });
    expect(usage).toMatchObject({ inputTokens: 1200, outputTokens: 80 });
  });

  it("anthropic: an error event after some text reaches the view as a broken-off stream", async () => {
    const failure = streamOnce("anthropic", { text: "Let me think", streamError: { type: "overloaded_error", message: "Overloaded" } });
    await expect(failure).rejects.toBeInstanceOf(StreamBrokenOff);
    await expect(failure).rejects.toMatchObject({ reason: { message: "Overloaded", type: "overloaded_error", statusCode: 529 } });
  });
});
