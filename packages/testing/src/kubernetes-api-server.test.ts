import { existsSync } from "node:fs";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type KubernetesApiServer, startKubernetesApiServer } from "./kubernetes-api-server.js";
import { runCommand } from "./run-command.js";
import { makeTempDirectory } from "./temp-directory.js";

const kubectlPath = "/usr/bin/kubectl";
const hasKubectl = existsSync(kubectlPath);
if (!existsSync(kubectlPath)) console.warn(`${kubectlPath} is missing: the tests that drive the simulator with kubectl are skipped`);

let server: KubernetesApiServer;
/** Plain HTTP, for the protocol checks through fetch (kubectl talks to `server`, over TLS). */
let plain: KubernetesApiServer;
let kubeconfig: string;
let temporary: { path: string; remove: () => void };
let directory: string;

const kubectl = (...args: string[]) => runCommand(kubectlPath, ["--kubeconfig", kubeconfig, ...args], { timeoutMs: 60_000 });

async function api(method: string, path: string, body?: unknown, contentType = "application/json") {
  const response = await fetch(`${plain.url}${path}`, {
    method,
    headers: body === undefined ? {} : { "Content-Type": contentType },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return {
    status: response.status, // biome-ignore lint/suspicious/noExplicitAny: API responses of every kind are read as plain JSON.
    body: (await response.json()) as Record<string, any>,
  };
}

beforeAll(async () => {
  temporary = makeTempDirectory("k8s-simulator-");
  directory = temporary.path;
  server = await startKubernetesApiServer({ seed: "sandbox", readyDelayMs: 200 });
  kubeconfig = join(directory, "kubeconfig");
  await server.writeKubeconfig(kubeconfig);
  await server.waitForReadyPods("staging", { app: "web" }, 3);
  await server.waitForReadyPods("staging", { app: "api" }, 2);
  plain = await startKubernetesApiServer({ seed: "sandbox", readyDelayMs: 200, tls: false });
  await plain.waitForReadyPods("staging", { app: "api" }, 2);
});

afterAll(async () => {
  await server?.close();
  await plain?.close();
  temporary?.remove();
});

describe.skipIf(!hasKubectl)("kubectl 1.32 against the simulator", () => {
  it("lists pods by label, with the server-side table kubectl prints", async () => {
    const output = await kubectl("get", "pods", "-n", "staging", "-l", "app=web", "-o", "name");
    const expected = server
      .list("Pod", "staging")
      .filter((pod) => pod.metadata.labels?.app === "web")
      .map((pod) => `pod/${pod.metadata.name}`);
    expect(output.trim().split("\n").sort()).toEqual(expected.sort());
    const table = await kubectl("get", "pods", "-n", "staging", "-l", "app=web");
    expect(table).toMatch(/NAME\s+READY\s+STATUS\s+RESTARTS\s+AGE/);
    expect(table.match(/1\/1\s+Running/g)).toHaveLength(3);
  });

  it("creates (with --validate=false: no OpenAPI documents are served) and lists network policies across namespaces", async () => {
    const manifest = join(directory, "policy.json");
    await writeFile(
      manifest,
      JSON.stringify({
        apiVersion: "networking.k8s.io/v1",
        kind: "NetworkPolicy",
        metadata: { name: "deny-web", namespace: "staging" },
        spec: { podSelector: { matchLabels: { app: "web" } }, policyTypes: ["Ingress"] },
      }),
    );
    await kubectl("create", "--validate=false", "-f", manifest);
    const output = await kubectl("get", "networkpolicies", "-A");
    expect(output).toMatch(/staging\s+deny-web\s+app=web/);
    await expect(kubectl("create", "--validate=false", "-f", manifest)).rejects.toThrow(/AlreadyExists|already exists/);
    await kubectl("delete", "networkpolicy", "deny-web", "-n", "staging");
    expect(server.get("NetworkPolicy", "staging", "deny-web")).toBeUndefined();
  });

  it("scales through the scale subresource, and follows the rollout and readiness through watches", async () => {
    await kubectl("scale", "deployment", "web", "-n", "staging", "--replicas=4");
    expect(server.get("Deployment", "staging", "web")?.spec?.replicas).toBe(4);
    expect(await kubectl("rollout", "status", "deployment/web", "-n", "staging", "--timeout=30s")).toContain(
      'deployment "web" successfully rolled out',
    );
    expect(await kubectl("wait", "--for=condition=Ready", "pod", "-l", "app=web", "-n", "staging", "--timeout=30s")).toMatch(
      /(condition met\n.*){4}/s,
    );
    expect(server.requests.some((request) => request.path.includes("watch=true"))).toBe(true);
    await kubectl("scale", "deployment", "web", "-n", "staging", "--replicas=3");
    await server.waitForReadyPods("staging", { app: "web" }, 3);
  });

  it("cordons and uncordons with a strategic merge patch", async () => {
    const before = server.requests.length;
    await kubectl("cordon", "node-2");
    expect(server.get("Node", undefined, "node-2")?.spec?.unschedulable).toBe(true);
    expect(server.requests.slice(before)).toContainEqual(
      expect.objectContaining({ method: "PATCH", path: "/api/v1/nodes/node-2", contentType: "application/strategic-merge-patch+json" }),
    );
    expect(await kubectl("get", "nodes")).toMatch(/node-2\s+Ready,SchedulingDisabled/);
    await kubectl("uncordon", "node-2");
    expect(server.get("Node", undefined, "node-2")?.spec?.unschedulable).toBeFalsy();
  });

  it("drains a node through the Eviction API, retrying while the PodDisruptionBudget forbids it (429)", async () => {
    // Put two web pods on node-1 for sure: the budget (minAvailable 2 of 3) then lets only one go at a time.
    await kubectl("cordon", "node-2");
    await kubectl("delete", "pods", "-n", "staging", "-l", "app=web");
    await server.waitFor("web pods all on node-1", () => {
      const pods = server.list("Pod", "staging").filter((pod) => pod.metadata.labels?.app === "web");
      return pods.length === 3 && pods.every((pod) => pod.spec?.nodeName === "node-1" && pod.status?.phase === "Running");
    });
    await kubectl("uncordon", "node-2");
    const before = server.requests.length;
    const output = await kubectl("drain", "node-1", "--ignore-daemonsets", "--timeout=90s");
    expect(output).toContain("node/node-1 drained");
    const evictions = server.requests.slice(before).filter((request) => request.method === "POST" && request.path.endsWith("/eviction"));
    expect(evictions.length).toBeGreaterThan(3); // at least one retried after a 429
    expect(server.get("Node", undefined, "node-1")?.spec?.unschedulable).toBe(true);
    const left = server.list("Pod").filter((pod) => pod.spec?.nodeName === "node-1");
    expect(left.map((pod) => pod.metadata.ownerReferences?.[0]?.kind)).toEqual(["DaemonSet"]);
    await server.waitForReadyPods("staging", { app: "web" }, 3);
    const events = await kubectl("get", "events", "-n", "staging");
    expect(events).toMatch(/Evicted/);
    expect(events).toMatch(/SuccessfulCreate/);
    await kubectl("uncordon", "node-1");
  });
});

describe("the simulator's protocol", () => {
  it("answers errors with Status objects: 404, 409 AlreadyExists, 409 Conflict on a stale resourceVersion", async () => {
    const missing = await api("GET", "/api/v1/namespaces/staging/configmaps/nothing");
    expect(missing).toMatchObject({ status: 404, body: { kind: "Status", reason: "NotFound", code: 404 } });
    const created = await api("POST", "/api/v1/namespaces/staging/configmaps", { metadata: { name: "settings" }, data: { a: "1" } });
    expect(created.status).toBe(201);
    expect((await api("POST", "/api/v1/namespaces/staging/configmaps", { metadata: { name: "settings" } })).body).toMatchObject({
      reason: "AlreadyExists",
      code: 409,
    });
    const updated = await api("PUT", "/api/v1/namespaces/staging/configmaps/settings", { ...created.body, data: { a: "2" } });
    expect(updated.status).toBe(200);
    const stale = await api("PUT", "/api/v1/namespaces/staging/configmaps/settings", { ...created.body, data: { a: "3" } });
    expect(stale.body).toMatchObject({ reason: "Conflict", code: 409 });
    expect(plain.get("ConfigMap", "staging", "settings")?.data).toEqual({ a: "2" });
  });

  it("applies merge patches and JSON patches", async () => {
    await api("PATCH", "/api/v1/namespaces/staging/configmaps/settings", { data: { b: "x", a: null } }, "application/merge-patch+json");
    expect(plain.get("ConfigMap", "staging", "settings")?.data).toEqual({ b: "x" });
    const failed = await api(
      "PATCH",
      "/api/v1/namespaces/staging/configmaps/settings",
      [{ op: "test", path: "/data/b", value: "y" }],
      "application/json-patch+json",
    );
    expect(failed.status).toBe(422);
    await api(
      "PATCH",
      "/api/v1/namespaces/staging/configmaps/settings",
      [{ op: "add", path: "/data/c", value: "z" }],
      "application/json-patch+json",
    );
    expect(plain.get("ConfigMap", "staging", "settings")?.data).toEqual({ b: "x", c: "z" });
  });

  it("filters lists by set-based label selectors and field selectors", async () => {
    const web = await api("GET", "/api/v1/pods?labelSelector=app%20in%20(web)");
    expect(web.body.items).toHaveLength(3);
    const notWeb = await api("GET", "/api/v1/namespaces/staging/pods?labelSelector=app,app!%3Dweb");
    expect(notWeb.body.items.map((pod: { metadata: { labels: { app: string } } }) => pod.metadata.labels.app)).toEqual(["api", "api"]);
    const onNode = await api("GET", "/api/v1/pods?fieldSelector=spec.nodeName%3Dnode-2,metadata.namespace%3Dstaging");
    expect(onNode.body.items.length).toBeGreaterThan(0);
    expect(onNode.body.items.every((pod: { spec: { nodeName: string } }) => pod.spec.nodeName === "node-2")).toBe(true);
  });

  it("streams watch events as JSON lines from a resourceVersion", async () => {
    const list = await api("GET", "/api/v1/namespaces/staging/configmaps");
    const controller = new AbortController();
    const response = await fetch(
      `${plain.url}/api/v1/namespaces/staging/configmaps?watch=1&resourceVersion=${list.body.metadata.resourceVersion}`,
      { signal: controller.signal },
    );
    const reader = response.body?.getReader();
    await api("DELETE", "/api/v1/namespaces/staging/configmaps/settings");
    let text = "";
    while (!text.includes("\n")) {
      const chunk = await reader?.read();
      if (!chunk || chunk.done) break;
      text += new TextDecoder().decode(chunk.value);
    }
    controller.abort();
    expect(JSON.parse(text.split("\n")[0] ?? "")).toMatchObject({
      type: "DELETED",
      object: { kind: "ConfigMap", metadata: { name: "settings" } },
    });
  });

  it("recreates a deleted ReplicaSet pod under a new name and records events", async () => {
    const [victim] = plain.list("Pod", "staging").filter((pod) => pod.metadata.labels?.app === "api");
    await api("DELETE", `/api/v1/namespaces/staging/pods/${victim?.metadata.name}`);
    await plain.waitForReadyPods("staging", { app: "api" }, 2);
    const names = plain.list("Pod", "staging").map((pod) => pod.metadata.name);
    expect(names).not.toContain(victim?.metadata.name);
    expect(
      plain.list("Event", "staging").some((event) => event.reason === "Killing" && event.involvedObject?.name === victim?.metadata.name),
    ).toBe(true);
  });

  it("refuses requests without the bearer token when one is configured", async () => {
    const guarded = await startKubernetesApiServer({ token: "s3cret", tls: false });
    try {
      const denied = await fetch(`${guarded.url}/api/v1/namespaces`);
      expect(denied.status).toBe(401);
      const allowed = await fetch(`${guarded.url}/api/v1/namespaces`, { headers: { Authorization: "Bearer s3cret" } });
      expect(allowed.status).toBe(200);
    } finally {
      await guarded.close();
    }
  });
});
