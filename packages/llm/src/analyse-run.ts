import { type ExperimentReport, formatReport } from "@chaos-agents/core";
import { generateText, type LanguageModel } from "ai";
import { untrustedData } from "./untrusted-data.js";

/** The model's short reading of a finished run: what the measurements say about the goal. */
export async function analyseRun(options: {
  model: LanguageModel;
  goal: string;
  report: ExperimentReport;
  maxTokens: number;
}): Promise<{ analysis: string; inputTokens: number; outputTokens: number }> {
  const result = await generateText({
    model: options.model,
    instructions:
      "You analyse a finished chaos experiment for an SRE: in at most five sentences, what the measurements say about the goal, " +
      "whether rollback was complete, and one next experiment worth running.",
    prompt: `Goal: ${options.goal}\n${untrustedData("the experiment's report", formatReport(options.report))}`,
    maxOutputTokens: options.maxTokens,
  });
  return {
    analysis: result.text.trim(),
    inputTokens: result.totalUsage.inputTokens ?? 0,
    outputTokens: result.totalUsage.outputTokens ?? 0,
  };
}
