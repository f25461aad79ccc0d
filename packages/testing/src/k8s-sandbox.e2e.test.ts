import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { runCommand } from "./run-command.js";
import { makeTempDirectory } from "./temp-directory.js";

const sandboxMain = fileURLToPath(new URL("../dist/sandbox/k8s-sandbox-main.js", import.meta.url));
const kubectlPath = "/usr/bin/kubectl";
if (!existsSync(kubectlPath)) console.warn(`${kubectlPath} is missing: the tests that drive the simulator with kubectl are skipped`);
const temporary = makeTempDirectory("chaos-k8s-sandbox-");
afterAll(temporary.remove);

describe.skipIf(!existsSync(kubectlPath))("npm run k8s:sandbox", () => {
  it("writes the kubeconfig once it serves two nodes and staging (web ×3 with a PDB, api), and stops on Ctrl-C", async () => {
    const kubeconfig = join(temporary.path, "sandbox.kubeconfig");
    const child = spawn(process.execPath, [sandboxMain, "--kubeconfig", kubeconfig], { stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    child.stdout.on("data", (chunk) => {
      output += chunk;
    });
    const exited = new Promise<number | null>((resolve) => child.on("close", resolve));
    try {
      const deadline = Date.now() + 30_000;
      while (!output.includes("Ctrl-C") && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
      expect(existsSync(kubeconfig)).toBe(true);
      const kubectl = (...args: string[]) => runCommand(kubectlPath, ["--kubeconfig", kubeconfig, ...args]);
      expect((await kubectl("get", "nodes", "-o", "name")).trim().split("\n")).toEqual(["node/node-1", "node/node-2"]);
      const deadlineReady = Date.now() + 30_000;
      let web = "";
      while (Date.now() < deadlineReady) {
        web = await kubectl("get", "pods", "-l", "app=web"); // the kubeconfig's namespace is staging
        if ((web.match(/1\/1\s+Running/g) ?? []).length === 3) break;
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
      expect(web.match(/1\/1\s+Running/g)).toHaveLength(3);
      expect(await kubectl("get", "pdb", "web")).toMatch(/web\s+2\s+N\/A/);
      expect(await kubectl("get", "deployment", "api", "-o", "jsonpath={.spec.replicas}")).toBe("2");
      expect(output).toContain("simulator");
    } finally {
      child.kill("SIGINT");
    }
    expect(await exited).toBe(0);
  });
});
