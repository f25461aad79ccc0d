import { PassThrough } from "node:stream";
import { describe, expect, it } from "vitest";
import { createPlannerView } from "./planner-view.js";

function capture(live: boolean) {
  const stream = new PassThrough();
  let text = "";
  stream.on("data", (chunk: Buffer) => (text += chunk.toString()));
  return { view: createPlannerView(stream, live), text: () => text };
}

describe("the planner's view", () => {
  it("on a terminal: text as it comes, each tool call's input cut at 240 characters, then the turn line", () => {
    const { view, text } = capture(true);
    view.onProgress({ type: "text", text: "Reading " });
    view.onProgress({ type: "text", text: "the targets.\nThen skills." });
    view.onProgress({ type: "tool-input-start", id: "a", toolName: "submit_experiment" });
    for (let piece = 0; piece < 30; piece++) view.onProgress({ type: "tool-input-delta", id: "a", delta: "0123456789" });
    view.onProgress({ type: "tool-call", id: "a", toolName: "submit_experiment", input: {} });
    view.onTurn("turn 1: submit_experiment(…)");
    expect(text()).toBe(
      `  model: Reading the targets.\n         Then skills.\n  → submit_experiment ${"0123456789".repeat(24)}…\n  turn 1: submit_experiment(…)\n`,
    );
  });

  it("elsewhere: one line per turn, and a line when a broken-off answer is asked again", () => {
    const { view, text } = capture(false);
    view.onProgress({ type: "text", text: "Reading" });
    view.onProgress({ type: "retry", reason: "Overloaded (overloaded_error, 529)" });
    view.onTurn("turn 1: list_targets({})");
    expect(text()).toBe(
      "  the provider broke off its answer (Overloaded (overloaded_error, 529)); asking again\n  turn 1: list_targets({})\n",
    );
  });
});
