import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { createRecordingTarget, makeTempDirectory } from "@chaos-agents/testing";
import { afterEach, describe, expect, it } from "vitest";
import { ConfigError } from "../errors/index.js";
import { loadConfigFile, parseExperiment } from "./load-config.js";

const temp = makeTempDirectory();
afterEach(() => undefined);

function write(name: string, text: string): string {
  const path = join(temp.path, name);
  writeFileSync(path, text);
  return path;
}

async function problems(text: string, env: NodeJS.ProcessEnv = {}): Promise<string[]> {
  const { registry } = createRecordingTarget("database");
  const file = write("bad.yaml", text);
  try {
    await loadConfigFile(file, { registry, env });
  } catch (error) {
    expect(ConfigError.isInstance(error)).toBe(true);
    return (error as ConfigError).issues.map((issue) => `${issue.line}:${issue.column} ${issue.path}: ${issue.message}`);
  }
  throw new Error("expected the config to be rejected");
}

const valid = `experiments:
  - name: "load"
    target: database
    target_config: { name: "shop", password: "\${DB_PASSWORD}" }
    skills:
      - skill_name: "db.set_value"
        params:
          value: "x"
          repeat: \${REPEAT:-3}
    duration: "1h30m"
    resource_filters: ["al.*"]
`;

describe("loadConfigFile", () => {
  it("loads a valid file, interpolating the environment and applying defaults", async () => {
    const { registry } = createRecordingTarget("database");
    const loaded = await loadConfigFile(write("ok.yaml", valid), { registry, env: { DB_PASSWORD: "pw" } });
    expect(loaded.config.form).toBe("experiments");
    if (loaded.config.form !== "experiments") return;
    const [experiment] = loaded.config.experiments;
    expect(experiment?.target_config).toEqual({ name: "shop", password: "pw" });
    // ${REPEAT:-3} was unquoted, so it is the number 3, as if written literally.
    expect(experiment?.skills[0]?.params).toEqual({ value: "x", repeat: 3 });
    expect(experiment?.parallel).toBe(false);
    expect(experiment?.duration).toBe("1h30m");
    expect(loaded.hash).toMatch(/^[0-9a-f]{64}$/);
  });

  it("reports every problem at once, each with line, column and path", async () => {
    const found = await problems(`experiments:
  - name: "load"
    target: database
    target_config: { name: "shop" }
    skils: []
    skills:
      - skill_name: "db.set_valeu"
      - skill_name: "db.set_value"
        params: { value: "x", repeat: "ten" }
    duration: "5 minutes"
`);
    expect(found).toEqual([
      '5:5 experiments[0].skils: unknown key "skils": did you mean "skills"? (unknown keys are not ignored)',
      '7:21 experiments[0].skills[0].skill_name: unknown skill "db.set_valeu"; did you mean "db.set_value"?',
      '9:39 experiments[0].skills[1].params.repeat: expected a positive integer, got "ten"',
      '10:15 experiments[0].duration: expected a duration such as "90s", "5m" or "1h30m", got "5 minutes"',
    ]);
  });

  it("names an unset environment variable and where it is used", async () => {
    const found = await problems(valid);
    expect(found).toEqual([
      "4:46 experiments[0].target_config.password: environment variable DB_PASSWORD is not set (set it, or give a default: ${DB_PASSWORD:-value})",
    ]);
  });

  it("reports malformed YAML with its position", async () => {
    const found = await problems("experiments:\n  - name: [unclosed\n");
    expect(found).toHaveLength(1);
    expect(found[0]).toMatch(/^\d+:\d+ : YAML: /);
  });

  it("rejects a skill of another target and a target_config the target does not accept", async () => {
    const found = await problems(`experiments:
  - name: "x"
    target: database
    target_config: { nme: "shop" }
    skills:
      - skill_name: "db.observe_values"
        params: { extra: 1 }
`);
    expect(found).toEqual([
      "4:20 experiments[0].target_config.name: missing: expected text",
      '4:22 experiments[0].target_config.nme: unknown key "nme": did you mean "name"? (unknown keys are not ignored)',
      '7:19 experiments[0].skills[0].params.extra: unknown key "extra" (check its spelling; unknown keys are not ignored)',
    ]);
  });

  it("checks an experiment written in code (parseExperiment) exactly as a file: skill target, skill name, params", () => {
    const { registry } = createRecordingTarget("database");
    createRecordingTarget("server").skills.forEach((skill) => {
      registry.addSkill(skill);
    });
    const experiment = (skill_name: string, params: Record<string, unknown> = { value: "x" }) => ({
      name: "in code",
      target: "database" as const,
      target_config: { name: "world" },
      skills: [{ skill_name, params }],
    });
    const issues = (input: ReturnType<typeof experiment>) => {
      try {
        parseExperiment(input, registry);
      } catch (error) {
        expect(ConfigError.isInstance(error)).toBe(true);
        return (error as ConfigError).issues.map((issue) => `${issue.path}: ${issue.message}`);
      }
      throw new Error("expected the experiment to be rejected");
    };
    expect(issues(experiment("server.set_value"))).toEqual([
      "skills[0].skill_name: skill server.set_value acts on server targets, but this experiment's target is database",
    ]);
    expect(issues(experiment("db.set_valu"))[0]).toMatch(/unknown skill "db\.set_valu"; did you mean "db\.set_value"\?/);
    expect(issues(experiment("db.set_value", { value: 3 }))).toEqual(["skills[0].params.value: expected text, got 3"]);
    expect(parseExperiment(experiment("db.set_value"), registry).skills[0]?.params).toEqual({ value: "x", repeat: 1 });
  });

  it("resolves target_alias from the targets: section, secrets through ${ENV}, and names a wrong alias once", async () => {
    const { registry } = createRecordingTarget("database");
    const file = write(
      "aliases.yaml",
      `targets:
  shop: { target: database, target_config: { name: "shop", password: "\${DB_PASSWORD}" } }
experiments:
  - name: "by alias"
    target_alias: shop
    skills: [{ skill_name: db.set_value, params: { value: "x" } }]
`,
    );
    const loaded = await loadConfigFile(file, { registry, env: { DB_PASSWORD: "pw" } });
    expect(loaded.config.form === "experiments" && loaded.config.experiments[0]).toMatchObject({
      target: "database",
      target_config: { name: "shop", password: "pw" },
    });
    expect(
      await problems(`targets:
  shop: { target: database, target_config: { nme: "shop" } }
experiments:
  - name: "x"
    target_alias: shp
    skills: [{ skill_name: db.set_value, params: { value: "x" } }]
  - name: "y"
    target_alias: shop
    target: database
    skills: [{ skill_name: db.set_value, params: { value: "x" } }]
`),
    ).toEqual([
      "2:44 targets.shop.target_config.name: missing: expected text",
      '2:46 targets.shop.target_config.nme: unknown key "nme": did you mean "name"? (unknown keys are not ignored)',
      '5:5 experiments[0].target_alias: unknown target alias "shp"; the targets: section names shop',
      "8:5 experiments[1].target_alias: give either target_alias or target and target_config, not both",
    ]);
  });

  it("says each problem once, in words: a missing mapping, a number too large, an unset variable, a missing plugin, a YAML slip", async () => {
    expect(
      await problems(`plugins: ["./nope.js"]
experiments:
  - name: "x"
    target: database
    skills: [{ skill_name: db.set_value, params: { value: "v", repeat: 1e300 } }]
  - name: "y"
    target: database
    target_config: { name: \${UNSET_NAME} }
    skills: [{ skill_name: db.set_value, params: { value: "v" } }]
`),
    ).toEqual([
      `1:11 plugins[0]: cannot load plugin ./nope.js: there is no file ${join(temp.path, "nope.js")}`,
      "3:5 experiments[0].target_config: missing: expected a mapping (key: value)",
      "5:72 experiments[0].skills[0].params.repeat: expected a positive integer, got a number too large to use",
      "8:28 experiments[1].target_config.name: environment variable UNSET_NAME is not set (set it, or give a default: ${UNSET_NAME:-value})",
    ]);
    const [yaml] = await problems("experiments:\n  - name: [oops\n");
    expect(yaml).toMatch(/^3:1 : YAML: Flow sequence in block collection must be sufficiently indented and end with a \]$/);
  });

  it("refuses two experiments of one name (recover finds an experiment by its name)", async () => {
    const entry = `  - name: "twice"
    target: database
    target_config: { name: "shop" }
    skills: [{ skill_name: db.set_value, params: { value: "x" } }]
`;
    expect(await problems(`experiments:\n${entry}${entry}`)).toEqual([
      '6:11 experiments[1].name: another experiment (the 1st) is named "twice" too; names must be unique',
    ]);
  });

  it("knows the daemon and LLM forms", async () => {
    const { registry } = createRecordingTarget("database");
    const daemon = await loadConfigFile(
      write(
        "daemon.yaml",
        `settings: { max_concurrent: 2 }
experiments:
  - schedule: "*/5 * * * *"
    experiment:
      name: nightly
      target: database
      target_config: { name: "shop" }
      skills: [{ skill_name: db.set_value, params: { value: "y" } }]
`,
      ),
      { registry, env: {} },
    );
    expect(daemon.config.form).toBe("daemon");
    const llm = await loadConfigFile(
      write(
        "llm.yaml",
        `llm: { provider: anthropic, api_key: "\${KEY:-none}", model: claude-sonnet-4-5, max_tokens: 4096 }
mcp_servers:
  - { name: docs, transport: stdio, command: "docs-server" }
max_turns: 8
`,
      ),
      { registry, env: {} },
    );
    expect(llm.config.form).toBe("llm");
    await expect(
      loadConfigFile(write("bad-cron.yaml", daemonWith("every day")), { registry: createRecordingTarget("database").registry, env: {} }),
    ).rejects.toThrow(/experiments\[0\]\.schedule: not a valid cron schedule/);
  });
});

function daemonWith(schedule: string): string {
  return `experiments:
  - schedule: "${schedule}"
    experiment: { name: n, target: database, target_config: { name: s }, skills: [{ skill_name: db.set_value, params: { value: v } }] }
`;
}
