import { writeFileSync } from "node:fs";
import { ChaosError, ExitCode, fileErrorInWords } from "@chaos-agents/core";
import type { CommandIo } from "../command-context.js";

/** Starter configs: each validates as printed (secrets through `${VAR:-}`), and says what to change. */
const starters = {
  database: `# A first database experiment: \`chaos validate\` this file, then \`chaos run --dry-run\` it, then \`chaos run\`.
# Every change is rolled back when the hold ends, also after a crash (\`chaos recover\`).
targets:
  shop-db:
    target: database
    target_config:
      # postgres://, mysql:// or mariadb://; keep the password in the environment.
      connection_url: "postgres://chaos:\${SHOP_DB_PASSWORD:-}@127.0.0.1:5432/shop"
      db_type: postgres # postgres | mysql (MariaDB too)
experiments:
  - name: "write-load"
    target_alias: shop-db
    duration: "2m" # how long the faults are held before rollback
    skills:
      # \`chaos describe db.insert_load\` lists every param.
      - skill_name: db.insert_load
        params: { rows_per_table: 1000 } # add tables: [orders] to pick tables
      - skill_name: db.select_load
        params: { concurrency: 4 }
    parallel: true # run the skills at once
`,
  server: `# A first server experiment over SSH: \`chaos validate\` this file, then \`chaos run --dry-run\` it, then \`chaos run\`.
# Each host also undoes its own faults if chaos disappears (the dead-man's switch).
targets:
  web-1:
    target: server
    target_config:
      hosts:
        - host: "10.0.1.50"
          port: 22
          username: "chaos-agent"
          auth: { type: key, private_key_path: "~/.ssh/id_ed25519" }
      # For the machine running chaos itself, use instead: { local: true }
experiments:
  - name: "cpu-and-disk"
    target_alias: web-1
    duration: "1m"
    skills:
      # \`chaos describe server.cpu_stress\` lists every param.
      - skill_name: server.cpu_stress
        params: { workers: 1, load_percent: 50 }
      - skill_name: server.disk_fill
        params: { target_mount: "/var", percent: 20 } # always keeps a free-space floor
`,
  kubernetes: `# A first Kubernetes experiment: \`chaos validate\` this file, then \`chaos run --dry-run\` it, then \`chaos run\`.
# Credentials come from KUBECONFIG or ~/.kube/config (or the pod's service account). kube-system,
# kube-public and kube-node-lease are never touched. No cluster? \`npm run k8s:sandbox\` in the repo.
targets:
  staging:
    target: kubernetes
    target_config:
      namespace: "staging" # or a list: ["staging", "qa"]
      label_selector: "app=web"
      # context: "kind-kind"
experiments:
  - name: "web-pod-kill"
    target_alias: staging
    duration: "2m"
    skills:
      # \`chaos describe k8s.pod_kill\` lists every param.
      - skill_name: k8s.pod_kill
        params: { label_selector: "app=web", count: 1 } # rollback waits until web is ready again
`,
};

export type StarterTarget = keyof typeof starters;

/** `chaos init [--target T] [-o FILE]`: a commented starter config that validates. */
export async function init(options: { target?: string; out?: string }, io: CommandIo): Promise<number> {
  const target = options.target ?? "database";
  const text = starters[target as StarterTarget];
  if (!text) throw new ChaosError(`--target ${target}: expected database, server or kubernetes`, { exitCode: ExitCode.usage });
  if (!options.out) {
    io.stdout.write(text);
    return ExitCode.success;
  }
  try {
    writeFileSync(options.out, text, { flag: "wx" });
  } catch (error) {
    throw new ChaosError(`cannot write ${options.out}: ${fileErrorInWords(error)} (init never overwrites a file)`, {
      exitCode: ExitCode.usage,
      cause: error,
    });
  }
  io.stderr.write(`wrote ${options.out}; next: chaos validate ${options.out}\n`);
  return ExitCode.success;
}
