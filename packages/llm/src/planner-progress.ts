import type { StepResult, TextStreamPart, ToolSet } from "ai";

/**
 * What the planner's model is doing, as it happens: pieces of its text and of its tool calls'
 * input while they stream, then each whole tool call. Unstreamed, the same parts come at the end of
 * each turn (a view shows either the same way).
 */
export type PlannerProgress =
  | { type: "text"; text: string }
  | { type: "tool-input-start"; id: string; toolName: string }
  | { type: "tool-input-delta"; id: string; delta: string }
  | { type: "tool-call"; id: string; toolName: string; input: unknown }
  /** The provider broke off a streamed answer; the turn is asked again. */
  | { type: "retry"; reason: string };

/** Raised when a streamed answer breaks off with an error; the planner turns it into a ChaosError. */
export class StreamBrokenOff extends Error {
  constructor(readonly reason: unknown) {
    super("the provider's streamed answer broke off");
  }
}

/** The parts of one streamed part a view shows; throws on a stream error or abort. */
export function progressOf(part: TextStreamPart<ToolSet>): PlannerProgress | undefined {
  switch (part.type) {
    case "text-delta":
      return { type: "text", text: part.text };
    case "tool-input-start":
      return { type: "tool-input-start", id: part.id, toolName: part.toolName };
    case "tool-input-delta":
      return { type: "tool-input-delta", id: part.id, delta: part.delta };
    case "tool-call":
      return { type: "tool-call", id: part.toolCallId, toolName: part.toolName, input: part.input };
    case "error":
      throw new StreamBrokenOff(part.error);
    case "abort":
      throw new StreamBrokenOff(new Error(part.reason ?? "aborted"));
    default:
      return undefined;
  }
}

/** An unstreamed turn's progress, all at once when it ends. */
export function progressOfStep(step: StepResult<ToolSet>): PlannerProgress[] {
  return [
    ...(step.text ? [{ type: "text" as const, text: step.text }] : []),
    ...step.toolCalls.map((call) => ({ type: "tool-call" as const, id: call.toolCallId, toolName: call.toolName, input: call.input })),
  ];
}
