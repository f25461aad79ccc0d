import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { Registry } from "@chaos-agents/core";
import {
  type KubernetesApiServer,
  makeTempDirectory,
  runChaos,
  runCommand,
  runInProcess,
  startKubernetesApiServer,
} from "@chaos-agents/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseAllDocuments } from "yaml";
import { kubernetesConfigSchema } from "./kubernetes-config.js";
import { kubernetesSkills } from "./kubernetes-skills.js";
import { createKubernetesTarget } from "./kubernetes-target.js";

const manifests = fileURLToPath(new URL("../../../deploy/kubernetes/", import.meta.url));
const kubectlPath = "/usr/bin/kubectl";
if (!existsSync(kubectlPath)) console.warn(`${kubectlPath} is missing: the tests that drive the simulator with kubectl are skipped`);
const temporary = makeTempDirectory("chaos-k8s-manifests-");
let server: KubernetesApiServer;
let kubeconfig: string;

interface Rule {
  apiGroups: string[];
  resources: string[];
  verbs: string[];
  resourceNames?: string[];
}

/** Every object of every manifest file, parsed. */
function manifestObjects(): {
  kind: string;
  metadata: { name: string; namespace?: string };
  rules?: Rule[];
  data?: Record<string, string>;
}[] {
  return readdirSync(manifests)
    .filter((file) => file.endsWith(".yaml"))
    .flatMap((file) => parseAllDocuments(readFileSync(join(manifests, file), "utf8")).map((document) => document.toJSON()));
}

/** `GET /apis/apps/v1/namespaces/x/deployments/web` → apps, deployments, get, x, web. */
function requestOf(method: string, path: string) {
  const url = new URL(path, "https://simulator");
  const segments = url.pathname.split("/").filter(Boolean);
  if (segments[0] !== "api" && segments[0] !== "apis") return undefined;
  const group = segments[0] === "api" ? "" : (segments[1] ?? "");
  let rest = segments.slice(segments[0] === "api" ? 2 : 3);
  if (rest.length === 0) return undefined; // discovery documents: every authenticated user may read them
  let namespace: string | undefined;
  if (rest[0] === "namespaces" && rest.length >= 3) {
    namespace = rest[1];
    rest = rest.slice(2);
  }
  const [resource = "", name, subresource] = rest;
  const verb =
    method === "GET"
      ? name
        ? "get"
        : url.searchParams.get("watch")
          ? "watch"
          : "list"
      : ({ POST: "create", PUT: "update", PATCH: "patch", DELETE: name ? "delete" : "deletecollection" } as Record<string, string>)[method];
  return {
    group,
    resource: subresource ? `${resource}/${subresource}` : resource,
    verb: verb ?? method,
    namespace,
    name: subresource === "eviction" ? undefined : name,
  };
}

beforeAll(async () => {
  server = await startKubernetesApiServer({ seed: "sandbox", readyDelayMs: 100 });
  kubeconfig = join(temporary.path, "kubeconfig");
  await server.writeKubeconfig(kubeconfig);
  await server.waitForSettled("staging");
});

afterAll(async () => {
  await server?.close();
  temporary.remove();
});

describe.skipIf(!existsSync(kubectlPath))("deploy/kubernetes applied with kubectl to the simulator", () => {
  it("creates every object (the simulator serves no OpenAPI documents: --validate=false), runs the daemon's pod, and a second apply changes nothing", async () => {
    const applied = await runCommand(kubectlPath, ["--kubeconfig", kubeconfig, "apply", "--validate=false", "-f", manifests]);
    const expected = manifestObjects().map((object) => `${object.kind}/${object.metadata.name}`);
    expect(applied.trim().split("\n")).toHaveLength(expected.length);
    expect(applied).not.toMatch(/unchanged|configured/);
    for (const object of manifestObjects()) {
      expect(
        server.get(object.kind, object.metadata.namespace, object.metadata.name),
        `${object.kind} ${object.metadata.name}`,
      ).toBeDefined();
    }
    expect(server.get("Role", "kube-system", "chaos-agents-coredns")?.rules?.[0]?.resourceNames).toEqual(["coredns"]);
    await server.waitForReadyPods("chaos-agents", { "app.kubernetes.io/name": "chaos-agents" }, 1);
    const pod = server.list("Pod", "chaos-agents")[0];
    expect(pod?.spec?.serviceAccountName).toBe("chaos-agents");
    const again = await runCommand(kubectlPath, ["--kubeconfig", kubeconfig, "apply", "--validate=false", "-f", manifests]);
    expect(
      again
        .trim()
        .split("\n")
        .every((line) => line.endsWith("unchanged")),
    ).toBe(true);
  });
});

describe("deploy/kubernetes", () => {
  it("the schedule in the ConfigMap is a valid daemon config (checked by the real `chaos validate`)", async () => {
    const config = manifestObjects().find((object) => object.kind === "ConfigMap")?.data?.["daemon.yaml"] ?? "";
    const file = join(temporary.path, "daemon.yaml");
    writeFileSync(file, config);
    const result = await runChaos(["validate", file]);
    expect(result.exitCode, result.stdout + result.stderr).toBe(0);
  });

  it("the RBAC rules grant exactly the requests every k8s.* skill, rollback and the sweep make", async () => {
    const registry = new Registry().addTarget(createKubernetesTarget(), kubernetesSkills);
    const first = server.requests.length;
    const run = (skills: { skill_name: string; params: Record<string, unknown> }[]) =>
      runInProcess(registry, {
        name: "rbac",
        target: "kubernetes",
        target_config: { kubeconfig, namespace: "staging" },
        duration: "1s",
        skills,
      });
    // Owners of every kind, so that rollback reads each kind's readiness.
    const template = (app: string) => ({ metadata: { labels: { app } }, spec: { containers: [{ name: app, image: "busybox" }] } });
    server.create("StatefulSet", {
      metadata: { name: "db", namespace: "staging" },
      spec: { replicas: 1, selector: { matchLabels: { app: "db" } }, template: template("db") },
    });
    server.create("DaemonSet", {
      metadata: { name: "agent", namespace: "staging" },
      spec: { selector: { matchLabels: { app: "agent" } }, template: template("agent") },
    });
    server.create("Job", {
      metadata: { name: "batch", namespace: "staging" },
      spec: { selector: { matchLabels: { app: "batch" } }, template: template("batch") },
    });
    await server.waitFor("the new owners' pods", () =>
      ["db", "agent", "batch"].every((app) =>
        server.list("Pod", "staging").some((pod) => pod.metadata.labels?.app === app && pod.status?.phase === "Running"),
      ),
    );
    for (const app of ["web", "db", "agent", "batch"]) {
      await run([{ skill_name: "k8s.pod_kill", params: { label_selector: `app=${app}`, count: 1, recovery_timeout: "30s" } }]);
    }
    for (const [kind, name] of [
      ["StatefulSet", "db"],
      ["DaemonSet", "agent"],
      ["Job", "batch"],
    ] as const)
      server.remove(kind, "staging", name);
    await server.waitForSettled("staging");
    await run([
      { skill_name: "k8s.network_chaos", params: { pod_selector: { app: "web" } } },
      { skill_name: "k8s.network_partition", params: { side_a: { app: "web" }, side_b: { app: "api" } } },
      { skill_name: "k8s.dns_chaos", params: { mode: "block", pod_selector: { app: "api" } } },
      { skill_name: "k8s.dns_chaos", params: { mode: "corrupt", names: ["a.example.com"], allow_cluster_dns: true } },
      { skill_name: "k8s.resource_stress", params: { node: "node-1" } },
    ]);
    await run([{ skill_name: "k8s.node_drain", params: { node: "node-2", eviction_timeout: "20s" } }]);
    await server.waitForSettled("staging");
    const target = createKubernetesTarget();
    const session = await target.connect(kubernetesConfigSchema.parse({ kubeconfig, namespace: "staging" }), {
      experimentId: "c20261201t000000-aaaaaa",
      log: { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined },
    });
    await target.sweep?.(session, "c20261201t000000-aaaaaa");

    const used = new Set<string>();
    for (const request of server.requests.slice(first)) {
      const parsed = requestOf(request.method, request.path);
      if (!parsed) continue;
      const scope = parsed.namespace === "kube-system" && parsed.resource === "configmaps" ? `kube-system:${parsed.name}` : "cluster";
      used.add(`${parsed.group}|${parsed.resource}|${parsed.verb}|${scope}`);
    }
    const granted = new Set<string>();
    for (const object of manifestObjects()) {
      if (object.kind !== "ClusterRole" && object.kind !== "Role") continue;
      for (const rule of object.rules ?? []) {
        for (const group of rule.apiGroups) {
          for (const resource of rule.resources) {
            for (const verb of rule.verbs) {
              const scopes =
                object.kind === "Role" ? (rule.resourceNames ?? []).map((name) => `${object.metadata.namespace}:${name}`) : ["cluster"];
              for (const scope of scopes) granted.add(`${group}|${resource}|${verb}|${scope}`);
            }
          }
        }
      }
    }
    expect(
      [...used].filter((entry) => !granted.has(entry)),
      "requests the rules do not allow",
    ).toEqual([]);
    expect(
      [...granted].filter((entry) => !used.has(entry)),
      "rules no request needs",
    ).toEqual([]);
  });
});
