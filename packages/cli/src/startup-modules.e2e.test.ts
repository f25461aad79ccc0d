import { spawnSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { chaosBinary, makeTempDirectory } from "@chaos-agents/testing";
import { afterAll, describe, expect, it } from "vitest";

const temp = makeTempDirectory("chaos-startup-");
afterAll(temp.remove);

// Records every module the process resolves (Node's synchronous module hooks) and prints the list at exit.
const recorder = `data:text/javascript,${encodeURIComponent(`
import { registerHooks } from "node:module";
const seen = [];
registerHooks({ resolve(specifier, context, next) { const resolved = next(specifier, context); seen.push(resolved.url); return resolved; } });
process.on("exit", () => process.stderr.write("\\nmodules:" + JSON.stringify(seen) + "\\n"));
`)}`;

function modulesLoadedBy(args: string[]): string[] {
  const result = spawnSync(process.execPath, ["--import", recorder, chaosBinary, ...args], { encoding: "utf8" });
  const line = result.stderr.split("\n").find((text) => text.startsWith("modules:"));
  expect(line, result.stderr).toBeDefined();
  return JSON.parse((line as string).slice("modules:".length)) as string[];
}

// Each target's driver or client, and the model SDKs: what `validate` and `--help` must not load.
const heavy = /node_modules\/(pg|pg-protocol|mysql2|ssh2|@kubernetes\/client-node|undici|ai|@ai-sdk\/[^/]+|@modelcontextprotocol\/[^/]+)\//;

describe("start-up loads only what the command needs", () => {
  it("validate of a config of every target loads no driver, cluster client or model SDK", () => {
    const file = join(temp.path, "every-target.yaml");
    writeFileSync(
      file,
      `experiments:
  - name: db
    target: database
    target_config: { connection_url: "postgres://127.0.0.1/shop", db_type: postgres }
    skills: [{ skill_name: db.select_load }]
  - name: host
    target: server
    target_config: { local: true }
    skills: [{ skill_name: server.cpu_stress, params: { workers: 1 } }]
  - name: cluster
    target: kubernetes
    target_config: { namespace: staging }
    skills: [{ skill_name: k8s.pod_kill, params: { label_selector: app=web, count: 1 } }]
`,
    );
    const loaded = modulesLoadedBy(["validate", file]);
    expect(loaded.some((url) => url.includes("/zod/"))).toBe(true); // the probe sees node_modules at all
    expect(loaded.filter((url) => heavy.test(url))).toEqual([]);
  });

  it("--help and --version load no module of chaos's or of a library: the help is text rendered at build", () => {
    for (const flag of ["--help", "-h", "--version"]) {
      expect(modulesLoadedBy([flag]).filter((url) => !url.startsWith("node:") && !url.endsWith("/bin/chaos.js"))).toEqual([]);
    }
  });

  it("help for a command still comes from the parser, and loads neither the engine nor any target", () => {
    const loaded = modulesLoadedBy(["run", "--help"]);
    expect(loaded.some((url) => url.includes("/commander/"))).toBe(true);
    expect(loaded.filter((url) => heavy.test(url) || /\/(database|server|kubernetes)\/dist\//.test(url))).toEqual([]);
  });
});
