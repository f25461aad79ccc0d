import { chmodSync, readdirSync, statfsSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { isDeepStrictEqual } from "node:util";
import { shopSchema } from "@chaos-agents/database";
import { crashExperimentYaml, crashSkills, readCrashSettings, restoreCrashSettings } from "../database-crash-scenarios.js";
import { databaseState } from "../database-experiment.js";
import { runChaos, startChaos } from "../run-chaos.js";
import { type SshTestbed, startSshTestbed } from "../ssh-testbed.js";
import { makeTempDirectory } from "../temp-directory.js";
import { chaosProcessesOf, collectExperimentIds } from "../test-daemon.js";
import { createTestDatabase, type TestDatabase } from "../test-database.js";

// `npm run soak`: kill -9 the real `chaos` binary at CHAOS_SOAK_POINTS (default 200) seeded random
// moments across the database skills (PostgreSQL and MariaDB) and the server skills (over real SSH),
// run `chaos recover` after each, and check that the target is exactly as before. Not part of the
// default suite: it takes several minutes.

interface Scenario {
  name: string;
  /** Kills land uniformly in [0, windowMs) after the plan is printed: inside injection and hold. */
  windowMs: number;
  /** Writes the experiment and returns its config path. */
  prepare(point: number): string;
  state(): Promise<unknown>;
  /** Waits for what the rollback restarts asynchronously (a service), then returns the state. */
  settledState?(before: unknown): Promise<unknown>;
}

interface Outcome {
  scenario: string;
  delayMs: number;
  exact: boolean;
  recoverMs: number;
  detail?: string;
}

/** A small seeded generator (mulberry32): the same seed replays the same kill moments. */
function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let value = state;
    value = Math.imul(value ^ (value >>> 15), value | 1);
    value ^= value + Math.imul(value ^ (value >>> 7), value | 61);
    return ((value ^ (value >>> 14)) >>> 0) / 4_294_967_296;
  };
}

function databaseScenarios(databases: TestDatabase[], directory: string): Scenario[] {
  return databases.flatMap((db) =>
    crashSkills.map((skill) => ({
      name: `${db.kind} ${skill}`,
      windowMs: skill === "config" ? 400 : 1200,
      prepare: () => {
        const path = join(directory, `${db.kind}-${skill}.yaml`);
        writeFileSync(path, crashExperimentYaml(skill, db.kind, db.url));
        return path;
      },
      state: async () => ({ tables: await databaseState(db.url, db.kind), settings: await readCrashSettings(db) }),
    })),
  );
}

/** Every server skill that leaves something to undo, over SSH at once, as `chaos run` does on a real host. */
function serverScenario(testbed: SshTestbed, directory: string): Scenario {
  const daemon = testbed.daemon!;
  const workDir = join(testbed.scratch, "soak-work");
  const file = join(testbed.scratch, "soak.conf");
  writeFileSync(file, "setting=1\n");
  chmodSync(file, 0o640);
  const ourExperiments = new Set<string>();
  const state = async () => {
    const filesystem = statfsSync(testbed.mountPoint);
    return {
      mode: statSync(file).mode,
      freeBytes: filesystem.bavail * filesystem.bsize,
      daemonListening: testbed.onHost("ss", ["-Htln", `sport = :${daemon.port}`]).trim() !== "",
      daemonCount: daemon.pids().length,
      taggedProcesses: chaosProcessesOf(collectExperimentIds(workDir, ourExperiments)).length,
      workDirEntries: (() => {
        try {
          return readdirSync(workDir);
        } catch {
          return [];
        }
      })(),
    };
  };
  return {
    name: "server over ssh",
    windowMs: 3000,
    prepare: (point) => {
      const path = join(directory, `server-${point}.yaml`);
      const { sshd } = testbed;
      writeFileSync(
        path,
        `experiments:
  - name: soak-server
    target: server
    duration: 1h
    target_config:
      hosts:
        - { host: "${sshd.host}", port: ${sshd.port}, username: "${sshd.username}", auth: { type: key, private_key_path: "${sshd.privateKeyPath}" } }
      known_hosts_path: "${sshd.knownHostsPath}"
      work_dir: "${workDir}"
      dead_man_switch: { enabled: false }
    skills:
      - { skill_name: server.permission_change, params: { paths: ["${file}"] } }
      - { skill_name: server.service_stop, params: { services: ["${daemon.name}"] } }
      - { skill_name: server.disk_fill, params: { target_mount: "${testbed.mountPoint}", size: "3MiB" } }
      - { skill_name: server.cpu_stress, params: { workers: 1, load_percent: 20 } }
`,
      );
      return path;
    },
    state,
    settledState: async (before) => {
      // The restarted service takes a moment to listen again.
      const deadline = Date.now() + 10_000;
      let now = await state();
      while (!isDeepStrictEqual(now, before) && Date.now() < deadline) {
        await sleep(200);
        now = await state();
      }
      return now;
    },
  };
}

async function killAndRecover(scenario: Scenario, point: number, delayMs: number, journal: string): Promise<Outcome> {
  const before = await scenario.state();
  const run = startChaos(["--output", "json", "run", scenario.prepare(point), "--journal", journal]);
  await run.waitFor('"type":"skill_planned"', 60_000);
  await sleep(delayMs);
  run.child.kill("SIGKILL");
  await run.done;
  const started = Date.now();
  const recovered = await runChaos(["recover", "--journal", journal]);
  const recoverMs = Date.now() - started;
  const after = scenario.settledState ? await scenario.settledState(before) : await scenario.state();
  const again = await runChaos(["recover", "--journal", journal]);
  const problems = [
    recovered.exitCode !== 0 && `recover exited ${recovered.exitCode}: ${recovered.stdout}${recovered.stderr}`,
    !isDeepStrictEqual(after, before) && `state differs: before ${JSON.stringify(before)}, after ${JSON.stringify(after)}`,
    !again.stdout.includes("nothing to recover") && `a second recover found work: ${again.stdout}`,
  ].filter(Boolean);
  return { scenario: scenario.name, delayMs, exact: problems.length === 0, recoverMs, detail: problems.join("; ") || undefined };
}

function percentile(values: number[], fraction: number): number {
  const sorted = [...values].sort((left, right) => left - right);
  return sorted[Math.min(sorted.length - 1, Math.floor(fraction * sorted.length))] ?? 0;
}

async function main() {
  const seed = Number(process.env.CHAOS_SOAK_SEED ?? Math.floor(Math.random() * 2 ** 31));
  const points = Number(process.env.CHAOS_SOAK_POINTS ?? 200);
  const random = seededRandom(seed);
  console.log(`soak: ${points} kill points, seed ${seed} (CHAOS_SOAK_SEED=${seed} replays them)`);

  const temp = makeTempDirectory("chaos-soak-");
  const databases: TestDatabase[] = [];
  const savedSettings = new Map<TestDatabase, string>();
  let testbed: SshTestbed | undefined;
  const outcomes: Outcome[] = [];
  try {
    for (const kind of ["postgres", "mysql"] as const) {
      const db = await createTestDatabase(kind);
      databases.push(db);
      for (const statement of shopSchema[kind]) await db.execute(statement);
      savedSettings.set(db, await readCrashSettings(db));
    }
    testbed = await startSshTestbed({ prefix: "chaos-soak-ssh-" });
    const scenarios = [...databaseScenarios(databases, temp.path), serverScenario(testbed, temp.path)];
    const journal = join(temp.path, "journal.sqlite");
    for (let point = 0; point < points; point++) {
      const scenario = scenarios[point % scenarios.length]!;
      const outcome = await killAndRecover(scenario, point, Math.floor(random() * scenario.windowMs), journal);
      outcomes.push(outcome);
      const mark = outcome.exact ? "✓" : "✗";
      console.log(
        `${mark} ${String(point + 1).padStart(3)} ${scenario.name.padEnd(16)} killed at +${outcome.delayMs} ms, recover ${outcome.recoverMs} ms`,
      );
      if (!outcome.exact) console.log(`    ${outcome.detail}`);
    }
  } finally {
    for (const db of databases) {
      const saved = savedSettings.get(db);
      if (saved !== undefined && (await readCrashSettings(db)) !== saved) await restoreCrashSettings(db, saved);
      await db.drop();
    }
    await testbed?.stop();
    temp.remove();
  }

  console.log("\nscenario          points  exact  recover p50  recover max");
  const names = [...new Set(outcomes.map((outcome) => outcome.scenario)), "all"];
  for (const name of names) {
    const chosen = outcomes.filter((outcome) => name === "all" || outcome.scenario === name);
    const times = chosen.map((outcome) => outcome.recoverMs);
    console.log(
      `${name.padEnd(18)}${String(chosen.length).padStart(6)}${String(chosen.filter((outcome) => outcome.exact).length).padStart(7)}` +
        `${`${percentile(times, 0.5)} ms`.padStart(13)}${`${Math.max(...times)} ms`.padStart(13)}`,
    );
  }
  const failed = outcomes.filter((outcome) => !outcome.exact).length;
  console.log(
    failed === 0
      ? `\nall ${outcomes.length} points exact (seed ${seed})`
      : `\n${failed} of ${outcomes.length} points NOT exact (seed ${seed})`,
  );
  process.exitCode = failed === 0 && outcomes.length === points ? 0 : 1;
}

await main();
