import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { createTestDatabase, makeTempDirectory, runChaos, serverUrls, startChaos } from "@chaos-agents/testing";
import { afterAll, describe, expect, it } from "vitest";

const temp = makeTempDirectory("chaos-secrets-");
afterAll(temp.remove);
const plugin = fileURLToPath(new URL("./__fixtures__/file-skills.js", import.meta.url));

function filesUnder(directory: string): string[] {
  return readdirSync(directory, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => join(entry.parentPath, entry.name));
}

describe("secrets never leave chaos", () => {
  it("keeps a connection password out of output, events, journal and report", async () => {
    const database = await createTestDatabase("postgres");
    try {
      await database.execute("CREATE TABLE notes (id serial PRIMARY KEY, body text NOT NULL)");
      // Trust authentication ignores the password, so the run succeeds and everything gets written.
      const url = database.url.replace("postgres@", "postgres:hunter2-secret@");
      const state = join(temp.path, "state");
      const config = join(temp.path, "secret.yaml");
      writeFileSync(
        config,
        `experiments:
  - name: secret
    target: database
    target_config: { connection_url: "${url}", db_type: postgres }
    duration: 1ms
    skills: [{ skill_name: db.insert_load, params: { rows_per_table: 10 } }]
`,
      );
      const result = await runChaos(
        ["-v", "--events-file", join(state, "events.jsonl"), "run", config, "--journal", join(state, "journal.sqlite")],
        {},
      );
      expect(result.exitCode).toBe(0);
      expect(result.stdout + result.stderr).toContain("postgres://postgres@127.0.0.1");
      expect(result.stdout + result.stderr).not.toContain("hunter2");
      const written = filesUnder(state);
      expect(written.some((file) => file.endsWith(".json"))).toBe(true); // the report
      for (const file of written) expect(readFileSync(file).toString("latin1"), file).not.toContain("hunter2");
    } finally {
      await database.drop();
    }
  });

  it("redacts the password in a connection error", async () => {
    const config = join(temp.path, "unreachable.yaml");
    writeFileSync(
      config,
      `experiments:
  - name: unreachable
    target: database
    target_config: { connection_url: "postgres://app:hunter2-secret@127.0.0.1:1/db", db_type: postgres }
    skills: [{ skill_name: db.select_load, params: { queries: 1 } }]
`,
    );
    const result = await runChaos(["run", config, "--journal", join(temp.path, "j.sqlite")]);
    expect(result.exitCode).toBe(4);
    expect(result.stderr).toMatch(/cannot connect to postgres:\/\/app@127\.0\.0\.1:1\/db/);
    expect(result.stdout + result.stderr).not.toContain("hunter2");
  });
});

describe("event sinks and signals", () => {
  const fileConfig = (directory: string, duration: string) => {
    const path = join(temp.path, `files-${Math.random().toString(36).slice(2)}.yaml`);
    writeFileSync(
      path,
      `plugins: ["${plugin}"]
experiments:
  - name: files
    target: server
    target_config: { local: true }
    duration: ${duration}
    skills: [{ skill_name: server.fixture_overwrite, params: { directory: "${directory}", files: 2 } }]
`,
    );
    return path;
  };

  it("posts every event to a webhook, with the bearer token from the environment", async () => {
    const received: { authorization?: string; events: { type: string }[] }[] = [];
    const server = createServer((request, response) => {
      let body = "";
      request.on("data", (chunk) => (body += chunk));
      request.on("end", () => {
        received.push({ authorization: request.headers.authorization, events: JSON.parse(body) });
        response.end("ok");
      });
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    try {
      const { port } = server.address() as AddressInfo;
      const directory = makeTempDirectory().path;
      const result = await runChaos(
        ["--webhook", `http://127.0.0.1:${port}/hook`, "run", fileConfig(directory, "1ms"), "--journal", join(temp.path, "w.sqlite")],
        { CHAOS_WEBHOOK_TOKEN: "tok-123" },
      );
      expect(result.exitCode).toBe(0);
      const types = received.flatMap((batch) => batch.events.map((event) => event.type));
      expect(types[0]).toBe("experiment_started");
      expect(types.at(-1)).toBe("experiment_finished");
      expect(types).toContain("rollback_step_done");
      expect(received.every((batch) => batch.authorization === "Bearer tok-123")).toBe(true);
    } finally {
      server.close();
    }
  });

  it("a dead webhook is one warning and a count, and changes neither the experiment nor its exit code", async () => {
    const server = createServer((_request, response) => {
      response.statusCode = 503;
      response.end("down");
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    try {
      const { port } = server.address() as AddressInfo;
      const directory = makeTempDirectory().path;
      const result = await runChaos([
        "--webhook",
        `http://127.0.0.1:${port}/hook`,
        "run",
        fileConfig(directory, "1ms"),
        "--journal",
        join(temp.path, "dead-webhook.sqlite"),
      ]);
      expect(result.exitCode).toBe(0);
      expect(readdirSync(directory)).toEqual([]);
      expect(result.stderr.match(/webhook answered 503/g)).toHaveLength(1);
      expect(result.stderr).toMatch(/warning: \d+ webhook deliveries failed in all/);
    } finally {
      server.close();
    }
  });

  it("on SIGTERM rolls back and exits 143; a second signal exits at once and points to chaos recover", async () => {
    const directory = makeTempDirectory().path;
    const journal = join(temp.path, "signals.sqlite");
    const first = startChaos(["run", fileConfig(directory, "1h"), "--journal", journal]);
    await first.waitFor("holding faults");
    first.child.kill("SIGTERM");
    expect((await first.done).exitCode).toBe(143);
    expect(readdirSync(directory)).toEqual([]);

    // A plugin rollback that never finishes: the second signal must not wait for it.
    const slow = join(temp.path, "slow-rollback.js");
    writeFileSync(
      slow,
      `const anything = { safeParse: (value) => ({ success: true, data: value }), parse: (value) => value };
export const skills = [{ name: "server.fixture_slow_undo", target: "server", description: "slow undo", reversible: true,
  params: anything, async inject({ journal }) { await journal.record({}); return { summary: "done" }; },
  async rollback() { await new Promise(() => setInterval(() => {}, 1000)); } }];
`,
    );
    const slowConfig = join(temp.path, "slow.yaml");
    writeFileSync(
      slowConfig,
      `plugins: ["${slow}"]
experiments:
  - { name: slow, target: server, target_config: { local: true }, duration: 1h, skills: [{ skill_name: server.fixture_slow_undo }] }
`,
    );
    const second = startChaos(["run", slowConfig, "--journal", join(temp.path, "slow.sqlite")]);
    await second.waitFor("holding faults");
    second.child.kill("SIGINT");
    await second.waitFor("stopping injection and rolling back");
    second.child.kill("SIGINT");
    const result = await second.done;
    expect(result.exitCode).toBe(130);
    expect(result.stderr).toContain("run `chaos recover` to finish the rollback");
  });
});

describe("database TLS", () => {
  it("asks for TLS when configured (this server offers none, so its refusal proves the request)", async () => {
    const config = join(temp.path, "tls.yaml");
    writeFileSync(
      config,
      `experiments:
  - name: tls
    target: database
    target_config: { connection_url: "${serverUrls.postgres}/postgres", db_type: postgres, tls: { enabled: true, reject_unauthorized: false } }
    skills: [{ skill_name: db.select_load, params: { queries: 5 } }]
`,
    );
    const result = await runChaos(["run", "--dry-run", config, "--journal", join(temp.path, "tls.sqlite")]);
    expect(result.stderr).toContain("The server does not support SSL connections");
    expect(result.exitCode).toBe(4);
  });
});
