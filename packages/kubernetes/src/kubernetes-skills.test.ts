import { join } from "node:path";
import { type ChaosEvent, EventBus, Registry } from "@chaos-agents/core";
import {
  clusterState,
  type KubeObject,
  type KubernetesApiServer,
  makeTempDirectory,
  runInProcess,
  runWhileWatching,
  startKubernetesApiServer,
} from "@chaos-agents/testing";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { kubernetesConfigSchema, protectedNamespaces } from "./kubernetes-config.js";
import { cordonedByLabel, experimentLabel, managedByLabel } from "./kubernetes-labels.js";
import { kubernetesSkills } from "./kubernetes-skills.js";
import { createKubernetesTarget } from "./kubernetes-target.js";

let server: KubernetesApiServer;
let kubeconfig: string;
const temporary = makeTempDirectory("chaos-k8s-skills-");
const registry = new Registry().addTarget(createKubernetesTarget(), kubernetesSkills);

beforeAll(async () => {
  server = await startKubernetesApiServer({ seed: "sandbox", readyDelayMs: 200 });
  kubeconfig = join(temporary.path, "kubeconfig");
  await server.writeKubeconfig(kubeconfig);
});

afterAll(async () => {
  await server?.close();
  temporary.remove();
});

beforeEach(async () => {
  await server.waitForReadyPods("staging", { app: "web" }, 3);
  await server.waitForReadyPods("staging", { app: "api" }, 2);
  await server.waitForSettled("staging");
});

function experiment(skills: { skill_name: string; params: Record<string, unknown> }[], extra: Record<string, unknown> = {}) {
  return {
    name: "k8s-test",
    target: "kubernetes" as const,
    target_config: { kubeconfig, namespace: "staging", label_selector: "app in (web, api)", ...extra },
    duration: "1s",
    skills,
  };
}

const warnings = (events: ChaosEvent[]) =>
  events
    .filter((event) => event.type === "log" && (event as { level?: string }).level === "warn")
    .map((event) => (event as { message?: string }).message ?? "");

describe("k8s.pod_kill", () => {
  it("deletes one web pod; rollback waits until web has 3 ready replicas again; the cluster is as before", async () => {
    const before = clusterState(server, "staging");
    const names = server
      .list("Pod", "staging")
      .filter((pod) => pod.metadata.labels?.app === "web")
      .map((pod) => pod.metadata.name);
    const { report, seen } = await runWhileWatching(
      registry,
      experiment([{ skill_name: "k8s.pod_kill", params: { namespace: "staging", label_selector: "app=web", count: 1 } }]),
      () => {
        const current = server
          .list("Pod", "staging")
          .filter((pod) => pod.metadata.labels?.app === "web")
          .map((pod) => pod.metadata.name);
        const gone = names.filter((name) => !current.includes(name));
        return gone.length > 0 ? gone : undefined;
      },
    );
    expect(report.status).toBe("succeeded");
    expect(seen).toHaveLength(1);
    expect(report.skills[0]?.metrics?.pods_killed).toBe(1);
    // The replacement was Ready while the fault was held: the time it took is measured.
    // Counted from pods (not the owner's lagging status): at least the simulator's ready delay, with one replica down meanwhile.
    expect(report.skills[0]?.metrics?.recovery_ms).toBeGreaterThanOrEqual(200);
    expect(report.skills[0]?.metrics?.max_replicas_unavailable).toBe(1);
    expect(report.rollback).toMatchObject({ steps: 1, done: 1, failed: [], conflicts: [] });
    expect(report.rollback.notes.join("\n")).toMatch(/deployment staging\/web has 3\/3 ready replicas again/);
    expect(clusterState(server, "staging")).toEqual(before);
    const api = server.list("Pod", "staging").filter((pod) => pod.metadata.labels?.app === "api");
    expect(api).toHaveLength(2); // the selector kept api out
  });

  it("percent rounds up; interval kills again while held, and every kill is journaled and waited for", async () => {
    const before = clusterState(server, "staging");
    const once = await runInProcess(
      registry,
      experiment([{ skill_name: "k8s.pod_kill", params: { label_selector: "app=web", percent: 50 } }]),
    );
    expect(once.report.skills[0]?.metrics?.pods_killed).toBe(2);
    await server.waitForSettled("staging");
    const repeated = await runInProcess(registry, {
      ...experiment([{ skill_name: "k8s.pod_kill", params: { label_selector: "app=api", count: 1, interval: "1s" } }]),
      duration: "4s",
    });
    const killed = Number(repeated.report.skills[0]?.metrics?.pods_killed);
    expect(killed).toBeGreaterThanOrEqual(2);
    expect(repeated.report.rollback).toMatchObject({ steps: killed, done: killed, failed: [], conflicts: [] });
    await server.waitForSettled("staging");
    expect(clusterState(server, "staging")).toEqual(before);
  });

  it("with the shortest hold (1ms), rollback still waits until the replacement is Ready (the owner's status lags the kill)", async () => {
    const before = clusterState(server, "staging");
    const { report } = await runInProcess(registry, {
      ...experiment([{ skill_name: "k8s.pod_kill", params: { label_selector: "app=web", count: 2 } }]),
      duration: "1ms",
    });
    expect(report.rollback).toMatchObject({ steps: 2, done: 2, conflicts: [] });
    expect(clusterState(server, "staging")).toEqual(before); // no waiting here: rollback did it
  });

  it("refuses more pods than the selector matches, and bare pods unless allowed, before any change", async () => {
    const before = clusterState(server, "staging");
    await expect(
      runInProcess(registry, experiment([{ skill_name: "k8s.pod_kill", params: { label_selector: "app=web", count: 4 } }])),
    ).rejects.toThrow(/count 4 is more than the 3 pods/);
    server.create("Pod", {
      metadata: { name: "lonely", namespace: "staging", labels: { app: "lonely" } },
      spec: { containers: [{ name: "lonely", image: "busybox" }], nodeName: "node-1" },
    });
    await expect(
      runInProcess(
        registry,
        experiment([{ skill_name: "k8s.pod_kill", params: { label_selector: "app=lonely", count: 1 } }], { label_selector: "app=lonely" }),
      ),
    ).rejects.toThrow(/allow_bare_pods/);
    server.remove("Pod", "staging", "lonely");
    expect(clusterState(server, "staging")).toEqual(before);
  });

  it("rejects bad params with the field path", async () => {
    await expect(runInProcess(registry, experiment([{ skill_name: "k8s.pod_kill", params: { count: 0 } }]))).rejects.toThrow(/count/);
    await expect(runInProcess(registry, experiment([{ skill_name: "k8s.pod_kill", params: { count: 1, percent: 50 } }]))).rejects.toThrow(
      /not both/,
    );
  });
});

describe("k8s.network_chaos", () => {
  it("creates a labelled deny-all policy for the pods while held, deletes it at rollback, and warns that enforcement is unconfirmed", async () => {
    const before = clusterState(server, "staging");
    const { report, seen, events } = await runWhileWatching(
      registry,
      experiment([{ skill_name: "k8s.network_chaos", params: { namespace: "staging", pod_selector: { app: "web" } } }]),
      () => server.list("NetworkPolicy", "staging")[0],
    );
    expect(report.status).toBe("succeeded");
    expect(seen?.spec).toEqual({ podSelector: { matchLabels: { app: "web" } }, policyTypes: ["Ingress", "Egress"] });
    expect(seen?.metadata.labels).toEqual({ [managedByLabel]: "chaos-agents", [experimentLabel]: report.experimentId });
    expect(warnings(events).some((message) => /may not enforce NetworkPolicies/.test(message))).toBe(true);
    expect(warnings(events).some((message) => /already select/.test(message))).toBe(false);
    expect(clusterState(server, "staging")).toEqual(before);
  });

  it("warns that an existing policy selecting the same pods still lets its traffic through", async () => {
    server.create("NetworkPolicy", {
      metadata: { name: "allow-frontend", namespace: "staging" },
      spec: { podSelector: { matchLabels: { app: "web" } }, ingress: [{}], policyTypes: ["Ingress"] },
    });
    try {
      const { events } = await runInProcess(
        registry,
        experiment([{ skill_name: "k8s.network_chaos", params: { pod_selector: { app: "web" } } }]),
      );
      expect(warnings(events).some((message) => /NetworkPolicies allow-frontend already select some of these pods/.test(message))).toBe(
        true,
      );
      expect(server.list("NetworkPolicy", "staging").map((policy) => policy.metadata.name)).toEqual(["allow-frontend"]);
    } finally {
      server.remove("NetworkPolicy", "staging", "allow-frontend");
    }
  });

  it("refuses a selector that also reaches pods resource_filters excluded (a policy cannot leave them out)", async () => {
    const [excluded] = server.list("Pod", "staging").filter((pod) => pod.metadata.labels?.app === "web");
    await expect(
      runInProcess(registry, {
        ...experiment([{ skill_name: "k8s.network_chaos", params: { pod_selector: { app: "web" } } }]),
        resource_filters: [`^(?!staging/pod:${excluded?.metadata.name}$)`],
      }),
    ).rejects.toThrow(new RegExp(`also selects pods that resource_filters .* exclude \\(${excluded?.metadata.name}\\)`));
    expect(server.list("NetworkPolicy")).toEqual([]);
  });

  it("refuses an empty pod_selector and a selector matching no pod", async () => {
    await expect(runInProcess(registry, experiment([{ skill_name: "k8s.network_chaos", params: { pod_selector: {} } }]))).rejects.toThrow(
      /at least one label/,
    );
    await expect(
      runInProcess(registry, experiment([{ skill_name: "k8s.network_chaos", params: { pod_selector: { app: "nope" } } }])),
    ).rejects.toThrow(/no discovered pod/);
    expect(server.list("NetworkPolicy")).toEqual([]);
  });
});

describe("k8s.node_drain", () => {
  it("cordons node-1 and evicts its workload pods (PDB respected), leaves DaemonSet and kube-system pods, and uncordons at rollback", async () => {
    const before = clusterState(server, "staging");
    const { report, seen } = await runWhileWatching(
      registry,
      experiment([{ skill_name: "k8s.node_drain", params: { node: "node-1", eviction_timeout: "30s" } }]),
      () => {
        const node = server.get("Node", undefined, "node-1");
        const staging = server.list("Pod", "staging").filter((pod) => pod.spec?.nodeName === "node-1");
        return node?.spec?.unschedulable && staging.length === 0
          ? { node, left: server.list("Pod").filter((pod) => pod.spec?.nodeName === "node-1") }
          : undefined;
      },
    );
    expect(report.status).toBe("succeeded");
    expect(seen?.node.metadata.labels?.[cordonedByLabel]).toBe(report.experimentId);
    expect(seen?.left.every((pod) => pod.metadata.namespace === "kube-system")).toBe(true);
    expect(server.get("Node", undefined, "node-1")?.spec?.unschedulable).toBeFalsy();
    await server.waitForReadyPods("staging", { app: "web" }, 3);
    await server.waitForReadyPods("staging", { app: "api" }, 2);
    await server.waitForSettled("staging");
    expect(clusterState(server, "staging")).toEqual(before);
  });

  it("cordon_only evicts nothing; a node someone else cordoned meanwhile stays cordoned and is reported", async () => {
    const pods = server.list("Pod", "staging").map((pod) => pod.metadata.name);
    const { report } = await runWhileWatching(
      registry,
      experiment([{ skill_name: "k8s.node_drain", params: { node: "node-2", cordon_only: true } }]),
      () => {
        const node = server.get("Node", undefined, "node-2");
        if (!node?.spec?.unschedulable) return undefined;
        // Someone else takes the node over: drops chaos's label and keeps it cordoned.
        const { [cordonedByLabel]: _ours, ...labels } = node.metadata.labels ?? {};
        server.update("Node", { ...node, metadata: { ...node.metadata, labels } });
        return true;
      },
    );
    expect(server.list("Pod", "staging").map((pod) => pod.metadata.name)).toEqual(pods);
    expect(report.rollback.conflicts.join("\n")).toMatch(/someone else cordoned it/);
    expect(server.get("Node", undefined, "node-2")?.spec?.unschedulable).toBe(true);
    server.update("Node", { ...(server.get("Node", undefined, "node-2") as KubeObject), spec: {} });
  });

  it("refuses an unknown node and the last schedulable node", async () => {
    await expect(runInProcess(registry, experiment([{ skill_name: "k8s.node_drain", params: { node: "node-9" } }]))).rejects.toThrow(
      /no discovered node is named node-9/,
    );
    const node2 = server.get("Node", undefined, "node-2");
    server.update("Node", { ...(node2 as KubeObject), spec: { unschedulable: true } });
    try {
      await expect(runInProcess(registry, experiment([{ skill_name: "k8s.node_drain", params: { node: "node-1" } }]))).rejects.toThrow(
        /last schedulable/,
      );
      expect(server.get("Node", undefined, "node-1")?.spec?.unschedulable).toBeFalsy();
    } finally {
      server.update("Node", { ...(server.get("Node", undefined, "node-2") as KubeObject), spec: {} });
    }
  });
});

describe("k8s.network_partition", () => {
  it("creates one policy per side that allows everything but the other side, and deletes both at rollback", async () => {
    const before = clusterState(server, "staging");
    const { report, seen } = await runWhileWatching(
      registry,
      experiment([{ skill_name: "k8s.network_partition", params: { side_a: { app: "web" }, side_b: { app: "api" } } }]),
      () => {
        const policies = server.list("NetworkPolicy", "staging");
        return policies.length === 2 ? policies : undefined;
      },
    );
    expect(report.status).toBe("succeeded");
    const web = seen?.find((policy) => policy.spec?.podSelector?.matchLabels?.app === "web");
    expect(web?.spec?.ingress?.[0]?.from?.[0]).toEqual({
      podSelector: { matchExpressions: [{ key: "app", operator: "NotIn", values: ["api"] }] },
    });
    expect(web?.spec?.egress?.[0]?.to).toContainEqual({ ipBlock: { cidr: "0.0.0.0/0" } });
    expect(report.rollback).toMatchObject({ steps: 2, done: 2, failed: [] });
    expect(clusterState(server, "staging")).toEqual(before);
  });

  it("refuses overlapping sides", async () => {
    await expect(
      runInProcess(
        registry,
        experiment([{ skill_name: "k8s.network_partition", params: { side_a: { app: "web" }, side_b: { app: "web" } } }]),
      ),
    ).rejects.toThrow(/must not overlap/);
  });
});

describe("k8s.dns_chaos", () => {
  it("block: denies egress on port 53 only, and deletes the policy at rollback", async () => {
    const before = clusterState(server, "staging");
    const { report, seen } = await runWhileWatching(
      registry,
      experiment([{ skill_name: "k8s.dns_chaos", params: { mode: "block", pod_selector: { app: "web" } } }]),
      () => server.list("NetworkPolicy", "staging").at(0),
    );
    expect(report.status).toBe("succeeded");
    expect(seen?.spec?.policyTypes).toEqual(["Egress"]);
    const ports = seen?.spec?.egress?.[0]?.ports as { port: number; endPort: number }[];
    expect(ports.some((range) => range.port <= 53 && range.endPort >= 53)).toBe(false);
    expect(ports.map((range) => `${range.port}-${range.endPort}`)).toEqual(["1-52", "54-65535", "1-52", "54-65535"]);
    expect(clusterState(server, "staging")).toEqual(before);
  });

  it("corrupt: adds NXDOMAIN answers for the names to the Corefile while held and restores the exact Corefile", async () => {
    const before = clusterState(server, "staging");
    const original = server.get("ConfigMap", "kube-system", "coredns")?.data?.Corefile;
    const { report, seen } = await runWhileWatching(
      registry,
      experiment([{ skill_name: "k8s.dns_chaos", params: { mode: "corrupt", names: ["payments.example.com"], allow_cluster_dns: true } }]),
      () => {
        const corefile = server.get("ConfigMap", "kube-system", "coredns")?.data?.Corefile as string;
        return corefile !== original ? corefile : undefined;
      },
    );
    expect(report.status).toBe("succeeded");
    expect(report.skills[0]?.targets).toEqual(["kube-system/configmap:coredns"]);
    expect(seen).toContain("template IN ANY payments.example.com {\n        rcode NXDOMAIN\n    }");
    expect(seen?.replace(/\n {4}# chaos-agents [^\n]* begin[\s\S]*# chaos-agents [^\n]* end/, "")).toBe(original);
    expect(server.get("ConfigMap", "kube-system", "coredns")?.data?.Corefile).toBe(original);
    expect(clusterState(server, "staging")).toEqual(before);
  });

  it("corrupt: a Corefile someone else changed meanwhile is reported as a conflict and left alone", async () => {
    const original = server.get("ConfigMap", "kube-system", "coredns") as KubeObject;
    const { report } = await runWhileWatching(
      registry,
      experiment([
        {
          skill_name: "k8s.dns_chaos",
          params: { mode: "corrupt", names: ["db.internal"], answer: "203.0.113.9", allow_cluster_dns: true },
        },
      ]),
      () => {
        const current = server.get("ConfigMap", "kube-system", "coredns") as KubeObject;
        if (current.data?.Corefile === original.data?.Corefile) return undefined;
        server.update("ConfigMap", { ...current, data: { Corefile: `${current.data?.Corefile}# edited by an operator\n` } });
        return true;
      },
    );
    expect(report.rollback.conflicts.join("\n")).toMatch(/changed by someone else/);
    expect(server.get("ConfigMap", "kube-system", "coredns")?.data?.Corefile).toMatch(/edited by an operator/);
    server.update("ConfigMap", original);
  });

  it("corrupt: refuses without allow_cluster_dns, and bad params name the field", async () => {
    await expect(
      runInProcess(registry, experiment([{ skill_name: "k8s.dns_chaos", params: { mode: "corrupt", names: ["a.example.com"] } }])),
    ).rejects.toThrow(/allow_cluster_dns/);
    await expect(runInProcess(registry, experiment([{ skill_name: "k8s.dns_chaos", params: { mode: "corrupt" } }]))).rejects.toThrow(
      /names/,
    );
    await expect(runInProcess(registry, experiment([{ skill_name: "k8s.dns_chaos", params: { mode: "block" } }]))).rejects.toThrow(
      /pod_selector/,
    );
  });
});

describe("k8s.resource_stress", () => {
  it("runs a labelled stress-ng pod with requests and limits on the chosen node, and deletes it at rollback", async () => {
    const before = clusterState(server, "staging");
    const { report, seen } = await runWhileWatching(
      registry,
      experiment([{ skill_name: "k8s.resource_stress", params: { node: "node-2", cpu_workers: 2, cpu_load: 50, memory: "256Mi" } }]),
      () => server.list("Pod", "staging").find((pod) => pod.metadata.name.startsWith("chaos-stress-")),
    );
    expect(report.status).toBe("succeeded");
    expect(seen?.spec?.nodeName).toBe("node-2");
    expect(seen?.metadata.labels).toEqual({ [managedByLabel]: "chaos-agents", [experimentLabel]: report.experimentId });
    expect(seen?.spec?.containers?.[0]?.resources).toEqual({
      requests: { cpu: "2", memory: "256Mi" },
      limits: { cpu: "2", memory: "256Mi" },
    });
    expect(seen?.spec?.containers?.[0]?.args).toEqual([
      "--cpu",
      "2",
      "--cpu-load",
      "50",
      "--vm",
      "1",
      "--vm-bytes",
      String(Math.floor(256 * 1024 * 1024 * 0.9)),
      "--vm-keep",
      "--timeout",
      "1s",
    ]);
    expect(seen?.spec?.activeDeadlineSeconds).toBe(61);
    expect(clusterState(server, "staging")).toEqual(before);
  });
});

describe("protected namespaces", () => {
  it("protected_namespaces adds to kube-system, kube-public and kube-node-lease; it never replaces them", () => {
    const config = kubernetesConfigSchema.parse({ namespace: "staging", protected_namespaces: ["prod"] });
    expect([...protectedNamespaces(config)].sort()).toEqual(["kube-node-lease", "kube-public", "kube-system", "prod"]);
  });

  it("no skill acts in a protected namespace, even when target_config names it", async () => {
    await expect(
      runInProcess(
        registry,
        experiment([{ skill_name: "k8s.pod_kill", params: { namespace: "kube-system", label_selector: "k8s-app=kube-dns", count: 1 } }], {
          namespace: ["staging", "kube-system"],
          label_selector: undefined,
        }),
      ),
    ).rejects.toThrow(/namespace kube-system is protected/);
    await expect(
      runInProcess(
        registry,
        experiment([{ skill_name: "k8s.network_chaos", params: { pod_selector: { app: "web" } } }], { protected_namespaces: ["staging"] }),
      ),
    ).rejects.toThrow(/namespace staging is protected/);
    await expect(
      runInProcess(registry, experiment([{ skill_name: "k8s.pod_kill", params: { namespace: "qa", count: 1 } }])),
    ).rejects.toThrow(/not in target_config.namespace/);
    expect(server.list("Pod", "kube-system").filter((pod) => pod.metadata.labels?.["k8s-app"] === "kube-dns")).toHaveLength(2);
    expect(server.list("NetworkPolicy")).toEqual([]);
  });
});

describe("the label sweep", () => {
  it("deletes objects labelled with the experiment that the journal never recorded, and nothing else", async () => {
    const target = createKubernetesTarget();
    const session = await target.connect(kubernetesConfigSchema.parse({ kubeconfig, namespace: "staging" }), {
      experimentId: "c20261201t000000-abcdef",
      log: new EventBus([]).logger("c20261201t000000-abcdef"),
    });
    const labels = { [managedByLabel]: "chaos-agents", [experimentLabel]: "c20261201t000000-abcdef" };
    const policy = (name: string, policyLabels: Record<string, string>) =>
      session.clients.networking.createNamespacedNetworkPolicy({
        namespace: "staging",
        body: { metadata: { name, labels: policyLabels }, spec: { podSelector: {}, policyTypes: ["Ingress"] } },
      });
    await policy("orphan", labels);
    await policy("someone-elses", { [managedByLabel]: "chaos-agents", [experimentLabel]: "c20261201t000000-999999" });
    await policy("application", { app: "web" });
    const swept = await target.sweep?.(session, "c20261201t000000-abcdef");
    expect(swept).toEqual(["networkpolicy staging/orphan"]);
    expect(
      server
        .list("NetworkPolicy", "staging")
        .map((item) => item.metadata.name)
        .sort(),
    ).toEqual(["application", "someone-elses"]);
    for (const name of ["application", "someone-elses"])
      await session.clients.networking.deleteNamespacedNetworkPolicy({ name, namespace: "staging" });
    await session.close();
  });
});
