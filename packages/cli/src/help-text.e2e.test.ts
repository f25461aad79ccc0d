import { readFileSync } from "node:fs";
import { runChaos } from "@chaos-agents/testing";
import { describe, expect, it } from "vitest";
import { helpTextFile, renderHelp } from "./help-text.js";

// `chaos --help` prints a text `npm run build` rendered; it must be what the parser renders now.
describe("chaos --help", () => {
  it("prints, without the parser, exactly what the command table renders (rebuild with `npm run build` if this fails)", async () => {
    const rendered = await renderHelp();
    expect(rendered).toMatch(/^Usage: chaos \[options\] \[command\]\n/);
    expect(rendered).toMatch(/\n {2}validate <file> +check a config file completely/);
    expect(readFileSync(helpTextFile, "utf8")).toBe(rendered);
    for (const args of [["--help"], ["-h"], ["help"]]) {
      const result = await runChaos(args);
      expect(result.exitCode, args.join(" ")).toBe(0);
      expect(result.stdout, args.join(" ")).toBe(rendered);
    }
  });

  it("is 80 columns wide on a wider terminal too, so the printed text is the parser's help anywhere", async () => {
    const stdout = process.stdout as { isTTY?: boolean; columns?: number };
    const saved = { isTTY: stdout.isTTY, columns: stdout.columns };
    Object.assign(stdout, { isTTY: true, columns: 200 });
    let rendered: string;
    try {
      rendered = await renderHelp();
    } finally {
      Object.assign(stdout, saved);
    }
    expect(rendered).toBe(readFileSync(helpTextFile, "utf8"));
    expect(Math.max(...rendered.split("\n").map((line) => line.length))).toBeLessThanOrEqual(80);
  });
});
