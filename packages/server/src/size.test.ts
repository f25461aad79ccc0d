import { describe, expect, it } from "vitest";
import { formatSize, parseSize } from "./size.js";

describe("parseSize", () => {
  it("reads decimal and binary units", () => {
    expect(parseSize("5GB")).toBe(5_000_000_000);
    expect(parseSize("512MiB")).toBe(512 * 1024 ** 2);
    expect(parseSize("100M")).toBe(100 * 1024 ** 2);
    expect(parseSize("1.5k")).toBe(1536);
    expect(parseSize(4096)).toBe(4096);
    expect(parseSize("lots")).toBeUndefined();
    expect(parseSize("5 parsecs")).toBeUndefined();
    expect(formatSize(16 * 1024 ** 2)).toBe("16.0 MiB");
  });
});
