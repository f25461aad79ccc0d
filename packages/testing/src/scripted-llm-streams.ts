import type { LlmProtocol, ScriptedReply } from "./scripted-llm-server.js";

/**
 * The providers' streamed answers to one scripted reply, frame by frame, shaped like recorded real
 * streams: Anthropic's server-sent events, OpenAI's `chat.completion.chunk` events ending in
 * `[DONE]`, Ollama's NDJSON lines ending in a `done: true` line with the counts. Text and tool-call
 * arguments are split across several deltas, as real providers split them.
 */
export interface StreamedReply {
  contentType: string;
  frames: string[];
}

/** The usage every scripted turn reports, streamed or not (budgets in the tests count on it). */
export const scriptedUsage = { inputTokens: 1200, outputTokens: 80 };

export function renderStream(protocol: LlmProtocol, reply: ScriptedReply, turn: number, model: string): StreamedReply {
  if (protocol === "anthropic") return { contentType: "text/event-stream; charset=utf-8", frames: anthropicFrames(reply, turn, model) };
  if (protocol === "openai") return { contentType: "text/event-stream; charset=utf-8", frames: openAiFrames(reply, turn, model) };
  return { contentType: "application/x-ndjson", frames: ollamaFrames(reply, turn, model) };
}

/** Splits text into pieces of a few characters, the way tokens arrive. */
export function pieces(text: string, size = 7): string[] {
  const parts: string[] = [];
  for (let start = 0; start < text.length; start += size) parts.push(text.slice(start, start + size));
  return parts;
}

function anthropicFrames(reply: ScriptedReply, turn: number, model: string): string[] {
  const event = (data: Record<string, unknown>) => `event: ${data.type}\ndata: ${JSON.stringify(data)}\n\n`;
  const failure = reply.streamError && { type: reply.streamError.type, message: reply.streamError.message };
  if (failure && reply.streamError?.first) return [event({ type: "error", error: failure })];
  const calls = reply.toolCalls ?? [];
  const frames = [
    event({
      type: "message_start",
      message: {
        id: `msg_scripted_${turn}`,
        type: "message",
        role: "assistant",
        model,
        content: [],
        stop_reason: null,
        stop_sequence: null,
        usage: { input_tokens: scriptedUsage.inputTokens, cache_creation_input_tokens: 0, cache_read_input_tokens: 0, output_tokens: 1 },
      },
    }),
  ];
  // A real stream sends one ping after the first block opens.
  const open = (index: number, block: Record<string, unknown>) => {
    frames.push(event({ type: "content_block_start", index, content_block: block }));
    if (index === 0) frames.push(event({ type: "ping" }));
  };
  let index = 0;
  if (reply.text) {
    open(index, { type: "text", text: "" });
    for (const text of pieces(reply.text)) frames.push(event({ type: "content_block_delta", index, delta: { type: "text_delta", text } }));
    frames.push(event({ type: "content_block_stop", index }));
    index++;
  }
  // A stream broken off by the provider: the error comes after what was already sent.
  if (failure) return [...frames, event({ type: "error", error: failure })];
  calls.forEach((call, callIndex) => {
    const block = index + callIndex;
    open(block, { type: "tool_use", id: `toolu_${turn}_${callIndex}`, name: call.name, input: {} });
    // Anthropic opens each tool_use block with an empty delta, then the JSON in fragments.
    for (const partial of ["", ...pieces(JSON.stringify(call.input), 11)]) {
      frames.push(event({ type: "content_block_delta", index: block, delta: { type: "input_json_delta", partial_json: partial } }));
    }
    frames.push(event({ type: "content_block_stop", index: block }));
  });
  frames.push(
    event({
      type: "message_delta",
      delta: { stop_reason: calls.length ? "tool_use" : "end_turn", stop_sequence: null },
      usage: { output_tokens: scriptedUsage.outputTokens },
    }),
  );
  frames.push(event({ type: "message_stop" }));
  return frames;
}

function openAiFrames(reply: ScriptedReply, turn: number, model: string): string[] {
  const calls = reply.toolCalls ?? [];
  const chunk = (choices: unknown[], usage: unknown = null) =>
    `data: ${JSON.stringify({
      id: `chatcmpl-scripted-${turn}`,
      object: "chat.completion.chunk",
      created: 1_764_000_000 + turn,
      model,
      service_tier: "default",
      system_fingerprint: "fp_scripted",
      choices,
      usage,
    })}\n\n`;
  const delta = (value: Record<string, unknown>, finishReason: string | null = null) => [
    { index: 0, delta: value, logprobs: null, finish_reason: finishReason },
  ];
  const opening = (index: number) => ({
    index,
    id: `call_${turn}_${index}`,
    type: "function",
    function: { name: calls[index]!.name, arguments: "" },
  });
  // The first chunk carries the role; without text it also opens the first tool call, as OpenAI's does.
  const toolsFirst = calls.length > 0 && !reply.text;
  const frames = [
    chunk(
      delta({ role: "assistant", content: toolsFirst ? null : "", ...(toolsFirst ? { tool_calls: [opening(0)] } : {}), refusal: null }),
    ),
  ];
  for (const content of pieces(reply.text ?? "")) frames.push(chunk(delta({ content })));
  if (reply.streamError) {
    return [...frames, `data: ${JSON.stringify({ error: { message: reply.streamError.message, type: reply.streamError.type } })}\n\n`];
  }
  calls.forEach((call, index) => {
    if (index > 0 || !toolsFirst) frames.push(chunk(delta({ tool_calls: [opening(index)] })));
    for (const argumentsPiece of pieces(JSON.stringify(call.input), 11)) {
      frames.push(chunk(delta({ tool_calls: [{ index, function: { arguments: argumentsPiece } }] })));
    }
  });
  frames.push(chunk(delta({}, calls.length ? "tool_calls" : "stop")));
  // Sent because the adapter asks for `stream_options: {include_usage: true}`: no choices, the counts.
  frames.push(
    chunk([], {
      prompt_tokens: scriptedUsage.inputTokens,
      completion_tokens: scriptedUsage.outputTokens,
      total_tokens: scriptedUsage.inputTokens + scriptedUsage.outputTokens,
      prompt_tokens_details: { cached_tokens: 0, audio_tokens: 0 },
      completion_tokens_details: { reasoning_tokens: 0, audio_tokens: 0, accepted_prediction_tokens: 0, rejected_prediction_tokens: 0 },
    }),
  );
  frames.push("data: [DONE]\n\n");
  return frames;
}

function ollamaFrames(reply: ScriptedReply, turn: number, model: string): string[] {
  let second = 0;
  const line = (message: Record<string, unknown>, extra: Record<string, unknown> = { done: false }) =>
    `${JSON.stringify({
      model,
      created_at: new Date(1_764_000_000_000 + turn * 1000 + second++).toISOString(),
      message: { role: "assistant", content: "", ...message },
      ...extra,
    })}\n`;
  const frames = pieces(reply.text ?? "").map((content) => line({ content }));
  if (reply.streamError) return [...frames, `${JSON.stringify({ error: reply.streamError.message })}\n`];
  // Ollama sends each tool call whole, in a line of its own, before the final one.
  for (const call of reply.toolCalls ?? []) frames.push(line({ tool_calls: [{ function: { name: call.name, arguments: call.input } }] }));
  frames.push(
    line(
      {},
      {
        done: true,
        done_reason: "stop",
        total_duration: 1_000_000,
        load_duration: 10_000,
        prompt_eval_count: scriptedUsage.inputTokens,
        prompt_eval_duration: 400_000,
        eval_count: scriptedUsage.outputTokens,
        eval_duration: 500_000,
      },
    ),
  );
  return frames;
}
