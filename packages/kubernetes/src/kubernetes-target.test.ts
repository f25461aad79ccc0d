import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { type AddressInfo, createServer, type Socket } from "node:net";
import { join } from "node:path";
import { ConnectionError } from "@chaos-agents/core";
import { freePort, type KubernetesApiServer, makeTempDirectory, startKubernetesApiServer } from "@chaos-agents/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { kubernetesConfigSchema } from "./kubernetes-config.js";
import { createKubernetesTarget } from "./kubernetes-target.js";

let server: KubernetesApiServer;
let kubeconfig: string;
const temporary = makeTempDirectory("chaos-k8s-target-");
const target = createKubernetesTarget();
const logged: string[] = [];
const context = {
  experimentId: "c20261201t000000-000000",
  log: {
    debug: () => undefined,
    info: () => undefined,
    warn: (message: string) => logged.push(message),
    error: (message: string) => logged.push(message),
  },
};

beforeAll(async () => {
  server = await startKubernetesApiServer({ seed: "sandbox", readyDelayMs: 100, token: "target-test-token" });
  kubeconfig = join(temporary.path, "kubeconfig");
  await server.writeKubeconfig(kubeconfig, { context: "sim" });
  await server.waitForSettled("staging");
});

afterAll(async () => {
  await server?.close();
  temporary.remove();
});

const connect = (config: Record<string, unknown>) => target.connect(kubernetesConfigSchema.parse(config), context);

describe("target_config", () => {
  it("accepts the seed's form, a list of namespaces, and names the bad field", () => {
    expect(kubernetesConfigSchema.parse({ namespace: "staging", label_selector: "app=web" })).toMatchObject({
      namespace: "staging",
      protected_namespaces: [],
    });
    expect(kubernetesConfigSchema.parse({ namespace: ["staging", "qa"] }).namespace).toEqual(["staging", "qa"]);
    expect(kubernetesConfigSchema.parse({}).namespace).toBe("default");
    expect(() => kubernetesConfigSchema.parse({ namespace: "Staging!" })).toThrow(/namespace name/);
    expect(() => kubernetesConfigSchema.parse({ namespace: [] })).toThrow(/at least one namespace/);
    expect(() => kubernetesConfigSchema.parse({ namespaces: "staging" })).toThrow();
  });
});

describe("connecting", () => {
  it("reads the kubeconfig named in target_config, or KUBECONFIG, and sends its token", async () => {
    const session = await connect({ kubeconfig, namespace: "staging" });
    expect(session.identity).toBe(`k8s://sim@${server.url.replace("https://", "")}/staging`);
    // The engine's identity (journal, refusals, the daemon's one-run-per-target) names the same cluster, without connecting.
    expect(createKubernetesTarget().identify({ kubeconfig, namespace: "staging", protected_namespaces: [], request_timeout: "30s" })).toBe(
      session.identity,
    );
    await session.close();
    const previous = process.env.KUBECONFIG;
    process.env.KUBECONFIG = kubeconfig;
    try {
      const fromEnvironment = await connect({ namespace: "staging" });
      expect(fromEnvironment.clients.context).toBe("sim");
    } finally {
      if (previous === undefined) delete process.env.KUBECONFIG;
      else process.env.KUBECONFIG = previous;
    }
  });

  it("selects `context` among several, and names the contexts when it does not exist", async () => {
    const file = join(temporary.path, "two-contexts");
    const document = JSON.parse(readFileSync(kubeconfig, "utf8"));
    const deadPort = await freePort();
    document.clusters.push({ name: "dead", cluster: { server: `https://127.0.0.1:${deadPort}` } });
    document.contexts.push({ name: "dead", context: { cluster: "dead", user: document.users[0].name } });
    document["current-context"] = "dead";
    writeFileSync(file, JSON.stringify(document));
    await expect(connect({ kubeconfig: file, namespace: "staging" })).rejects.toThrow(ConnectionError);
    const session = await connect({ kubeconfig: file, context: "sim", namespace: "staging" });
    expect(session.clients.server).toBe(server.url);
    await expect(connect({ kubeconfig: file, context: "prod" })).rejects.toThrow(/no context "prod" \(contexts: sim, dead\)/);
  });

  it("says clearly when there is no kubeconfig at all, or in_cluster is asked for outside a pod", async () => {
    await expect(connect({ kubeconfig: join(temporary.path, "missing") })).rejects.toThrow(/kubeconfig .*missing does not exist/);
    const saved = {
      KUBECONFIG: process.env.KUBECONFIG,
      HOME: process.env.HOME,
      KUBERNETES_SERVICE_HOST: process.env.KUBERNETES_SERVICE_HOST,
    };
    process.env.HOME = temporary.path;
    delete process.env.KUBECONFIG;
    delete process.env.KUBERNETES_SERVICE_HOST;
    try {
      await expect(connect({})).rejects.toThrow(/no kubeconfig found/);
      await expect(connect({ in_cluster: true })).rejects.toThrow(/not a pod with a service account/);
    } finally {
      for (const [key, value] of Object.entries(saved)) {
        if (value === undefined) delete process.env[key];
        else process.env[key] = value;
      }
    }
  });

  it("uses the pod's service account (token, CA, API address from the environment) when there is no kubeconfig", async () => {
    const prefix = join(temporary.path, "pod");
    const mount = join(prefix, "var/run/secrets/kubernetes.io/serviceaccount");
    mkdirSync(mount, { recursive: true });
    writeFileSync(join(mount, "token"), "target-test-token");
    writeFileSync(join(mount, "ca.crt"), server.certificate ?? "");
    writeFileSync(join(mount, "namespace"), "staging");
    const saved = {
      KUBECONFIG: process.env.KUBECONFIG,
      HOME: process.env.HOME,
      KUBERNETES_SERVICE_HOST: process.env.KUBERNETES_SERVICE_HOST,
      KUBERNETES_SERVICE_PORT: process.env.KUBERNETES_SERVICE_PORT,
    };
    process.env.HOME = temporary.path;
    delete process.env.KUBECONFIG;
    process.env.KUBERNETES_SERVICE_HOST = "127.0.0.1";
    process.env.KUBERNETES_SERVICE_PORT = new URL(server.url).port;
    try {
      const inPod = createKubernetesTarget({ serviceAccountPrefix: prefix });
      for (const config of [{ namespace: "staging" }, { namespace: "staging", in_cluster: true }]) {
        const session = await inPod.connect(kubernetesConfigSchema.parse(config), context);
        expect(session.clients.context).toBe("inClusterContext");
        expect((await session.discover()).resources.some((resource) => resource.name === "staging/deployment:web")).toBe(true);
      }
    } finally {
      for (const [key, value] of Object.entries(saved)) {
        if (value === undefined) delete process.env[key];
        else process.env[key] = value;
      }
    }
  });

  it("an API server that stops answering fails the request at request_timeout, instead of hanging chaos", async () => {
    const sockets = new Set<Socket>();
    const silent = createServer((socket) => sockets.add(socket)); // accepts, reads, never answers
    const port = await new Promise<number>((resolve) =>
      silent.listen(0, "127.0.0.1", () => resolve((silent.address() as AddressInfo).port)),
    );
    const file = join(temporary.path, "silent-kubeconfig");
    writeFileSync(
      file,
      `apiVersion: v1
kind: Config
clusters: [{ name: silent, cluster: { server: "http://127.0.0.1:${port}", insecure-skip-tls-verify: true } }]
users: [{ name: someone, user: { token: t } }]
contexts: [{ name: silent, context: { cluster: silent, user: someone } }]
current-context: silent
`,
    );
    try {
      const started = Date.now();
      const error = await connect({ kubeconfig: file, request_timeout: "500ms" }).catch((failure: Error) => failure);
      expect(error).toBeInstanceOf(ConnectionError);
      expect((error as Error).message).toMatch(/the API server did not answer within target_config\.request_timeout/);
      expect(Date.now() - started).toBeLessThan(5000);
      expect(sockets.size).toBeGreaterThan(0); // the request did reach it
    } finally {
      for (const socket of sockets) socket.destroy();
      silent.close();
    }
  });

  it("a wrong token is a connection error before anything changes", async () => {
    const file = join(temporary.path, "wrong-token");
    writeFileSync(file, readFileSync(kubeconfig, "utf8").replace("target-test-token", "wrong"));
    const error = await connect({ kubeconfig: file }).catch((failure: Error) => failure);
    expect(error).toBeInstanceOf(ConnectionError);
    expect((error as Error).message).toMatch(/cannot connect to https:\/\/127\.0\.0\.1:\d+ \(context sim\): 401/);
    expect(JSON.stringify(error)).not.toContain("wrong"); // the token sent is never in the error
    expect((error as Error).message).not.toContain("wrong");
  });
});

describe("discovery", () => {
  it("lists nodes, namespaces, workloads and pods with owners and readiness, services, policies and budgets; reads only", async () => {
    const session = await connect({ kubeconfig, namespace: ["staging", "kube-system"] });
    const inventory = await session.discover();
    expect(server.requests.filter((request) => request.method !== "GET")).toEqual([]);
    const byName = new Map(inventory.resources.map((resource) => [resource.name, resource]));
    expect(byName.get("node:node-1")?.details).toMatchObject({
      schedulable: true,
      ready: true,
      capacity: { cpu: "4", memory: "8Gi", pods: "110" },
    });
    expect(byName.get("staging/deployment:web")?.details).toMatchObject({ desiredReplicas: 3, readyReplicas: 3, selector: { app: "web" } });
    const webPod = inventory.resources.find(
      (resource) => resource.kind === "pod" && (resource.details?.labels as Record<string, string> | undefined)?.app === "web",
    );
    expect(webPod?.details).toMatchObject({ namespace: "staging", ready: true, phase: "Running", owner: { kind: "ReplicaSet" } });
    expect(byName.get("staging/poddisruptionbudget:web")?.details).toMatchObject({ minAvailable: 2, disruptionsAllowed: 1 });
    expect(byName.get("staging/service:web")?.details).toMatchObject({ selector: { app: "web" } });
    expect(inventory.resources.some((resource) => resource.name.startsWith("kube-system/"))).toBe(false);
    expect(logged.some((message) => /kube-system are protected/.test(message))).toBe(true);
    expect(inventory.facts).toMatchObject({
      namespaces: ["staging"],
      networkPolicyEnforcement: "unknown",
      serverVersion: "v1.32.0-chaos-agents-simulator",
    });
  });

  it("label_selector narrows the workloads and pods it lists", async () => {
    const session = await connect({ kubeconfig, namespace: "staging", label_selector: "app=api" });
    const pods = (await session.discover()).resources.filter((resource) => resource.kind === "pod");
    expect(pods).toHaveLength(2);
    expect(pods.every((pod) => (pod.details?.labels as Record<string, string> | undefined)?.app === "api")).toBe(true);
  });

  it("a namespace that does not exist is named in the error", async () => {
    const session = await connect({ kubeconfig, namespace: "nope" });
    await expect(session.discover()).rejects.toThrow(/namespace nope \(target_config.namespace\) does not exist/);
  });
});
