import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { configJsonSchema, eventsJsonSchema, loadConfigFile, type TargetKind } from "@chaos-agents/core";
import { makeTempDirectory } from "@chaos-agents/testing";
import { afterAll, describe, expect, it } from "vitest";
import { parse as parseYaml, stringify as stringifyYaml } from "yaml";
import { createBuiltinRegistry } from "./builtin-registry.js";
import { demoConfigPath } from "./commands/demo.js";

const root = fileURLToPath(new URL("../../../", import.meta.url));
const temp = makeTempDirectory("chaos-configs-");
afterAll(temp.remove);
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

  // What people copy from the README must work as written: every YAML example validates (a fragment
  // that shows one target is checked inside an experiment of that target).
  const readme = readFileSync(join(root, "README.md"), "utf8");
  const snippets = [...readme.matchAll(/```yaml\n([\s\S]*?)```/g)].map((match) => match[1] as string);
  it.each(snippets.map((snippet, index) => [index + 1, snippet]))("README YAML example %i is valid", async (_index, snippet) => {
    const parsed = parseYaml(snippet) as Record<string, unknown>;
    const registry = createBuiltinRegistry();
    const whole =
      "target" in parsed
        ? { experiments: [{ name: "example", ...parsed, skills: [{ skill_name: registry.skills(parsed.target as TargetKind)[0]?.name }] }] }
        : parsed;
    const file = join(temp.path, "readme-example.yaml");
    writeFileSync(file, "target" in parsed ? stringifyYaml(whole) : snippet);
    const loaded = await loadConfigFile(file, { registry, env: { PGPASSWORD: "x" } });
    expect(loaded.config.form).toMatch(/experiments|daemon|llm/);
  });

  it("the committed events JSON Schema is current (regenerate with `npm run schema`)", () => {
    const committed = JSON.parse(readFileSync(join(root, "schema", "chaos-events.schema.json"), "utf8"));
    expect(committed).toEqual(eventsJsonSchema());
  });

  it("the committed JSON Schema is current (regenerate with `npm run schema`)", () => {
    const committed = JSON.parse(readFileSync(join(root, "schema", "chaos-config.schema.json"), "utf8"));
    expect(committed).toEqual(configJsonSchema(createBuiltinRegistry()));
  });
});

describe("validation catches what users get wrong, in words", () => {
  const problems = async (yaml: string) => {
    const file = join(temp.path, "wrong.yaml");
    writeFileSync(file, yaml);
    const error = await loadConfigFile(file, { registry: createBuiltinRegistry(), env: {} }).catch(
      (caught: { issues?: unknown }) => caught,
    );
    return ((error as { issues?: { path: string; message: string }[] }).issues ?? []).map((issue) => `${issue.path}: ${issue.message}`);
  };

  it("refuses a hold of 0s, and `local: true` together with `hosts`", async () => {
    expect(
      await problems(`experiments:
  - name: both
    target: server
    target_config: { local: true, hosts: [{ host: 10.0.0.1, username: root, auth: { type: agent } }] }
    skills: [{ skill_name: server.cpu_stress, params: { workers: 1 } }]
    duration: 0s
`),
    ).toEqual([
      "experiments[0].target_config.local: `local: true` and `hosts` together: say which one the experiment acts on (remove `hosts`, or `local`)",
      'experiments[0].duration: a hold of 0 shows nothing: give it a length such as "30s" (the shortest is "1ms"), got "0s"',
    ]);
  });

  it("suggests the key meant for an unknown one, in target configs, params and the experiment itself; types in words", async () => {
    expect(
      await problems(`experiments:
  - name: typo
    target: database
    target_config: { url: "postgres://127.0.0.1/shop", db_type: postgres }
    skills: [{ skill_name: db.insert_load, params: { rows_per_tabel: 10, tables: 3 } }]
    duraton: 5s
  - name: target-typo
    target: databse
    target_config: {}
    skills: [{ skill_name: db.select_load }]
`),
    ).toEqual([
      "experiments[0].target_config.connection_url: missing: expected text",
      'experiments[0].target_config.url: unknown key "url": did you mean "connection_url"? (unknown keys are not ignored)',
      'experiments[0].skills[0].params.rows_per_tabel: unknown key "rows_per_tabel": did you mean "rows_per_table"? (unknown keys are not ignored)',
      "experiments[0].skills[0].params.tables: expected a list, got 3",
      'experiments[0].duraton: unknown key "duraton": did you mean "duration"? (unknown keys are not ignored)',
      'experiments[1].target: expected one of database, kubernetes, server, got "databse"; did you mean "database"?',
    ]);
  });
});
