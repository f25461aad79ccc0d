import { describe, expect, it } from "vitest";
import { summarizeConflicts } from "./conflict-summary.js";

describe("summarizeConflicts", () => {
  it("keeps a few conflicts as they are and folds many into a count per resource with examples", () => {
    const many = Array.from({ length: 283 }, (_, index) => `public.accounts row (${index}): column abalance was changed`);
    const summary = summarizeConflicts([...many, "public.tellers row (1): column tbalance was changed"]);
    expect(summary).toEqual([
      "public.accounts: 283 conflicts, e.g. public.accounts row (0): column abalance was changed; public.accounts row (1): column abalance was changed; public.accounts row (2): column abalance was changed; … and 280 more (every one is in the JSON report)",
      "public.tellers row (1): column tbalance was changed",
    ]);
  });
});
