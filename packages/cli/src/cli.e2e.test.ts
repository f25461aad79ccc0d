import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { chaosEventSchema } from "@chaos-agents/core";
import { chaosBinary, makeTempDirectory, runChaos, startChaos } from "@chaos-agents/testing";
import { afterAll, beforeEach, describe, expect, it } from "vitest";

const plugin = fileURLToPath(new URL("./__fixtures__/file-skills.js", import.meta.url));
const temp = makeTempDirectory("chaos-e2e-");
afterAll(temp.remove);

let directory: string;
let journal: string;
let counter = 0;

/** A folder of files the plugin will overwrite; some exist before, some do not. */
function snapshot(folder: string): Record<string, string> {
  return Object.fromEntries(readdirSync(folder).map((name) => [name, readFileSync(join(folder, name), "utf8")]));
}

function config(params: Record<string, unknown>, extra = ""): string {
  const path = join(temp.path, `experiment-${++counter}.yaml`);
  writeFileSync(
    path,
    `plugins: ["${plugin}"]
experiments:
  - name: "files"
    target: server
    target_config: { local: true }
    skills:
      - skill_name: server.fixture_overwrite
        params: ${JSON.stringify({ directory, ...params })}
${extra}`,
  );
  return path;
}

beforeEach(() => {
  directory = join(temp.path, `data-${++counter}`);
  mkdirSync(directory);
  for (let index = 0; index < 5; index++) writeFileSync(join(directory, `file-${index}.txt`), `original ${index}\n`);
  journal = join(temp.path, `journal-${counter}.sqlite`);
});

describe("chaos binary", () => {
  it("prints its version and help, and exits 2 on a usage error", async () => {
    expect((await runChaos(["--version"])).stdout.trim()).toMatch(/^\d+\.\d+\.\d+$/);
    const help = await runChaos(["run", "--help"]);
    expect(help.exitCode).toBe(0);
    expect(help.stdout).toContain("--dry-run");
    expect((await runChaos(["explode"])).exitCode).toBe(2);
  });

  // The machine's own Node (Debian's, 20 on these machines) stands in for a user's old runtime.
  const oldNode = ["/usr/bin/node", "/usr/local/bin/node"].find((path) => {
    const version = existsSync(path) ? execFileSync(path, ["-p", "process.versions.node"]).toString().trim() : "99.0.0";
    const [major = 99, minor = 0] = version.split(".").map(Number);
    return major < 22 || (major === 22 && minor < 19);
  });
  it.skipIf(!oldNode)("on a Node older than 22.19 says which Node it needs in one line and exits 2", () => {
    const result = spawnSync(oldNode!, [chaosBinary, "--version"], { encoding: "utf8" });
    expect(result.status).toBe(2);
    expect(result.stderr).toMatch(/^error: chaos needs Node\.js 22\.19 or newer \(24 recommended\); this is v\d+/);
    expect(result.stderr).not.toMatch(/\n\s+at /); // no stack trace
  });

  it("runs on the project's runtime, Node 24, without an experimental warning", async () => {
    expect(process.versions.node.split(".")[0]).toBe("24");
    const result = await runChaos(["list-skills"]);
    expect(result.exitCode).toBe(0);
    expect(result.stderr).not.toMatch(/Warning/);
  });

  it("describes a skill's params for people and as JSON, and suggests a name for a typo", async () => {
    const human = await runChaos(["describe", "db.insert_load"]);
    expect(human.exitCode).toBe(0);
    expect(human.stdout).toMatch(/^db\.insert_load \(database target, rolled back exactly\)\n/);
    expect(human.stdout).toMatch(/ {2}rows_per_table: integer, > 0 and ≤ 10000000, default 1000\n/);
    const json = JSON.parse((await runChaos(["--output", "json", "describe", "server.disk_fill"])).stdout.trim()).details.skill;
    expect(json).toMatchObject({ name: "server.disk_fill", target: "server", params: { type: "object" } });
    expect(Object.keys(json.params.properties)).toContain("target_mount");
    const typo = await runChaos(["describe", "db.insrt_load"]);
    expect(typo.exitCode).toBe(2);
    expect(typo.stderr).toContain('unknown skill "db.insrt_load"; did you mean "db.insert_load"?');
  });

  it("lists built-in and plugin skills in a table", async () => {
    const result = await runChaos(["list-skills", "--plugin", plugin, "--target", "server"]);
    expect(result.exitCode).toBe(0);
    const lines = result.stdout.split("\n");
    expect(lines[0]).toMatch(/^SKILL\s+TARGET\s+DESCRIPTION$/);
    expect(lines[1]).toBe("-".repeat(70));
    expect(result.stdout).toMatch(/server\.fixture_overwrite\s+server\s+Overwrite files/);
  });

  it("runs an experiment end to end and leaves every file as it was", async () => {
    const before = snapshot(directory);
    const report = join(temp.path, "report.json");
    const result = await runChaos(["run", config({ files: 8 }, '    duration: "50ms"'), "--journal", journal, "--report", report]);
    expect(result.stderr).toContain("injected server.fixture_overwrite");
    expect(result.exitCode).toBe(0);
    expect(snapshot(directory)).toEqual(before);
    const written = JSON.parse(readFileSync(report, "utf8"));
    expect(written.experiments[0]).toMatchObject({ status: "succeeded", rollback: { steps: 8, done: 8, failed: [] } });
    expect(result.stdout).toContain("rollback: 8/8 steps done");
  });

  it("emits JSON lines with --output json, each valid against the documented, versioned events schema", async () => {
    const result = await runChaos(["--output", "json", "run", config({ files: 2 }, '    duration: "1ms"'), "--journal", journal]);
    expect(result.exitCode).toBe(0);
    const events = result.stdout
      .trim()
      .split("\n")
      .map((line) => JSON.parse(line));
    expect(events[0]).toMatchObject({ type: "experiment_started", target: "server", schema_version: 1 });
    for (const event of events) expect(chaosEventSchema.safeParse(event).error, JSON.stringify(event)).toBeUndefined();
    expect(events.at(-2)).toMatchObject({ type: "experiment_finished", status: "succeeded" });
    expect(events.at(-1)).toMatchObject({ type: "command_finished", command: "run", exitCode: 0, ok: true });
    expect(events.filter((event) => event.type === "command_finished")).toHaveLength(1);
    expect(events.map((event) => event.type)).toContain("rollback_started");
  });

  it("changes nothing in a dry run", async () => {
    const before = snapshot(directory);
    const result = await runChaos(["run", "--dry-run", config({ files: 8 }), "--journal", journal]);
    expect(result.exitCode).toBe(0);
    expect(result.stderr).toContain("plan server.fixture_overwrite: overwrite 8 files");
    expect(snapshot(directory)).toEqual(before);
  });

  it("exits 5 when a skill fails, after rolling back what it did", async () => {
    const before = snapshot(directory);
    const result = await runChaos(["run", config({ files: 8, fail_after: 3 }), "--journal", journal]);
    expect(result.exitCode).toBe(5);
    expect(result.stdout).toContain("fixture failure after 3 files");
    expect(snapshot(directory)).toEqual(before);
  });

  it("on SIGINT rolls back and exits 130", async () => {
    const before = snapshot(directory);
    const run = startChaos(["run", config({ files: 3 }, '    duration: "1h"'), "--journal", journal]);
    await run.waitFor("holding faults");
    expect(snapshot(directory)).not.toEqual(before);
    run.child.kill("SIGINT");
    const result = await run.done;
    expect(result.exitCode).toBe(130);
    expect(result.stderr).toContain("SIGINT: stopping injection and rolling back");
    expect(snapshot(directory)).toEqual(before);
  });

  it("after kill -9 mid-injection, refuses to run again, and recover restores everything exactly once", async () => {
    const before = snapshot(directory);
    const file = config({ files: 40, delay_ms: 25 });
    const run = startChaos(["--output", "json", "run", file, "--journal", journal]);
    await run.waitFor(/"done":12,/);
    run.child.kill("SIGKILL");
    expect((await run.done).signal).toBe("SIGKILL");
    const changed = snapshot(directory);
    expect(Object.keys(changed).length).toBeGreaterThanOrEqual(12);
    expect(changed).not.toEqual(before);

    const refused = await runChaos(["run", file, "--journal", journal]);
    expect(refused.exitCode).toBe(7);
    expect(refused.stderr).toContain("run `chaos recover` first");

    const recovered = await runChaos(["recover", "--journal", journal]);
    expect(recovered.stderr + recovered.stdout).not.toContain("error");
    expect(recovered.exitCode).toBe(0);
    expect(recovered.stdout).toMatch(/✓ files \[c\w+-\w+\] on local:\/\/\S+: (\d+)\/\1 steps done/);
    expect(snapshot(directory)).toEqual(before);

    const again = await runChaos(["recover", "--journal", journal]);
    expect(again.exitCode).toBe(0);
    expect(again.stdout).toContain("nothing to recover");
    expect(snapshot(directory)).toEqual(before);
  });

  it("recover leaves a running experiment to its process (exit 8), status shows it, and --force stops it first", async () => {
    const before = snapshot(directory);
    const run = startChaos(["run", config({ files: 3 }, '    duration: "1h"'), "--journal", journal]);
    await run.waitFor("holding faults");

    const status = await runChaos(["status", "--journal", journal]);
    expect(status.exitCode).toBe(0);
    expect(status.stdout).toMatch(
      new RegExp(
        `▶ running +files \\[c\\w+-\\w+\\] on server local://\\S+\\n +pid ${run.child.pid} on \\S+, started \\S+ ago, 3 of 3 rollback steps left`,
      ),
    );

    const polite = await runChaos(["recover", "--journal", journal]);
    expect(polite.exitCode).toBe(8);
    expect(polite.stdout).toContain(`left alone: running in process ${run.child.pid}`);
    expect(snapshot(directory)).not.toEqual(before); // the faults are still the run's
    expect(run.child.exitCode).toBeNull();

    const forced = await runChaos(["recover", "--force", "--journal", journal]);
    const ended = await run.done;
    expect(ended.exitCode).toBe(143); // it was stopped with SIGTERM and rolled back itself
    expect(forced.exitCode, forced.stdout + forced.stderr).toBe(0);
    expect(snapshot(directory)).toEqual(before);
    expect((await runChaos(["status", "--journal", journal])).stdout).toContain("no running or unfinished experiments");
  });

  it("a closed stdout (| head) stops nothing: the experiment still rolls back exactly", async () => {
    const before = snapshot(directory);
    const run = startChaos(["--output", "json", "run", config({ files: 3 }, '    duration: "2s"'), "--journal", journal]);
    await run.waitFor("experiment_started");
    run.child.stdout?.destroy(); // the reader went away, as `head` does after its lines
    const result = await run.done;
    expect(result.stderr).not.toContain("EPIPE");
    expect(result.stderr).not.toContain("internal error");
    expect(result.exitCode).toBe(0);
    expect(snapshot(directory)).toEqual(before);
    expect((await runChaos(["status", "--journal", journal])).stdout).toContain("no running or unfinished experiments");
  });

  it("an events file or journal path that cannot be used is a one-line error (exit 2) and changes nothing", async () => {
    const before = snapshot(directory);
    for (const args of [
      ["--events-file", temp.path, "run", config({ files: 3 }), "--journal", journal],
      ["run", config({ files: 3 }), "--journal", temp.path],
      ["run", config({ files: 3 }), "--journal", join(directory, "file-0.txt")],
    ]) {
      const result = await runChaos(args);
      expect(result.exitCode, result.stderr).toBe(2);
      expect(result.stderr).toMatch(/^error: cannot (open|write) .*\n$/);
    }
    expect(snapshot(directory)).toEqual(before);
  });

  it("uses CHAOS_JOURNAL when no --journal is given", async () => {
    const result = await runChaos(["run", config({ files: 1 }, '    duration: "1ms"')], { CHAOS_JOURNAL: journal });
    expect(result.exitCode).toBe(0);
    expect(existsSync(journal)).toBe(true);
  });
});

describe("bad configs", () => {
  const cases: [string, string, RegExp][] = [
    ["malformed YAML", "experiments:\n  - name: [oops\n", /bad\.yaml:\d+:\d+: YAML: /],
    [
      "wrong types",
      'experiments:\n  - name: x\n    target: database\n    target_config: { connection_url: "postgres://u:hunter2@h/d", db_type: postgres }\n    skills: [{ skill_name: db.insert_load, params: { rows_per_table: "ten" } }]\n    parallel: "no"\n',
      /bad\.yaml:5:\d+: experiments\[0\]\.skills\[0\]\.params\.rows_per_table: expected a positive integer, got "ten"[\s\S]*bad\.yaml:6:\d+: experiments\[0\]\.parallel: expected true or false, got "no"/,
    ],
    [
      "unknown skill",
      "experiments:\n  - name: x\n    target: server\n    target_config: { local: true }\n    skills: [{ skill_name: server.dsk_fill }]\n",
      /bad\.yaml:5:\d+: experiments\[0\]\.skills\[0\]\.skill_name: unknown skill "server\.dsk_fill"/,
    ],
    [
      "unset environment variable",
      'experiments:\n  - name: x\n    target: server\n    target_config: { local: "${IS_LOCAL}" }\n    skills: []\n',
      /bad\.yaml:4:\d+: experiments\[0\]\.target_config\.local: environment variable IS_LOCAL is not set/,
    ],
    [
      "a mysql URL with db_type postgres",
      'experiments:\n  - name: x\n    target: database\n    target_config: { connection_url: "mysql://root:hunter2@db/shop", db_type: postgres }\n    skills: [{ skill_name: db.select_load }]\n',
      /bad\.yaml:4:\d+: experiments\[0\]\.target_config\.db_type: db_type does not match the URL's scheme/,
    ],
    [
      "YAML alias bomb (billion laughs)",
      `a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n${"bcdefg"
        .split("")
        .map((name, index) => `${name}: &${name} [${Array(9).fill(`*${"abcdefg"[index]}`).join(",")}]`)
        .join("\n")}\nexperiments: *g\n`,
      /bad\.yaml: YAML: its aliases \(\*name\) expand to too much data/,
    ],
  ];

  it.each(cases)("%s: exits 3 with a clear message for validate and run", async (_name, text, expected) => {
    const file = join(temp.path, "bad.yaml");
    writeFileSync(file, text);
    for (const command of [
      ["validate", file],
      ["run", file, "--journal", journal],
    ]) {
      const result = await runChaos(command);
      expect(result.exitCode).toBe(3);
      expect(result.stderr).toMatch(expected);
      expect(result.stderr).not.toContain("hunter2");
    }
  });

  it("exits 3 when the file does not exist", async () => {
    const result = await runChaos(["validate", join(temp.path, "missing.yaml")]);
    expect(result.exitCode).toBe(3);
    expect(result.stderr).toContain("cannot read the file");
  });

  describe("--output json: every command, JSON lines only, exactly one final event", () => {
    const lines = (stdout: string) =>
      stdout
        .trim()
        .split("\n")
        .map((line) => JSON.parse(line) as Record<string, unknown>);
    const finalEventOf = (stdout: string) => {
      const events = lines(stdout);
      for (const event of events) expect(chaosEventSchema.safeParse(event).error, JSON.stringify(event)).toBeUndefined();
      expect(events.filter((event) => event.type === "command_finished")).toHaveLength(1);
      return events.at(-1);
    };

    it("validate, list-skills, status and history end with command_finished, their facts in details", async () => {
      const valid = await runChaos(["--output", "json", "validate", config({ files: 1 })]);
      expect(valid.exitCode).toBe(0);
      expect(finalEventOf(valid.stdout)).toMatchObject({
        type: "command_finished",
        command: "validate",
        exitCode: 0,
        ok: true,
        details: { valid: true, form: "experiments", experiments: ["files"] },
      });
      const skills = await runChaos(["--output", "json", "list-skills", "--target", "database"]);
      const listed = finalEventOf(skills.stdout) as { details: { skills: { name: string }[] } };
      expect(listed.details.skills.map((skill) => skill.name)).toContain("db.insert_load");
      for (const command of [["status"], ["history"], ["recover"], ["describe", "db.select_load"]]) {
        const result = await runChaos(["--output", "json", ...command, "--journal", journal]);
        expect(finalEventOf(result.stdout), command[0]).toMatchObject({ command: command[0], exitCode: result.exitCode });
      }
      // A past run's report, in the final event too: stdout never holds a line that is not an event.
      await runChaos(["run", config({ files: 1 }), "--journal", journal]);
      const history = finalEventOf((await runChaos(["--output", "json", "history", "--journal", journal])).stdout) as {
        details: { experiments: { experimentId: string }[] };
      };
      const id = history.details.experiments[0]?.experimentId as string;
      const report = finalEventOf((await runChaos(["--output", "json", "report", id, "--journal", journal])).stdout);
      expect(report).toMatchObject({ command: "report", ok: true, details: { report: { experimentId: id, status: "succeeded" } } });
    });

    it("a config error, a usage error and a connection error are JSON events too, with the exit code", async () => {
      const file = join(temp.path, "broken.yaml");
      writeFileSync(file, "experiments:\n  - name: x\n    target: database\n    target_config: { db_type: postgres }\n    skills: []\n");
      const invalid = await runChaos(["--output", "json", "validate", file]);
      expect(invalid.exitCode).toBe(3);
      expect(finalEventOf(invalid.stdout)).toMatchObject({
        command: "validate",
        exitCode: 3,
        ok: false,
        error: `invalid config ${file} (2 problems)`,
        issues: [
          { path: "experiments[0].target_config.connection_url", line: 4, message: "missing: expected text" },
          { path: "experiments[0].skills", message: "expected at least one skill" },
        ],
      });
      const usage = await runChaos(["--output", "json", "frobnicate"]);
      expect(usage.exitCode).toBe(2);
      expect(finalEventOf(usage.stdout)).toMatchObject({ command: "frobnicate", exitCode: 2, error: "unknown command 'frobnicate'" });

      const unreachable = join(temp.path, "unreachable.yaml");
      writeFileSync(
        unreachable,
        'experiments:\n  - name: x\n    target: database\n    target_config: { connection_url: "postgres://chaos:s3cret@127.0.0.1:1/shop", db_type: postgres }\n    skills: [{ skill_name: db.select_load }]\n    duration: 1s\n',
      );
      const refused = await runChaos(["--output", "json", "run", unreachable, "--journal", journal]);
      expect(refused.exitCode).toBe(4);
      const final = finalEventOf(refused.stdout) as { error: string };
      expect(final).toMatchObject({ command: "run", exitCode: 4, ok: false });
      expect(final.error).toContain("127.0.0.1:1");
      expect(refused.stdout).not.toContain("s3cret");
    });
  });

  it("colours on a terminal only, and never with NO_COLOR or --no-color", async () => {
    const file = join(temp.path, "missing.yaml");
    // `script` (util-linux, essential on Debian) gives the command a real pseudo-terminal.
    const inTerminal = (args: string[], env: NodeJS.ProcessEnv = {}) =>
      spawnSync("script", ["-qec", [process.execPath, chaosBinary, ...args].map((word) => `'${word}'`).join(" "), "/dev/null"], {
        env: { PATH: process.env.PATH, HOME: process.env.HOME, TERM: "xterm", ...env },
        encoding: "utf8",
      }).stdout;
    const coloured = inTerminal(["validate", file]);
    expect(coloured).toContain("\x1b[31merror:\x1b[39m invalid config");
    expect(coloured).toContain("there is no such file (check the path)");
    expect(inTerminal(["validate", file], { NO_COLOR: "1" })).not.toContain("\x1b[");
    expect(inTerminal(["--no-color", "validate", file])).not.toContain("\x1b[");
    const piped = await runChaos(["validate", file]);
    expect(piped.stderr).not.toContain("\x1b[");
    expect(piped.stderr).toContain("there is no such file (check the path)");
  });
});
