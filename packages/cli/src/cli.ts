import { readFileSync } from "node:fs";
import { Command, Option } from "commander";
import type { CommandIo } from "./io.js";

const packageJson = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")) as { version: string };

/**
 * Parses arguments and lazy-loads the one command asked for. Resolves to the exit code;
 * never exits the process itself.
 */
export async function runCli(argv: string[], io: CommandIo): Promise<number> {
  let exitCode = 0;
  const program = new Command("chaos")
    .description("Chaos engineering agents: inject faults into databases, servers and clusters, then roll everything back.")
    .version(packageJson.version)
    .option(
      "--journal <path|url>",
      "journal file, or a postgres:// URL several daemons share (default $CHAOS_JOURNAL or $XDG_STATE_HOME/chaos-agents/journal.sqlite)",
    )
    .addOption(new Option("--output <format>", "event output").choices(["human", "json"]).default("human"))
    .option("--events-file <path>", "also append every event as a JSON line to this file")
    .option("--webhook <url>", "also POST events to this URL (bearer token from $CHAOS_WEBHOOK_TOKEN)")
    .option("-v, --verbose", "show debug lines and every observation")
    .option("--no-color", "plain text even on a terminal (NO_COLOR does the same)")
    .configureOutput({ writeOut: (text) => io.stdout.write(text), writeErr: (text) => io.stderr.write(text) })
    // One width everywhere, so the help `npm run build` renders is the help on any terminal.
    .configureHelp({ helpWidth: 80 })
    .exitOverride()
    .showSuggestionAfterError();

  program
    .command("list-skills")
    .description("list every skill, with its target and description")
    .addOption(new Option("--target <target>", "only this target's skills").choices(["database", "kubernetes", "server"]))
    .option("--plugin <path...>", "also list the skills of these plugin modules")
    .option("--config <file>", "also list the skills of this config's plugins")
    .action(async (options) => {
      exitCode = await (await import("./commands/list-skills.js")).listSkills(options, io);
    });

  program
    .command("describe")
    .description("show what a skill does and every param it takes (type, default, range, description)")
    .argument("<skill>", "a skill name, e.g. db.insert_load")
    .action(async (skill: string) => {
      exitCode = await (await import("./commands/describe.js")).describe(skill, program.opts(), io);
    });

  program
    .command("validate")
    .description("check a config file completely and change nothing")
    .argument("<file>", "experiment, daemon or LLM config (YAML)")
    .action(async (file: string) => {
      exitCode = await (await import("./commands/validate.js")).validate(file, io);
    });

  program
    .command("run")
    .description("run the experiments of a config: inject, hold, roll back, report")
    .argument("<file>", "experiment config (YAML)")
    .option("--dry-run", "connect and discover, print the plan, change nothing")
    .option("--force", "run even though an unfinished experiment exists for the same target")
    .option("--report <file>", "write the JSON report here (default: the state folder's reports/; none for a dry run)")
    .option("--experiment <name>", "run only the experiment of this name")
    .action(async (file: string, options) => {
      exitCode = await (await import("./commands/run.js")).run(file, { ...program.opts(), ...options }, io);
    });

  program
    .command("recover")
    .description("finish every rollback the journal holds that is not done (safe to run twice)")
    .option("--config <file>", "config holding the experiments' target_config, if the original file moved")
    .option("--experiment <id>", "recover only this experiment")
    .option("--force", "take over experiments whose owner is still running (stops it first on this host)")
    .action(async (options) => {
      exitCode = await (await import("./commands/recover.js")).recover({ ...program.opts(), ...options }, io);
    });

  const planningOptions = (command: Command) =>
    command
      .option("--config <file>", "LLM config: llm:, targets:, policy:, max_turns")
      .addOption(new Option("--provider <provider>", "model provider").choices(["anthropic", "openai", "ollama"]))
      .option("--model <model>", "model name (default: the config's, else the provider's default)")
      .option("--max-turns <n>", "model turns at most (default: the config's max_turns, else 10)")
      .option("--save <file>", "also write the plan as a config file `chaos run` takes")
      .option("--anonymize", "send discovered names to the provider as tokens (table_1…), mapped back in the plan")
      .option("--no-stream", "ask the provider for whole answers instead of streamed ones (as llm.stream: false)");

  planningOptions(
    program
      .command("plan")
      .description("let a model plan one experiment for a goal in words; prints it, changes nothing")
      .argument("<goal>", 'what to test, e.g. "Test our PostgreSQL database under heavy write load"'),
  ).action(async (goal: string, options) => {
    exitCode = await (await import("./commands/plan.js")).plan(goal, { ...program.opts(), ...options }, io);
  });

  planningOptions(
    program
      .command("agent")
      .description("plan an experiment with a model, show it, run it after approval, roll back, report")
      .argument("<goal>", 'what to test, e.g. "Test our PostgreSQL resilience under heavy write load"')
      .option("-y, --yes", "run the plan without asking")
      .option("--dry-run", "plan and show the plan; run nothing")
      .option("--report <file>", "write the JSON report here (default: the state folder's reports/)"),
  ).action(async (goal: string, options) => {
    exitCode = await (await import("./commands/agent.js")).agent(goal, { ...program.opts(), ...options }, io);
  });

  program
    .command("daemon")
    .description("run experiments on cron schedules until SIGTERM (running ones roll back); SIGHUP reloads the file")
    .argument("<file>", "daemon config: settings: and experiments: [{experiment, schedule, enabled}]")
    .option("--pid-file <path>", "PID file taken exclusively (default: daemon.pid beside the journal)")
    .option("--listen <host:port>", "serve /healthz and /metrics (Prometheus) here, e.g. 127.0.0.1:9464")
    .action(async (file: string, options) => {
      exitCode = await (await import("./commands/daemon.js")).daemon(file, { ...program.opts(), ...options }, io);
    });

  program
    .command("history")
    .description("past experiments from the journal: when, target, skills, result, rollback")
    .option("--limit <n>", "how many, newest first (default 20)")
    .action(async (options) => {
      exitCode = await (await import("./commands/history.js")).history({ ...program.opts(), ...options }, io);
    });

  program
    .command("report")
    .description("print a past run's summary again")
    .argument("<id>", "an experiment id, as `chaos history` shows it")
    .action(async (id: string) => {
      exitCode = await (await import("./commands/history.js")).report(id, program.opts(), io);
    });

  program
    .command("init")
    .description("print a commented starter config that validates")
    .addOption(new Option("--target <target>", "what it targets").choices(["database", "server", "kubernetes"]).default("database"))
    .option("-o, --out <file>", "write it to this file instead (never overwrites)")
    .action(async (options) => {
      exitCode = await (await import("./commands/init.js")).init(options, io);
    });

  program
    .command("completion")
    .description("print the shell completion script (commands, options, skill names, config files)")
    .argument("<shell>", "bash, zsh or fish")
    .action(async (shell: string) => {
      exitCode = await (await import("./commands/completion.js")).completion(shell, program, io);
    });

  program
    .command("status")
    .description("list running and unfinished experiments: owner, age, steps left")
    .action(async () => {
      exitCode = await (await import("./commands/status.js")).status(program.opts(), io);
    });

  program
    .command("demo")
    .description("run a complete database experiment on an embedded PostgreSQL and prove it was rolled back exactly")
    .action(async () => {
      exitCode = await (await import("./commands/demo.js")).demo(program.opts(), io);
    });

  program
    .command("schema")
    .description("print the JSON Schema of config files (for editors' YAML completion), or of the event lines")
    .option("--events", "the JSON Schema of `--output json` event lines instead")
    .action(async (options) => {
      exitCode = await (await import("./commands/schema.js")).schema(options, io);
    });

  await program.parseAsync(argv, { from: "user" });
  return exitCode;
}
