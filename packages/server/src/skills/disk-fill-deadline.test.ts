import { describe, expect, it } from "vitest";
import { fillDeadlineMs } from "./server-disk-fill.js";

describe("disk_fill's deadline", () => {
  it("is a command's usual minute for small fills, and grows with the size at a slow disk's 20 MiB/s", () => {
    expect(fillDeadlineMs(16 * 1024 ** 2)).toBe(60_000);
    expect(fillDeadlineMs(1024 ** 3)).toBe(60_000);
    expect(fillDeadlineMs(10 * 1024 ** 3)).toBe(512_000);
  });
});
