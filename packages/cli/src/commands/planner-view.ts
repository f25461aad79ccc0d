import type { PlannerProgress } from "@chaos-agents/llm";

/** How much of one tool call's input a terminal shows as it streams; the turn line has the gist. */
const shownInputLength = 240;

export interface PlannerView {
  onProgress(progress: PlannerProgress): void;
  onTurn(line: string): void;
}

/**
 * Shows the planner at work. On a terminal: the model's text and each tool call's input as they
 * arrive, then a line per turn. Elsewhere (a pipe, a log): the line per turn only, so logs stay
 * one line per event. Either way, a line when a broken-off answer is asked again.
 */
export function createPlannerView(output: NodeJS.WritableStream, live: boolean): PlannerView {
  const retryLine = (reason: string) => `  the provider broke off its answer (${reason}); asking again\n`;
  if (!live) {
    return {
      onProgress: (progress) => progress.type === "retry" && output.write(retryLine(progress.reason)),
      onTurn: (line) => output.write(`  ${line}\n`),
    };
  }
  let open: "text" | "tool" | undefined;
  const shown = new Map<string, number>();
  const endLine = () => {
    if (open) output.write("\n");
    open = undefined;
  };
  return {
    onProgress(progress) {
      switch (progress.type) {
        case "text":
          if (open !== "text") {
            endLine();
            output.write("  model: ");
            open = "text";
          }
          output.write(progress.text.replace(/\n/g, "\n         "));
          return;
        case "tool-input-start":
          endLine();
          output.write(`  → ${progress.toolName} `);
          open = "tool";
          shown.set(progress.id, 0);
          return;
        case "tool-input-delta": {
          const already = shown.get(progress.id) ?? 0;
          if (already > shownInputLength) return; // cut already
          const room = shownInputLength - already;
          const cut = progress.delta.length > room;
          output.write(cut ? `${progress.delta.slice(0, room)}…` : progress.delta);
          shown.set(progress.id, cut ? Number.POSITIVE_INFINITY : already + progress.delta.length);
          return;
        }
        case "tool-call":
          // A call whose input did not stream (none of ours today) still gets its line.
          if (!shown.has(progress.id)) {
            endLine();
            output.write(`  → ${progress.toolName} ${JSON.stringify(progress.input).slice(0, shownInputLength)}`);
            open = "tool";
          }
          endLine();
          return;
        case "retry":
          endLine();
          output.write(retryLine(progress.reason));
          return;
      }
    },
    onTurn(line) {
      endLine();
      output.write(`  ${line}\n`);
    },
  };
}

/** Whether a stream is a terminal a person watches. */
export function isTerminal(stream: NodeJS.WritableStream): boolean {
  return (stream as NodeJS.WriteStream).isTTY === true;
}
