import { describe, expect, it } from "vitest";
import { exactDifference } from "./update-restore.js";

describe("exactDifference", () => {
  it("subtracts decimal texts exactly, beyond what a double holds", () => {
    expect(exactDifference("12345678901234567890.125", "0.5")).toBe("12345678901234567889.625");
    expect(exactDifference("-0.5", "1")).toBe("-1.5");
    expect(exactDifference("7", "7.00")).toBe("0.00");
    expect(exactDifference("-9223372036854775808", "9223372036854775807")).toBe("-18446744073709551615");
  });
});
