import { join } from "node:path";
import { shopSchema } from "@chaos-agents/database";
import { runChaos } from "../run-chaos.js";
import { makeTempDirectory } from "../temp-directory.js";
import { createTestDatabase } from "../test-database.js";

// `npm run test:llm-live`: one short real planning session with a real provider, when a key is
// present (ANTHROPIC_API_KEY or OPENAI_API_KEY; OLLAMA_HOST for a local Ollama). Not in the default
// suite: it costs tokens and needs the network. It plans against a fresh test database, saves the
// plan and checks that `chaos validate` and `chaos run --dry-run` take it.
async function main(): Promise<number> {
  const provider = process.env.ANTHROPIC_API_KEY
    ? "anthropic"
    : process.env.OPENAI_API_KEY
      ? "openai"
      : process.env.OLLAMA_HOST
        ? "ollama"
        : undefined;
  if (!provider) {
    console.log("test:llm-live: skipped: set ANTHROPIC_API_KEY, OPENAI_API_KEY or OLLAMA_HOST to run a real planning session");
    return 0;
  }
  const db = await createTestDatabase("postgres");
  const temp = makeTempDirectory("chaos-llm-live-");
  try {
    for (const statement of shopSchema.postgres) await db.execute(statement);
    const saved = join(temp.path, "plan.yaml");
    const planned = await runChaos(
      ["plan", `Test ${db.url} under a light write load for 30s`, "--provider", provider, "--save", saved],
      process.env,
    );
    console.log(planned.stderr);
    if (planned.exitCode !== 0) return report(`chaos plan exited ${planned.exitCode}`);
    for (const args of [
      ["validate", saved],
      ["run", "--dry-run", saved, "--journal", join(temp.path, "journal.sqlite")],
    ]) {
      const checked = await runChaos(args, { ...process.env, DB_1_PASSWORD: "" });
      if (checked.exitCode !== 0) return report(`chaos ${args[0]} of the plan exited ${checked.exitCode}: ${checked.stderr}`);
    }
    console.log(`test:llm-live: passed with ${provider}`);
    return 0;
  } finally {
    await db.drop();
    temp.remove();
  }
}

function report(problem: string): number {
  console.error(`test:llm-live: FAILED: ${problem}`);
  return 1;
}

process.exitCode = await main();
