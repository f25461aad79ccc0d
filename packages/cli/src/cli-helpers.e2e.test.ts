import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { makeTempDirectory, runChaos } from "@chaos-agents/testing";
import { afterAll, describe, expect, it } from "vitest";

// The commands that help people write and look back: init, completion, history, report, run --experiment.
const plugin = fileURLToPath(new URL("./__fixtures__/file-skills.js", import.meta.url));
const temp = makeTempDirectory("chaos-helpers-");
afterAll(temp.remove);

function twoExperiments(directory: string): string {
  mkdirSync(directory, { recursive: true });
  const path = join(temp.path, `two-${readdirSync(temp.path).length}.yaml`);
  const entry = (name: string) => `  - name: "${name}"
    target: server
    target_config: { local: true }
    duration: "1ms"
    skills: [{ skill_name: server.fixture_overwrite, params: { directory: "${directory}", files: 2 } }]
`;
  writeFileSync(path, `plugins: ["${plugin}"]\nexperiments:\n${entry("alpha")}${entry("beta")}`);
  return path;
}

describe("chaos init", () => {
  it.each(["database", "server", "kubernetes"])("prints a %s starter that validates as printed", async (target) => {
    const printed = await runChaos(["init", "--target", target]);
    expect(printed.exitCode).toBe(0);
    const file = join(temp.path, `starter-${target}.yaml`);
    const written = await runChaos(["init", "--target", target, "-o", file]);
    expect(written.exitCode).toBe(0);
    expect((await runChaos(["validate", file])).stdout).toContain("valid (1 experiment)");
    const again = await runChaos(["init", "--target", target, "-o", file]);
    expect(again.exitCode).toBe(2); // never overwrites
    expect(again.stderr).toBe(`error: cannot write ${file}: it exists already (init never overwrites a file)\n`);
  });
});

describe("chaos completion", () => {
  it("prints a bash script that bash accepts and that completes commands, skills and options", async () => {
    const script = (await runChaos(["completion", "bash"])).stdout;
    const file = join(temp.path, "completion.bash");
    writeFileSync(file, script);
    const complete = (line: string) =>
      execFileSync(
        "bash",
        ["-c", `source ${file}; COMP_WORDS=(${line}); COMP_CWORD=$((\${#COMP_WORDS[@]}-1)); _chaos; printf '%s\\n' "\${COMPREPLY[@]}"`],
        { encoding: "utf8" },
      ).split("\n");
    expect(complete("chaos d")).toEqual(expect.arrayContaining(["demo", "describe", "daemon"]));
    expect(complete("chaos describe db.ins")).toEqual(["db.insert_load", ""]);
    expect(complete("chaos run --dry")).toEqual(["--dry-run", ""]);
    expect((await runChaos(["completion", "fish"])).stdout).toContain('complete -c chaos -n "__fish_seen_subcommand_from describe" -a "');
    expect((await runChaos(["completion", "zsh"])).stdout).toContain("bashcompinit");
    expect((await runChaos(["completion", "powershell"])).exitCode).toBe(2);
  });
});

describe("chaos run --experiment, history and report", () => {
  it("runs one experiment of several, lists past runs, prints a past summary again; a dry run leaves no report", async () => {
    const directory = join(temp.path, "files");
    const config = twoExperiments(directory);
    const journal = join(temp.path, "history.sqlite");
    const dryRun = await runChaos(["run", "--dry-run", config, "--journal", journal]);
    expect(dryRun.exitCode).toBe(0);
    expect(existsSync(join(temp.path, "reports"))).toBe(false);

    const one = await runChaos(["run", config, "--experiment", "beta", "--journal", journal]);
    expect(one.exitCode, one.stderr).toBe(0);
    expect(one.stdout).toContain("Experiment beta");
    expect(one.stdout).not.toContain("Experiment alpha");
    const typo = await runChaos(["run", config, "--experiment", "betta", "--journal", journal]);
    expect(typo.exitCode).toBe(2);
    expect(typo.stderr).toContain('has no experiment named "betta"; did you mean "beta"?');

    const past = await runChaos(["history", "--journal", journal]);
    expect(past.stdout).toMatch(
      /succeeded, rolled back\s+beta \[(c\w+-\w+)\] on server local:\/\/\S+\n {4}skills: server\.fixture_overwrite; rollback 2\/2 steps/,
    );
    const id = /beta \[(c\w+-\w+)\]/.exec(past.stdout)?.[1] as string;
    const again = await runChaos(["report", id, "--journal", journal]);
    expect(again.exitCode).toBe(0);
    expect(again.stdout).toContain(`Experiment beta [${id}]`);
    const json = JSON.parse((await runChaos(["--output", "json", "history", "--journal", journal])).stdout.trim());
    expect(json).toMatchObject({ schema_version: 1, type: "command_finished", command: "history", ok: true });
    expect(json.details.experiments[0]).toMatchObject({ experimentId: id, outcome: "succeeded", rollback: { steps: 2, done: 2 } });
    expect((await runChaos(["report", "c00000000t000000-000000", "--journal", journal])).exitCode).toBe(2);
  });
});
