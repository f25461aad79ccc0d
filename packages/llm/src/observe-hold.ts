import type { HoldObservation, Logger } from "@chaos-agents/core";
import { generateText, type LanguageModel, stepCountIs, type ToolSet, tool } from "ai";
import { z } from "zod";
import { untrustedData } from "./untrusted-data.js";

export interface ObserveHoldOptions {
  model: LanguageModel;
  hold: HoldObservation;
  durationMs: number;
  goal: string;
  /** Read-only tools besides the measurements (MCP servers'). */
  contextTools?: ToolSet;
  /** How many times the model looks during the hold, evenly spaced. */
  checks?: number;
  maxTokens: number;
  log: Logger;
  onTurn?: (line: string) => void;
}

export interface ObservationUsage {
  turns: number;
  inputTokens: number;
  outputTokens: number;
}

/**
 * Lets the model look at the experiment a few times during the hold: what the skills measured,
 * and read-only context. It may end the hold early (`end_hold`), e.g. when the target is clearly
 * unhealthy; it can do nothing else. Stops when the hold ends.
 */
export async function observeHold(options: ObserveHoldOptions): Promise<ObservationUsage> {
  const usage: ObservationUsage = { turns: 0, inputTokens: 0, outputTokens: 0 };
  const checks = options.checks ?? 3;
  const { hold } = options;
  const tools = {
    ...options.contextTools,
    end_hold: tool({
      description: "End the hold now (rollback follows at once). Only when the goal is answered or the target is clearly unhealthy.",
      inputSchema: z.object({ reason: z.string().describe("why the hold should end now") }),
      execute: async ({ reason }) => {
        hold.endHold(`the model ended it: ${reason}`);
        return "the hold is ending; rollback follows";
      },
    }),
  };
  for (let check = 1; check <= checks && !hold.signal.aborted; check++) {
    await new Promise((resolve) => {
      // Evenly spaced, but never more than a minute apart: a long hold is looked at early too.
      const timer = setTimeout(resolve, Math.min(options.durationMs / (checks + 1), 60_000));
      hold.signal.addEventListener("abort", () => resolve(clearTimeout(timer)), { once: true });
    });
    if (hold.signal.aborted) break;
    try {
      const result = await generateText({
        model: options.model,
        instructions:
          "You watch a chaos experiment while its faults are held. Read the measurements, use read-only tools if useful, " +
          "and call end_hold only if the goal is already answered or the target is clearly unhealthy. Otherwise answer in one sentence.",
        prompt: `Goal: ${options.goal}\nCheck ${check} of ${checks}.\n${untrustedData("the skills' measurements", hold.measurements())}`,
        tools,
        maxOutputTokens: options.maxTokens,
        abortSignal: hold.signal,
        stopWhen: stepCountIs(3),
        onStepFinish: (step) => {
          usage.turns++;
          const calls = step.toolCalls.map((call) => call.toolName).join(", ");
          options.onTurn?.(`observe ${check}/${checks}: ${calls || step.text.trim().slice(0, 160) || "(nothing)"}`);
        },
      });
      usage.inputTokens += result.totalUsage.inputTokens ?? 0;
      usage.outputTokens += result.totalUsage.outputTokens ?? 0;
    } catch (error) {
      // The hold ending mid-call aborts it; anything else only ends the watching, never the experiment.
      if (!hold.signal.aborted) options.log.warn(`the model's observation failed: ${(error as Error).message}`);
      break;
    }
  }
  return usage;
}
