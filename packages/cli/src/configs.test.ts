import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { configJsonSchema, loadConfigFile } from "@chaos-agents/core";
import { describe, expect, it } from "vitest";
import { createBuiltinRegistry } from "./builtin-registry.js";
import { demoConfigPath } from "./commands/demo.js";

const root = fileURLToPath(new URL("../../../", import.meta.url));
const examples = readdirSync(join(root, "config"))
  .filter((name) => name.endsWith(".yaml"))
  .map((name) => join(root, "config", name));

describe("shipped configs", () => {
  it.each([...examples, demoConfigPath])("%s is valid", async (file) => {
    const loaded = await loadConfigFile(file, {
      registry: createBuiltinRegistry(),
      env: { CHAOS_DEMO_URL: "postgres://demo@127.0.0.1/shop" },
    });
    expect(loaded.config.form).toMatch(/experiments|daemon|llm/);
  });

  it("the committed JSON Schema is current (regenerate with `npm run schema`)", () => {
    const committed = JSON.parse(readFileSync(join(root, "schema", "chaos-config.schema.json"), "utf8"));
    expect(committed).toEqual(configJsonSchema(createBuiltinRegistry()));
  });
});
