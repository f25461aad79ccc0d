import { describe, expect, it } from "vitest";
import { inSettingUnit, sameSettingValue, settingWithUnit } from "./setting-values.js";

describe("setting values", () => {
  it("writes a numeric setting with its unit, folding in a unit's multiple", () => {
    expect(settingWithUnit("4096", "kB")).toBe("4096kB");
    expect(settingWithUnit("16384", "8kB")).toBe("131072kB");
    expect(settingWithUnit("200", "ms")).toBe("200ms");
    expect(settingWithUnit("on", null)).toBe("on");
    expect(settingWithUnit("100", null)).toBe("100");
    expect(settingWithUnit("read committed", "kB")).toBe("read committed");
  });

  it("reads a value in the setting's unit and tells equal values apart from different ones", () => {
    expect(inSettingUnit("64MB", "kB")).toBe(65536);
    expect(inSettingUnit("1s", "ms")).toBe(1000);
    expect(sameSettingValue("8MB", "8192kB", "kB")).toBe(true);
    expect(sameSettingValue("ON", "1")).toBe(true);
    expect(sameSettingValue("8MB", "4MB", "kB")).toBe(false);
  });
});
