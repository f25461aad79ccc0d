import { describe, expect, it } from "vitest";
import { closest } from "./registry.js";

describe("closest: what a misspelt or shortened name meant", () => {
  const skills = ["db.insert_load", "db.update_load", "db.select_load", "server.cpu_stress", "server.memory_stress"];

  it("suggests the nearest name for a typo", () => {
    expect(closest("db.insert_lod", skills)).toBe("db.insert_load");
    expect(closest("server.cpu_stres", skills)).toBe("server.cpu_stress");
  });

  it("suggests the one name a shortened word begins, and none when several do", () => {
    expect(closest("db.insert", skills)).toBe("db.insert_load");
    expect(closest("server.mem", skills)).toBe("server.memory_stress");
    expect(closest("server.", skills)).toBeUndefined();
    expect(closest("db", skills)).toBeUndefined();
  });

  it("suggests nothing for a name far from every candidate", () => {
    expect(closest("k8s.pod_kill", skills)).toBeUndefined();
  });
});
