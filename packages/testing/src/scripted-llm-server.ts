import { createServer, type IncomingHttpHeaders, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { setTimeout as sleep } from "node:timers/promises";
import { renderStream, scriptedUsage } from "./scripted-llm-streams.js";

/**
 * A local HTTP server that answers the model providers' wire protocols (Anthropic Messages, OpenAI
 * Chat Completions, Ollama's /api/chat) from a script, so the real AI SDK adapters run unchanged
 * against it. It answers as the request asks: a whole JSON body, or a stream (Anthropic and OpenAI
 * server-sent events, Ollama NDJSON; see scripted-llm-streams.ts). Replies are shaped like recorded
 * real responses; every request is kept for checks (e.g. that no password was ever sent).
 */
export type LlmProtocol = "anthropic" | "openai" | "ollama";

export interface ScriptedToolCall {
  name: string;
  input: Record<string, unknown>;
}

/** One model turn: some text, tool calls, or both. */
export interface ScriptedReply {
  text?: string;
  toolCalls?: ScriptedToolCall[];
  /**
   * The provider fails this turn, e.g. `{type: "overloaded_error", message: "Overloaded"}`: a
   * streamed answer breaks off with an error event after the text; an unstreamed one is an HTTP
   * error (529 for overloaded, else 500). `first`: Anthropic's error event comes before anything
   * else, even message_start (the adapter then treats it as a failed request).
   */
  streamError?: { type: string; message: string; first?: boolean };
}

export interface RecordedRequest {
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
  /** Whether the client asked for a streamed answer (and got one). */
  streamed: boolean;
}

export interface ScriptedLlmServer {
  /** Base URL for the provider: `…/v1` for Anthropic and OpenAI, the host for Ollama. */
  baseUrl: string;
  requests: RecordedRequest[];
  /** The text of every tool result the client sent back, in order (what the model was told). */
  toolResults(): string[];
  /** How many frames of streamed answers have been written so far. */
  framesSent(): number;
  close(): Promise<void>;
}

/**
 * Starts the server. `script` gives one reply per model call, in order; a call past its end gets
 * a plain text reply with no tool call. `status` makes every call fail with that HTTP status;
 * `delayMs` holds every reply back that long (a slow provider); `frameDelayMs` spaces a streamed
 * answer's frames.
 */
export async function startScriptedLlmServer(
  protocol: LlmProtocol,
  script: (ScriptedReply | ((request: unknown) => ScriptedReply))[],
  options: { status?: number; delayMs?: number; frameDelayMs?: number } = {},
): Promise<ScriptedLlmServer> {
  const requests: RecordedRequest[] = [];
  let turn = 0;
  let framesSent = 0;
  const server = createServer((request, response) => {
    let body = "";
    request.on("data", (chunk) => (body += chunk));
    request.on("end", () => {
      const parsed = JSON.parse(body || "{}") as { stream?: boolean; model?: string };
      // Ollama streams unless told not to; the others only when asked.
      const streamed = protocol === "ollama" ? parsed.stream !== false : parsed.stream === true;
      requests.push({ path: request.url ?? "", headers: request.headers, body, streamed });
      response.setHeader("content-type", "application/json");
      if (options.status) {
        response.statusCode = options.status;
        response.end(JSON.stringify(errorBody(protocol, options.status)));
        return;
      }
      const step = script[turn++];
      const reply = typeof step === "function" ? step(parsed) : (step ?? { text: "I have nothing more to add." });
      void answer(reply, turn, parsed, streamed, response);
    });
  });
  const answer = async (
    reply: ScriptedReply,
    turnNumber: number,
    parsed: { model?: string },
    streamed: boolean,
    response: ServerResponse,
  ) => {
    await sleep(options.delayMs ?? 0);
    if (!streamed && reply.streamError) {
      response.statusCode = reply.streamError.type === "overloaded_error" ? 529 : 500;
      response.end(JSON.stringify(errorBody(protocol, response.statusCode, reply.streamError)));
      return;
    }
    if (!streamed) return response.end(JSON.stringify(render(protocol, reply, turnNumber, parsed)));
    const stream = renderStream(protocol, reply, turnNumber, parsed.model ?? "scripted");
    response.setHeader("content-type", stream.contentType);
    response.setHeader("cache-control", "no-cache");
    for (const frame of stream.frames) {
      if (response.destroyed) return;
      response.write(frame);
      framesSent++;
      // Frames leave one by one, as a provider's do, so the client sees the deltas arrive.
      await sleep(options.frameDelayMs ?? 0);
    }
    response.end();
  };
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  const host = `http://127.0.0.1:${port}`;
  return {
    baseUrl: protocol === "ollama" ? host : `${host}/v1`,
    requests,
    framesSent: () => framesSent,
    toolResults: () => (requests.length ? toolResultTexts(protocol, JSON.parse(requests.at(-1)!.body)) : []),
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        // A client that stopped reading a stream may keep its connection open; it is over.
        server.closeAllConnections();
      }),
  };
}

/** The environment that points the `chaos` binary at a scripted server (with a test API key). */
export function providerEnvironment(protocol: LlmProtocol, baseUrl: string): NodeJS.ProcessEnv {
  const variable = { anthropic: "ANTHROPIC", openai: "OPENAI", ollama: "OLLAMA" }[protocol];
  return { [`${variable}_API_KEY`]: "test-key", [protocol === "ollama" ? "OLLAMA_HOST" : `${variable}_BASE_URL`]: baseUrl };
}

function render(protocol: LlmProtocol, reply: ScriptedReply, turn: number, request: unknown) {
  const model = (request as { model?: string }).model ?? "scripted";
  const calls = reply.toolCalls ?? [];
  if (protocol === "anthropic") {
    return {
      id: `msg_scripted_${turn}`,
      type: "message",
      role: "assistant",
      model,
      content: [
        ...(reply.text ? [{ type: "text", text: reply.text }] : []),
        ...calls.map((call, index) => ({ type: "tool_use", id: `toolu_${turn}_${index}`, name: call.name, input: call.input })),
      ],
      stop_reason: calls.length ? "tool_use" : "end_turn",
      stop_sequence: null,
      usage: { input_tokens: scriptedUsage.inputTokens, output_tokens: scriptedUsage.outputTokens },
    };
  }
  if (protocol === "openai") {
    return {
      id: `chatcmpl-scripted-${turn}`,
      object: "chat.completion",
      created: 1_764_000_000 + turn,
      model,
      choices: [
        {
          index: 0,
          message: {
            role: "assistant",
            content: reply.text ?? null,
            ...(calls.length
              ? {
                  tool_calls: calls.map((call, index) => ({
                    id: `call_${turn}_${index}`,
                    type: "function",
                    function: { name: call.name, arguments: JSON.stringify(call.input) },
                  })),
                }
              : {}),
          },
          finish_reason: calls.length ? "tool_calls" : "stop",
        },
      ],
      usage: {
        prompt_tokens: scriptedUsage.inputTokens,
        completion_tokens: scriptedUsage.outputTokens,
        total_tokens: scriptedUsage.inputTokens + scriptedUsage.outputTokens,
      },
    };
  }
  return {
    model,
    created_at: new Date(1_764_000_000_000 + turn * 1000).toISOString(),
    message: {
      role: "assistant",
      content: reply.text ?? "",
      ...(calls.length ? { tool_calls: calls.map((call) => ({ function: { name: call.name, arguments: call.input } })) } : {}),
    },
    done: true,
    done_reason: "stop",
    total_duration: 1_000_000,
    prompt_eval_count: scriptedUsage.inputTokens,
    eval_count: scriptedUsage.outputTokens,
  };
}

function errorBody(protocol: LlmProtocol, status: number, failure?: { type: string; message: string }) {
  const message = failure?.message ?? (status === 429 ? "rate limited" : status === 404 ? "model not found" : `error ${status}`);
  if (protocol === "anthropic") {
    return { type: "error", error: { type: failure?.type ?? (status === 429 ? "rate_limit_error" : "api_error"), message } };
  }
  if (protocol === "openai") return { error: { message, type: "invalid_request_error", code: String(status) } };
  return { error: message };
}

/** The tool results in a request's message history, as text. */
function toolResultTexts(protocol: LlmProtocol, body: { messages?: unknown[] }): string[] {
  const texts: string[] = [];
  for (const message of body.messages ?? []) {
    const record = message as { role?: string; content?: unknown };
    if (protocol === "anthropic" && Array.isArray(record.content)) {
      for (const part of record.content as { type?: string; content?: unknown }[]) {
        if (part.type === "tool_result") texts.push(typeof part.content === "string" ? part.content : JSON.stringify(part.content));
      }
    } else if (record.role === "tool") {
      texts.push(typeof record.content === "string" ? record.content : JSON.stringify(record.content));
    }
  }
  return texts;
}
